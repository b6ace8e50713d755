"""Deliver pending alerts to their channels; failures are recorded and retried, never raised or lost.

Per-channel state lives in each record's ``deliveries``. A delivery is claimed
(``sending``) with optimistic concurrency (``if_seq_no``/``if_primary_term``)
before the message goes out, so two live workers never send the same alert to
the same channel at the same time. ``sent`` is final: once recorded, a delivery
is never attempted again.

Delivery is **at-least-once per channel**, not exactly-once: a worker that dies
after the message went out but before ``sent`` was recorded leaves the claim
``sending``, and after ``lease_seconds`` the message is sent again (no system
can close that window without the receiver's help). Every message therefore
carries a stable idempotency key, the same on every attempt and re-send: the
alert id, or for a digest ``digest-<hash of its sorted alert ids>`` (each alert
in a digest is also listed with its ``Alert-Id``). It is the
``Idempotency-Key: KEY`` last line of every body (e-mail, chat, webhooks), an
``Idempotency-Key`` header where the apprise plugin takes custom headers
(json://, form://, xml://, mailto://) and an ``idempotency_key`` field in
json://, form:// and xml:// payloads. A receiver that keeps the keys it has
seen can drop the repeat. A re-sent digest has the same key only if it holds the
same alerts (new alerts of the rule due by then change it; the ``Alert-Id``
lines still identify each alert).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError

from newsdrift.alert.channels import RetryPolicy, SendResult, send
from newsdrift.alert.documents import lease_expired, overall_state
from newsdrift.alert.messages import (
    digest_key,
    render_digest,
    render_message,
    render_title,
    with_idempotency_footer,
)
from newsdrift.alert.rules import Channel
from newsdrift.clock import iso, parse_time, utcnow
from newsdrift.secrets import redact
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)

_OCC_RETRIES = 8
_WARNING_KINDS = {"feed_health", "drift"}


@dataclass(frozen=True)
class DeliveryPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease_seconds: float = 300.0
    """A ``sending`` claim older than this is considered abandoned (its worker died) and retried."""
    max_alerts: int = 5000
    """Undelivered alerts looked at per call (oldest first); the rest wait for the next call."""
    digest_max_items: int = 50
    """Alerts per digest message; more go in the next digest."""


@dataclass
class DeliveryReport:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (alert_id, channel)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (alert_id, channel, error)
    messages: int = 0  # notifications that went out (a digest is one)
    skipped: int = 0  # claimed by another worker, or its channel failed earlier in this call

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent),
            "failed": len(self.failed),
            "messages": self.messages,
            "skipped": self.skipped,
            "errors": sorted({f"{channel}: {error}" for _, channel, error in self.failed}),
        }


@dataclass
class _Claim:
    alert_id: str
    channel: str
    source: dict[str, Any]
    seq_no: int
    primary_term: int
    token: str  # last_attempt_at written by this claim


def _refresh_hit(hit: dict[str, Any], claim: _Claim) -> None:
    """Carry the record's latest version back into the search hit its other channels will use."""
    hit.update(_source=claim.source, _seq_no=claim.seq_no, _primary_term=claim.primary_term)


def _delivery(source: dict[str, Any], channel: str) -> dict[str, Any] | None:
    return next((d for d in source.get("deliveries") or [] if d.get("channel") == channel), None)


def _is_due(entry: dict[str, Any] | None, now: datetime, lease: timedelta) -> bool:
    if entry is None:
        return False
    state = entry.get("state")
    return state in ("pending", "failed") or (state == "sending" and lease_expired(entry, now, lease))


def _with_entry(source: dict[str, Any], channel: str, **changes: Any) -> dict[str, Any]:
    """Partial doc replacing one channel's delivery entry (None values remove a key)."""
    deliveries = []
    for d in source.get("deliveries") or []:
        if d.get("channel") == channel:
            d = {k: v for k, v in {**d, **changes}.items() if v is not None}
        deliveries.append(d)
    return {"deliveries": deliveries, "delivery_state": overall_state(deliveries), "updated_at": iso(utcnow())}


class _Deliverer:
    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        channels: Mapping[str, Channel],
        now: datetime,
        policy: DeliveryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self.client, self.names, self.channels, self.now = client, names, channels, now
        self.policy, self.sleep = policy, sleep
        self.lease = timedelta(seconds=policy.lease_seconds)
        self.report = DeliveryReport()
        self.down: dict[str, str] = {}  # channel -> error, for the rest of this call
        self.wrote = False

    # --- claims ------------------------------------------------------------------------

    def claim(self, hit: dict[str, Any], channel: str) -> _Claim | None:
        """Mark one delivery ``sending``; None when another worker has it (or it is no longer due)."""
        alert_id = hit["_id"]
        source, seq_no, term = hit["_source"], hit.get("_seq_no"), hit.get("_primary_term")
        for _ in range(_OCC_RETRIES):
            if seq_no is None:
                try:
                    current = self.client.get(index=self.names.alerts, id=alert_id)
                except NotFoundError:
                    return None
                source, seq_no, term = current["_source"], current["_seq_no"], current["_primary_term"]
            if not _is_due(_delivery(source, channel), self.now, self.lease):
                return None
            token = iso(utcnow())
            partial = _with_entry(source, channel, state="sending", last_attempt_at=token)
            try:
                resp = self.client.update(
                    index=self.names.alerts, id=alert_id, body={"doc": partial}, if_seq_no=seq_no, if_primary_term=term
                )
            except ConflictError:
                seq_no = None  # changed under us: re-read and decide again
                continue
            self.wrote = True
            return _Claim(alert_id, channel, {**source, **partial}, resp["_seq_no"], resp["_primary_term"], token)
        return None

    def finish(self, claim: _Claim, result: SendResult) -> None:
        """Record the outcome of a claimed delivery (re-reading if the record changed meanwhile)."""
        source, seq_no, term = claim.source, claim.seq_no, claim.primary_term
        for _ in range(_OCC_RETRIES):
            entry = _delivery(source, claim.channel) or {}
            if entry.get("state") == "sent":
                return
            attempts = int(entry.get("attempts") or 0) + result.attempts
            if result.ok:
                partial = _with_entry(
                    source,
                    claim.channel,
                    state="sent",
                    attempts=attempts,
                    error=None,
                    last_attempt_at=claim.token,
                    sent_at=iso(utcnow()),
                )
            else:
                partial = _with_entry(
                    source,
                    claim.channel,
                    state="failed",
                    attempts=attempts,
                    error=redact(result.error or "failed"),
                    last_attempt_at=claim.token,
                )
            try:
                resp = self.client.update(
                    index=self.names.alerts,
                    id=claim.alert_id,
                    body={"doc": partial},
                    if_seq_no=seq_no,
                    if_primary_term=term,
                )
                self.wrote = True
                # the record's new version, so the alert's next channel claims without a 409 round trip
                claim.source, claim.seq_no, claim.primary_term = (
                    {**source, **partial},
                    resp["_seq_no"],
                    resp["_primary_term"],
                )
                return
            except ConflictError:
                current = self.client.get(index=self.names.alerts, id=claim.alert_id)
                source, seq_no, term = current["_source"], current["_seq_no"], current["_primary_term"]
        log.error("alert %s: could not record delivery to %s", claim.alert_id, claim.channel)

    def mark_down(self, hit: dict[str, Any], channel: str, error: str) -> None:
        """Record a channel failure on an alert that was not attempted (its channel failed already)."""
        entry = _delivery(hit["_source"], channel)
        self.report.skipped += 1
        if entry is None or (entry.get("state") == "failed" and entry.get("error") == error):
            return  # nothing new to say: spare a write per alert while a channel is down
        claim = self.claim(hit, channel)
        if claim is not None:
            self.finish(claim, SendResult(False, 0, error))
            _refresh_hit(hit, claim)

    # --- sending -----------------------------------------------------------------------

    def send(self, channel_name: str, title: str, body: str, notify_type: str, key: str) -> SendResult:
        """One message with its idempotency key (footer, and header/payload field where the channel allows)."""
        channel = self.channels.get(channel_name)
        if channel is None:
            result = SendResult(False, 0, f"channel {channel_name!r} is not defined in the rules file", permanent=True)
        else:
            result = send(
                channel,
                title,
                with_idempotency_footer(body, key),
                notify_type,
                self.policy.retry,
                self.sleep,
                idempotency_key=key,
            )
        if result.ok:
            self.report.messages += 1
        else:
            self.down[channel_name] = result.error or "failed"
        return result

    def instant(self, hit: dict[str, Any], channel: str) -> None:
        if channel in self.down:
            self.mark_down(hit, channel, self.down[channel])
            return
        claim = self.claim(hit, channel)
        if claim is None:
            self.report.skipped += 1
            return
        doc = claim.source
        notify_type = "warning" if doc.get("kind") in _WARNING_KINDS else "info"
        result = self.send(channel, render_title(doc), render_message(doc), notify_type, claim.alert_id)
        self.finish(claim, result)
        _refresh_hit(hit, claim)
        self.record(claim.alert_id, channel, result)

    def digest(self, rule_name: str, channel: str, hits: list[dict[str, Any]]) -> None:
        if channel in self.down:
            for hit in hits:
                self.mark_down(hit, channel, self.down[channel])
            return
        claims = [c for c in (self.claim(h, channel) for h in hits[: self.policy.digest_max_items]) if c]
        self.report.skipped += len(hits[: self.policy.digest_max_items]) - len(claims)
        if not claims:
            return
        title, body = render_digest(rule_name, [{"alert_id": c.alert_id, **c.source} for c in claims])
        result = self.send(channel, title, body, "info", digest_key(c.alert_id for c in claims))
        for claim in claims:
            self.finish(claim, result)
            self.record(claim.alert_id, channel, result)

    def record(self, alert_id: str, channel: str, result: SendResult) -> None:
        if result.ok:
            self.report.sent.append((alert_id, channel))
        else:
            self.report.failed.append((alert_id, channel, result.error or "failed"))


def _pending_hits(client: OpenSearch, names: IndexNames, limit: int, page: int = 200) -> list[dict[str, Any]]:
    """Undelivered alerts, oldest first, paged with search_after (so a long outage of one
    channel does not hide newer alerts of the others behind a fixed-size first page)."""
    hits: list[dict[str, Any]] = []
    after: list[Any] | None = None
    while len(hits) < limit:
        body: dict[str, Any] = {
            "size": min(page, limit - len(hits)),
            "seq_no_primary_term": True,
            "sort": [{"created_at": "asc"}, {"alert_id": "asc"}],
            "query": {"terms": {"delivery_state": ["pending", "failed"]}},
        }
        if after is not None:
            body["search_after"] = after
        batch = client.search(index=names.alerts, body=body)["hits"]["hits"]
        hits += batch
        if len(batch) < body["size"]:
            break
        after = batch[-1]["sort"]
    return hits


def deliver_pending(
    client: OpenSearch,
    names: IndexNames,
    channels: Mapping[str, Channel],
    now: datetime | None = None,
    policy: DeliveryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send every due, undelivered (alert, channel) pair; digests as one message per rule and channel.

    Never raises for a channel problem: the error is stored on the record and
    the delivery is retried on the next call. ``now`` decides which digests are
    due (defaults to the current time).
    """
    now = now or utcnow()
    policy = policy or DeliveryPolicy()
    worker = _Deliverer(client, names, channels, now, policy, sleep)
    digests: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for hit in _pending_hits(client, names, policy.max_alerts):
        source = hit["_source"]
        for entry in source.get("deliveries") or []:
            channel = entry.get("channel")
            if not _is_due(entry, now, worker.lease):
                continue
            if source.get("mode") == "digest":
                digests.setdefault((source["rule_name"], channel), []).append(hit)
            else:
                worker.instant(hit, channel)
    for (rule_name, channel), hits in digests.items():
        due = [parse_time(h["_source"].get("digest_due_at")) for h in hits]
        if any(d is None or d <= now for d in due):
            worker.digest(rule_name, channel, hits)
    if worker.wrote:
        client.indices.refresh(index=names.alerts)
    if worker.report.sent or worker.report.failed:
        log.info(
            "delivery: %d sent, %d failed, %d message(s)",
            len(worker.report.sent),
            len(worker.report.failed),
            worker.report.messages,
        )
    return worker.report
