"""History for a new deployment: a site's sitemap (or a list of URLs) through the same pipeline as feeds.

Sitemaps are read with lxml (no entities, no network) after newsdrift's guarded, paced client fetched
them; a site URL finds its sitemaps in robots.txt (trafilatura's ``extract_robots_sitemaps``) or at
``/sitemap.xml``. Sitemap indexes are followed (at most ``MAX_SITEMAPS``); ``since`` skips URLs and
child sitemaps whose ``lastmod`` is older (those without one are kept: their date is unknown). Pages
are then fetched like feed entries: robots.txt, per-host pacing, dead-link memory, dedup, alerts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from opensearchpy import OpenSearch

from newsdrift.errors import NewsdriftError
from newsdrift.fetch.settings import FetchSettings
from newsdrift.records import FeedEntry, RunSummary
from newsdrift.settings import Settings
from newsdrift.store.names import IndexNames

MAX_SITEMAPS = 50
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass
class SitemapUrls:
    urls: list[tuple[str, datetime | None]] = field(default_factory=list)  # (page URL, lastmod)
    sitemaps: list[str] = field(default_factory=list)  # sitemaps read
    skipped_old: int = 0  # URLs (or whole child sitemaps' worth) older than ``since``
    problems: list[str] = field(default_factory=list)


def _lastmod(node: Any) -> datetime | None:
    text = (node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod") or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_sitemap(body: bytes) -> tuple[list[tuple[str, datetime | None]], list[tuple[str, datetime | None]]]:
    """(pages, child sitemaps) of one sitemap document, each with its lastmod; a plain-text sitemap too."""
    from lxml import etree

    head = body.lstrip()[:200].lower()
    if not head.startswith((b"<?xml", b"<urlset", b"<sitemapindex")):
        lines = [line.strip() for line in body.decode("utf-8", errors="replace").splitlines()]
        return [(u, None) for u in lines if u.startswith(("http://", "https://"))], []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not a sitemap: {exc}") from None
    pages: list[tuple[str, datetime | None]] = []
    children: list[tuple[str, datetime | None]] = []
    for kind, out in (("url", pages), ("sitemap", children)):
        for node in root.iter(f"{SITEMAP_NS}{kind}", kind):
            loc = (node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc") or "").strip()
            if loc:
                out.append((loc, _lastmod(node)))
    return pages, children


async def read_sitemaps(start: str, settings: FetchSettings, since: datetime | None, limit: int) -> SitemapUrls:
    """Every page URL under ``start`` (a sitemap, or a site whose robots.txt names its sitemaps)."""
    from trafilatura.sitemaps import extract_robots_sitemaps

    from newsdrift.fetch.http import FetchError, guarded_get, make_client
    from newsdrift.fetch.netguard import NetGuard
    from newsdrift.fetch.politeness import HostGate, host_of
    from newsdrift.fetch.robots import origin_of

    guard = NetGuard.from_settings(settings)
    gates: dict[str, HostGate] = {}
    out = SitemapUrls()

    async def get(url: str) -> bytes | None:
        gate = gates.setdefault(host_of(url), HostGate(1, settings.per_host_delay))
        async with gate.slot():
            try:
                result = await guarded_get(
                    http,
                    url,
                    guard=guard,
                    max_bytes=settings.max_feed_bytes * 10,  # a sitemap may list 50,000 URLs
                    timeout=settings.http_timeout,
                    max_redirects=settings.max_redirects,
                )
            except FetchError as exc:
                out.problems.append(f"sitemap:{url}: {exc.reason}")
                return None
        if not 200 <= result.status < 300:
            out.problems.append(f"sitemap:{url}: HTTP {result.status}")
            return None
        return result.body

    async with make_client(settings, guard) as http:
        path = urlsplit(start).path
        if path in ("", "/"):
            origin = origin_of(start)
            robots = await get(origin + "/robots.txt")
            found = extract_robots_sitemaps(robots.decode("utf-8", errors="replace") if robots else None, origin)
            queue = found or [origin + "/sitemap.xml"]
        else:
            queue = [start]
        seen: set[str] = set()
        while queue and len(out.sitemaps) < MAX_SITEMAPS and len(out.urls) < limit:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            body = await get(url)
            if body is None:
                continue
            try:
                pages, children = parse_sitemap(body)
            except ValueError as exc:
                out.problems.append(f"sitemap:{url}: {exc}")
                continue
            out.sitemaps.append(url)
            for child, lastmod in children:
                if since and lastmod and lastmod < since:
                    out.skipped_old += 1
                    continue
                queue.append(child)
            for page, lastmod in pages:
                if since and lastmod and lastmod < since:
                    out.skipped_old += 1
                    continue
                if len(out.urls) < limit:
                    out.urls.append((page, lastmod))
    if not out.sitemaps:
        raise NewsdriftError(f"no sitemap could be read at {start}: " + "; ".join(out.problems[:3]))
    return out


def entries_for(urls: list[tuple[str, datetime | None]], origin: str, source: str | None) -> list[FeedEntry]:
    """Feed entries for the pipeline: the sitemap (or URL list) stands in for the feed."""
    entries = []
    for url, lastmod in dict.fromkeys(urls):
        host = (urlsplit(url).hostname or "").lower()
        if urlsplit(url).scheme not in ("http", "https") or not host:
            continue
        entries.append(
            FeedEntry(
                feed_url=origin,
                feed_name="backfill",
                source=source or host,
                link=url,
                published_at=lastmod,
                entry_id=url,
                tags=["backfill"],
            )
        )
    return entries


def run_backfill(
    settings: Settings,
    client: OpenSearch,
    entries: list[FeedEntry],
    *,
    progress: Callable[..., None] | None = None,
) -> RunSummary:
    """New entries through fetch → extract → score → index → alerts, like a feed pass (idempotent)."""
    import time

    from newsdrift.run import context as runctx
    from newsdrift.run.ingest import process_entries, record_failed_links
    from newsdrift.run.select import select_new_entries
    from newsdrift.score.stages import default_scorers, finish_pass

    started = time.monotonic()
    names = IndexNames(settings.index_prefix)
    summary = RunSummary()
    summary.entries_seen = len(entries)
    with runctx.pass_context(summary.add_error):
        scorers = default_scorers(settings, client, names)
        new = select_new_entries(client, names, entries, summary)
        kwargs = {"progress": progress} if progress else {}
        asyncio.run(process_entries(settings, client, names, new, scorers, summary, **kwargs))
        record_failed_links(settings, client, names, summary)
        finish_pass(scorers, summary)
    summary.seconds = time.monotonic() - started
    return summary
