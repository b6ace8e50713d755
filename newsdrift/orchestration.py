"""Plain functions the Airflow DAGs in ``dags/`` call, one per task.

Each function is idempotent (article writes use ``op_type=create`` with
deterministic ids, feed state is a whole-document overwrite, drift docs have
deterministic ids) and returns a small JSON-serialisable dict or list: ids and
counts, never article bodies, so the results travel as XComs.

Heavy imports (opensearch-py, trafilatura, the pipeline) happen inside the
functions: the DAG files import this module only inside their tasks, and
importing it is cheap anyway.

OpenSearch settings come from the Airflow connection ``opensearch_default``
(connection type ``opensearch`` of apache-airflow-providers-opensearch, or
``AIRFLOW_CONN_OPENSEARCH_DEFAULT``) when it exists, otherwise from the
``NEWSDRIFT_*`` settings (see ``settings_from_airflow``).

Feeds: the feed list is ``config/feeds.yaml`` (or the ``feeds_file`` DAG
param / ``NEWSDRIFT_FEEDS_FILE``). When it has no enabled feed and a sample
base URL is given (DAG param ``sample_base_url`` or ``NEWSDRIFT_SAMPLE_URL``,
e.g. a running ``newsdrift sample serve``), the sample corpus' feeds at that
URL are polled; those feed dicts carry ``"sample": true`` and only they are
allowed to reach loopback/private addresses.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from newsdrift.config import Settings
    from newsdrift.records import FeedEntry
    from newsdrift.sources import Feed
    from newsdrift.store import IndexNames

log = logging.getLogger(__name__)

OPENSEARCH_CONN_ID = "opensearch_default"
HTTP_POOL = "newsdrift_http"
HTTP_POOL_SLOTS = 4
SAMPLE_URL_ENV = "NEWSDRIFT_SAMPLE_URL"
MAX_ERRORS_RETURNED = 20
_ENTRY_KEYS = ("link", "title", "published_at", "feed_url", "feed_name", "source", "tags", "entry_id", "authors")


# --- settings and clients ------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def airflow_connection(conn_id: str = OPENSEARCH_CONN_ID) -> Any | None:
    """The Airflow connection ``conn_id`` via ``airflow.sdk.BaseHook``, or None when it is not defined."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # newsdrift without the [airflow] extra
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def connection_overrides(conn: Any) -> dict[str, Any]:
    """Settings fields from an ``opensearch`` connection (host, port, login, password, extras).

    Extras follow the OpenSearch provider: ``use_ssl``, ``verify_certs``, ``scheme``,
    ``url_prefix``, ``timeout``; plus ``ca_certs`` (a CA bundle path). A host written
    with a scheme (``https://node``) keeps it.
    """
    extra = dict(conn.extra_dejson or {})
    host = (conn.host or "").strip()
    if not host:
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no host")
    if "://" in host:
        scheme, host = host.split("://", 1)
    else:
        scheme = extra.get("scheme") or ("https" if _truthy(extra.get("use_ssl", False)) else "http")
    host = host.rstrip("/")
    port = f":{conn.port}" if conn.port else ("" if ":" in host else ":9200")
    prefix = str(extra.get("url_prefix") or "").strip("/")
    out: dict[str, Any] = {"opensearch_url": f"{scheme}://{host}{port}" + (f"/{prefix}" if prefix else "")}
    if conn.login:
        out["opensearch_user"] = conn.login
        out["opensearch_password"] = conn.password or ""
    if "verify_certs" in extra:
        out["opensearch_verify_certs"] = _truthy(extra["verify_certs"])
    if extra.get("ca_certs"):
        out["opensearch_ca_certs"] = extra["ca_certs"]
    if extra.get("timeout") is not None:
        out["opensearch_timeout"] = float(extra["timeout"])
    return out


def settings_from_airflow(conn_id: str = OPENSEARCH_CONN_ID) -> Settings:
    """Settings with OpenSearch taken from the Airflow connection when it exists, else ``get_settings()``.

    Every other field still comes from the ``NEWSDRIFT_*`` environment / settings file.
    """
    from newsdrift.config import get_settings, load_settings

    conn = airflow_connection(conn_id)
    if conn is None:
        return get_settings()
    return load_settings(**connection_overrides(conn))


def _settings(*, private: bool = False) -> Settings:
    settings = settings_from_airflow()
    if private and not settings.allow_private_networks:
        settings = settings.model_copy(update={"allow_private_networks": True})
    return settings


def _store(settings: Settings) -> tuple[OpenSearch, IndexNames]:
    """A client that has answered once (``ClusterUnavailable`` otherwise) and the index names."""
    from newsdrift.store import IndexNames, connect

    return connect(settings), IndexNames(settings.index_prefix)


def ensure_store() -> dict[str, Any]:
    """Apply the index templates and create missing indices (idempotent)."""
    from newsdrift.store import apply_templates

    settings = settings_from_airflow()
    client, names = _store(settings)
    changes = apply_templates(client, names)
    return {"prefix": names.prefix, "changed": sum(1 for c in changes if c.action != "unchanged")}


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
    the sample corpus' feeds at ``sample_base_url`` (or ``$NEWSDRIFT_SAMPLE_URL``)
    are used; with neither, the list is empty and the run has nothing to poll.
    Feeds not due yet, or disabled in their stored state, are left out (``force``: every
    enabled feed), so the run maps no task that would do nothing.
    """
    from newsdrift import feedstate
    from newsdrift.config import validate_all
    from newsdrift.sources import enabled_feeds, load_feeds

    settings = settings_from_airflow()
    path = Path(feeds_file) if feeds_file else settings.feeds_path
    # the run's first task: every configuration file is checked before anything is polled or written
    validate_all(settings, feeds_file=path)
    ensure_store()
    feeds = enabled_feeds(load_feeds(path))
    sample = False
    if not feeds:
        base_url = sample_base_url or os.environ.get(SAMPLE_URL_ENV)
        if not base_url:
            log.warning("no enabled feed in %s and no sample base URL: nothing to poll", path)
            return []
        from newsdrift import demo

        log.info("no enabled feed in %s: polling the sample corpus at %s", path, base_url)
        feeds, sample = demo.sample_feeds(base_url.rstrip("/")), True
    if not force:
        client, names = _store(settings)
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
    from newsdrift.pipeline import RunSummary, poll_feeds, select_new_entries

    sample = bool(feed.get("sample"))
    result: dict[str, Any] = {"feed": feed.get("name"), "feed_url": feed.get("url"), "outcome": "failed",
                              "error": None, "http_status": None, "entries_seen": 0, "new_entries": []}
    try:
        model = feed_from_dict(feed)
        if refetch:
            model, force = model.model_copy(update={"ignore_cache": True}), True
        settings = _settings(private=sample)
        client, names = _store(settings)
        summary = RunSummary()
        polled = asyncio.run(poll_feeds(settings, client, names, [model], summary, force=force))
        if not polled.results:
            result["outcome"] = "not_due"
            return result
        poll = polled.results[0]
        new = select_new_entries(client, names, polled.entries, summary)
        result.update(outcome=poll.outcome, error=poll.error, http_status=poll.http_status,
                      entries_seen=len(polled.entries), new_entries=[entry_to_dict(e, sample=sample) for e in new],
                      validators=polled.validators)
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
    from newsdrift.pipeline import (
        RunSummary,
        commit_validators,
        default_scorers,
        finish_pass,
        process_entries,
        select_new_entries,
    )

    started = time.monotonic()
    summary = RunSummary()
    entries = [entry_from_dict(d) for d in entry_dicts or []]
    result: dict[str, Any] = {"entries": len(entries), "new": 0}
    if entries or validators:
        # loopback/private pages are allowed only when every entry comes from the sample corpus
        settings = _settings(private=bool(entries) and all(d.get("sample") for d in entry_dicts))
        client, names = _store(settings)
        with runctx.pass_context(summary.add_error):
            new = select_new_entries(client, names, entries, summary) if entries else []
            result["new"] = len(new)
            if new:
                scorers = default_scorers(settings, client, names, alerts=False)  # the percolate task alerts
                asyncio.run(process_entries(settings, client, names, new, scorers, summary))
                finish_pass(scorers, summary)
            commit_validators(client, names, validators or {}, summary)
    summary.seconds = time.monotonic() - started
    data = {k: v for k, v in summary.to_json().items() if not k.startswith(("feeds_", "entries_"))}  # poll stage
    data["error_count"] = len(data["errors"])
    data["errors"] = data["errors"][:MAX_ERRORS_RETURNED]
    return {**result, **data, "indexed_ids": list(summary.indexed_ids)}


def article_documents(
    client: OpenSearch, names: IndexNames, ids: list[str], chunk: int = 200
) -> list[tuple[str, dict[str, Any]]]:
    """(id, source) of indexed articles, read through the alias (which may span several indices)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        resp = client.search(index=names.articles, body={"query": {"ids": {"values": part}}, "size": len(part)})
        docs.extend((h["_id"], h["_source"]) for h in resp["hits"]["hits"])
    return docs


def alerting_cycle(article_ids: list[str] | None = None) -> dict[str, Any]:
    """Sync the rules file, match the articles, then the pass-end work of the alerting stage: articles a
    dead task left unmatched, feed health, bursts, drift events and delivery. Alerts have deterministic
    ids, so a retried task never alerts twice; matched articles leave ``alert_state: pending``.
    """
    from newsdrift import runctx
    from newsdrift.alerting.stage import AlertingStage
    from newsdrift.pipeline import RunSummary

    settings = settings_from_airflow()
    client, names = _store(settings)
    stage = AlertingStage(settings, client, names)
    if not stage.enabled:
        return {"alerts": 0, "hook": True, "rules": [], "reason": f"no rules file {settings.alert_rules_path}"}
    summary = RunSummary()
    with runctx.pass_context(summary.add_error):
        docs = article_documents(client, names, list(article_ids or []))
        if docs:
            stage.match(docs, summary)
        report = stage.after_pass(summary)
    rejected = stage.sync_report.to_json()["rejected"] if stage.sync_report else []
    return {**report.to_json(), "alerts": summary.alerts, "hook": True, "articles": len(docs),
            "rules_rejected": [p["message"] for p in rejected],
            "error_count": len(summary.errors),
            "errors": [e.to_dict() for e in summary.errors[:MAX_ERRORS_RETURNED]]}


def percolate_alerts(indexed_ids: list[str] | None) -> dict[str, Any]:
    """Alert rules against the newly indexed articles (and the other checks): ``alerting_cycle``."""
    return alerting_cycle(list(indexed_ids or []))


def notify_drift_events(event_ids: list[str] | None) -> dict[str, Any]:
    """Drift-event alerts: the alerting cycle with no new article (its checks include drift events)."""
    return {**alerting_cycle([]), "drift_events": len(event_ids or [])}


def run_summary(polls: dict[str, Any], ingest: dict[str, Any], alerts: dict[str, Any]) -> dict[str, Any]:
    """One flat summary of an ingest run (what ``scripts/run_ingest_dag.py`` prints)."""
    keep = ("new", "articles_new", "articles_known", "fetch_failed", "extraction_failed", "off_topic",
            "indexed", "index_failed", "exact_duplicates", "near_duplicates", "drift_windows", "drift_events",
            "error_count", "seconds")
    return {
        "feeds": polls.get("feeds", 0),
        "feed_outcomes": polls.get("outcomes", {}),
        "feeds_failed": polls.get("failed", []),
        "entries_seen": polls.get("entries_seen", 0),
        **{k: ingest.get(k, 0) for k in keep},
        "errors": ingest.get("errors", []),
        "alerts": alerts.get("alerts", 0),
    }


# --- baseline and drift ----------------------------------------------------------------


def load_baseline(paths: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
    """Load a baseline corpus with ``newsdrift.detection.baseline`` (files, folders or URLs).

    The id is ``<name>-v<N>``: the same documents again return the existing version (nothing
    written), different ones make a new version. Defaults: ``baseline_dir`` and the name part of
    ``NEWSDRIFT_BASELINE_ID``. Any document that cannot be read fails the task (and is named).
    """
    from newsdrift.detection import baseline
    from newsdrift.detection.frames import load_frames
    from newsdrift.errors import NewsdriftError

    settings = settings_from_airflow()
    ensure_store()
    client, names = _store(settings)
    name = name or settings.baseline_id.rpartition("-v")[0] or settings.baseline_id
    sources = [str(p) for p in (paths or [settings.baseline_dir])]
    docs, failures = baseline.read_documents(sources, settings)
    if failures or not docs:
        problems = "; ".join(f"{f.where}: {f.reason}" for f in failures) or f"no documents in {sources}"
        raise NewsdriftError(f"baseline {name!r} not loaded: {problems}")
    result = baseline.load(client, names, docs, name=name, frames=load_frames(settings.frames_path))
    if result.failures:
        raise NewsdriftError("; ".join(f"{f.where}: {f.reason}" for f in result.failures))
    return {"baseline_id": result.baseline_id, "version": result.version, "created": result.created,
            "documents": result.documents, "sources": sources, "active": result.baseline_id == settings.baseline_id}


def baseline_texts(client: OpenSearch, names: IndexNames, settings: Settings, baseline_id: str) -> list[str]:
    """Texts of a stored baseline; the active default baseline is loaded on first use."""
    from newsdrift.detection import baseline
    from newsdrift.detection.frames import load_frames

    if baseline_id == settings.baseline_id:
        docs = baseline.ensure_default(client, names, settings, load_frames(settings.frames_path))
    else:
        docs = baseline.documents(client, names, baseline_id)
    return [d["text"] for d in docs if d.get("text")]


def recent_publication_times(client: OpenSearch, names: IndexNames, since: datetime) -> list[datetime]:
    """One time per hour that has articles indexed since ``since`` (the windows to recompute)."""
    resp = client.search(index=names.articles, body={
        "size": 0,
        "query": {"bool": {"filter": [{"range": {"indexed_at": {"gte": since.isoformat()}}},
                                      {"exists": {"field": "published_at"}}]}},
        "aggs": {"hours": {"date_histogram": {"field": "published_at", "fixed_interval": "1h", "min_doc_count": 1}}},
    })
    return [datetime.fromtimestamp(b["key"] / 1000, UTC) for b in resp["aggregations"]["hours"]["buckets"]]


def update_drift(since_hours: float = 48.0, baseline_id: str | None = None, full: bool = False) -> dict[str, Any]:
    """Recompute the drift windows touched by articles indexed in the last ``since_hours`` (all with ``full``).

    The baseline's texts come from the baseline index (the active default baseline is loaded
    from ``baseline_dir`` on first use). Events are written by
    ``DriftStore`` with deterministic ids, so a re-run overwrites and never duplicates.
    """
    from newsdrift.detection.drift import DriftScorer
    from newsdrift.detection.drift_store import DriftStore
    from newsdrift.detection.frames import load_frames

    settings = settings_from_airflow()
    ensure_store()
    client, names = _store(settings)
    baseline_id = baseline_id or settings.baseline_id
    texts = baseline_texts(client, names, settings, baseline_id)
    if not texts:
        return {"baseline_id": baseline_id, "status": "no_baseline", "windows": 0, "events": 0, "event_ids": []}
    scorer = DriftScorer(texts, load_frames(settings.frames_path), baseline_id=baseline_id)
    store = DriftStore(client, names.drift, names.articles, scorer)
    if full:
        update = store.backfill()
    else:
        since = datetime.now(UTC) - timedelta(hours=since_hours)
        update = store.update(recent_publication_times(client, names, since))
    return {
        "baseline_id": baseline_id, "status": "ok",
        "windows": len(update.windows), "windows_removed": len(update.windows_removed),
        "docs_written": update.docs_written, "docs_deleted": update.docs_deleted,
        "events": len(update.events), "event_ids": list(update.events),
        "failures": [f.to_dict() for f in update.failures[:MAX_ERRORS_RETURNED]],
    }


# --- maintenance ---------------------------------------------------------------------


def rollover_articles(max_age_days: float | None = 30, max_docs: int | None = 1_000_000) -> dict[str, Any]:
    """Roll the articles write alias over when its write index is older/bigger than the limits."""
    settings = settings_from_airflow()
    ensure_store()
    client, names = _store(settings)
    conditions: dict[str, Any] = {}
    if max_age_days is not None:
        conditions["max_age"] = f"{max(int(float(max_age_days) * 86400), 1)}s"
    if max_docs is not None:
        conditions["max_docs"] = int(max_docs)
    if not conditions:
        return {"rolled_over": False, "reason": "no conditions"}
    resp = client.indices.rollover(alias=names.articles, body={"conditions": conditions})
    return {
        "rolled_over": bool(resp.get("rolled_over")), "old_index": resp.get("old_index"),
        "new_index": resp.get("new_index"), "conditions": resp.get("conditions", {}),
    }


def write_index(client: OpenSearch, names: IndexNames) -> str | None:
    aliases = client.indices.get_alias(name=names.articles)
    for index, info in aliases.items():
        if info.get("aliases", {}).get(names.articles, {}).get("is_write_index"):
            return index
    return next(iter(aliases), None) if len(aliases) == 1 else None


def apply_retention(retention_days: float = 365, *, now: datetime | None = None) -> dict[str, Any]:
    """Delete article indices whose newest document was indexed before the retention period.

    The write index is never deleted; an empty index counts from its creation date.
    """
    settings = settings_from_airflow()
    ensure_store()
    client, names = _store(settings)
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=float(retention_days))
    current = write_index(client, names)
    indices = client.indices.get(index=names.articles_pattern, expand_wildcards="open")
    resp = client.search(index=names.articles_pattern, body={
        "size": 0, "aggs": {"per_index": {"terms": {"field": "_index", "size": 10_000},
                                          "aggs": {"newest": {"max": {"field": "indexed_at"}}}}},
    })
    buckets = resp.get("aggregations", {}).get("per_index", {}).get("buckets", [])
    newest = {b["key"]: b["newest"]["value"] for b in buckets}
    deleted, kept = [], []
    for index, info in sorted(indices.items()):
        millis = newest.get(index) or int(info["settings"]["index"]["creation_date"])
        last = datetime.fromtimestamp(millis / 1000, UTC)
        if index != current and last < cutoff:
            client.indices.delete(index=index)
            deleted.append(index)
        else:
            kept.append(index)
    return {"write_index": current, "deleted": deleted, "kept": kept, "cutoff": cutoff.isoformat()}


def feed_health(disable_after_days: float | None = 7, *, now: datetime | None = None) -> dict[str, Any]:
    """Feed health summary; feeds failing for at least ``disable_after_days`` are disabled with a reason."""
    from newsdrift import feedstate

    settings = settings_from_airflow()
    ensure_store()
    client, names = _store(settings)
    now = now or datetime.now(UTC)
    states = feedstate.all_states(client, names)
    by_health: dict[str, int] = {}
    failing, disabled = [], []
    for state in states:
        health = "disabled" if state.get("enabled") is False else state.get("health", "unknown")
        by_health[health] = by_health.get(health, 0) + 1
        since = state.get("failing_since")
        if not since or health == "disabled":
            continue
        days = (now - datetime.fromisoformat(since)).total_seconds() / 86400
        failing.append({"feed": state.get("name"), "feed_id": state["feed_id"], "health": health,
                        "failing_days": round(days, 2), "consecutive_failures": state.get("consecutive_failures", 0),
                        "last_error": state.get("last_error")})
        if disable_after_days is not None and days >= float(disable_after_days):
            reason = (f"failing since {since} ({state.get('consecutive_failures', 0)} consecutive failures, "
                      f"limit {disable_after_days} days); last error: {state.get('last_error') or 'unknown'}")
            feedstate.disable_feed(client, names, state["feed_id"], reason)
            disabled.append({"feed": state.get("name"), "feed_id": state["feed_id"], "reason": reason})
    return {"feeds": len(states), "by_health": by_health, "failing": failing, "disabled": disabled}


def maintenance(
    max_age_days: float | None = 30,
    max_docs: int | None = 1_000_000,
    retention_days: float = 365,
    disable_after_days: float | None = 7,
) -> dict[str, Any]:
    """Rollover, retention and feed health in one call (the DAG runs them as separate tasks)."""
    return {
        "rollover": rollover_articles(max_age_days, max_docs),
        "retention": apply_retention(retention_days),
        "feeds": feed_health(disable_after_days),
    }


# --- running the DAGs locally (scripts/run_ingest_dag.py, tests) ----------------------


def default_airflow_home() -> Path:
    home = Path(os.environ.get("NEWSDRIFT_HOME") or Path.home() / ".newsdrift")
    return Path(os.environ.get("NEWSDRIFT_AIRFLOW_HOME") or home / "airflow")


def airflow_environment(home: Path, dags_folder: Path | None = None) -> dict[str, str]:
    """Environment for a local Airflow: SQLite metadata DB under ``home``, this checkout's ``dags/``.

    Airflow reads its configuration when first imported, so these must be in
    ``os.environ`` before ``import airflow`` (or be the environment of a subprocess).
    """
    from newsdrift.config import PROJECT_ROOT

    home = Path(home).expanduser().resolve()
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder or PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


def apply_airflow_environment(home: Path | None = None) -> dict[str, str]:
    """Put ``airflow_environment`` into ``os.environ``; refuses once airflow is imported with another home."""
    import sys

    env = airflow_environment(home or default_airflow_home())
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise RuntimeError("airflow was imported before its environment was set; run in a fresh process")
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env


def prepare_airflow_db(pool_slots: int = HTTP_POOL_SLOTS) -> dict[str, Any]:
    """Migrate the metadata DB when it is behind (or new) and create the ``newsdrift_http`` pool."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    started = time.monotonic()
    migrated = False
    try:
        db.check_migrations(timeout=0)
    except TimeoutError:
        db.upgradedb()
        migrated = True
    migrate_seconds = time.monotonic() - started
    Pool.create_or_update_pool(HTTP_POOL, pool_slots, "newsdrift: concurrent feed/page HTTP tasks", False)
    return {"migrated": migrated, "migrate_seconds": round(migrate_seconds, 3)}


def load_dag(dag_id: str) -> Any:
    """The DAG ``dag_id`` from a DagBag of the configured dags folder (import errors raise)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise LookupError(f"no DAG {dag_id!r} in {bag.dag_folder}")
    return bag.dags[dag_id]


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``dag.test()`` run; its state, the state of every task instance and the XComs of unmapped tasks."""
    from airflow.models.asset import AssetEvent
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag(dag_id)
    started = time.monotonic()
    run = dag.test(run_conf=conf or {})
    seconds = time.monotonic() - started
    with create_session() as session:
        tis = run.get_task_instances(session=session)
        states = {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state) for ti in tis}
        labels = {f"{ti.task_id}[{ti.map_index}]": ti.rendered_map_index for ti in tis if ti.map_index >= 0}
        durations = {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): round(ti.duration, 3)
                     for ti in tis if ti.duration is not None}
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=dag_id, key="return_value")).all()
        xcoms: dict[str, Any] = {}
        for row in rows:
            key = row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"
            xcoms[key] = XComModel.deserialize_value(row)
        events = session.scalars(
            select(AssetEvent).where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run.run_id)
        ).all()
        asset_events = [{"uri": e.asset.uri, "extra": e.extra} for e in events]
    return {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state), "seconds": round(seconds, 3),
            "tasks": states, "task_seconds": durations, "map_labels": labels, "xcom": xcoms,
            "asset_events": asset_events}


def _start_sample_server(demo: Any) -> Any:
    """The sample server on NEWSDRIFT_SAMPLE_PORT (default 8765) so article URLs, hence ids, stay the
    same from one run to the next; on an ephemeral port when that one is busy."""
    port = int(os.environ.get("NEWSDRIFT_SAMPLE_PORT", "8765"))
    try:
        return demo.start_sample_server(port)
    except OSError:
        log.warning("port %d is busy: the sample corpus gets an ephemeral port (new article URLs)", port)
        return demo.start_sample_server(0)


def run_ingest_dag_once(home: Path | None = None, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """Set up a local Airflow (SQLite) under ``home``, migrate if needed, run ``newsdrift_ingest`` once.

    With no feed configured and no ``sample_base_url``, the sample corpus server is started
    for the run (loopback) and its feeds are polled. Returns the run summary and timings.
    """
    from newsdrift.config import get_settings
    from newsdrift.sources import enabled_feeds, load_feeds

    env = apply_airflow_environment(home)
    conf = dict(conf or {})
    timings = prepare_airflow_db()
    server = None
    try:
        feeds_path = Path(conf["feeds_file"]) if conf.get("feeds_file") else get_settings().feeds_path
        if not enabled_feeds(load_feeds(feeds_path)) and not conf.get("sample_base_url"):
            from newsdrift import demo

            server = _start_sample_server(demo)
            conf["sample_base_url"] = server.url
        result = run_dag("newsdrift_ingest", conf)
    finally:
        if server is not None:
            server.stop()
    summary = result["xcom"].get("percolate") or {}
    summary = {k: v for k, v in summary.items() if k != "indexed_ids"}
    return {"airflow_home": env["AIRFLOW_HOME"], "run_id": result["run_id"], "state": result["state"],
            "dag_run_seconds": result["seconds"], **timings, "tasks": result["tasks"], "summary": summary,
            "asset_events": result["asset_events"]}
