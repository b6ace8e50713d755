"""Alert records as OpenSearch documents: conversion, at-most-once creation, folding copies.

Field names are those of ``mappings/alerts.json``. ``Alert.details`` carries the
mapped extras (article_id, copies, mode, ...); they are promoted to top-level
fields and everything else stays under ``details``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError

from newsdrift.clock import iso, parse_time, utcnow
from newsdrift.records import Alert, IndexOutcome
from newsdrift.run.context import current_run_id
from newsdrift.store.bulk import bulk_write, claim_own_writes, write_actions
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)

PROMOTED = (
    "article_id",
    "article_url",
    "source",
    "published_at",
    "matched_terms",
    "story_cluster_id",
    "copies",
    "copy_count",
    "mode",
    "digest_due_at",
)
MAX_COPY_DETAILS = 100  # copies beyond this are counted and listed by id only
_OCC_RETRIES = 8


def digest_due(created_at: datetime, every_minutes: int) -> datetime:
    """End of the digest period containing ``created_at`` (periods aligned on the epoch, so shared)."""
    period = every_minutes * 60
    start = int(created_at.timestamp()) // period * period
    return datetime.fromtimestamp(start + period, UTC)


def overall_state(deliveries: Sequence[dict[str, Any]]) -> str:
    """Top-level delivery_state: none (no channels), sent, failed (a failure is pending retry) or pending."""
    if not deliveries:
        return "none"
    states = {d.get("state") for d in deliveries}
    if states == {"sent"}:
        return "sent"
    if "failed" in states:
        return "failed"
    return "pending"


def alert_to_document(alert: Alert, now: datetime | None = None) -> dict[str, Any]:
    """The alerts-index document of a new alert: every channel pending."""
    details = dict(alert.details)
    doc: dict[str, Any] = {
        "alert_id": alert.id,
        "rule_name": alert.rule,
        "kind": alert.kind,
        "subject_id": alert.subject_id,
        "title": alert.title,
        "message": alert.message,
        "created_at": iso(alert.created_at),
        "updated_at": iso(now or alert.created_at),
        "channels": list(alert.channels),
    }
    for key in PROMOTED:
        if details.get(key) is not None:
            doc[key] = iso(details.pop(key)) if key in ("published_at", "digest_due_at") else details.pop(key)
        else:
            details.pop(key, None)
    doc["deliveries"] = [{"channel": c, "state": "pending", "attempts": 0} for c in alert.channels]
    doc["delivery_state"] = overall_state(doc["deliveries"])
    doc["details"] = details
    return doc


def alert_from_document(doc: dict[str, Any]) -> Alert:
    """The ``Alert`` record of a stored document (promoted fields and delivery state back in details)."""
    details = dict(doc.get("details") or {})
    for key in (*PROMOTED, "deliveries", "delivery_state"):
        if key in doc:
            details[key] = doc[key]
    return Alert(
        id=doc["alert_id"],
        rule=doc["rule_name"],
        kind=doc["kind"],
        subject_id=doc.get("subject_id", ""),
        title=doc.get("title", ""),
        message=doc.get("message", ""),
        created_at=parse_time(doc.get("created_at")) or utcnow(),
        channels=list(doc.get("channels") or []),
        details=details,
    )


def create_alerts(client: OpenSearch, names: IndexNames, alerts: Iterable[Alert]) -> list[IndexOutcome]:
    """Write new alerts with ``op_type=create``: an id that exists already is reported ``exists``, never rewritten."""
    now = utcnow()
    run_id = current_run_id.get()
    docs = [(a.id, {**alert_to_document(a, now), **({"run_id": run_id} if run_id else {})}) for a in alerts]
    if not docs:
        return []
    # refresh=True: the next batch's fold lookup and the delivery step must see these at once.
    outcomes = bulk_write(client, write_actions(names.alerts, docs, op_type="create"), refresh=True)
    # a retried request answers 409 for what its first attempt wrote: that is this pass's alert
    outcomes = claim_own_writes(client, outcomes, run_id)
    for outcome in outcomes:
        if outcome.status == "failed":
            log.error("alert %s could not be written: %s", outcome.doc_id, outcome.reason)
    return outcomes


def update_with_retry(
    client: OpenSearch,
    names: IndexNames,
    alert_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
    refresh: bool | str = False,
) -> dict[str, Any] | None:
    """Apply ``change(source) -> partial doc`` under optimistic concurrency, re-reading on conflict.

    ``change`` returns None when there is nothing (left) to do. Returns the
    updated source, or None when nothing was written.
    """
    for _ in range(_OCC_RETRIES):
        try:
            current = client.get(index=names.alerts, id=alert_id)
        except NotFoundError:
            return None
        source = current["_source"]
        partial = change(source)
        if not partial:
            return None
        try:
            client.update(
                index=names.alerts,
                id=alert_id,
                body={"doc": partial},
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
                refresh=refresh,
            )
        except ConflictError:
            continue  # someone else wrote in between: re-read and re-apply
        return {**source, **partial}
    log.warning("alert %s: gave up after %d concurrent-update conflicts", alert_id, _OCC_RETRIES)
    return None


def copy_detail(article_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What a message shows about one copy."""
    return {
        "article_id": article_id,
        "title": doc.get("title", ""),
        "source": doc.get("source", ""),
        "url": doc.get("canonical_url") or doc.get("url", ""),
        "published_at": iso(doc.get("published_at")),
    }


def fold_copies(
    client: OpenSearch,
    names: IndexNames,
    alert_id: str,
    copies: Sequence[tuple[str, dict[str, Any]]],
    render: Callable[[dict[str, Any]], str],
    story_cluster_id: str | None = None,
) -> dict[str, Any] | None:
    """Append articles (id, doc) to an alert's ``copies``; already-listed ones are ignored.

    Returns the updated document, or None when every copy was already there.
    The message is re-rendered, but delivery state is untouched: a channel that
    already got the alert is not sent it again.
    """

    def change(source: dict[str, Any]) -> dict[str, Any] | None:
        known = set(source.get("copies") or [])
        lead = source.get("article_id")
        new = [(i, d) for i, d in copies if i not in known and i != lead]
        new = list({i: (i, d) for i, d in new}.values())
        if not new:
            return None
        listed = list(source.get("copies") or []) + [i for i, _ in new]
        details = dict(source.get("details") or {})
        shown = list(details.get("copy_details") or [])
        shown += [copy_detail(i, d) for i, d in new][: max(0, MAX_COPY_DETAILS - len(shown))]
        details["copy_details"] = shown
        partial: dict[str, Any] = {
            "copies": listed,
            "copy_count": len(listed),
            "details": details,
            "updated_at": iso(utcnow()),
        }
        if story_cluster_id and not source.get("story_cluster_id"):
            partial["story_cluster_id"] = story_cluster_id
        partial["message"] = render({**source, **partial})
        return partial

    return update_with_retry(client, names, alert_id, change, refresh=True)


def lease_expired(delivery: dict[str, Any], now: datetime, lease: timedelta) -> bool:
    """A ``sending`` claim whose worker died: retry it after the lease."""
    started = parse_time(delivery.get("last_attempt_at"))
    return started is None or now - started >= lease
