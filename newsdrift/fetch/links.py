"""Links that failed for good (404, 410, robots.txt, not HTML, too short), kept with their reason and
skipped until their retry time, which backs off in days: 1, 2, 4, ... up to ``dead_link_retry_max_days``.

Transient failures (timeouts, 5xx, 429) are not recorded here: they are retried on the next pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.clock import utcnow
from newsdrift.records import FeedEntry, IndexOutcome
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.names import IndexNames


def link_id(link: str) -> str:
    """The id of a link's record: the article id its page would get (``extractors.urls``)."""
    from extractors.urls import canonical_id_for_link

    return canonical_id_for_link(link)


def retry_delay(failures: int, base_days: float, max_days: float) -> timedelta:
    """How long a link that failed ``failures`` times in a row is left alone."""
    return timedelta(days=min(base_days * 2 ** max(failures - 1, 0), max_days))


def not_due(client: OpenSearch, names: IndexNames, ids: Iterable[str], now: datetime | None = None) -> set[str]:
    """Which of ``ids`` failed for good and are not due for another try yet."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return set()
    now = now or utcnow()
    found = client.mget(index=names.links, body={"ids": ids}, _source_includes=["retry_at"])
    return {
        d["_id"] for d in found["docs"] if d.get("found") and datetime.fromisoformat(d["_source"]["retry_at"]) > now
    }


def record_failures(
    client: OpenSearch,
    names: IndexNames,
    failed: list[tuple[FeedEntry, str]],
    *,
    base_days: float,
    max_days: float,
    now: datetime | None = None,
) -> list[IndexOutcome]:
    """Store each failed link with its reason, failure count and next retry time (one bulk request)."""
    if not failed:
        return []
    now = now or utcnow()
    latest = {link_id(entry.link): (entry, reason) for entry, reason in failed}
    found = client.mget(index=names.links, body={"ids": list(latest)})
    previous: dict[str, dict[str, Any]] = {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}
    docs = []
    for doc_id, (entry, reason) in latest.items():
        prev = previous.get(doc_id, {})
        failures = int(prev.get("failures", 0)) + 1
        docs.append(
            (
                doc_id,
                {
                    "link": entry.link,
                    "feed_url": entry.feed_url,
                    "reason": reason,
                    "failures": failures,
                    "first_failed_at": prev.get("first_failed_at", now.isoformat()),
                    "last_failed_at": now.isoformat(),
                    "retry_at": (now + retry_delay(failures, base_days, max_days)).isoformat(),
                },
            )
        )
    return bulk_write(client, write_actions(names.links, docs, op_type="index"))
