"""The other rule kinds: duplicate bursts, feed health and drift events.

Same contract as article alerts: deterministic ids, ``op_type=create``, so a
condition alerts once per episode however often the checks run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from newsdrift.alert.documents import (
    MAX_COPY_DETAILS,
    alert_to_document,
    copy_detail,
    create_alerts,
    digest_due,
    fold_copies,
)
from newsdrift.alert.messages import render_message
from newsdrift.alert.rules import DriftRule, DuplicateBurstRule, FeedHealthRule, Rule, RuleBase
from newsdrift.clock import iso, parse_time, utcnow
from newsdrift.records import Alert, stable_id
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)

_ARTICLE_FIELDS = [
    "article_id",
    "title",
    "source",
    "url",
    "canonical_url",
    "published_at",
    "fetched_at",
    "near_duplicate_of",
    "duplicate_kind",
]


def _label(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _alert(
    rule: RuleBase, kind: str, alert_id: str, subject: str, title: str, details: dict[str, Any], now: datetime
) -> Alert:
    details = {**details, "mode": rule.mode}
    if rule.mode == "digest" and rule.every_minutes:
        details["digest_due_at"] = digest_due(now, rule.every_minutes)
    alert = Alert(
        id=alert_id,
        rule=rule.name,
        kind=kind,
        subject_id=subject,
        title=title,
        message="",
        created_at=now,
        channels=list(rule.channels),
        details={k: v for k, v in details.items() if v is not None},
    )
    alert.message = render_message(alert_to_document(alert, now))
    return alert


def _created(alerts: list[Alert], outcomes: list[Any]) -> list[Alert]:
    return [a for a, o in zip(alerts, outcomes, strict=True) if o.status == "created"]


# --- duplicate bursts ---------------------------------------------------------------------


def check_duplicate_bursts(
    client: OpenSearch, names: IndexNames, rules: Iterable[Rule], now: datetime | None = None
) -> list[Alert]:
    """One alert per story with >= min_copies articles inside the rule's window (copies folded in later)."""
    now = now or utcnow()
    results: list[Alert] = []
    for rule in (r for r in rules if isinstance(r, DuplicateBurstRule) and r.enabled):
        since = now - timedelta(seconds=rule.within)
        resp = client.search(
            index=names.articles,
            body={
                "size": 0,
                "query": {
                    "bool": {
                        "filter": [
                            {"range": {rule.time_field: {"gte": iso(since), "lte": iso(now)}}},
                            {"exists": {"field": "story_cluster_id"}},
                        ]
                    }
                },
                "aggs": {
                    "stories": {
                        "terms": {"field": "story_cluster_id", "min_doc_count": rule.min_copies, "size": 200},
                        "aggs": {
                            "articles": {
                                "top_hits": {
                                    "size": MAX_COPY_DETAILS,
                                    "sort": [{rule.time_field: "asc"}],
                                    "_source": _ARTICLE_FIELDS,
                                }
                            }
                        },
                    }
                },
            },
        )
        new: list[Alert] = []
        existing: list[tuple[str, list[tuple[str, dict[str, Any]]], str]] = []
        for bucket in resp["aggregations"]["stories"]["buckets"]:
            cluster = str(bucket["key"])
            articles = [
                (h["_source"].get("article_id") or h["_id"], h["_source"]) for h in bucket["articles"]["hits"]["hits"]
            ]
            lead_id, lead = articles[0]
            copies = articles[1:]
            details = {
                "article_id": lead_id,
                "article_url": lead.get("canonical_url") or lead.get("url"),
                "source": lead.get("source"),
                "published_at": lead.get("published_at"),
                "story_cluster_id": cluster,
                "copies": [i for i, _ in copies],
                "copy_count": int(bucket["doc_count"]) - 1,
                "copy_details": [copy_detail(i, d) for i, d in copies],
                "min_copies": rule.min_copies,
                "within_label": _label(rule.within),
                "sources": sorted({str(d.get("source")) for _, d in articles if d.get("source")}),
            }
            alert_id = stable_id(rule.name, cluster)
            new.append(
                _alert(rule, "duplicate_burst", alert_id, cluster, str(lead.get("title") or cluster), details, now)
            )
            existing.append((alert_id, copies, cluster))
        outcomes = create_alerts(client, names, new)
        results += _created(new, outcomes)
        for (alert_id, copies, cluster), outcome in zip(existing, outcomes, strict=True):
            if outcome.status == "exists":  # the burst grew: list the new copies (not re-sent)
                fold_copies(client, names, alert_id, copies, render_message, cluster)
    return results


# --- feed health ---------------------------------------------------------------------------


def _feed_problems(rule: FeedHealthRule, feed: dict[str, Any], now: datetime) -> list[tuple[str, str, str]]:
    """(condition, episode key, reason) for each condition the feed meets."""
    problems = []
    failures = int(feed.get("consecutive_failures") or 0)
    last_success = parse_time(feed.get("last_success_at"))
    if rule.consecutive_failures is not None and failures >= rule.consecutive_failures:
        # The failure streak is the episode: a feed that recovers and fails again alerts again.
        episode = feed.get("failing_since") or feed.get("last_success_at") or "never"
        problems.append(
            ("failing", str(episode), f"{failures} consecutive failed polls (threshold {rule.consecutive_failures})")
        )
    interval = int(feed.get("poll_interval_seconds") or 0)
    if rule.silent_intervals is not None and interval > 0 and last_success is not None:
        limit = timedelta(seconds=rule.silent_intervals * interval)
        if now - last_success > limit:
            hours = (now - last_success).total_seconds() / 3600
            problems.append(
                (
                    "silent",
                    iso(last_success) or "",
                    f"no successful poll for {hours:.1f} h (> {rule.silent_intervals:g} x poll interval "
                    f"{_label(interval)})",
                )
            )
    return problems


def check_feed_health(
    client: OpenSearch, names: IndexNames, rules: Iterable[Rule], now: datetime | None = None
) -> list[Alert]:
    """Alerts for enabled feeds that keep failing or have gone silent (once per episode)."""
    now = now or utcnow()
    health_rules = [r for r in rules if isinstance(r, FeedHealthRule) and r.enabled]
    if not health_rules:
        return []
    # Feed states are written without a refresh (by this pass's poll, or by the DAG's shard tasks)
    # and a search only sees refreshed documents: without this, whether the check saw this pass's
    # failure depended on the periodic refresh landing in between, so a threshold reached on pass N
    # alerted on pass N on a slow machine and on pass N+1 on a fast one.
    client.indices.refresh(index=names.feeds)
    resp = client.search(
        index=names.feeds,
        body={
            "size": 10_000,
            "query": {"bool": {"must_not": [{"term": {"enabled": False}}]}},
        },
    )
    feeds = [(h["_id"], h["_source"]) for h in resp["hits"]["hits"]]
    new: list[Alert] = []
    for rule in health_rules:
        for feed_id, feed in feeds:
            problems = _feed_problems(rule, feed, now)
            if not problems:
                continue
            episode = "|".join(f"{cond}:{key}" for cond, key, _ in problems)
            details = {
                "feed_id": feed.get("feed_id") or feed_id,
                "feed_name": feed.get("name"),
                "feed_url": feed.get("feed_url"),
                "source": feed.get("source"),
                "health": feed.get("health"),
                "consecutive_failures": feed.get("consecutive_failures", 0),
                "last_success_at": feed.get("last_success_at"),
                "last_error": feed.get("last_error"),
                "poll_interval_seconds": feed.get("poll_interval_seconds"),
                "reasons": [reason for _, _, reason in problems],
            }
            title = f"feed {feed.get('name') or feed_id}: " + ", ".join(cond for cond, _, _ in problems)
            # One id per condition episode, so the same outage is reported once.
            alert_id = stable_id(rule.name, feed_id, episode)
            new.append(_alert(rule, "feed_health", alert_id, feed_id, title, details, now))
    return _created(new, create_alerts(client, names, new))


# --- drift ------------------------------------------------------------------------------------


def _examples(client: OpenSearch, names: IndexNames, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    try:
        resp = client.search(
            index=names.articles,
            body={
                "size": len(ids),
                "query": {"terms": {"article_id": ids}},
                "_source": _ARTICLE_FIELDS,
            },
        )
    except NotFoundError:
        return []
    return [copy_detail(h["_source"].get("article_id", h["_id"]), h["_source"]) for h in resp["hits"]["hits"]]


def check_drift_events(
    client: OpenSearch, names: IndexNames, rules: Iterable[Rule], now: datetime | None = None
) -> list[Alert]:
    """One alert per drift event (``kind: event`` docs) seen within the rule's lookback."""
    now = now or utcnow()
    new: list[Alert] = []
    for rule in (r for r in rules if isinstance(r, DriftRule) and r.enabled):
        since = iso(now - timedelta(seconds=rule.lookback))
        filters: list[dict[str, Any]] = [{"term": {"kind": "event"}}]
        if rule.metrics:
            filters.append({"terms": {"metric": rule.metrics}})
        resp = client.search(
            index=names.drift,
            body={
                "size": 500,
                "sort": [{"window_start": {"order": "asc", "unmapped_type": "date"}}],
                "query": {
                    "bool": {
                        "filter": filters,
                        "minimum_should_match": 1,
                        "should": [
                            {"range": {f: {"gte": since}}} for f in ("updated_at", "window_end", "window_start")
                        ],
                    }
                },
            },
        )
        for hit in resp["hits"]["hits"]:
            event = hit["_source"]
            event_id = str(event.get("event_id") or hit["_id"])
            example_ids = list(event.get("example_article_ids") or [])[:5]
            details = {
                "event_id": event_id,
                "metric": event.get("metric"),
                "frame": event.get("frame"),
                "change": event.get("stats"),
                "value": event.get("value"),
                "threshold": event.get("threshold"),
                "window": event.get("window"),
                "window_start": event.get("window_start"),
                "window_end": event.get("window_end"),
                "consecutive_windows": event.get("consecutive_windows"),
                "baseline_id": event.get("baseline_id"),
                "explanation": event.get("explanation"),
                "example_article_ids": example_ids,
                "examples": _examples(client, names, example_ids),
            }
            stats = event.get("stats") or {}
            if stats:  # calibrated change events
                moved = "up" if stats.get("direction", 1) > 0 else "down"
                title = (
                    f"narrative drift: {event.get('metric', '?')} {event.get('frame') or ''} {moved} "
                    f"{stats.get('delta', 0):+.3f} (confidence {100 * stats.get('confidence', 0):.1f}%)"
                ).replace("  ", " ")
            else:
                title = (
                    f"narrative drift: {event.get('metric', '?')} {event.get('value', '?')} "
                    f"above {event.get('threshold', '?')}"
                )
            new.append(_alert(rule, "drift", stable_id(rule.name, event_id), event_id, title, details, now))
    return _created(new, create_alerts(client, names, new))


def check_all(client: OpenSearch, names: IndexNames, rules: Iterable[Rule], now: datetime | None = None) -> list[Alert]:
    """Every non-article check, in one call (for the pipeline loop)."""
    rules = list(rules)
    now = now or utcnow()
    out: list[Alert] = []
    for check in (check_duplicate_bursts, check_feed_health, check_drift_events):
        try:
            out += check(client, names, rules, now)
        except NotFoundError as exc:  # an index not created yet: nothing to check
            log.info("%s skipped: %s", check.__name__, exc.error)
    return out
