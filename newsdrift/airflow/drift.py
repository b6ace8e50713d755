"""Tasks of the ``newsdrift_drift`` DAG: recompute the drift windows, then alert on drift events.

``update_drift`` is also the second task of ``newsdrift_baseline`` (every window, against the
baseline just loaded). Drift documents have deterministic ids: a re-run overwrites, never duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsdrift.airflow.common import MAX_ERRORS_RETURNED, alerting_cycle, store_context

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from newsdrift.store.names import IndexNames


def recent_publication_times(client: OpenSearch, names: IndexNames, since: datetime) -> list[datetime]:
    """One time per hour that has articles indexed since ``since`` (the windows to recompute)."""
    resp = client.search(
        index=names.articles,
        body={
            "size": 0,
            "query": {
                "bool": {
                    "filter": [
                        {"range": {"indexed_at": {"gte": since.isoformat()}}},
                        {"exists": {"field": "published_at"}},
                    ]
                }
            },
            "aggs": {
                "hours": {"date_histogram": {"field": "published_at", "fixed_interval": "1h", "min_doc_count": 1}}
            },
        },
    )
    return [datetime.fromtimestamp(b["key"] / 1000, UTC) for b in resp["aggregations"]["hours"]["buckets"]]


def update_drift(since_hours: float = 48.0, baseline_id: str | None = None, full: bool = False) -> dict[str, Any]:
    """Recompute the drift windows touched by articles indexed in the last ``since_hours`` (all with ``full``).

    The baseline's texts come from the baseline index (``open_drift_store``: the active default baseline
    is loaded from ``baseline_dir`` on first use). Events are written by ``DriftStore`` with deterministic
    ids, so a re-run overwrites and never duplicates.
    """
    from newsdrift.score.drift.store import open_drift_store

    settings, client, names = store_context()
    baseline_id = baseline_id or settings.baseline_id
    store = open_drift_store(settings, client, names, baseline_id)
    if store is None:
        return {"baseline_id": baseline_id, "status": "no_baseline", "windows": 0, "events": 0, "event_ids": []}
    if full:
        update = store.backfill()
    else:
        since = datetime.now(UTC) - timedelta(hours=since_hours)
        update = store.update(recent_publication_times(client, names, since))
    return {
        "baseline_id": baseline_id,
        "status": "ok",
        "windows": len(update.windows),
        "windows_removed": len(update.windows_removed),
        "docs_written": update.docs_written,
        "docs_deleted": update.docs_deleted,
        "events": len(update.events),
        "event_ids": list(update.events),
        "failures": [f.to_dict() for f in update.failures[:MAX_ERRORS_RETURNED]],
    }


def notify_drift_events(event_ids: list[str] | None) -> dict[str, Any]:
    """Drift-event alerts: the alerting cycle with no new article (its checks include drift events)."""
    return {**alerting_cycle([]), "drift_events": len(event_ids or [])}
