"""Keep the entries worth fetching: not indexed yet, not repeated in the pass, not a dead link resting."""

from __future__ import annotations

from collections.abc import Iterable

from opensearchpy import OpenSearch

from extractors.urls import canonical_id_for_link
from newsdrift.fetch import links as linkstate
from newsdrift.records import FeedEntry, RunSummary
from newsdrift.store.client import cluster_call
from newsdrift.store.names import IndexNames


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
    by_id: dict[str, FeedEntry] = {}
    for entry in entries:
        by_id.setdefault(canonical_id_for_link(entry.link), entry)
    known = cluster_call(existing_ids, client, names, by_id)
    summary.articles_known += len(known) + (len(entries) - len(by_id))
    fresh = [cid for cid in by_id if cid not in known]
    # links that failed for good wait out their backoff (days) instead of failing again every pass
    resting = cluster_call(linkstate.not_due, client, names, fresh)
    summary.dead_links_skipped += len(resting)
    return [by_id[cid] for cid in fresh if cid not in resting]
