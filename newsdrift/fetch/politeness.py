"""Per-host request pacing: at most N requests in flight and a minimum gap between starts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit


def host_of(url: str) -> str:
    """The key politeness applies to: the URL's host name, lower-cased (ports of one host share it)."""
    return (urlsplit(url).hostname or "").lower()


class HostGate:
    """Admission control for one host.

    Order of acquisition in ``slot``: the host's own semaphore, then the host's
    turn (the start-time spacing), then the global semaphore, and only then the
    start is stamped. Taking the host semaphore first means a slow host holds at
    most ``max_parallel`` global slots; waiting out the spacing *before* taking a
    global slot means a host that is only waiting for its delay does not keep
    other hosts from being fetched; stamping after the global slot means the gap
    is measured between real request starts.
    """

    def __init__(self, max_parallel: int, min_delay: float) -> None:
        self.min_delay = min_delay
        self._parallel = asyncio.Semaphore(max_parallel)
        self._spacing = asyncio.Lock()
        self._next_start = 0.0  # loop time before which no request may start
        self._last_start: float | None = None

    def defer(self, seconds: float) -> None:
        """Push the next start back (after a 429/503 Retry-After from this host)."""
        loop = asyncio.get_running_loop()
        self._next_start = max(self._next_start, loop.time() + seconds)

    def raise_delay(self, seconds: float) -> None:
        """Make the gap at least ``seconds`` (a robots.txt Crawl-delay), counted from the last start too."""
        self.min_delay = max(self.min_delay, seconds)
        if self._last_start is not None:
            self._next_start = max(self._next_start, self._last_start + self.min_delay)

    async def _turn(self) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._next_start - loop.time()) > 0:
            await asyncio.sleep(wait)

    @contextlib.asynccontextmanager
    async def slot(self, global_limit: asyncio.Semaphore | None = None) -> AsyncIterator[None]:
        async with self._parallel:
            async with self._spacing:
                await self._turn()
                if global_limit is not None:
                    await global_limit.acquire()
                try:
                    await self._turn()  # a defer() or raise_delay() while waiting for the global slot
                    self._last_start = asyncio.get_running_loop().time()
                    self._next_start = self._last_start + self.min_delay
                except BaseException:
                    if global_limit is not None:
                        global_limit.release()
                    raise
            try:
                yield
            finally:
                if global_limit is not None:
                    global_limit.release()
