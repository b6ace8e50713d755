"""Build the offline sample corpus from ``sources/*.txt`` (deterministic: same input, same bytes).

    python -m newsdrift.ops.sample.build_corpus           # rewrite newsdrift/ops/sample/corpus/
    python -m newsdrift.ops.sample.build_corpus --check   # exit 1 if the committed corpus is stale

Adds what the sources do not spell out: the syndicated copies of the wire
story, URL layout per outlet, feed membership, the dead link, tracking-parameter
links, robots.txt, per-file Content-Types (``_headers.json``) and ``manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from newsdrift.ops.sample.feedgen import CONTENT_TYPES, Entry, FeedSpec, render_feed
from newsdrift.ops.sample.model import OUTLETS, SOURCES_DIR, Page, load_sources
from newsdrift.ops.sample.templates import render_page

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SCHEMA_VERSION = 1
FIRST_DAY, LAST_DAY = date(2026, 8, 1), date(2026, 9, 30)
PIVOT_DAY = date(2026, 9, 1)  # framing shift: openness/innovation/cost before, security/misuse after
EARLY_FRAMES = ("openness_transparency", "innovation_ecosystem", "cost_efficiency", "competition_closed_models")
LATE_FRAMES = ("safety_misuse", "geopolitics_security")
MIN_WORDS, MAX_WORDS = 250, 900
WIRE_STORY = "mw-llama5-release"
FEED_UPDATED = datetime.fromisoformat("2026-09-30T22:00:00+00:00")


@dataclass(frozen=True, slots=True)
class CopySpec:
    """How one partner republished the wire story."""

    outlet: str
    id: str
    slug: str
    title: str
    author: str
    section: str
    published: str
    variant: str  # verbatim | light_edits | trimmed | reordered
    edits: tuple[tuple[str, str], ...] = ()
    keep: int | None = None  # trimmed: number of leading paragraphs kept
    move: tuple[int, int] | None = None  # reordered: (from index, to index)


COPIES: tuple[CopySpec, ...] = (
    CopySpec(
        "openledger",
        "ol-llama5-wire-copy",
        "meta-opens-up-llama-5-betting-free-models-beat-closed-rivals",
        "Meta opens up Llama 5, betting that free models will beat closed rivals",
        "Lena Okafor, Meridian Wire",
        "Technology",
        "2026-08-05T15:10:00+00:00",
        "light_edits",
        edits=(
            (
                "MENLO PARK, California, Aug 5 (Meridian Wire) — Meta Platforms on Wednesday released",
                "Meta on Wednesday released",
            ),
            ("stepping up its challenge to rivals", "raising the stakes for rivals"),
            ("about the length of four novels", "roughly the length of four novels"),
            ("said in an interview", "told Meridian Wire"),
            (
                "Analysts said the release would add pressure on companies that charge for access to closed models.",
                "The release is expected to put pressure on companies that charge for access to closed models, "
                "analysts said.",
            ),
            ("Shares of Meta rose 1.8%", "Meta shares rose 1.8%"),
        ),
    ),
    CopySpec(
        "dailycompute",
        "dc-llama5-wire-copy",
        "meta-releases-llama-5-family-with-open-weights",
        "Meta releases Llama 5 family with open weights and a 512,000-token context window",
        "Meridian Wire",
        "Models",
        "2026-08-05T15:45:00+00:00",
        "verbatim",
    ),
    CopySpec(
        "byteline",
        "bl-llama5-wire-copy",
        "llama-5-is-here-meta-ships-three-open-weight-models",
        "Llama 5 is here: Meta ships three open-weight models to take on closed AI",
        "Meridian Wire staff",
        "AI",
        "2026-08-05T16:30:00+00:00",
        "trimmed",
        keep=9,
    ),
    CopySpec(
        "ntr",
        "ntr-llama5-wire-copy",
        "meta-releases-llama-5-with-open-weights",
        "Meta releases Llama 5 with open weights – and a challenge to closed rivals",
        "Meridian Wire",
        "AI & Data",
        "2026-08-05T18:05:00+00:00",
        "reordered",
        move=(8, 4),
    ),
)

FEEDS: tuple[FeedSpec, ...] = (
    FeedSpec(
        "/openledger/rss.xml", "openledger", "rss2.0", "The Open Ledger", "News, business and ideas", "/openledger/"
    ),
    FeedSpec(
        "/openledger/topics/ai.xml",
        "openledger",
        "rss2.0",
        "The Open Ledger – Artificial intelligence",
        "Our coverage of artificial intelligence",
        "/openledger/technology",
    ),
    FeedSpec("/byteline/atom.xml", "byteline", "atom1.0", "Byteline", "Tech news for people who build", "/byteline/"),
    FeedSpec("/policywire/index.rdf", "policywire", "rss1.0", "Policy Wire", "Technology policy news", "/policywire/"),
    FeedSpec("/ntr/rss.xml", "ntr", "rss2.0-broken", "Northern Tech Review", "Technology from the North", "/ntr/"),
    FeedSpec(
        "/dailycompute/feed.xml", "dailycompute", "rss2.0", "Daily Compute", "Chips, clouds, models", "/dailycompute/"
    ),
    FeedSpec(
        "/dailycompute/feeds/policy.xml", "dailycompute", "html-error", "Daily Compute – Policy", "", "/dailycompute/"
    ),
    FeedSpec("/meridian/atom.xml", "meridian", "atom1.0", "Meridian Wire", "Top stories", "/meridian/"),
)

# The same article linked twice with different tracking parameters (same page, canonical is the clean URL).
TRACKING_QUERIES = {
    "/openledger/rss.xml": "utm_source=rss&utm_medium=feed",
    "/openledger/topics/ai.xml": "utm_campaign=ai-weekly&utm_source=newsletter",
}

# A feed entry whose page was taken down: the server answers 404.
DEAD_LINK_PUBLISHED = datetime.fromisoformat("2026-09-19T10:00:00+00:00")
DEAD_LINK = Entry(
    title="Exclusive: Meta's internal roadmap puts the next Llama on a closed-first track",
    link="/byteline/ai/exclusive-meta-internal-llama-roadmap/",
    guid="tag:byteline.example,2026:bl-llama-roadmap-exclusive",
    published=DEAD_LINK_PUBLISHED,
    author="Jake Morales",
    summary="Documents seen by Byteline suggest Meta may release its next flagship through an API first.",
    category="AI",
    page=None,
)

ROBOTS_TXT = """\
# Sample corpus crawl rules. /private/ holds subscriber previews that crawlers must not fetch.
User-agent: *
Disallow: /private/

User-agent: ExampleScraperBot
Disallow: /
"""


def _section_slug(section: str) -> str:
    return section.lower().replace(" & ", "-").replace(" ", "-")


def page_path(page: Page) -> str:
    """The URL path of a page; every outlet has its own layout (some with dates, some without)."""
    d, slug = page.local_published, page.slug
    match page.outlet.id:
        case "openledger":
            return f"/openledger/{d:%Y/%m/%d}/{slug}.html"
        case "byteline":
            return f"/byteline/{_section_slug(page.section)}/{slug}/"
        case "policywire":
            if "robots_private" in page.flags:
                return f"/private/embargo/{slug}.html"
            return f"/policywire/{d:%Y/%m}/{slug}.html"
        case "ntr":
            return f"/ntr/archive/{d:%Y}/{d:%m%d}-{slug}.htm"
        case "dailycompute":
            return f"/dailycompute/{_section_slug(page.section)}/{slug}.html"
        case "meridian":
            return f"/meridian/news/{d:%Y%m%d}-{slug}.html"
    raise ValueError(f"no URL layout for outlet {page.outlet.id!r}")


def file_for(path: str) -> str:
    """Corpus-relative file for a URL path (directory URLs map to index.html)."""
    rel = path.lstrip("/")
    return rel + "index.html" if path.endswith("/") else rel


def make_copy(original: Page, spec: CopySpec) -> Page:
    paragraphs = list(original.paragraphs)
    if spec.variant == "light_edits":
        for old, new in spec.edits:
            hits = [i for i, p in enumerate(paragraphs) if old in p]
            if len(hits) != 1 or paragraphs[hits[0]].count(old) != 1:
                raise ValueError(f"{spec.id}: edit {old!r} must match exactly once")
            paragraphs[hits[0]] = paragraphs[hits[0]].replace(old, new)
    elif spec.variant == "trimmed":
        assert spec.keep is not None
        paragraphs = paragraphs[: spec.keep]
    elif spec.variant == "reordered":
        assert spec.move is not None
        src, dst = spec.move
        paragraphs.insert(dst, paragraphs.pop(src))
    elif spec.variant != "verbatim":
        raise ValueError(f"{spec.id}: unknown variant {spec.variant!r}")
    return replace(
        original,
        id=spec.id,
        outlet=OUTLETS[spec.outlet],
        slug=spec.slug,
        title=spec.title,
        author=spec.author,
        section=spec.section,
        published=datetime.fromisoformat(spec.published),
        paragraphs=paragraphs,
        flags=frozenset(),
        story=WIRE_STORY,
        syndication="copy",
        variant=spec.variant,
        feeds=[],
    )


def assemble(sources_dir: Path = SOURCES_DIR) -> tuple[list[Page], dict[str, list[Entry]]]:
    """All pages (with paths and feed membership) and the entries of every feed."""
    pages = load_sources(sources_dir)
    original = next(p for p in pages if p.id == WIRE_STORY)
    original.story, original.syndication = WIRE_STORY, "original"
    pages += [make_copy(original, spec) for spec in COPIES]
    for page in pages:
        page.path = page_path(page)
    pages.sort(key=lambda p: (p.published, p.path))
    _validate(pages)

    entries: dict[str, list[Entry]] = {}
    for spec in FEEDS:
        if spec.format == "html-error":
            entries[spec.path] = []
            continue
        members = [p for p in pages if p.outlet.id == spec.outlet]
        if spec.path == "/openledger/topics/ai.xml":
            members = [p for p in members if p.on_topic]
        items = []
        for page in reversed(members):  # newest first, as feeds list them
            page.feeds.append(spec.path)
            query = TRACKING_QUERIES.get(spec.path) if "tracking_params" in page.flags else None
            items.append(
                Entry(
                    title=page.title,
                    link=page.path + (f"?{query}" if query else ""),
                    guid=f"tag:{page.outlet.domain},2026:{page.id}",
                    published=page.local_published if page.feed_has_date else None,
                    author=page.author,
                    summary=page.summary,
                    category=page.section,
                    page=page.path,
                )
            )
        if spec.path == "/byteline/atom.xml":
            at = next(i for i, e in enumerate(items) if e.published and e.published < DEAD_LINK_PUBLISHED)
            items.insert(at, DEAD_LINK)
        entries[spec.path] = items
    return pages, entries


def _validate(pages: Sequence[Page]) -> None:
    seen: set[str] = set()
    for p in pages:
        if p.path in seen:
            raise ValueError(f"duplicate path {p.path}")
        seen.add(p.path)
        if not MIN_WORDS <= p.word_count <= MAX_WORDS:
            raise ValueError(f"{p.id}: body has {p.word_count} words, want {MIN_WORDS}..{MAX_WORDS}")
        if not FIRST_DAY <= p.published.date() <= LAST_DAY:
            raise ValueError(f"{p.id}: published {p.published} outside {FIRST_DAY}..{LAST_DAY}")
        if p.local_published.date() != p.published.date():
            raise ValueError(f"{p.id}: local date differs from UTC date; pick another time")
        (p.title + p.body + p.author).encode(p.outlet.charset)  # raises if the outlet's charset can't hold it


def related_for(page: Page, pages: Sequence[Page], n: int = 4) -> list[Page]:
    """Other pages of the same outlet nearest in time, newest first."""
    same = [p for p in pages if p.outlet is page.outlet and p.path != page.path]
    same.sort(key=lambda p: (abs((p.published - page.published).total_seconds()), p.path))
    return sorted(same[:n], key=lambda p: p.published, reverse=True)


def page_record(page: Page) -> dict[str, object]:
    """One manifest entry: the ground truth for tests and the extraction benchmark."""
    return {
        "id": page.id,
        "path": page.path,
        "outlet": page.outlet.name,
        "outlet_id": page.outlet.id,
        "feed": list(page.feeds),
        "title": page.title,
        "author": page.author,
        "section": page.section,
        "canonical_path": page.path,
        "published": page.published.isoformat(),
        "on_topic": page.on_topic,
        "frame": page.frame,
        "story": page.story,
        "syndication": page.syndication,
        "syndication_variant": page.variant,
        "charset": page.outlet.charset,
        "content_type": f"text/html; charset={page.outlet.charset}",
        "date_only_in_metadata": page.date_only_in_metadata,
        "feed_has_date": page.feed_has_date,
        "word_count": page.word_count,
        "body": page.body,
    }


def _index_html() -> str:
    feeds = "\n".join(f'<li><a href="{{base_url}}{f.path}">{f.title}</a> ({f.format})</li>' for f in FEEDS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>newsdrift sample corpus</title></head>
<body>
<h1>newsdrift sample corpus</h1>
<p>Fictional outlets and articles served offline for demos and tests. See manifest.json for the ground truth.</p>
<h2>Feeds</h2>
<ul>
{feeds}
</ul>
</body>
</html>
"""


def render_files(sources_dir: Path = SOURCES_DIR) -> dict[str, bytes]:
    """Every corpus file as corpus-relative path -> bytes."""
    pages, entries = assemble(sources_dir)
    files: dict[str, bytes] = {}
    headers: dict[str, dict[str, str]] = {}
    for page in pages:
        html = render_page(page, related_for(page, pages))
        files[file_for(page.path)] = html.encode(page.outlet.charset)
        if page.outlet.charset != "utf-8":
            headers[page.path] = {"Content-Type": f"text/html; charset={page.outlet.charset}"}
    feed_records = []
    for spec in FEEDS:
        files[file_for(spec.path)] = render_feed(spec, entries[spec.path], FEED_UPDATED).encode("utf-8")
        headers[spec.path] = {"Content-Type": CONTENT_TYPES[spec.format]}
        broken = spec.format in ("rss2.0-broken", "html-error")
        feed_records.append(
            {
                "path": spec.path,
                "outlet": OUTLETS[spec.outlet].name,
                "outlet_id": spec.outlet,
                "format": spec.format,
                "content_type": CONTENT_TYPES[spec.format],
                "bozo": broken,
                "recoverable": spec.format != "html-error",
                "entries": [
                    {"link": e.link, "page": e.page, "title": e.title, "has_date": e.published is not None}
                    for e in entries[spec.path]
                ],
            }
        )
    files["robots.txt"] = ROBOTS_TXT.encode("utf-8")
    files["index.html"] = _index_html().encode("utf-8")

    all_links = [e for spec in FEEDS for e in entries[spec.path]]
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "about": "Fictional outlets, people and events written for newsdrift's offline demo and tests.",
        "generator": "newsdrift/ops/sample/build_corpus.py",
        "base_url_placeholder": "{base_url}",
        "date_range": {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        "framing_shift": {
            "pivot": PIVOT_DAY.isoformat(),
            "dominant_before": list(EARLY_FRAMES),
            "dominant_after": list(LATE_FRAMES),
        },
        "outlets": [
            {
                "id": o.id,
                "name": o.name,
                "charset": o.charset,
                "feeds": [f.path for f in FEEDS if f.outlet == o.id],
            }
            for o in OUTLETS.values()
        ],
        "feeds": feed_records,
        "stories": [
            {
                "id": WIRE_STORY,
                "original": next(p.path for p in pages if p.id == WIRE_STORY),
                "copies": [p.path for p in pages if p.syndication == "copy"],
            }
        ],
        "pages": [page_record(p) for p in pages],
        "dead_links": [e.link for e in all_links if e.page is None],
        "robots_disallowed": [p.path for p in pages if "robots_private" in p.flags],
        "tracking_param_urls": sorted({e.link for e in all_links if "?" in e.link}),
        "other_files": ["/", "/robots.txt", "/manifest.json"],
    }
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    files["_headers.json"] = (json.dumps(headers, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return dict(sorted(files.items()))


def existing_files(out_dir: Path) -> dict[str, bytes]:
    if not out_dir.is_dir():
        return {}
    return {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in sorted(out_dir.rglob("*")) if p.is_file()}


def write_files(files: dict[str, bytes], out_dir: Path) -> None:
    """Replace out_dir with exactly these files (refuses to wipe a directory that isn't a corpus)."""
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").exists():
            raise SystemExit(f"refusing to replace {out_dir}: it has files but no manifest.json")
        shutil.rmtree(out_dir)
    for rel, data in files.items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=CORPUS_DIR, help="output directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the output would change")
    args = parser.parse_args(argv)
    files = render_files()
    if args.check:
        current = existing_files(args.out)
        stale = sorted(set(files) ^ set(current) | {k for k in files if current.get(k) not in (None, files[k])})
        for rel in stale:
            print(f"stale: {rel}")
        return 1 if stale else 0
    write_files(files, args.out)
    pages = sum(1 for rel in files if rel.endswith((".html", ".htm")) and rel != "index.html")
    print(f"wrote {len(files)} files ({pages} article pages) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
