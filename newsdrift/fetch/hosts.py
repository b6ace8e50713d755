"""Fetch scheduling across hosts, in the spirit of Scrapy's per-domain download slots.

Entries are queued per host (the key ``HostGate`` paces). Each host with work has
``per_host`` workers; a worker takes one of ``ahead`` shared tokens, pops the next
entry of its host and runs the whole job for it (fetch, extract, hand-off) before
giving the token back. So every host with work and a free politeness slot is
being fetched while the others wait out their delays, the number of entries in
progress (fetched but not yet handed on) never exceeds ``ahead``, and tokens
are granted first come, first served, so hosts take turns.

Politeness itself (per-host concurrency and delay, Crawl-delay, the global fetch
limit) stays in ``PoliteFetcher``/``HostGate``; the scheduler only decides which
entry is tried next.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from newsdrift.fetch.politeness import host_of
from newsdrift.records import FeedEntry


def per_host_queues(entries: Iterable[FeedEntry]) -> dict[str, deque[FeedEntry]]:
    """Entries grouped by the host of their link, each host's in feed order."""
    queues: dict[str, deque[FeedEntry]] = {}
    for entry in entries:
        queues.setdefault(host_of(entry.link), deque()).append(entry)
    return queues


async def run_per_host(
    entries: Iterable[FeedEntry],
    job: Callable[[FeedEntry], Awaitable[None]],
    *,
    per_host: int,
    ahead: int,
) -> None:
    """Run ``job`` for every entry: ``per_host`` at a time per host, ``ahead`` at a time overall."""
    tokens = asyncio.Semaphore(max(1, ahead))

    async def worker(queue: deque[FeedEntry]) -> None:
        while queue:
            async with tokens:
                if not queue:  # a sibling took the last entry while this one waited
                    return
                await job(queue.popleft())

    workers = [worker(q) for q in per_host_queues(entries).values() for _ in range(min(per_host, len(q)))]
    await gather_or_cancel(*workers)


async def gather_or_cancel(*aws: Awaitable[Any]) -> None:
    """Run all to completion; on the first exception cancel the rest and raise it (not an ExceptionGroup)."""
    tasks = [asyncio.ensure_future(a) for a in aws]  # tasks copy the context: the run id goes along
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
