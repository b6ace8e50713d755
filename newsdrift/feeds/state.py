"""Per-feed state and health in OpenSearch: validators, counters, failures with reasons."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opensearchpy import OpenSearch

from newsdrift.clock import utcnow
from newsdrift.feeds.schedule import PollBounds, next_poll
from newsdrift.records import Failure, RunSummary, stable_id
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.client import cluster_call
from newsdrift.store.names import IndexNames

if TYPE_CHECKING:
    from newsdrift.feeds.catalog import Feed
    from newsdrift.feeds.poll import FeedPollResult


def load_states(client: OpenSearch, names: IndexNames, feeds: list[Feed]) -> dict[str, dict[str, Any]]:
    """Stored state per feed id (missing feeds are simply absent)."""
    if not feeds:
        return {}
    found = client.mget(index=names.feeds, body={"ids": [f.id for f in feeds]})
    return {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}


def iter_states(client: OpenSearch, names: IndexNames, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every stored feed state, sorted by name, streamed a page at a time.

    On OpenSearch a point in time keeps the pages consistent while states are updated; ``search_after``
    on (name, ``_shard_doc``) pages through any number of feeds. Elasticsearch 7.10 has neither
    OpenSearch's PIT API nor ``_shard_doc``, so there the pages follow (name, feed_id) with plain
    ``search_after``: the same order and completeness (feed_id is unique), and a state rewritten while
    the pages are read is seen as it is at its page. Nothing when the index does not exist.
    """
    from newsdrift.store.engine import engine_of

    if not client.indices.exists(index=names.feeds):
        return
    client.indices.refresh(index=names.feeds)  # a status read right after a pass sees that pass
    if engine_of(client).has_opensearch_pit:
        yield from _iter_with_pit(client, names, page_size)
        return
    body: dict[str, Any] = {
        "size": page_size,
        "query": {"match_all": {}},
        "sort": [{"name": {"order": "asc", "missing": "_last"}}, {"feed_id": "asc"}],
    }
    yield from _pages(lambda: client.search(index=names.feeds, body=body), body, page_size)


def _pages(search: Any, body: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
    while True:
        hits = search()["hits"]["hits"]
        for hit in hits:
            yield hit["_source"]
        if len(hits) < page_size:
            return
        body["search_after"] = hits[-1]["sort"]


def _iter_with_pit(client: OpenSearch, names: IndexNames, page_size: int) -> Iterator[dict[str, Any]]:
    from opensearchpy.exceptions import NotFoundError

    try:
        pit = client.create_pit(index=names.feeds, keep_alive="2m")["pit_id"]
    except NotFoundError:
        return
    try:
        body: dict[str, Any] = {
            "size": page_size,
            "query": {"match_all": {}},
            "pit": {"id": pit, "keep_alive": "2m"},
            "sort": [{"name": {"order": "asc", "missing": "_last"}}, {"_shard_doc": "asc"}],
        }
        yield from _pages(lambda: client.search(body=body), body, page_size)
    finally:
        try:
            client.delete_pit(body={"pit_id": [pit]})
        except Exception:  # noqa: BLE001 - it expires by itself after keep_alive
            pass


def all_states(client: OpenSearch, names: IndexNames, page_size: int = 1000) -> list[dict[str, Any]]:
    """Every stored feed state, sorted by name (all of them: see ``iter_states``)."""
    return list(iter_states(client, names, page_size))


def is_due(feed: Feed, state: dict[str, Any] | None, now: datetime) -> bool:
    if not feed.enabled or (state is not None and state.get("enabled") is False):
        return False
    if state is None or not state.get("next_poll_at"):
        return True
    return datetime.fromisoformat(state["next_poll_at"]) <= now


def _health(consecutive_failures: int) -> str:
    return "ok" if consecutive_failures == 0 else "failing" if consecutive_failures >= 3 else "degraded"


def next_state(
    feed: Feed, previous: dict[str, Any] | None, result: FeedPollResult, bounds: PollBounds | None = None
) -> dict[str, Any]:
    """The feed's state after one poll. Validators only move forward on a successful poll; the next poll
    time comes from ``newsdrift.feeds.schedule`` (publishing rate, ttl, max-age, Retry-After, backoff, ``bounds``)."""
    prev = previous or {}
    polled = result.polled_at
    dropped = list(getattr(result, "dropped", None) or [])
    state: dict[str, Any] = {
        "feed_id": feed.id,
        "feed_url": feed.url,
        "name": feed.name,
        "source": feed.source,
        "tags": list(feed.tags),
        "enabled": prev.get("enabled", True) and feed.enabled,
        "poll_interval_seconds": feed.poll_interval,
        "etag": prev.get("etag"),
        "last_modified": prev.get("last_modified"),
        "last_polled_at": polled.isoformat(),
        "last_success_at": prev.get("last_success_at"),
        "last_status": result.http_status,
        "last_error": prev.get("last_error"),
        "last_error_at": prev.get("last_error_at"),
        "failing_since": prev.get("failing_since"),
        "consecutive_failures": int(prev.get("consecutive_failures", 0)),
        "entries_seen": int(prev.get("entries_seen", 0)) + len(result.entries),
        # entries of the last poll that could not be used (no link, bad scheme, repeated link)
        "entries_dropped": len(dropped),
        "dropped_reasons": [f.reason for f in dropped[:20]],
        "articles_indexed": int(prev.get("articles_indexed", 0)),
        "disabled_reason": prev.get("disabled_reason"),
        "disabled_at": prev.get("disabled_at"),
        "updated_at": utcnow().isoformat(),
    }
    if result.ok:
        state.update(
            last_success_at=polled.isoformat(),
            consecutive_failures=0,
            failing_since=None,
        )
        if result.etag or result.last_modified or result.outcome == "ok":
            state["etag"] = result.etag or (prev.get("etag") if result.outcome == "not_modified" else None)
            state["last_modified"] = result.last_modified or (
                prev.get("last_modified") if result.outcome == "not_modified" else None
            )
    else:
        state["consecutive_failures"] += 1
        state["last_error"] = result.error or "unknown error"
        state["last_error_at"] = polled.isoformat()
        state["failing_since"] = prev.get("failing_since") or polled.isoformat()
    plan = next_poll(
        feed.poll_interval,
        prev,
        ok=result.ok,
        modified=result.outcome == "ok",
        published=[e.published_at for e in result.entries if e.published_at],
        now=polled,
        failures=0 if result.ok else state["consecutive_failures"],
        ttl_seconds=getattr(result, "ttl_seconds", None),
        max_age_seconds=getattr(result, "max_age_seconds", None),
        retry_after=result.retry_after,
        bounds=bounds,
    )
    state["next_poll_seconds"] = plan.seconds
    state["next_poll_reason"] = plan.reason
    state["entries_per_week"] = plan.entries_per_week
    state["health"] = _health(state["consecutive_failures"])
    state["next_poll_at"] = (polled + timedelta(seconds=plan.seconds)).isoformat()
    return {k: v for k, v in state.items() if v is not None}


def hold_validators(state: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Put the previous validators back into ``state``; return the new ones (to store later)."""
    held = {"feed_url": state["feed_url"], "etag": state.get("etag"), "last_modified": state.get("last_modified")}
    for key in ("etag", "last_modified"):
        if previous and previous.get(key):
            state[key] = previous[key]
        else:
            state.pop(key, None)
    return held


def save_validators(client: OpenSearch, names: IndexNames, validators: dict[str, dict[str, Any]]) -> list[Any]:
    """Partial updates of etag/last_modified once a feed's entries are safely handled."""
    actions = [
        {
            "_op_type": "update",
            "_index": names.feeds,
            "_id": feed_id,
            "doc": {"etag": v.get("etag"), "last_modified": v.get("last_modified")},
        }
        for feed_id, v in validators.items()
    ]
    return bulk_write(client, actions) if actions else []


def save_states(client: OpenSearch, names: IndexNames, states: list[dict[str, Any]]) -> list[Any]:
    """Write whole state documents (index op: the latest poll wins)."""
    return bulk_write(client, write_actions(names.feeds, [(s["feed_id"], s) for s in states], op_type="index"))


def disable_feed(client: OpenSearch, names: IndexNames, feed_id: str, reason: str) -> None:
    client.update(
        index=names.feeds,
        id=feed_id,
        body={
            "doc": {
                "enabled": False,
                "disabled_reason": reason,
                "disabled_at": utcnow().isoformat(),
                "health": "disabled",
                "updated_at": utcnow().isoformat(),
            }
        },
        refresh="wait_for",
    )


def set_indexed_counts(client: OpenSearch, names: IndexNames, feed_urls: Iterable[str], summary: RunSummary) -> None:
    """Set each feed's ``articles_indexed`` to the number of its articles in the index.

    Counted, not incremented: a retried request or a killed pass cannot make it drift, and the
    next pass that touches the feed repairs it.
    """
    urls = sorted(set(feed_urls))
    if not urls:
        return
    counts = cluster_call(indexed_counts, client, names, urls)
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
    for outcome in cluster_call(bulk_write, client, actions):
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
