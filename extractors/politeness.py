"""Per-host request pacing: at most N requests in flight and a minimum gap between starts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class HostGate:
    """Admission control for one host.

    Order of acquisition in ``slot``: the host's own semaphore, then the global
    one, then the start-time spacing. Taking the host semaphore first means a
    slow or delayed host can hold at most ``max_parallel`` global slots, and
    spacing last means the gap is measured between real request starts.
    """

    def __init__(self, max_parallel: int, min_delay: float) -> None:
        self.min_delay = min_delay
        self._parallel = asyncio.Semaphore(max_parallel)
        self._spacing = asyncio.Lock()
        self._next_start = 0.0  # loop time before which no request may start

    def defer(self, seconds: float) -> None:
        """Push the next start back (after a 429/503 Retry-After from this host)."""
        loop = asyncio.get_running_loop()
        self._next_start = max(self._next_start, loop.time() + seconds)

    @contextlib.asynccontextmanager
    async def slot(self, global_limit: asyncio.Semaphore | None = None) -> AsyncIterator[None]:
        async with self._parallel, global_limit if global_limit is not None else contextlib.nullcontext():
            async with self._spacing:
                loop = asyncio.get_running_loop()
                wait = self._next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next_start = loop.time() + self.min_delay
            yield
