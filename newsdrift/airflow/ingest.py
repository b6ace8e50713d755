"""Tasks of the ``newsdrift_ingest`` DAG: plan shards → one pass per shard → percolate → publish.

Feeds: the feed list is ``config/feeds.yaml`` (or the ``feeds_file`` DAG param /
``NEWSDRIFT_FEEDS_FILE``). When it has no enabled feed and a sample base URL is given
(DAG param ``sample_base_url`` or ``NEWSDRIFT_SAMPLE_URL``, e.g. a running ``newsdrift sample
serve``), the sample corpus' feeds at that URL are polled; only those may reach loopback/private
addresses.

Shards: the due feeds are grouped by host into at most ``ingest_shards`` shards
(``newsdrift.feeds.shards``). The plan task returns one small dict per non-empty shard (its number and
feed count); each shard task reads the feed list again, keeps its own feeds and runs the
pipeline's pass over them (``newsdrift.run.ingest.run_once``; each batch is matched against the alert
rules before it is indexed), so polling, fetching, extraction, scoring, indexing and matching all spread
over the workers. The percolate task runs the rest of the alerting cycle once for all shards.
XComs carry counts and article ids only.

Idempotent: article writes use ``op_type=create`` with deterministic ids, feed validators are
stored only once a feed's entries are indexed, alerts have deterministic ids.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdrift.airflow.common import MAX_ERRORS_RETURNED, alerting_cycle, store_context, task_settings

if TYPE_CHECKING:
    from newsdrift.feeds.catalog import Feed
    from newsdrift.settings import Settings

log = logging.getLogger(__name__)

# RunSummary counters a shard reports (and the final task sums)
COUNTERS = (
    "feeds_polled",
    "feeds_failed",
    "feeds_not_modified",
    "entries_seen",
    "entries_dropped",
    "articles_new",
    "articles_known",
    "fetch_failed",
    "extraction_failed",
    "off_topic",
    "indexed",
    "index_failed",
    "exact_duplicates",
    "near_duplicates",
    "drift_windows",
    "drift_events",
    "alerts",
)


# --- feeds and shards ------------------------------------------------------------------


def feed_list(settings: Settings, feeds_file: str | None, sample_base_url: str | None) -> tuple[list[Feed], bool]:
    """The enabled feeds of ``feeds_file`` (default: the settings' feeds file), else the sample corpus'
    feeds at ``sample_base_url`` (or the ``sample_url`` setting); ``True`` when they are the sample's."""
    from newsdrift.ops import demo

    path = Path(feeds_file) if feeds_file else settings.feeds_path
    feeds = demo.configured_feeds(path)
    if feeds:
        return feeds, False
    base_url = sample_base_url or settings.sample_url
    if not base_url:
        log.warning("no enabled feed in %s and no sample base URL: nothing to poll", path)
        return [], False
    log.info("no enabled feed in %s: polling the sample corpus at %s", path, base_url)
    return demo.sample_feeds(base_url.rstrip("/")), True


def plan_shards(
    feeds_file: str | None = None, sample_base_url: str | None = None, *, force: bool = False
) -> list[dict[str, Any]]:
    """One ``{"shard", "shards", "feeds"}`` per shard that has a due feed (every enabled feed with ``force``).

    The run's first task: every configuration file is checked and the indices are prepared before
    anything is polled or written. Feeds not due, or disabled in their stored state, are left out,
    so a run maps no task that would do nothing.
    """
    from datetime import UTC, datetime

    from newsdrift.feeds import state as feedstate
    from newsdrift.feeds.shards import group_feeds
    from newsdrift.run.preflight import validate_all

    settings = task_settings()
    path = Path(feeds_file) if feeds_file else settings.feeds_path
    validate_all(settings, feeds_file=path)
    _, client, names = store_context(settings)
    feeds, _ = feed_list(settings, feeds_file, sample_base_url)
    if not force and feeds:
        states, now = feedstate.load_states(client, names, feeds), datetime.now(UTC)
        due = [f for f in feeds if feedstate.is_due(f, states.get(f.id), now)]
        log.info("%d of %d feeds due", len(due), len(feeds))
        feeds = due
    shards = settings.ingest_shards
    groups = group_feeds(feeds, shards)
    log.info("%d due feeds in %d shards (of %d)", len(feeds), len(groups), shards)
    return [{"shard": number, "shards": shards, "feeds": len(group)} for number, group in groups.items()]


def shard_feeds(
    settings: Settings, feeds_file: str | None, sample_base_url: str | None, shard: int, shards: int
) -> tuple[list[Feed], bool]:
    """The feeds of one shard (the list is read again: XComs carry no feed list)."""
    from newsdrift.feeds.shards import shard_of

    feeds, sample = feed_list(settings, feeds_file, sample_base_url)
    return [f for f in feeds if shard_of(f.url, shards) == shard], sample


# --- one shard: the pipeline's pass over its feeds -------------------------------------


def ingest_shard(
    shard: dict[str, Any],
    feeds_file: str | None = None,
    sample_base_url: str | None = None,
    *,
    force: bool = False,
    retry: bool = False,
) -> dict[str, Any]:
    """Poll the shard's due feeds, then fetch, extract, score and index their new entries.

    The pipeline's own pass (``run_once``): each batch is matched against the alert rules before it is
    indexed (alerts have deterministic ids, so shards matching copies of one story make one alert);
    feed health, bursts, drift checks and delivery are left to the percolate task, once for all shards.
    A retried task (``retry``) polls every feed of the shard: the failed attempt may have stored next
    poll times, but a feed's validators are kept back until its entries are indexed, so nothing is
    hidden behind a 304. Only an unreachable cluster or a broken stage raises (the task retries); a
    failing feed or page is counted.
    """
    from newsdrift.run.ingest import run_once
    from newsdrift.score.stages import default_scorers

    base = task_settings()
    feeds, sample = shard_feeds(base, feeds_file, sample_base_url, int(shard["shard"]), int(shard["shards"]))
    settings, client, names = store_context(task_settings(private=sample), ensure=False)
    scorers = default_scorers(settings, client, names, alert_checks=False)  # the percolate task delivers
    summary = run_once(settings, client, feeds, force=force or retry, scorers=scorers)
    data = summary.to_json()
    return {
        "shard": shard["shard"],
        "feeds": len(feeds),
        **{k: data[k] for k in COUNTERS},
        "seconds": data["seconds"],
        "error_count": len(data["errors"]),
        "errors": data["errors"][:MAX_ERRORS_RETURNED],
        "indexed_ids": list(summary.indexed_ids),
    }


# --- the whole run ---------------------------------------------------------------------


def sum_shards(results: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The shards' counters summed, their first errors, every indexed id."""
    results = [r for r in results or [] if r]
    total: dict[str, Any] = {"shards": len(results), **{k: sum(int(r.get(k, 0)) for r in results) for k in COUNTERS}}
    total["shard_seconds"] = sorted((round(float(r.get("seconds", 0)), 2) for r in results), reverse=True)
    total["error_count"] = sum(int(r.get("error_count", 0)) for r in results)
    total["errors"] = [e for r in results for e in r.get("errors", [])][:MAX_ERRORS_RETURNED]
    total["indexed_ids"] = [i for r in results for i in r.get("indexed_ids", [])]
    return total


def percolate(results: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Sum the shards, then the alerting cycle: articles left pending (a shard could not write their
    alerts, or died), feed health, bursts, drift events, delivery. One flat summary of the run."""
    total = sum_shards(results)
    alerts = alerting_cycle()  # the shards matched their articles while indexing them
    return {**total, "alerts": total["alerts"] + alerts.get("alerts", 0)}
