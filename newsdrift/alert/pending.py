"""Articles indexed but not yet matched against the alert rules, so a killed pass loses no alert.

An article is indexed ``alert_state: matched`` when the alerting stage wrote its alerts
while scoring the batch, else ``pending`` (alerting off in this step, as in the Airflow
shards, or its alerts could not be written); matching sets ``matched`` on pending ones
once their alerts are written. Whatever is pending is matched by the next matching step
(alerts are idempotent, so matching twice is harmless).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.records import IndexOutcome
from newsdrift.store.bulk import bulk_write
from newsdrift.store.names import IndexNames

PENDING = "pending"
MATCHED = "matched"


def mark_matched(client: OpenSearch, names: IndexNames, ids: Iterable[str], chunk: int = 500) -> list[IndexOutcome]:
    """Set ``alert_state: matched`` on these articles, in whichever rollover index each lives."""
    ids = list(dict.fromkeys(ids))
    outcomes: list[IndexOutcome] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        resp = client.search(
            index=names.articles, body={"query": {"ids": {"values": part}}, "size": len(part), "_source": False}
        )
        actions = [
            {
                "_op_type": "update",
                "_index": h["_index"],
                "_id": h["_id"],
                "retry_on_conflict": 3,
                "doc": {"alert_state": MATCHED},
            }
            for h in resp["hits"]["hits"]
        ]
        if actions:
            outcomes += bulk_write(client, actions)
    return outcomes


def pending_batches(
    client: OpenSearch,
    names: IndexNames,
    *,
    batch: int = 200,
    limit: int = 5000,
    exclude: set[str] | None = None,
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Pending articles, oldest first, ``batch`` at a time (at most ``limit``); each is served once,
    whether or not the caller manages to mark it, so one failing article never holds up the rest."""
    exclude = set(exclude or ())
    client.indices.refresh(index=names.articles)
    served = 0
    while served < limit:
        resp = client.search(
            index=names.articles,
            body={
                "size": min(batch, limit - served),
                "sort": [{"indexed_at": {"order": "asc", "unmapped_type": "date"}}],
                "query": {
                    "bool": {
                        "filter": [{"term": {"alert_state": PENDING}}],
                        "must_not": [{"ids": {"values": sorted(exclude)}}] if exclude else [],
                    }
                },
                "_source": {"excludes": ["minhash"]},
            },
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        served += len(hits)
        exclude.update(h["_id"] for h in hits)
        yield [(h["_id"], h["_source"]) for h in hits]
