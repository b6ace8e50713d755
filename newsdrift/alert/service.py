"""Entry points for the CLI and the pipeline: list alerts, and one alerting cycle per batch."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.alert.delivery import DeliveryPolicy, DeliveryReport, deliver_pending
from newsdrift.alert.documents import iso, parse_time, utcnow
from newsdrift.alert.matching import match_articles
from newsdrift.alert.monitors import check_all
from newsdrift.alert.rules import RuleSet
from newsdrift.feeds.catalog import parse_duration
from newsdrift.records import Alert, Failure
from newsdrift.secrets import redact
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)


def parse_since(since: str | datetime | None, now: datetime | None = None) -> datetime | None:
    """``24h`` / ``7d`` (ago), an ISO date/time, or a datetime; None means no lower bound."""
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return parse_time(since)
    parsed = parse_time(since)
    if parsed is not None:
        return parsed
    return (now or utcnow()) - timedelta(seconds=parse_duration(since))


def list_alerts(
    client: OpenSearch,
    names: IndexNames,
    since: str | datetime | None = None,
    limit: int = 100,
    rule: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts newest first, as plain dicts (what `newsdrift alerts list` prints)."""
    filters: list[dict[str, Any]] = []
    start = parse_since(since)
    if start is not None:
        filters.append({"range": {"created_at": {"gte": iso(start)}}})
    if rule:
        filters.append({"term": {"rule_name": rule}})
    resp = client.search(
        index=names.alerts,
        body={
            "size": limit,
            "sort": [{"created_at": "desc"}],
            "query": {"bool": {"filter": filters}},
        },
    )
    rows = []
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        rows.append(
            {
                "id": hit["_id"],
                "rule": src.get("rule_name"),
                "kind": src.get("kind"),
                "title": src.get("title"),
                "created_at": src.get("created_at"),
                "source": src.get("source"),
                "url": src.get("article_url"),
                "matched_terms": src.get("matched_terms", []),
                "copy_count": src.get("copy_count", 0),
                "mode": src.get("mode"),
                "delivery_state": src.get("delivery_state"),
                "deliveries": [
                    {k: d.get(k) for k in ("channel", "state", "attempts", "error", "sent_at") if d.get(k) is not None}
                    for d in src.get("deliveries") or []
                ],
            }
        )
    return rows


@dataclass
class CycleReport:
    """What one alerting cycle did; ``failures`` are the steps that failed (the next cycle retries them)."""

    alerts: list[Alert] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    failures: list[Failure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "alerts": len(self.alerts),
            "rules": sorted({a.rule for a in self.alerts}),
            "delivery": self.delivery.to_json(),
            "failures": [f"{f.where}: {f.reason}" for f in self.failures],
        }


def _step_failure(label: str, exc: Exception) -> Failure:
    """A failed cycle step as a record; secrets redacted (a delivery error may quote a channel URL)."""
    log.debug("alerting %s failed; the next cycle retries", label, exc_info=True)
    return Failure(
        f"alerting:{label}",
        redact(f"{label} failed, the next cycle retries: {type(exc).__name__}: {exc}"),
        transient=True,
    )


def run_cycle(
    client: OpenSearch,
    names: IndexNames,
    ruleset: RuleSet,
    docs: Sequence[tuple[str, dict[str, Any]]] = (),
    now: datetime | None = None,
    policy: DeliveryPolicy | None = None,
    channels: Mapping[str, Any] | None = None,
) -> CycleReport:
    """What the pipeline calls after indexing a batch: match it, run the other checks, deliver.

    Never raises for an alerting problem: a failing step becomes a ``Failure`` in
    ``CycleReport.failures`` (``where`` is ``alerting:matching``, ``alerting:checks`` or
    ``alerting:delivery``; logged at DEBUG only, so it is reported once) and the next
    cycle retries (alerts and deliveries are idempotent).
    """
    now = now or utcnow()
    report = CycleReport()
    steps = (
        ("matching", lambda: match_articles(client, names, docs, ruleset.rules, now) if docs else []),
        ("checks", lambda: check_all(client, names, ruleset.rules, now)),
    )
    for label, step in steps:
        try:
            report.alerts += step()
        except Exception as exc:
            report.failures.append(_step_failure(label, exc))
    try:
        report.delivery = deliver_pending(client, names, channels or ruleset.channels, now=now, policy=policy)
    except Exception as exc:
        report.failures.append(_step_failure("delivery", exc))
    return report
