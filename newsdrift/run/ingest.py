"""One pass of the pipeline: poll -> select -> fetch -> extract -> score -> index -> alert.

Each step is one call into the module named for it and takes records in and gives records out; a
failure on one item becomes a ``Failure`` in the summary and the pass goes on. Only a store that
cannot be reached stops the pass (``ClusterUnavailable``). Fetching, extraction and indexing overlap:
pages are fetched across hosts while earlier ones are extracted in worker processes and earlier
batches are scored and indexed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from opensearchpy import OpenSearch

from extractors.feedtext import falls_back
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.poller import Progress, commit_validators, no_progress, poll_feeds
from newsdrift.feeds.state import set_indexed_counts
from newsdrift.fetch import links as linkstate
from newsdrift.fetch.fetcher import PoliteFetcher
from newsdrift.fetch.hosts import gather_or_cancel, run_per_host
from newsdrift.fetch.robots_store import RobotsStore
from newsdrift.records import Failure, FeedEntry, RunSummary, ScoredArticle
from newsdrift.run import context as runctx
from newsdrift.run.extraction import Extracted, extract_and_score_text, extraction_executor, feed_article_and_score
from newsdrift.run.select import existing_ids, select_new_entries
from newsdrift.score.stages import Stage, default_scorers, finish_pass, score_stages, stage_name, worker_analyses
from newsdrift.settings import Settings
from newsdrift.store.articles import index_articles
from newsdrift.store.client import cluster_call
from newsdrift.store.names import IndexNames


async def run_once_async(
    settings: Settings,
    client: OpenSearch,
    feeds: list[Feed],
    *,
    force: bool = False,
    scorers: list[Stage] | None = None,
    progress: Progress = no_progress,
) -> RunSummary:
    """One pass over ``feeds``: what was polled, indexed, scored and alerted, and every failure with its reason."""
    started = time.monotonic()
    names = IndexNames(settings.index_prefix)
    summary = RunSummary()
    with runctx.pass_context(summary.add_error):
        # stages are built (rules, frames, baseline checked) before anything is polled or written
        scorers = default_scorers(settings, client, names) if scorers is None else scorers
        with summary.timed("poll"):
            polled = await poll_feeds(settings, client, names, feeds, summary, force=force, progress=progress)
        with summary.timed("select"):
            new_entries = select_new_entries(client, names, polled.entries, summary)
        with summary.timed("fetch_extract_index"):
            await process_entries(settings, client, names, new_entries, scorers, summary, progress=progress)
        with summary.timed("failed_links"):
            record_failed_links(settings, client, names, summary)
        with summary.timed("feed_counts"):
            commit_validators(client, names, polled.validators, summary)
            # once per pass, counted not incremented: a count a killed pass left short is repaired by the next
            for part in chunks(polled.feed_urls, 1000):
                set_indexed_counts(client, names, part, summary)
        with summary.timed("finish"):
            finish_pass(scorers, summary)  # the stages' end of pass: drift windows, the alerting cycle
    summary.seconds = time.monotonic() - started
    progress("done")
    return summary


def run_once(settings: Settings, client: OpenSearch, feeds: list[Feed], **kwargs: Any) -> RunSummary:
    return asyncio.run(run_once_async(settings, client, feeds, **kwargs))


async def process_entries(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    entries: list[FeedEntry],
    scorers: list[Stage],
    summary: RunSummary,
    *,
    progress: Progress = no_progress,
) -> None:
    """Fetch across hosts continuously, extract in the pool, index in batches of ``settings.batch_size``.

    The scheduler (``newsdrift.fetch.hosts``) keeps every host with work and a free politeness
    slot busy. Extracted articles join the next batch in completion order; batches are scored
    and indexed one at a time, in a worker thread, while fetching goes on (dedup of a batch
    needs the previous one searchable). Memory is bounded by the settings, not by the pass: at
    most ``fetch_ahead(settings)`` entries in progress and ``2 * batch_size`` extracted articles
    not yet indexed (the batch being indexed and the one filling up).
    """
    progress("fetch_start", total=len(entries))
    size = settings.batch_size
    room = asyncio.Semaphore(2 * size)  # extracted and not yet indexed
    filling: list[Extracted] = []
    batches: asyncio.Queue[list[Extracted] | None] = asyncio.Queue()

    async def indexer() -> None:
        while (batch := await batches.get()) is not None:
            await asyncio.to_thread(index_batch, settings, client, names, batch, scorers, summary)  # with the run id
            for _ in batch:
                room.release()

    robots = RobotsStore(client, names, settings.robots_ttl)
    with worker_analyses(scorers), extraction_executor(settings, len(entries)) as pool:
        async with PoliteFetcher(settings, robots_store=robots) as fetcher:

            async def job(entry: FeedEntry) -> None:
                item = await fetch_and_extract_one(settings, fetcher, entry, summary, executor=pool)
                progress("entry_done")
                if item is None:
                    return
                await room.acquire()  # waits while two batches are ahead of the index
                filling.append(item)
                if len(filling) >= size:
                    batches.put_nowait(filling[:size])
                    del filling[:size]

            async def produce() -> None:
                await run_per_host(entries, job, per_host=settings.per_host_concurrency, ahead=fetch_ahead(settings))
                if filling:
                    batches.put_nowait(list(filling))
                    filling.clear()
                batches.put_nowait(None)

            await gather_or_cancel(produce(), indexer())


async def fetch_and_extract_one(
    settings: Settings,
    fetcher: Any,
    entry: FeedEntry,
    summary: RunSummary,
    *,
    executor: Executor,
) -> Extracted | None:
    """Fetch one entry politely and extract it off the event loop; a failure is recorded and gives None."""
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    page = await fetcher.fetch(entry)
    summary.add_time("fetch", time.perf_counter() - started)
    if isinstance(page, Failure):
        summary.fetch_failed += 1
        summary.add_error(page)
        if page.transient:
            summary.transient_feeds.add(entry.feed_url)
            return None
        return await _page_unusable(entry, page, summary, settings, executor)
    result = await loop.run_in_executor(executor, extract_and_score_text, page, settings)
    if isinstance(result, Failure):
        summary.extraction_failed += 1
        summary.add_error(result)
        return await _page_unusable(entry, result, summary, settings, executor)
    summary.add_time("extract", result.seconds)  # pages that failed extraction are not counted
    return result


async def _page_unusable(
    entry: FeedEntry, failure: Failure, summary: RunSummary, settings: Settings, executor: Executor
) -> Extracted | None:
    """A page failed for good: index the feed's own text when it may stand in, else remember the link."""
    if falls_back(failure):
        loop = asyncio.get_running_loop()
        item = await loop.run_in_executor(executor, feed_article_and_score, entry, failure, settings)
        if item is not None:
            return item
    summary.failed_links.append((entry, failure.reason))
    return None


def index_batch(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    extracted: list[Extracted],
    scorers: list[Stage],
    summary: RunSummary,
) -> list[ScoredArticle]:
    """Score and bulk-index one batch, then run the stages' after-index hooks (alerts); returns what was new."""
    with summary.timed("index"):
        known = cluster_call(existing_ids, client, names, {e.article.id for e in extracted})
    batch = to_score(settings, extracted, known, summary)
    score_stages(scorers, batch, summary)
    keep = [scored for scored in batch if not _dropped_off_topic(settings, scored, summary)]
    with summary.timed("index"):
        outcomes = index_articles(client, names, keep, runctx.current_run_id.get())
    indexed = count_outcomes(keep, outcomes, summary)
    for scorer in scorers:
        with summary.timed(f"after_index:{stage_name(scorer)}"):
            scorer.after_index(indexed, summary)
    return indexed


def to_score(
    settings: Settings, extracted: list[Extracted], known: set[str], summary: RunSummary
) -> list[ScoredArticle]:
    """The batch's articles not indexed yet, with their text-only scores from the workers."""
    seen: set[str] = set()
    batch: list[ScoredArticle] = []
    for item in extracted:
        article = item.article
        # the page's rel=canonical can name an article indexed (or fetched) under another link
        if article.id in known or article.id in seen:
            summary.articles_known += 1
            continue
        seen.add(article.id)
        batch.append(
            ScoredArticle(
                article=article,
                baseline_id=settings.baseline_id,
                topic_relevance=item.topic_relevance,
                topic_terms=item.topic_terms,
                off_topic=item.topic_relevance < settings.topic_threshold,
                minhash=item.fingerprint.minhash,
                lsh_bands=item.fingerprint.lsh_bands,
                text_analyses=item.analyses,
            )
        )
    return batch


def _dropped_off_topic(settings: Settings, scored: ScoredArticle, summary: RunSummary) -> bool:
    if scored.off_topic:
        summary.off_topic += 1
        return settings.off_topic == "drop"
    return False


def count_outcomes(keep: list[ScoredArticle], outcomes: list[Any], summary: RunSummary) -> list[ScoredArticle]:
    """Count each document's outcome into the summary; returns the articles this pass created."""
    by_id = {i.article.id: i for i in keep}
    indexed: list[ScoredArticle] = []
    for o in outcomes:
        if o.status == "created":
            summary.indexed += 1
            summary.articles_new += 1
            if by_id[o.doc_id].article.text_source == "feed":
                summary.indexed_from_feed += 1
            summary.indexed_ids.append(o.doc_id)
            indexed.append(by_id[o.doc_id])
        elif o.status == "exists":
            summary.articles_known += 1
        else:
            summary.index_failed += 1
            article = by_id[o.doc_id].article
            summary.add_error(Failure(f"index:{article.url}", o.reason or "rejected"))
            # the entry must come back: keep the feed's old validators so the next poll is not a 304
            summary.transient_feeds.add(article.feed_url)
    for scored in indexed:
        if scored.duplicate_kind == "exact":
            summary.exact_duplicates += 1
        elif scored.duplicate_kind == "near":
            summary.near_duplicates += 1
    return indexed


def record_failed_links(settings: Settings, client: OpenSearch, names: IndexNames, summary: RunSummary) -> None:
    """Remember this pass's links that failed for good, with their reason and a retry time in days."""
    outcomes = cluster_call(
        linkstate.record_failures,
        client,
        names,
        summary.failed_links,
        base_days=settings.dead_link_retry_days,
        max_days=settings.dead_link_retry_max_days,
    )
    for outcome in outcomes:
        if outcome.ok:
            summary.dead_links += 1
        else:
            summary.add_error(Failure(f"link-state:{outcome.doc_id}", outcome.reason or "not stored"))
    summary.failed_links.clear()


def fetch_ahead(settings: Settings) -> int:
    """How many entries may be in progress (fetching, fetched, extracting) at once."""
    return max(settings.batch_size, 2 * (settings.fetch_concurrency + settings.extract_workers))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
