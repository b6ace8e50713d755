"""Poll a pass's due feeds (bounded concurrency), store their new state and hand back their entries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.feeds import state as feedstate
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.poll import FeedPollResult, poll_feed
from newsdrift.feeds.schedule import PollBounds
from newsdrift.fetch.http import make_client as make_http_client
from newsdrift.records import Failure, FeedEntry, RunSummary
from newsdrift.settings import Settings
from newsdrift.store.client import cluster_call
from newsdrift.store.names import IndexNames

Progress = Callable[..., None]  # progress(event, **info): what a long pass reports as it goes


def no_progress(event: str, **info: Any) -> None:
    return None


@dataclass
class PollOutcome:
    results: list[FeedPollResult]
    entries: list[FeedEntry]
    # feed id -> the validators of this poll, stored only once its entries are handled
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)
    feed_urls: list[str] = field(default_factory=list)  # every feed polled


async def poll_feeds(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    feeds: list[Feed],
    summary: RunSummary,
    *,
    force: bool = False,
    progress: Progress = no_progress,
) -> PollOutcome:
    """Poll due feeds concurrently (bounded), store their new state, return their entries."""
    states = cluster_call(feedstate.load_states, client, names, feeds)
    now = datetime.now(UTC)
    due = [f for f in feeds if force and f.enabled or feedstate.is_due(f, states.get(f.id), now)]
    progress("poll_start", total=len(due))
    gate = asyncio.Semaphore(settings.fetch_concurrency)
    async with make_http_client(settings) as http:

        async def one(feed: Feed) -> Any:
            async with gate:
                result = await poll_feed(http, feed, states.get(feed.id), settings)
            progress("poll_done", feed=feed.name, outcome=result.outcome)
            return result

        results = await asyncio.gather(*(one(f) for f in due))
    bounds = PollBounds.from_settings(settings)
    new_states = []
    entries: list[FeedEntry] = []
    validators: dict[str, dict[str, Any]] = {}
    for feed, result in zip(due, results, strict=True):
        summary.feeds_polled += 1
        summary.entries_seen += len(result.entries)
        dropped = list(getattr(result, "dropped", None) or [])
        summary.entries_dropped += len(dropped)
        summary.errors.extend(dropped)
        if result.outcome == "failed":
            summary.feeds_failed += 1
            summary.add_error(result.failure)
        elif result.outcome == "not_modified":
            summary.feeds_not_modified += 1
        entries.extend(result.entries)
        state = feedstate.next_state(feed, states.get(feed.id), result, bounds)
        if result.outcome == "ok" and result.entries:
            # Keep the old validators until the entries are indexed: if the pass dies, the next
            # poll gets the feed again instead of a 304 that would hide these entries for good.
            validators[feed.id] = feedstate.hold_validators(state, states.get(feed.id))
        new_states.append(state)
    if new_states:
        outcomes = cluster_call(feedstate.save_states, client, names, new_states)
        for o in outcomes:
            if not o.ok:
                summary.add_error(Failure(f"feed-state:{o.doc_id}", o.reason or "not stored"))
    return PollOutcome(results, entries, validators, [f.url for f in due])


def commit_validators(
    client: OpenSearch, names: IndexNames, validators: dict[str, dict[str, Any]], summary: RunSummary
) -> None:
    """Store held feed validators, except for feeds whose entries hit a transient failure (retried next pass)."""
    ready = {fid: v for fid, v in validators.items() if v["feed_url"] not in summary.transient_feeds}
    for outcome in cluster_call(feedstate.save_validators, client, names, ready):
        if not outcome.ok:
            summary.add_error(Failure(f"feed-state:{outcome.doc_id}", outcome.reason or "not stored"))
