"""Polite article fetching: robots.txt, per-host pacing, HTML only, decoded text.

Every request of a fetch (each redirect hop and the robots.txt fetch) goes
through the SSRF guard and its host's ``HostGate``; the robots.txt of each
origin is fetched once per ``PoliteFetcher`` (one run) and shared by all
concurrent fetches of that origin. With a ``robots_store`` (the pipeline passes
``newsdrift.fetch.robots_store.RobotsStore``), a definite robots.txt answer is kept across
passes until its TTL instead of being fetched again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

import httpx

from newsdrift.fetch.charset import decode_page
from newsdrift.fetch.http import FetchError, guarded_get, make_client, parse_retry_after
from newsdrift.fetch.netguard import NetGuard
from newsdrift.fetch.politeness import HostGate, host_of
from newsdrift.fetch.robots import (
    ROBOTS_MAX_BYTES,
    RobotsPolicy,
    origin_of,
    policy_from_response,
    robots_url,
    unreachable_policy,
)
from newsdrift.fetch.settings import FetchSettings
from newsdrift.records import Failure, FeedEntry, FetchedPage

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
MAX_CRAWL_DELAY = 30.0  # a robots.txt Crawl-delay above this is clamped


def html_refusal(response: httpx.Response) -> str | None:
    """Refuse non-HTML bodies before reading them (a missing type is sniffed later)."""
    content_type = response.headers.get("content-type")
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    return None if mime in HTML_TYPES else f"content type {mime or '(empty)'} is not HTML"


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


class RobotsStore(Protocol):
    """Where robots.txt responses outlive one fetcher (one pass)."""

    async def get(self, origin: str) -> tuple[int, bytes] | None: ...

    async def put(self, origin: str, status: int, body: bytes) -> None: ...


class PoliteFetcher:
    """Fetch article pages politely; use as ``async with PoliteFetcher(settings) as f``.

    ``client`` defaults to ``make_client(settings, guard)`` (closed on exit);
    ``guard`` defaults to ``NetGuard.from_settings(settings)``.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        client: httpx.AsyncClient | None = None,
        guard: NetGuard | None = None,
        max_crawl_delay: float = MAX_CRAWL_DELAY,
        robots_store: RobotsStore | None = None,
    ) -> None:
        self._settings = settings
        self._guard = guard or NetGuard.from_settings(settings)
        self._client = client
        self._owns_client = client is None
        self._max_crawl_delay = max_crawl_delay
        self._robots_store = robots_store
        self.robots_fetched = 0  # robots.txt requests this fetcher made (the rest came from the store)
        self._global = asyncio.Semaphore(settings.fetch_concurrency)
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, asyncio.Task[RobotsPolicy]] = {}

    async def __aenter__(self) -> PoliteFetcher:
        if self._client is None:
            self._client = make_client(self._settings, self._guard)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._robots.values():
            task.cancel()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def user_agent(self) -> str:
        return str(self._settings.user_agent)

    # --- public API ---------------------------------------------------------

    async def fetch(self, entry: FeedEntry) -> FetchedPage | Failure:
        """The page behind ``entry.link``, or a ``Failure`` saying exactly why not."""
        url = entry.link
        where = f"page:{url}"
        if self._client is None:
            raise RuntimeError("PoliteFetcher must be used inside 'async with'")
        settings = self._settings
        try:
            result = await guarded_get(
                self._client,
                url,
                guard=self._guard,
                max_bytes=settings.max_page_bytes,
                timeout=settings.http_timeout,
                max_redirects=settings.max_redirects,
                headers={"Accept": PAGE_ACCEPT},
                accept=html_refusal,
                hop=self._page_hop,
            )
        except FetchError as exc:
            return Failure(where, exc.reason, transient=exc.transient)
        if not 200 <= result.status < 300:
            transient = result.status in (408, 429) or result.status >= 500
            return Failure(where, self._status_reason(result.url, result.status, result.headers), transient=transient)
        content_type = result.headers.get("content-type", "")
        if not content_type:
            if not looks_like_html(result.body):
                return Failure(where, "no content type and the body does not look like HTML")
            content_type = "text/html"
        if not result.body.strip():
            return Failure(where, "empty response body")
        decoded = decode_page(result.body, content_type)
        return FetchedPage(
            entry=entry,
            requested_url=url,
            final_url=result.url,
            status=result.status,
            content_type=content_type,
            html=decoded.text,
            fetched_at=datetime.now(UTC),
            decoding=decoded.note,
        )

    async def fetch_all(self, entries: Iterable[FeedEntry]) -> list[FetchedPage | Failure]:
        """Fetch many entries concurrently (within the limits); results keep the input order."""
        return list(await asyncio.gather(*(self.fetch(e) for e in entries)))

    # --- internals ----------------------------------------------------------

    def _status_reason(self, url: str, status: int, headers: httpx.Headers) -> str:
        reason = f"HTTP {status}"
        if status in (429, 503):
            wait = parse_retry_after(headers.get("retry-after"))
            if wait is not None:
                # Keep away from the host for the rest of this run's queue.
                self._gate(url).defer(min(wait, self._settings.retry_after_cap))
                reason += f" (Retry-After {wait:g}s)"
        return reason

    def _gate(self, url: str) -> HostGate:
        host = host_of(url)
        gate = self._gates.get(host)
        if gate is None:
            gate = HostGate(self._settings.per_host_concurrency, self._settings.per_host_delay)
            self._gates[host] = gate
        return gate

    @contextlib.asynccontextmanager
    async def _page_hop(self, url: str) -> AsyncIterator[None]:
        policy = await self._robots_policy(url)
        refusal = policy.refusal(url, self.user_agent)
        if refusal:
            # an unreachable robots.txt refuses the host for this run only: worth retrying next pass
            raise FetchError(refusal, transient=policy.parser is None and not policy.allow_all)
        async with self._gate(url).slot(self._global):
            yield

    @contextlib.asynccontextmanager
    async def _robots_hop(self, url: str) -> AsyncIterator[None]:
        async with self._gate(url).slot(self._global):
            yield

    async def _robots_policy(self, url: str) -> RobotsPolicy:
        origin = origin_of(url)
        task = self._robots.get(origin)
        if task is None:
            # One task per origin: concurrent fetches wait for the same robots.txt.
            task = asyncio.create_task(self._load_robots(origin), name=f"robots {origin}")
            self._robots[origin] = task
        return await asyncio.shield(task)

    async def _load_robots(self, origin: str) -> RobotsPolicy:
        assert self._client is not None
        if self._robots_store is not None:
            cached = await self._robots_store.get(origin)
            if cached is not None:
                return self._apply_delay(origin, policy_from_response(origin, *cached))
        self.robots_fetched += 1
        try:
            result = await guarded_get(
                self._client,
                robots_url(origin),
                guard=self._guard,
                max_bytes=ROBOTS_MAX_BYTES,
                timeout=self._settings.http_timeout,
                max_redirects=max(5, self._settings.max_redirects),
                headers={"Accept": "text/plain,*/*;q=0.1"},
                hop=self._robots_hop,
                truncate=True,
            )
        except FetchError as exc:
            return unreachable_policy(origin, exc.reason)
        policy = policy_from_response(origin, result.status, result.body)
        if self._robots_store is not None and policy.cacheable:
            await self._robots_store.put(origin, result.status, result.body)
        return self._apply_delay(origin, policy)

    def _apply_delay(self, origin: str, policy: RobotsPolicy) -> RobotsPolicy:
        delay = policy.crawl_delay(self.user_agent)
        if delay:
            # counted from the robots.txt request itself, so the first page already keeps the gap
            self._gate(origin).raise_delay(min(delay, self._max_crawl_delay))
        return policy
