"""How many articles still wait for the alerting stage (``alert_state: pending``)."""

from __future__ import annotations

from opensearchpy import OpenSearch

from newsdrift.alert.pending import PENDING
from newsdrift.store.names import IndexNames


def count_pending(client: OpenSearch, names: IndexNames) -> int:
    client.indices.refresh(index=names.articles)
    return int(client.count(index=names.articles, body={"query": {"term": {"alert_state": PENDING}}})["count"])
