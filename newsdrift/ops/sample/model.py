"""Corpus model: outlets, article pages and the parser for the article source files.

Article text lives in ``sources/<outlet>.txt`` (prose, not code, so line length
and quoting stay natural). Each article is a block::

    === <id>
    slug: <url slug>
    title: <headline>
    author: <byline>
    published: <ISO 8601 datetime, UTC>
    frame: <frame name from config/frames.yaml, or "none" for off-topic>
    section: <section label>
    flags: <optional comma list: tracking_params, date_only_in_metadata, no_feed_date, robots_private>
    ---
    <paragraph>

    <paragraph>

Lines starting with ``#`` before the first block are comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SOURCES_DIR = Path(__file__).resolve().parent / "sources"

KNOWN_FLAGS = frozenset({"tracking_params", "date_only_in_metadata", "no_feed_date", "robots_private"})
FRAMES = frozenset(
    {
        "openness_transparency",
        "safety_misuse",
        "geopolitics_security",
        "cost_efficiency",
        "competition_closed_models",
        "regulation",
        "innovation_ecosystem",
    }
)


@dataclass(frozen=True, slots=True)
class Outlet:
    """A fictional publication: its name, URL prefix, page charset and local time zone."""

    id: str
    name: str
    charset: str
    utc_offset_hours: int
    domain: str  # used only inside feed/entry ids (tag: URIs), never fetched

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))


OUTLETS: dict[str, Outlet] = {
    o.id: o
    for o in (
        Outlet("openledger", "The Open Ledger", "utf-8", 1, "openledger.example"),
        Outlet("byteline", "Byteline", "utf-8", 0, "byteline.example"),
        Outlet("policywire", "Policy Wire", "utf-8", -4, "policywire.example"),
        Outlet("ntr", "Northern Tech Review", "windows-1252", 2, "ntr.example"),
        Outlet("dailycompute", "Daily Compute", "utf-8", -4, "dailycompute.example"),
        Outlet("meridian", "Meridian Wire", "utf-8", 0, "meridian.example"),
    )
}


@dataclass(slots=True)
class Page:
    """One article page of the corpus (original, syndicated copy or off-topic)."""

    id: str
    outlet: Outlet
    slug: str
    title: str
    author: str
    published: datetime  # aware, UTC
    frame: str | None  # None = off-topic
    section: str
    paragraphs: list[str]
    flags: frozenset[str] = frozenset()
    story: str | None = None  # syndicated story id
    syndication: str | None = None  # "original" | "copy"
    variant: str | None = None  # how a copy differs: verbatim, light_edits, trimmed, reordered
    path: str = ""
    feeds: list[str] = field(default_factory=list)

    @property
    def on_topic(self) -> bool:
        return self.frame is not None

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def local_published(self) -> datetime:
        return self.published.astimezone(self.outlet.tz)

    @property
    def date_only_in_metadata(self) -> bool:
        return "date_only_in_metadata" in self.flags

    @property
    def feed_has_date(self) -> bool:
        return not ({"date_only_in_metadata", "no_feed_date"} & self.flags)

    @property
    def summary(self) -> str:
        """Feed/meta description: the opening paragraph cut at a sentence or word boundary."""
        text = self.paragraphs[0]
        if len(text) <= 240:
            return text
        cut = text.rfind(". ", 0, 240)
        if cut > 80:
            return text[: cut + 1]
        return text[:240].rsplit(" ", 1)[0] + "…"


class SourceError(ValueError):
    """A malformed article source block."""


def parse_source_text(text: str, outlet: Outlet, origin: str = "<text>") -> list[Page]:
    """Parse one outlet's source file into pages (paths and feeds are assigned later)."""
    pages: list[Page] = []
    blocks = text.split("\n=== ")
    for raw in blocks[1:]:
        head, sep, body = raw.partition("\n---\n")
        if not sep:
            raise SourceError(f"{origin}: block {raw[:40]!r} has no '---' separator")
        lines = head.strip().splitlines()
        page_id, meta = lines[0].strip(), {}
        for line in lines[1:]:
            key, colon, value = line.partition(":")
            if not colon:
                raise SourceError(f"{origin}: {page_id}: bad header line {line!r}")
            meta[key.strip()] = value.strip()
        missing = {"slug", "title", "author", "published", "frame", "section"} - meta.keys()
        if missing:
            raise SourceError(f"{origin}: {page_id}: missing {sorted(missing)}")
        flags = frozenset(f.strip() for f in meta.get("flags", "").split(",") if f.strip())
        if flags - KNOWN_FLAGS:
            raise SourceError(f"{origin}: {page_id}: unknown flags {sorted(flags - KNOWN_FLAGS)}")
        frame = None if meta["frame"] == "none" else meta["frame"]
        if frame is not None and frame not in FRAMES:
            raise SourceError(f"{origin}: {page_id}: unknown frame {frame!r}")
        published = datetime.fromisoformat(meta["published"])
        if published.utcoffset() != timedelta(0):
            raise SourceError(f"{origin}: {page_id}: published must be UTC")
        paragraphs = [" ".join(p.split()) for p in body.strip().split("\n\n") if p.strip()]
        pages.append(
            Page(
                id=page_id,
                outlet=outlet,
                slug=meta["slug"],
                title=meta["title"],
                author=meta["author"],
                published=published,
                frame=frame,
                section=meta["section"],
                paragraphs=paragraphs,
                flags=flags,
            )
        )
    return pages


def load_sources(sources_dir: Path = SOURCES_DIR) -> list[Page]:
    """All pages from ``sources/<outlet id>.txt``, in outlet then file order."""
    pages: list[Page] = []
    for outlet in OUTLETS.values():
        path = sources_dir / f"{outlet.id}.txt"
        pages.extend(parse_source_text("\n" + path.read_text(encoding="utf-8"), outlet, str(path)))
    return pages
