"""Feed polling: conditional GET, polite retries, bounded body, RSS/Atom parsing."""

from __future__ import annotations

import asyncio
import html
import io
import re
import time
import xml.sax
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from newsdrift.feeds.schedule import parse_max_age, parse_ttl
from newsdrift.fetch.http import FetchError, HttpResult, guarded_get, parse_retry_after
from newsdrift.fetch.netguard import NetGuard
from newsdrift.fetch.settings import FetchSettings
from newsdrift.records import Failure, FeedEntry

if TYPE_CHECKING:
    from newsdrift.feeds.catalog import Feed

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9,"
    " application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HONOURS_RETRY_AFTER = frozenset({429, 503})
# feedparser flags these but has parsed the document fine.
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")

Outcome = Literal["ok", "not_modified", "failed"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class FeedPollResult:
    """What one poll of one feed produced; the caller turns it into feed state."""

    feed_url: str
    outcome: Outcome
    entries: list[FeedEntry] = field(default_factory=list)
    http_status: int | None = None
    etag: str | None = None  # validators to store for the next poll
    last_modified: str | None = None
    error: str | None = None  # reason when outcome == "failed"
    warnings: list[str] = field(default_factory=list)  # e.g. recovered malformed XML
    dropped: list[Failure] = field(default_factory=list)
    """One record per entry left out (no usable link, duplicate link): where = "entry:<feed url>#<id or position>"."""
    attempts: int = 0  # HTTP attempts made (1 + retries)
    retry_after: float | None = None  # seconds the server last asked to wait (429/503)
    ttl_seconds: float | None = None  # RSS <ttl>: how long the feed may be cached
    max_age_seconds: float | None = None  # Cache-Control: max-age of the response
    final_url: str | None = None  # after redirects
    feed_title: str | None = None
    feed_version: str | None = None  # feedparser's name: "rss20", "atom10", "rss10", ...
    polled_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    elapsed: float = 0.0  # seconds, including retry waits

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"

    @property
    def failure(self) -> Failure | None:
        """The poll failure as a pipeline ``Failure`` record (None when it did not fail)."""
        if self.outcome != "failed":
            return None
        return Failure(where=f"feed:{self.feed_url}", reason=self.error or "unknown error")


def _state_value(state: Any, key: str) -> str | None:
    if state is None:
        return None
    value = state.get(key) if isinstance(state, Mapping) else getattr(state, key, None)
    return str(value) if value else None


def _conditional_headers(feed: Feed, state: Any) -> dict[str, str]:
    headers = {"Accept": FEED_ACCEPT}
    if feed.ignore_cache:
        return headers
    etag = _state_value(state, "etag")
    modified = _state_value(state, "last_modified")
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


async def poll_feed(
    client: httpx.AsyncClient,
    feed: Feed,
    state: Mapping[str, Any] | Any | None,
    settings: FetchSettings,
    *,
    guard: NetGuard | None = None,
    backoff_base: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> FeedPollResult:
    """Poll one feed once (with retries) and parse its entries.

    ``state`` is the stored feed state (mapping or object) with ``etag`` and
    ``last_modified``. 429/503 wait for Retry-After when it is within
    ``settings.retry_after_cap``; a longer Retry-After ends the poll as failed
    with ``retry_after`` set, so the scheduler can come back later instead of
    hammering the server. Other transient errors back off exponentially
    (``backoff_base`` * 2^n seconds, capped) up to ``settings.feed_retries`` times.
    """
    guard = guard or NetGuard.from_settings(settings)
    started = time.monotonic()
    result = FeedPollResult(feed_url=feed.url, outcome="failed")
    old_etag, old_modified = _state_value(state, "etag"), _state_value(state, "last_modified")
    headers = _conditional_headers(feed, state)
    while True:
        result.attempts += 1
        delay: float | None = None
        try:
            response = await guarded_get(
                client,
                feed.url,
                guard=guard,
                max_bytes=settings.max_feed_bytes,
                timeout=settings.http_timeout,
                max_redirects=settings.max_redirects,
                headers=headers,
            )
        except FetchError as exc:
            result.error, result.http_status = exc.reason, exc.status
            if not exc.transient:
                break
        else:
            result.http_status, result.final_url = response.status, response.url
            result.max_age_seconds = parse_max_age(response.headers.get("cache-control"))
            if response.status == 304:
                result.outcome = "not_modified"
                result.etag = response.headers.get("etag") or old_etag
                result.last_modified = response.headers.get("last-modified") or old_modified
                result.error = None
                break
            if 200 <= response.status < 300:
                try:
                    await _parse_into(result, response, feed)
                except Exception as exc:  # noqa: BLE001 - a parser bug on one feed must not stop the others
                    result.error = f"feed parser error: {type(exc).__name__}: {exc}"
                break
            result.error = f"HTTP {response.status}"
            if response.status not in RETRY_STATUSES:
                break
            if response.status in HONOURS_RETRY_AFTER:
                delay = parse_retry_after(response.headers.get("retry-after"))
                result.retry_after = delay
                if delay is not None and delay > settings.retry_after_cap:
                    result.error += (
                        f" (Retry-After {delay:g}s exceeds the {settings.retry_after_cap:g}s cap; not retrying now)"
                    )
                    break
        if result.attempts > settings.feed_retries:
            if result.attempts > 1:
                result.error = f"{result.error} (after {result.attempts} attempts)"
            break
        if delay is None:
            delay = min(backoff_base * 2 ** (result.attempts - 1), settings.retry_after_cap)
        await sleep(delay)
    result.elapsed = time.monotonic() - started
    return result


# --- parsing ------------------------------------------------------------------


def _describe_bozo(exc: BaseException | None) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"XML syntax error at line {exc.getLineNumber()}: {exc.getMessage()}"
    if exc is None:
        return "malformed feed"
    return f"{type(exc).__name__}: {exc}".strip()


def _parse_feed(body: bytes, content_type: str, base_url: str) -> Any:
    import feedparser  # ~50 ms to import; only feed polling needs it

    # A BytesIO, never raw bytes: feedparser treats a bytes/str argument that
    # names an existing file as a path to open (local file disclosure).
    return feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": content_type, "content-location": base_url},
        resolve_relative_uris=True,
        sanitize_html=True,
    )


async def _parse_into(result: FeedPollResult, response: HttpResult, feed: Feed) -> None:
    # Validators are kept only for a feed we could read: a 304 must never hide a broken one.
    if not response.body.strip():
        result.error = "not a feed: empty response body"
        return
    content_type = response.headers.get("content-type", "")
    # Parsing a multi-megabyte feed is CPU work; keep the event loop free.
    parsed = await asyncio.to_thread(_parse_feed, response.body, content_type, response.url)
    bozo = bool(parsed.get("bozo"))
    exc = parsed.get("bozo_exception")
    benign = bozo and type(exc).__name__ in _BENIGN_BOZO
    raw_entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    if not raw_entries and (bozo and not benign):
        result.error = f"not a feed: {_describe_bozo(exc)}"
        return
    if not raw_entries and not version:
        result.error = "not a feed: no RSS or Atom elements found"
        return
    if bozo:
        note = _describe_bozo(exc)
        if benign:
            result.warnings.append(f"feed parsed with a warning: {note}")
        else:
            result.warnings.append(f"malformed feed ({note}); {len(raw_entries)} entries recovered")
    result.feed_version = version or None
    result.feed_title = _plain_text(parsed.get("feed", {}).get("title", "")) or None
    result.ttl_seconds = parse_ttl(parsed.get("feed", {}).get("ttl"))
    result.entries = _entries(raw_entries, result, response.url, feed)
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")
    result.outcome = "ok"
    result.error = None


def _entries(raw_entries: list[Any], result: FeedPollResult, base_url: str, feed: Feed) -> list[FeedEntry]:
    """The entries with a usable link, first occurrence of each link; the others go to ``result.dropped``."""
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for position, raw in enumerate(raw_entries, start=1):
        link, why = _entry_link(raw, base_url)
        if link is None:
            skipped += 1
            result.dropped.append(_dropped(result, raw, position, why))
            continue
        if link in seen:
            result.dropped.append(_dropped(result, raw, position, f"duplicate link {link}"))
            continue
        seen.add(link)
        entries.append(
            FeedEntry(
                feed_url=result.feed_url,
                feed_name=feed.name,
                source=feed.source,
                link=link,
                title=_plain_text(raw.get("title", "")),
                summary=_plain_text(raw.get("summary", "")),
                content=_entry_content(raw),
                published_at=_entry_date(raw),
                entry_id=str(raw.get("id") or link),
                authors=_entry_authors(raw),
                tags=list(feed.tags),
            )
        )
    if skipped:
        result.warnings.append(f"{skipped} entries without an http(s) link skipped")
    return entries


def _dropped(result: FeedPollResult, raw: Mapping[str, Any], position: int, reason: str) -> Failure:
    """A dropped entry, named by its id (guid/atom:id) or, without one, its 1-based position in the feed."""
    ident = str(raw.get("id") or "").strip() or str(position)
    return Failure(where=f"entry:{result.feed_url}#{ident}", reason=reason)


def _entry_link(raw: Mapping[str, Any], base_url: str) -> tuple[str | None, str]:
    """The entry's http(s) link, or None and why there is none."""
    candidates = [raw.get("link")]
    candidates += [lk.get("href") for lk in raw.get("links", []) if lk.get("rel", "alternate") == "alternate"]
    if raw.get("guidislink"):
        candidates.append(raw.get("id"))
    why = "no link"
    for candidate in candidates:
        if not candidate or not str(candidate).strip():
            continue
        url = urljoin(base_url, str(candidate).strip())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            if why == "no link":
                why = f"unsupported link scheme {parts.scheme!r}" if parts.scheme else f"unusable link {url!r}"
            continue
        try:
            host = parts.hostname
        except ValueError:
            host = None
        if host:
            return url, ""
        if why == "no link":
            why = f"link without a host {url!r}"
    return None, why


def _entry_date(raw: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = raw.get(key)
        if parsed:
            try:
                # feedparser normalises every date to UTC struct_time.
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _entry_authors(raw: Mapping[str, Any]) -> list[str]:
    names = [str(a.get("name")).strip() for a in raw.get("authors", []) if a.get("name")]
    if not names and raw.get("author"):
        names = [str(raw["author"]).strip()]
    return [n for n in dict.fromkeys(names) if n]


_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")


def _entry_content(raw: Mapping[str, Any]) -> str:
    """The longest full-text content of an entry (RSS content:encoded, Atom content), as plain text."""
    values = [_plain_text(c.get("value", "")) for c in raw.get("content") or [] if isinstance(c, Mapping)]
    return max(values, key=len, default="")


def _plain_text(value: Any) -> str:
    """Feed titles/summaries may carry (sanitised) HTML; keep the text only."""
    text = _TAG_RE.sub(" ", str(value or ""))
    return _SPACE_RE.sub(" ", html.unescape(text)).strip()
