"""One guarded HTTP GET: manual redirects, streamed size cap, hard timeout.

Shared by feed polling and page fetching so both get the same SSRF checks on
every hop, the same limits and the same failure wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from newsdrift.fetch.netguard import GuardedBackend, GuardError, NetGuard
from newsdrift.fetch.settings import FetchSettings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT_ENCODING = "gzip, deflate"
"""The content codings we decode ourselves (see ``_Inflater``); nothing else is advertised."""

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
            # every open connection may stay open: the scheduler cycles through many hosts, and a
            # smaller keep-alive pool closed and reopened a connection for most requests
            max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(guard),
        )


IDLE_HOSTS_KEPT = 64  # keep-alive connections kept across the hosts the scheduler cycles through


def make_client(settings: FetchSettings, guard: NetGuard | None = None) -> httpx.AsyncClient:
    """An ``AsyncClient`` for feeds and pages: our User-Agent, no auto-redirects, guarded sockets."""
    guard = guard or NetGuard.from_settings(settings)
    return httpx.AsyncClient(
        # open connections, busy or idle; requests in flight are bounded by fetch_concurrency elsewhere
        transport=GuardedTransport(guard, max_connections=max(IDLE_HOSTS_KEPT, settings.fetch_concurrency * 2)),
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
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


_DECODE_STEP = 64 * 1024  # most bytes one decompress call may produce
_GZIP_NAMES = frozenset({"gzip", "x-gzip"})
_DEFLATE_NAMES = frozenset({"deflate"})


class _DecodeError(Exception):
    pass


class _Inflater:
    """One gzip or deflate layer whose output comes in pieces of at most ``_DECODE_STEP`` bytes.

    ``zlib``'s ``max_length`` keeps the unread input in ``unconsumed_tail``, so a
    2 KB member that inflates to a gigabyte costs one piece at a time, and the
    caller can stop pulling as soon as it has seen enough.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name in _GZIP_NAMES
        self._raw = False  # "deflate" sent without its zlib wrapper (common)
        self._pending = bytearray()  # deflate input kept until the first output, to retry as raw
        self._produced = False
        self._d = self._new()

    def _new(self) -> Any:
        if self._gzip:
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._gzip and not self._produced and not self._raw:
            self._pending += data
        while True:
            try:
                out = self._d.decompress(data, _DECODE_STEP)
            except zlib.error as exc:
                if not self._gzip and not self._produced and not self._raw:
                    self._raw = True
                    self._d = self._new()
                    data, self._pending = bytes(self._pending), bytearray()
                    continue
                raise _DecodeError(f"{self.name}: {exc}") from None
            if out:
                if not self._produced:
                    self._produced, self._pending = True, bytearray()
                yield out
            if self._d.eof:
                rest = self._d.unused_data
                if self._gzip and rest.startswith(b"\x1f\x8b"):
                    self._d, data = self._new(), rest  # the next member of a multi-member gzip
                    continue
                return  # bytes after the end of the stream are ignored, as browsers do
            data = self._d.unconsumed_tail
            # A full step may leave more output inside zlib: ask again with no new input.
            if not data and len(out) < _DECODE_STEP:
                return


def _content_codings(headers: httpx.Headers, status: int) -> list[str]:
    """The Content-Encoding tokens in the order they were applied ("identity" dropped)."""
    names = [v.strip().lower() for v in headers.get_list("content-encoding", split_commas=True)]
    names = [n for n in names if n and n != "identity"]
    for name in names:
        if name not in _GZIP_NAMES and name not in _DEFLATE_NAMES:
            raise FetchError(f"unsupported content encoding {name!r}", status=status)
    return names


def _decode_through(layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    """``data`` pushed through the layers (outermost first), lazily, piece by piece."""
    if not layers:
        if data:
            yield data
        return
    head, rest = layers[0], layers[1:]
    for piece in head.feed(data):
        yield from _decode_through(rest, piece)


async def _read_capped(response: httpx.Response, max_bytes: int, truncate: bool = False) -> bytes:
    """The decoded body, aborting (or cutting it, with ``truncate``) past ``max_bytes``.

    The raw bytes are decoded here, layer by layer for a stacked Content-Encoding,
    in bounded pieces: decoding stops as soon as the cap is passed, so no more
    than ``max_bytes`` plus one piece is ever inflated, whatever the ratio.
    """
    status = response.status_code
    declared = response.headers.get("content-length", "")
    codings = _content_codings(response.headers, status)
    if not truncate and declared.isdigit() and int(declared) > max_bytes and not codings:
        raise FetchError(f"body exceeds {max_bytes} bytes (Content-Length {declared})", status=status)
    via = f" (decoded from Content-Encoding {', '.join(codings)})" if codings else ""
    layers = [_Inflater(name) for name in reversed(codings)]
    chunks: list[bytes] = []
    size = raw_size = 0
    try:
        async for raw in response.aiter_raw():
            raw_size += len(raw)
            if raw_size > max_bytes and codings:
                if truncate:
                    break
                raise FetchError(f"body exceeds {max_bytes} bytes before decoding{via}", status=status)
            for chunk in _decode_through(layers, raw):
                size += len(chunk)
                if size > max_bytes:
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                        return b"".join(chunks)
                    raise FetchError(f"body exceeds {max_bytes} bytes{via}", status=status)
                chunks.append(chunk)
    except _DecodeError as exc:
        raise FetchError(f"invalid content encoding: {exc}", status=status) from None
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
    # Only what _read_capped decodes; httpx would also offer br/zstd when their modules are installed.
    headers = {"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})}
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
