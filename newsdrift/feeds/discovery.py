"""Adding and moving feeds: discovery from a site's page (trafilatura), OPML import/export, and edits of
the feeds YAML that keep its comment header.

Discovery fetches through newsdrift's own guarded HTTP client (SSRF guard, User-Agent, size caps), takes
trafilatura's candidates (``<link rel=alternate>`` and feed-looking links) and keeps only those that parse
as feeds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

from newsdrift.errors import ConfigError, NewsdriftError
from newsdrift.feeds.catalog import Feed, parse_feeds
from newsdrift.fetch.settings import FetchSettings
from newsdrift.settings import display_path, load_yaml

MAX_CANDIDATES = 8  # feed candidates checked per page (trafilatura's own limit is similar)
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/html;q=0.8,*/*;q=0.1"


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str


# --- discovery ---------------------------------------------------------------------


def _parse_feed(body: bytes, url: str) -> Any | None:
    """feedparser's result when ``body`` is a feed (a version or entries), else None."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url})
    return parsed if parsed.get("version") or parsed.get("entries") else None


async def discover(url: str, settings: FetchSettings) -> list[FoundFeed]:
    """The feeds behind ``url``: the URL itself when it is a feed, else the feeds its page announces."""
    from trafilatura.feeds import FeedParameters, determine_feed
    from trafilatura.utils import load_html

    from newsdrift.fetch.http import FetchError, guarded_get, make_client
    from newsdrift.fetch.netguard import NetGuard
    from newsdrift.fetch.robots import origin_of

    guard = NetGuard.from_settings(settings)

    async def get(target: str) -> bytes | None:
        try:
            result = await guarded_get(
                http,
                target,
                guard=guard,
                max_bytes=settings.max_feed_bytes,
                timeout=settings.http_timeout,
                max_redirects=settings.max_redirects,
                headers={"Accept": FEED_ACCEPT},
            )
        except FetchError as exc:
            if target == url:
                raise NewsdriftError(f"cannot fetch {url}: {exc.reason}") from None
            return None
        if not 200 <= result.status < 300:
            if target == url:
                raise NewsdriftError(f"cannot fetch {url}: HTTP {result.status}")
            return None
        return result.body

    async with make_client(settings, guard) as http:
        body = await get(url)
        assert body is not None
        parsed = await asyncio.to_thread(_parse_feed, body, url)
        if parsed is not None:
            return [FoundFeed(url, _title(parsed, url))]
        html = body.decode("utf-8", errors="replace")
        if load_html(html) is None:
            return []
        origin = origin_of(url)
        params = FeedParameters(origin, origin.split("://", 1)[-1], url, False, None)
        candidates = list(dict.fromkeys(determine_feed(html, params)))[:MAX_CANDIDATES]
        found: list[FoundFeed] = []
        for candidate in candidates:
            feed_body = await get(candidate)
            if feed_body is None:
                continue
            feed = await asyncio.to_thread(_parse_feed, feed_body, candidate)
            if feed is not None:
                found.append(FoundFeed(candidate, _title(feed, candidate)))
        return found


def _title(parsed: Any, url: str) -> str:
    title = str(parsed.get("feed", {}).get("title") or "").strip()
    return " ".join(title.split()) or url


# --- the feeds file ----------------------------------------------------------------


def read_file(path: Path) -> dict[str, Any]:
    data = load_yaml(path, "feeds file") if path.exists() else None
    data = data if isinstance(data, dict) else {}
    parse_feeds(data, display_path(path))  # refuse to edit a file that is not valid already
    return data


def _header(path: Path) -> str:
    """The leading comment block of the file, kept when it is rewritten."""
    if not path.exists():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "\n".join(lines).rstrip() + "\n\n" if lines else ""


def add_feeds(path: Path, new: list[Feed]) -> tuple[list[Feed], list[tuple[Feed, str]]]:
    """Append feeds to the YAML file (atomically); returns (added, skipped with the reason)."""
    data = read_file(path)
    entries: list[dict[str, Any]] = list(data.get("feeds") or [])
    urls = {str(e.get("url", "")).strip().lower() for e in entries}
    names = {str(e.get("name", "")).strip().lower() for e in entries}
    added: list[Feed] = []
    skipped: list[tuple[Feed, str]] = []
    for feed in new:
        if feed.url.lower() in urls:
            skipped.append((feed, "already in the feeds file"))
            continue
        name, n = feed.name, 2
        while name.lower() in names:  # names are unique in the file
            name, n = f"{feed.name} ({n})", n + 1
        feed = feed.model_copy(update={"name": name})
        entry: dict[str, Any] = {"name": feed.name, "url": feed.url}
        if feed.source and feed.source != feed.name:
            entry["source"] = feed.source
        if feed.tags:
            entry["tags"] = list(feed.tags)
        entries.append(entry)
        urls.add(feed.url.lower())
        names.add(name.lower())
        added.append(feed)
    if added:
        data["feeds"] = entries
        parse_feeds(data, display_path(path))  # what is written loads
        text = _header(path) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
        tmp = path.with_suffix(path.suffix + ".tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return added, skipped


# --- OPML ----------------------------------------------------------------------------


def read_opml(path: Path) -> list[Feed]:
    """Feeds of an OPML file: every outline with an xmlUrl; enclosing folders become tags."""
    try:
        root = ET.fromstring(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {display_path(path)}: {exc.strerror}") from None
    except ET.ParseError as exc:
        raise ConfigError(f"{display_path(path)}: not valid OPML: {exc}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ConfigError(f"{display_path(path)}: not OPML (expected <opml><body>...)")
    feeds: list[Feed] = []
    problems: list[str] = []

    def walk(node: ET.Element, folders: list[str]) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or "").strip()
            label = (outline.get("title") or outline.get("text") or "").strip()
            if not url:
                walk(outline, [*folders, label] if label else folders)
                continue
            categories = [c.strip() for c in (outline.get("category") or "").replace("/", ",").split(",")]
            tags = list(dict.fromkeys([*folders, *(c for c in categories if c)]))
            try:
                feeds.append(Feed(url=url, name=label or url, tags=tags))
            except ValueError as exc:
                problems.append(f"{display_path(path)}: outline {label or url!r}: {exc}")

    walk(body, [])
    if problems:
        raise ConfigError("\n".join(problems))
    return feeds


def write_opml(feeds: list[Feed], title: str = "newsdrift feeds") -> str:
    """An OPML 2.0 document with one ``type="rss"`` outline per feed (tags as ``category``)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.tags:
            attrs["category"] = ",".join(feed.tags)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
