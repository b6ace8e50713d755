"""Cluster writes: the representative updates a scored batch leaves for documents already indexed, applied once
the batch is indexed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.records import IndexOutcome
from newsdrift.store.bulk import bulk_write


def apply_cluster_updates(
    client: OpenSearch,
    index_alias: str,
    updates: Mapping[str, int | Mapping[str, Any]],
    refresh: bool | str = False,
) -> list[IndexOutcome]:
    """Apply representative updates (``{id: size}`` or ``{id: partial_doc}``); one outcome per id.

    The alias may span several rolled-over indices and bulk updates need a
    concrete index, so each id's index is looked up with one ``ids`` search.
    """
    if not updates:
        return []
    ids = list(updates)
    resp = client.search(
        index=index_alias,
        body={"query": {"ids": {"values": ids}}, "_source": False, "size": len(ids)},
    )
    where = {h["_id"]: h["_index"] for h in resp["hits"]["hits"]}
    actions = []
    for doc_id, change in updates.items():
        if doc_id in where:
            doc = {"cluster_size": change} if isinstance(change, int) else dict(change)
            actions.append({"_op_type": "update", "_index": where[doc_id], "_id": doc_id, "doc": doc})
    outcomes = bulk_write(client, actions, refresh=refresh) if actions else []
    missing = [IndexOutcome(i, None, "failed", f"not found in {index_alias}") for i in ids if i not in where]
    return outcomes + missing
