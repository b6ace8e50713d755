"""Tasks of the ``newsdrift_maintenance`` DAG: rollover, retention, feed health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsdrift.airflow.common import store_context

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from newsdrift.store.names import IndexNames


def rollover_articles(max_age_days: float | None = 30, max_docs: int | None = 1_000_000) -> dict[str, Any]:
    """Roll the articles write alias over when its write index is older/bigger than the limits."""
    _, client, names = store_context()
    conditions: dict[str, Any] = {}
    if max_age_days is not None:
        conditions["max_age"] = f"{max(int(float(max_age_days) * 86400), 1)}s"
    if max_docs is not None:
        conditions["max_docs"] = int(max_docs)
    if not conditions:
        return {"rolled_over": False, "reason": "no conditions"}
    resp = client.indices.rollover(alias=names.articles, body={"conditions": conditions})
    return {
        "rolled_over": bool(resp.get("rolled_over")),
        "old_index": resp.get("old_index"),
        "new_index": resp.get("new_index"),
        "conditions": resp.get("conditions", {}),
    }


def write_index(client: OpenSearch, names: IndexNames) -> str | None:
    aliases = client.indices.get_alias(name=names.articles)
    for index, info in aliases.items():
        if info.get("aliases", {}).get(names.articles, {}).get("is_write_index"):
            return index
    return next(iter(aliases), None) if len(aliases) == 1 else None


def apply_retention(retention_days: float = 365, *, now: datetime | None = None) -> dict[str, Any]:
    """Delete article indices whose newest document was indexed before the retention period.

    The write index is never deleted; an empty index counts from its creation date. Dedup claims
    older than a day are pruned too: they only guard the moment two writers index copies of one story.
    """
    from newsdrift.score.dedup.claims import prune_claims

    _, client, names = store_context()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=float(retention_days))
    current = write_index(client, names)
    indices = client.indices.get(index=names.articles_pattern, expand_wildcards="open")
    resp = client.search(
        index=names.articles_pattern,
        body={
            "size": 0,
            "aggs": {
                "per_index": {
                    "terms": {"field": "_index", "size": 10_000},
                    "aggs": {"newest": {"max": {"field": "indexed_at"}}},
                }
            },
        },
    )
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
    claims = prune_claims(client, names.claims)
    return {
        "write_index": current,
        "deleted": deleted,
        "kept": kept,
        "cutoff": cutoff.isoformat(),
        "claims_pruned": claims,
    }


def feed_health(disable_after_days: float | None = 7, *, now: datetime | None = None) -> dict[str, Any]:
    """Feed health summary; feeds failing for at least ``disable_after_days`` are disabled with a reason."""
    from newsdrift.feeds import state as feedstate

    _, client, names = store_context()
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
        failing.append(
            {
                "feed": state.get("name"),
                "feed_id": state["feed_id"],
                "health": health,
                "failing_days": round(days, 2),
                "consecutive_failures": state.get("consecutive_failures", 0),
                "last_error": state.get("last_error"),
            }
        )
        if disable_after_days is not None and days >= float(disable_after_days):
            reason = (
                f"failing since {since} ({state.get('consecutive_failures', 0)} consecutive failures, "
                f"limit {disable_after_days} days); last error: {state.get('last_error') or 'unknown'}"
            )
            feedstate.disable_feed(client, names, state["feed_id"], reason)
            disabled.append({"feed": state.get("name"), "feed_id": state["feed_id"], "reason": reason})
    return {"feeds": len(states), "by_health": by_health, "failing": failing, "disabled": disabled}
