"""Tasks of the ``newsdrift_ingest`` DAG: load feeds → poll each feed → ingest → percolate.

Feeds: the feed list is ``config/feeds.yaml`` (or the ``feeds_file`` DAG param /
``NEWSDRIFT_FEEDS_FILE``). When it has no enabled feed and a sample base URL is given
(DAG param ``sample_base_url`` or ``NEWSDRIFT_SAMPLE_URL``, e.g. a running ``newsdrift sample
serve``), the sample corpus' feeds at that URL are polled; those feed dicts carry
``"sample": true`` and only they are allowed to reach loopback/private addresses.

Idempotent: article writes use ``op_type=create`` with deterministic ids, feed state is a
whole-document overwrite, alerts have deterministic ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdrift.tasks.common import MAX_ERRORS_RETURNED, alerting_cycle, store_context, task_settings

if TYPE_CHECKING:
    from newsdrift.records import FeedEntry
    from newsdrift.sources import Feed

log = logging.getLogger(__name__)

_ENTRY_KEYS = ("link", "title", "published_at", "feed_url", "feed_name", "source", "tags", "entry_id", "authors")


# --- feeds ---------------------------------------------------------------------------


def feed_to_dict(feed: Feed, *, sample: bool = False) -> dict[str, Any]:
    return {**feed.model_dump(mode="json"), "sample": sample}


def feed_from_dict(data: dict[str, Any]) -> Feed:
    from newsdrift.sources import Feed

    return Feed.model_validate({k: v for k, v in data.items() if k in Feed.model_fields})


def load_feed_list(
    feeds_file: str | None = None, sample_base_url: str | None = None, *, force: bool = False
) -> list[dict[str, Any]]:
    """Enabled feeds that are due, as dicts (url, name, source, tags, ...); also prepares the indices.

    ``feeds_file`` defaults to the settings' feeds file. With no enabled feed there,
    the sample corpus' feeds at ``sample_base_url`` (or the ``sample_url`` setting)
    are used; with neither, the list is empty and the run has nothing to poll.
    Feeds not due yet, or disabled in their stored state, are left out (``force``: every
    enabled feed), so the run maps no task that would do nothing.
    """
    from newsdrift import feedstate
    from newsdrift.configcheck import validate_all

    settings = task_settings()
    path = Path(feeds_file) if feeds_file else settings.feeds_path
    # the run's first task: every configuration file is checked before anything is polled or written
    validate_all(settings, feeds_file=path)
    _, client, names = store_context(settings)
    from newsdrift import demo

    feeds = demo.configured_feeds(path)
    sample = False
    if not feeds:
        base_url = sample_base_url or settings.sample_url
        if not base_url:
            log.warning("no enabled feed in %s and no sample base URL: nothing to poll", path)
            return []
        log.info("no enabled feed in %s: polling the sample corpus at %s", path, base_url)
        feeds, sample = demo.sample_feeds(base_url.rstrip("/")), True
    if not force:
        states, now = feedstate.load_states(client, names, feeds), datetime.now(UTC)
        due = [f for f in feeds if feedstate.is_due(f, states.get(f.id), now)]
        log.info("%d of %d feeds due", len(due), len(feeds))
        feeds = due
    return [feed_to_dict(f, sample=sample) for f in feeds]


def entry_to_dict(entry: FeedEntry, *, sample: bool = False) -> dict[str, Any]:
    """The small part of a feed entry the fetch stage needs (no summary text)."""
    return {
        "link": entry.link,
        "title": entry.title,
        "published_at": entry.published_at.isoformat() if entry.published_at else None,
        "feed_url": entry.feed_url,
        "feed_name": entry.feed_name,
        "source": entry.source,
        "tags": list(entry.tags),
        "entry_id": entry.entry_id,
        "authors": list(entry.authors),
        "sample": sample,
    }


def entry_from_dict(data: dict[str, Any]) -> FeedEntry:
    from newsdrift.records import FeedEntry

    fields = {k: data[k] for k in _ENTRY_KEYS if data.get(k) is not None}
    if isinstance(fields.get("published_at"), str):
        fields["published_at"] = datetime.fromisoformat(fields["published_at"])
    return FeedEntry(**fields)


def poll_one_feed(feed: dict[str, Any], *, force: bool = False, refetch: bool = False) -> dict[str, Any]:
    """Poll one feed (if due, or always with ``force``), store its state, return its new entries.

    A feed that cannot be polled is returned with ``outcome: "failed"`` and the reason;
    only an unreachable cluster raises (the task then retries). ``refetch`` (a retried task)
    polls even when not due and without If-None-Match/If-Modified-Since: the failed attempt
    may already have stored the feed's new validators and next poll time.
    """
    import asyncio

    from opensearchpy.exceptions import OpenSearchException

    from newsdrift.errors import ClusterUnavailable
    from newsdrift.pipeline import poll_feeds, select_new_entries
    from newsdrift.records import RunSummary

    sample = bool(feed.get("sample"))
    result: dict[str, Any] = {
        "feed": feed.get("name"),
        "feed_url": feed.get("url"),
        "outcome": "failed",
        "error": None,
        "http_status": None,
        "entries_seen": 0,
        "new_entries": [],
    }
    try:
        model = feed_from_dict(feed)
        if refetch:
            model, force = model.model_copy(update={"ignore_cache": True}), True
        settings, client, names = store_context(task_settings(private=sample), ensure=False)
        summary = RunSummary()
        polled = asyncio.run(poll_feeds(settings, client, names, [model], summary, force=force))
        if not polled.results:
            result["outcome"] = "not_due"
            return result
        poll = polled.results[0]
        new = select_new_entries(client, names, polled.entries, summary)
        result.update(
            outcome=poll.outcome,
            error=poll.error,
            http_status=poll.http_status,
            entries_seen=len(polled.entries),
            new_entries=[entry_to_dict(e, sample=sample) for e in new],
            validators=polled.validators,
        )
    except (ClusterUnavailable, OpenSearchException):
        raise  # the cluster's problem, not the feed's: the task retries
    except Exception as exc:  # noqa: BLE001 - one feed's problem never fails the run
        log.exception("polling %s failed", feed.get("url"))
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def collect_entries(poll_results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """All new entries of the mapped poll results, first occurrence of each link only."""
    seen: set[str] = set()
    out = []
    for result in poll_results or []:
        for entry in result.get("new_entries", []):
            if entry["link"] not in seen:
                seen.add(entry["link"])
                out.append(entry)
    return out


def collect_validators(poll_results: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Feed validators held back by the poll tasks (stored once the ingest task handled the entries)."""
    held: dict[str, dict[str, Any]] = {}
    for result in poll_results or []:
        held.update(result.get("validators") or {})
    return held


def summarize_polls(poll_results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts per outcome and the failed feeds with their reasons."""
    results = list(poll_results or [])
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return {
        "feeds": len(results),
        "outcomes": outcomes,
        "entries_seen": sum(r.get("entries_seen", 0) for r in results),
        "new_entries": sum(len(r.get("new_entries", [])) for r in results),
        "failed": [{"feed": r["feed"], "error": r.get("error")} for r in results if r["outcome"] == "failed"],
    }


# --- articles ------------------------------------------------------------------------


def ingest_entries(
    entry_dicts: list[dict[str, Any]], validators: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Select the entries not indexed yet, then fetch, extract, score and index them in batches.

    ``validators`` (from the poll tasks) are stored afterwards for the feeds whose entries had
    no transient failure, so a failed ingest never hides entries behind a 304.
    Returns the run counters of ``RunSummary`` (first errors only) and the indexed ids.
    """
    import asyncio

    from newsdrift import runctx
    from newsdrift.pipeline import commit_validators, process_entries, record_failed_links, select_new_entries
    from newsdrift.records import RunSummary
    from newsdrift.scoring import default_scorers, finish_pass

    started = time.monotonic()
    summary = RunSummary()
    entries = [entry_from_dict(d) for d in entry_dicts or []]
    result: dict[str, Any] = {"entries": len(entries), "new": 0}
    if entries or validators:
        # loopback/private pages are allowed only when every entry comes from the sample corpus
        private = bool(entries) and all(d.get("sample") for d in entry_dicts)
        settings, client, names = store_context(task_settings(private=private), ensure=False)
        with runctx.pass_context(summary.add_error):
            new = select_new_entries(client, names, entries, summary) if entries else []
            result["new"] = len(new)
            if new:
                scorers = default_scorers(settings, client, names, alerts=False)  # the percolate task alerts
                asyncio.run(process_entries(settings, client, names, new, scorers, summary))
                record_failed_links(settings, client, names, summary)
                finish_pass(scorers, summary)
            commit_validators(client, names, validators or {}, summary)
    summary.seconds = time.monotonic() - started
    data = {k: v for k, v in summary.to_json().items() if not k.startswith(("feeds_", "entries_"))}  # poll stage
    data["error_count"] = len(data["errors"])
    data["errors"] = data["errors"][:MAX_ERRORS_RETURNED]
    return {**result, **data, "indexed_ids": list(summary.indexed_ids)}


def percolate_alerts(indexed_ids: list[str] | None) -> dict[str, Any]:
    """Alert rules against the newly indexed articles (and the other checks): ``alerting_cycle``."""
    return alerting_cycle(list(indexed_ids or []))


def run_summary(polls: dict[str, Any], ingest: dict[str, Any], alerts: dict[str, Any]) -> dict[str, Any]:
    """One flat summary of an ingest run (what ``scripts/run_ingest_dag.py`` prints)."""
    keep = (
        "new",
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
        "error_count",
        "seconds",
    )
    return {
        "feeds": polls.get("feeds", 0),
        "feed_outcomes": polls.get("outcomes", {}),
        "feeds_failed": polls.get("failed", []),
        "entries_seen": polls.get("entries_seen", 0),
        **{k: ingest.get(k, 0) for k in keep},
        "errors": ingest.get("errors", []),
        "alerts": alerts.get("alerts", 0),
    }
