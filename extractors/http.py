"""One guarded HTTP GET: manual redirects, streamed size cap, hard timeout.

Shared by feed polling and page fetching so both get the same SSRF checks on
every hop, the same limits and the same failure wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from extractors.netguard import GuardedBackend, GuardError, NetGuard

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

HopContext = Callable[[str], AbstractAsyncContextManager[None]]
"""Entered around each hop's request with the hop URL (robots check, host slot)."""

Acceptor = Callable[[httpx.Response], str | None]
"""Looks at a 2xx response before its body is read; returns a refusal reason or None."""


class FetchError(Exception):
    """A request that produced no usable response; ``reason`` is one readable line."""

    def __init__(self, reason: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.transient = transient  # worth retrying (timeouts, connection errors)


@dataclass(slots=True)
class HttpResult:
    """The final response of a request chain; ``body`` is read only for 2xx."""

    url: str  # final URL after redirects
    status: int
    headers: httpx.Headers
    body: bytes
    redirects: tuple[str, ...] = ()


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose sockets go through ``GuardedBackend``."""

    def __init__(self, guard: NetGuard, *, max_connections: int = 100) -> None:
        super().__init__(trust_env=False)
        # Replacing the pool is the only way to give httpx a network backend;
        # proxies from the environment are deliberately not used (trust_env=False).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=min(20, max_connections),
            network_backend=GuardedBackend(guard),
        )


def make_client(settings: Any, guard: NetGuard | None = None) -> httpx.AsyncClient:
    """An ``AsyncClient`` for feeds and pages: our User-Agent, no auto-redirects, guarded sockets."""
    guard = guard or NetGuard.from_settings(settings)
    return httpx.AsyncClient(
        transport=GuardedTransport(guard, max_connections=max(10, settings.fetch_concurrency * 2)),
        headers={"User-Agent": settings.user_agent},
        timeout=httpx.Timeout(settings.http_timeout),
        follow_redirects=False,
        trust_env=False,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe_transport_error(exc: httpx.TransportError) -> str:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {detail}"
    if isinstance(exc, httpx.DecodingError):
        return f"invalid content encoding: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {detail}"
    return f"network error: {detail}"


async def _read_capped(response: httpx.Response, max_bytes: int, truncate: bool = False) -> bytes:
    """The decoded body, aborting (or cutting it, with ``truncate``) past ``max_bytes``."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in response.headers:
        raise FetchError(f"body exceeds {max_bytes} bytes (Content-Length {declared})", status=response.status_code)
    chunks: list[bytes] = []
    size = 0
    # aiter_bytes yields decompressed data, so the cap also stops gzip bombs.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                break
            raise FetchError(f"body exceeds {max_bytes} bytes", status=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.asynccontextmanager
async def _no_hop_context(url: str) -> AsyncIterator[None]:
    yield


async def guarded_get(
    client: httpx.AsyncClient,
    url: str,
    *,
    guard: NetGuard,
    max_bytes: int,
    timeout: float,
    max_redirects: int,
    headers: Mapping[str, str] | None = None,
    accept: Acceptor | None = None,
    hop: HopContext | None = None,
    truncate: bool = False,
) -> HttpResult:
    """GET ``url`` following at most ``max_redirects`` redirects, each hop checked by ``guard``.

    Raises ``FetchError`` with a specific reason; non-2xx statuses are returned
    (without body) for the caller to interpret. ``truncate`` keeps the first
    ``max_bytes`` of a longer body instead of failing (robots.txt).
    """
    hop = hop or _no_hop_context
    redirects: list[str] = []
    current = url
    while True:
        try:
            await guard.check_url(current, redirect=bool(redirects))
        except GuardError as exc:
            raise FetchError(exc.reason) from None
        async with hop(current):
            try:
                # The hard deadline also covers servers that trickle bytes
                # slowly enough never to trip httpx's per-read timeout.
                async with asyncio.timeout(timeout):
                    async with client.stream("GET", current, headers=headers) as response:
                        location = response.headers.get("location")
                        if response.status_code in REDIRECT_STATUSES and location:
                            target = str(response.url.join(location))
                        elif 200 <= response.status_code < 300:
                            reason = accept(response) if accept else None
                            if reason:
                                raise FetchError(reason, status=response.status_code)
                            body = await _read_capped(response, max_bytes, truncate)
                            return HttpResult(current, response.status_code, response.headers, body, tuple(redirects))
                        else:
                            return HttpResult(current, response.status_code, response.headers, b"", tuple(redirects))
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError(f"timeout after {timeout:g}s", transient=True) from None
            except GuardError as exc:  # raised at connect time by GuardedBackend
                raise FetchError(exc.reason) from None
            except httpx.InvalidURL as exc:
                raise FetchError(f"invalid URL: {exc}") from None
            except httpx.TransportError as exc:
                transient = not isinstance(exc, httpx.DecodingError)
                raise FetchError(_describe_transport_error(exc), transient=transient) from None
        if len(redirects) >= max_redirects:
            raise FetchError(f"too many redirects (more than {max_redirects})")
        redirects.append(current)
        current = target
