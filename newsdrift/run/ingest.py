"""One pass of the pipeline: poll -> select new -> fetch -> extract -> score -> index -> after-index hooks.

Each stage takes records and gives records; a failure on one item becomes a
``Failure`` in the summary and the pass goes on. Only a cluster that cannot be
reached stops the pass (``ClusterUnavailable``). The stages are separate
functions so the Airflow DAG can run them as separate tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import ConnectionTimeout

from newsdrift.errors import ClusterUnavailable
from newsdrift.feeds import state as feedstate
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.schedule import PollBounds
from newsdrift.fetch import links as linkstate
from newsdrift.records import Article, Failure, FeedEntry, RunSummary, ScoredArticle, stable_id
from newsdrift.run import context as runctx
from newsdrift.run.workers import process_pool
from newsdrift.score.stages import (
    Stage,
    analyse_text,
    default_scorers,
    finish_pass,
    score_stages,
    stage_name,
    worker_analyses,
)
from newsdrift.settings import Settings
from newsdrift.store import IndexNames, bulk_write, claim_own_writes, write_actions

Progress = Callable[..., None]
# below this many new entries, worker processes cost more to start than they save
PROCESS_POOL_MIN_ENTRIES = 40


def _no_progress(event: str, **info: Any) -> None:
    return None


@dataclass
class PollOutcome:
    results: list[Any]  # newsdrift.feeds.poll.FeedPollResult
    entries: list[FeedEntry]
    # feed id -> the validators of this poll, stored only once its entries are handled
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)
    feed_urls: list[str] = field(default_factory=list)  # every feed polled


# --- stage 1: poll ----------------------------------------------------------------


async def poll_feeds(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    feeds: list[Feed],
    summary: RunSummary,
    *,
    force: bool = False,
    progress: Progress = _no_progress,
) -> PollOutcome:
    """Poll due feeds concurrently (bounded), store their new state, return their entries."""
    from newsdrift.feeds.poll import poll_feed
    from newsdrift.fetch.http import make_client as make_http_client

    states = _cluster_call(feedstate.load_states, client, names, feeds)
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
        outcomes = _cluster_call(feedstate.save_states, client, names, new_states)
        for o in outcomes:
            if not o.ok:
                summary.add_error(Failure(f"feed-state:{o.doc_id}", o.reason or "not stored"))
    return PollOutcome(results, entries, validators, [f.url for f in due])


# --- stage 2: select new entries -------------------------------------------------------


def existing_ids(client: OpenSearch, names: IndexNames, ids: Iterable[str], chunk: int = 1000) -> set[str]:
    """Which of ``ids`` are already indexed (across all rollover indices of the alias)."""
    ids = list(dict.fromkeys(ids))
    found: set[str] = set()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        resp = client.search(
            index=names.articles,
            body={"query": {"ids": {"values": part}}, "size": len(part), "_source": False},
        )
        found.update(h["_id"] for h in resp["hits"]["hits"])
    return found


def select_new_entries(
    client: OpenSearch, names: IndexNames, entries: list[FeedEntry], summary: RunSummary
) -> list[FeedEntry]:
    """Drop entries whose canonical id is indexed already or repeated in this pass."""
    from extractors.article import canonical_id_for_link

    by_id: dict[str, FeedEntry] = {}
    for entry in entries:
        by_id.setdefault(canonical_id_for_link(entry.link), entry)
    known = _cluster_call(existing_ids, client, names, by_id)
    summary.articles_known += len(known) + (len(entries) - len(by_id))
    fresh = [cid for cid in by_id if cid not in known]
    # links that failed for good wait out their backoff (days) instead of failing again every pass
    resting = _cluster_call(linkstate.not_due, client, names, fresh)
    summary.dead_links_skipped += len(resting)
    return [by_id[cid] for cid in fresh if cid not in resting]


# --- stage 3: fetch, extract, score, index -------------------------------------------


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    from extractors.feedtext import falls_back

    if falls_back(failure):
        loop = asyncio.get_running_loop()
        item = await loop.run_in_executor(executor, feed_article_and_score, entry, failure, settings)
        if item is not None:
            return item
    summary.failed_links.append((entry, failure.reason))
    return None


def feed_article_and_score(entry: FeedEntry, failure: Failure, settings: Settings) -> Extracted | None:
    """The entry as an article from its feed text (``text_source: feed``), scored like a page; None if too short."""
    from extractors.feedtext import article_from_feed

    article = article_from_feed(entry, failure, settings)
    return None if article is None else score_text(article, settings)


@dataclass(slots=True)
class Extracted:
    """What an extraction worker returns for one page: the article and its text-only scores."""

    article: Article
    topic_relevance: float
    topic_terms: list[str]
    fingerprint: Any  # detection.dedup.Fingerprint
    seconds: float = 0.0  # time in the worker
    analyses: dict[str, Any] = field(default_factory=dict)  # the stages' text-only analyses (scoring.analyse_text)


@lru_cache(maxsize=4)
def _topic_profile(path: str) -> Any:
    from newsdrift.score.topic import load_topic

    return load_topic(path)


def extract_and_score_text(page: Any, settings: Settings) -> Extracted | Failure:
    """Extraction plus the scores that need only the text (topic, MinHash): runs in the worker processes,
    next to trafilatura, so it overlaps with fetching instead of queueing in the indexing thread."""
    from extractors.article import extract_article

    started = time.perf_counter()
    article = extract_article(page, settings)
    if isinstance(article, Failure):
        return article
    scored = score_text(article, settings)
    scored.seconds = time.perf_counter() - started
    return scored


def score_text(article: Article, settings: Settings) -> Extracted:
    """The scores that need only the text: topic relevance, the MinHash fingerprint and the stages' own."""
    from newsdrift.score.dedup import DedupSettings, fingerprint
    from newsdrift.score.topic import score_topic

    relevance, terms = score_topic(article.title, article.text, _topic_profile(str(settings.topic_path)))
    fp = fingerprint(article.text, DedupSettings())
    return Extracted(article, round(relevance, 4), terms, fp, analyses=analyse_text(article))


def extraction_executor(settings: Settings, entries: int) -> Executor:
    """Processes for real passes (trafilatura holds the GIL), threads for a handful of pages."""
    if entries >= PROCESS_POOL_MIN_ENTRIES and settings.extract_workers > 1:
        # Load what the workers run before they are forked: they inherit it instead of each
        # importing trafilatura and compiling the topic profile again (about a second per worker).
        import extractors.article  # noqa: F401
        import newsdrift.score.dedup  # noqa: F401

        _topic_profile(str(settings.topic_path))
        return process_pool(settings.extract_workers)  # workers die with this process (issue #9)
    return ThreadPoolExecutor(max_workers=settings.extract_workers, thread_name_prefix="extract")


def index_batch(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    extracted: list[Extracted],
    scorers: list[Stage],
    summary: RunSummary,
) -> list[ScoredArticle]:
    """Score and bulk-index one batch; returns what was newly indexed."""
    fresh_ids = {e.article.id for e in extracted}
    with summary.timed("index"):
        known = _cluster_call(existing_ids, client, names, fresh_ids)
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
    score_stages(scorers, batch, summary)
    keep: list[ScoredArticle] = []
    for scored in batch:
        if scored.off_topic:
            summary.off_topic += 1
            if settings.off_topic == "drop":
                continue
        keep.append(scored)
    indexed_at = datetime.now(UTC).isoformat()
    run_id = runctx.current_run_id.get()
    # alert_state "pending" unless the alerting stage wrote the article's alerts while scoring: a
    # pending article is matched by the next matching step (alerting.pending)
    stamp = {"indexed_at": indexed_at, **({"run_id": run_id} if run_id else {})}
    docs = [(i.article.id, {**i.to_document(), **stamp, "alert_state": i.alert_state or "pending"}) for i in keep]
    # refresh=True makes the batch searchable now (the next batch dedups against it); wait_for
    # would idle until the next periodic refresh
    with summary.timed("index"):
        outcomes = _cluster_call(bulk_write, client, write_actions(names.articles, docs), refresh=True)
        outcomes = _cluster_call(claim_own_writes, client, outcomes, run_id)
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
    for scorer in scorers:
        with summary.timed(f"after_index:{stage_name(scorer)}"):
            scorer.after_index(indexed, summary)
    return indexed


def count_indexed_per_feed(indexed: list[ScoredArticle]) -> Counter[str]:
    return Counter(i.article.feed_url for i in indexed)


def set_indexed_counts(client: OpenSearch, names: IndexNames, feed_urls: Iterable[str], summary: RunSummary) -> None:
    """Set each feed's ``articles_indexed`` to the number of its articles in the index.

    Counted, not incremented: a retried request or a killed pass cannot make it drift, and the
    next pass that touches the feed repairs it.
    """
    urls = sorted(set(feed_urls))
    if not urls:
        return
    counts = _cluster_call(indexed_counts, client, names, urls)
    actions = [
        {
            "_op_type": "update",
            "_index": names.feeds,
            "_id": stable_id(url),
            "retry_on_conflict": 5,
            "doc": {"articles_indexed": counts.get(url, 0)},
        }
        for url in urls
    ]
    for outcome in _cluster_call(bulk_write, client, actions):
        # a backfill's sitemap or URL list has no feed state to count into (newsdrift.run.backfill)
        if not outcome.ok and not (outcome.reason or "").startswith("document_missing_exception"):
            summary.add_error(Failure(f"feed-state:{outcome.doc_id}", outcome.reason or "counter not updated"))


def indexed_counts(client: OpenSearch, names: IndexNames, feed_urls: list[str]) -> dict[str, int]:
    """Articles in the index per feed URL (one terms aggregation)."""
    resp = client.search(
        index=names.articles,
        body={
            "size": 0,
            "track_total_hits": False,
            "query": {"terms": {"feed_url": feed_urls}},
            "aggs": {"feeds": {"terms": {"field": "feed_url", "size": len(feed_urls)}}},
        },
    )
    return {b["key"]: b["doc_count"] for b in resp["aggregations"]["feeds"]["buckets"]}


def fetch_ahead(settings: Settings) -> int:
    """How many entries may be in progress (fetching, fetched, extracting) at once."""
    return max(settings.batch_size, 2 * (settings.fetch_concurrency + settings.extract_workers))


async def process_entries(
    settings: Settings,
    client: OpenSearch,
    names: IndexNames,
    entries: list[FeedEntry],
    scorers: list[Stage],
    summary: RunSummary,
    *,
    progress: Progress = _no_progress,
) -> list[ScoredArticle]:
    """Fetch across hosts continuously, extract in the pool, index in batches of ``settings.batch_size``.

    The scheduler (``newsdrift.fetch.hosts``) keeps every host with work and a free politeness
    slot busy. Extracted articles join the next batch in completion order; batches are scored
    and indexed one at a time, in a worker thread, while fetching goes on (dedup of a batch
    needs the previous one searchable). Memory is bounded by the settings, not by the pass: at
    most ``fetch_ahead(settings)`` entries in progress and ``2 * batch_size`` extracted articles
    not yet indexed (the batch being indexed and the one filling up).
    """
    from newsdrift.fetch.fetcher import PoliteFetcher
    from newsdrift.fetch.hosts import gather_or_cancel, run_per_host
    from newsdrift.fetch.robots_store import RobotsStore

    progress("fetch_start", total=len(entries))
    all_indexed: list[ScoredArticle] = []
    size = settings.batch_size
    room = asyncio.Semaphore(2 * size)  # extracted and not yet indexed
    filling: list[Extracted] = []
    batches: asyncio.Queue[list[Extracted] | None] = asyncio.Queue()

    def index_and_count(articles: list[Extracted]) -> None:
        indexed = index_batch(settings, client, names, articles, scorers, summary)
        all_indexed.extend(_light(i) for i in indexed)  # ids stay, bodies go

    async def indexer() -> None:
        while (batch := await batches.get()) is not None:
            await asyncio.to_thread(index_and_count, batch)  # copies the context (run id)
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
    # once per pass, not per batch: each count update of a feed re-read (and refreshed) its state
    # document, 1 s of the node's time in a 600-page pass (bench/realpages.py)
    with summary.timed("feed_counts"):
        set_indexed_counts(client, names, count_indexed_per_feed(all_indexed), summary)
    return all_indexed


def _light(item: ScoredArticle) -> ScoredArticle:
    item.article.text = ""
    item.minhash = []
    item.text_analyses = {}
    return item


def record_failed_links(settings: Settings, client: OpenSearch, names: IndexNames, summary: RunSummary) -> None:
    """Remember this pass's links that failed for good, with their reason and a retry time in days."""
    outcomes = _cluster_call(
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


def commit_validators(
    client: OpenSearch, names: IndexNames, validators: dict[str, dict[str, Any]], summary: RunSummary
) -> None:
    """Store held feed validators, except for feeds whose entries hit a transient failure (retried next pass)."""
    ready = {fid: v for fid, v in validators.items() if v["feed_url"] not in summary.transient_feeds}
    for outcome in _cluster_call(feedstate.save_validators, client, names, ready):
        if not outcome.ok:
            summary.add_error(Failure(f"feed-state:{outcome.doc_id}", outcome.reason or "not stored"))


def _cluster_call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a store call, turning a dead cluster into ``ClusterUnavailable`` (the pass cannot go on)."""
    try:
        return func(*args, **kwargs)
    except (OSConnectionError, ConnectionTimeout) as exc:
        raise ClusterUnavailable(f"OpenSearch became unreachable during the run: {exc}") from None


# --- the whole pass ------------------------------------------------------------------


async def run_once_async(
    settings: Settings,
    client: OpenSearch,
    feeds: list[Feed],
    *,
    force: bool = False,
    scorers: list[Stage] | None = None,
    progress: Progress = _no_progress,
) -> RunSummary:
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
            # recount every polled feed, so a count left short by a killed pass is repaired by the next
            for part in chunks(polled.feed_urls, 1000):
                set_indexed_counts(client, names, part, summary)
        with summary.timed("finish"):
            finish_pass(scorers, summary)
    summary.seconds = time.monotonic() - started
    progress("done")
    return summary


def run_once(settings: Settings, client: OpenSearch, feeds: list[Feed], **kwargs: Any) -> RunSummary:
    return asyncio.run(run_once_async(settings, client, feeds, **kwargs))
