"""Bulk writes with one outcome per document; a rejected document never hides the others."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from newsdrift.records import IndexOutcome


def write_actions(
    index: str, docs: Iterable[tuple[str, dict[str, Any]]], op_type: str = "create"
) -> Iterator[dict[str, Any]]:
    """Bulk actions for (id, source) pairs; ``create`` makes re-indexing the same id a no-op."""
    for doc_id, source in docs:
        yield {"_op_type": op_type, "_index": index, "_id": doc_id, "_source": source}


def _reason(info: dict[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" ({cause.get('reason')})"
        return text
    return str(error or info.get("status", "unknown error"))


def bulk_write(
    client: OpenSearch,
    actions: Iterable[dict[str, Any]],
    chunk_size: int = 500,
    refresh: bool | str = False,
) -> list[IndexOutcome]:
    """Send actions in chunks; return one ``IndexOutcome`` per action, in order.

    ``create`` on an existing id is reported as ``exists`` (idempotent re-run), not a failure.
    """
    outcomes: list[IndexOutcome] = []
    for ok, item in streaming_bulk(
        client,
        actions,
        chunk_size=chunk_size,
        raise_on_error=False,
        raise_on_exception=False,
        max_retries=3,
        initial_backoff=1,
        refresh=refresh,
    ):
        op, info = next(iter(item.items()))
        doc_id = str(info.get("_id"))
        index = info.get("_index")
        if ok:
            outcomes.append(IndexOutcome(doc_id, index, info.get("result", op)))
        elif info.get("status") == 409 and op == "create":
            outcomes.append(IndexOutcome(doc_id, index, "exists"))
        else:
            outcomes.append(IndexOutcome(doc_id, index, "failed", _reason(info)))
    return outcomes


def claim_own_writes(client: OpenSearch, outcomes: list[IndexOutcome], run_id: str | None) -> list[IndexOutcome]:
    """Turn ``exists`` into ``created`` where the existing document was written by this very pass.

    A bulk request retried after a timeout answers 409 for documents its first attempt wrote;
    they are this pass's work and must be counted, matched and alerted as such.
    """
    exists = [o for o in outcomes if o.status == "exists"]
    if not run_id or not exists:
        return outcomes
    by_index: dict[str, list[str]] = {}
    for o in exists:
        by_index.setdefault(str(o.index), []).append(o.doc_id)
    mine: set[tuple[str, str]] = set()
    for index, ids in by_index.items():
        found = client.mget(index=index, body={"ids": ids}, _source_includes=["run_id"])
        mine |= {(index, d["_id"]) for d in found["docs"] if (d.get("_source") or {}).get("run_id") == run_id}
    return [IndexOutcome(o.doc_id, o.index, "created") if (str(o.index), o.doc_id) in mine else o for o in outcomes]
