"""Alert text: what matched and why, rendered from the stored alert document.

Rendering at send time (not only at creation) means copies folded in after
the alert was created still show up in a digest or a retried delivery.

Every delivered message ends with an ``Idempotency-Key: ...`` footer (the alert
id, or for a digest a stable id derived from the alert ids it contains), so a
receiver can drop the repeat that at-least-once delivery may produce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from newsdrift.clock import parse_time

MAX_LISTED = 20
IDEMPOTENCY_KEY = "Idempotency-Key"
"""Name of the footer line (and of the HTTP/mail header, see channels.py) carrying a message's key."""
_KIND_LABEL = {
    "article": "article",
    "duplicate_burst": "duplicate burst",
    "feed_health": "feed health",
    "drift": "narrative drift",
}


def _when(value: Any) -> str:
    parsed = parse_time(value)
    return parsed.strftime("%Y-%m-%d %H:%M UTC") if parsed else "unknown time"


def _copy_lines(doc: dict[str, Any], limit: int = MAX_LISTED) -> list[str]:
    shown = (doc.get("details") or {}).get("copy_details") or []
    lines = []
    for copy in shown[:limit]:
        parts = [copy.get("source") or "?", copy.get("title") or "", copy.get("url") or ""]
        lines.append("  - " + " | ".join(p for p in parts if p))
    total = int(doc.get("copy_count") or len(doc.get("copies") or []))
    if total > len(lines):
        lines.append(f"  - ... and {total - len(lines)} more")
    return lines


def _article_body(doc: dict[str, Any]) -> list[str]:
    details = doc.get("details") or {}
    lines = [
        f"Title: {doc.get('title', '')}",
        f"Source: {doc.get('source') or '?'} | published {_when(doc.get('published_at'))}",
    ]
    if doc.get("article_url"):
        lines.append(f"URL: {doc['article_url']}")
    if doc.get("matched_terms"):
        lines.append("Matched terms: " + ", ".join(doc["matched_terms"]))
    for reason in details.get("reasons") or []:
        lines.append(f"Why: {reason}")
    if doc.get("copy_count"):
        lines.append(f"Also published as {doc['copy_count']} near/exact copy(ies):")
        lines += _copy_lines(doc)
    return lines


def _burst_body(doc: dict[str, Any]) -> list[str]:
    details = doc.get("details") or {}
    total = int(doc.get("copy_count") or 0) + 1
    lines = [
        f"Story: {doc.get('title', '')}",
        f"{total} articles of this story within {details.get('within_label', '?')} "
        f"(threshold {details.get('min_copies', '?')})",
    ]
    if doc.get("source") or doc.get("article_url"):
        lines.append(
            f"First: {doc.get('source') or '?'} | {_when(doc.get('published_at'))} | {doc.get('article_url', '')}"
        )
    if doc.get("copy_count"):
        lines.append("Copies:")
        lines += _copy_lines(doc)
    return lines


def _feed_body(doc: dict[str, Any]) -> list[str]:
    d = doc.get("details") or {}
    lines = [
        f"Feed: {d.get('feed_name') or '?'} ({d.get('feed_url') or '?'})",
        f"Health: {d.get('health') or '?'}; consecutive failures: {d.get('consecutive_failures', 0)}",
        f"Last success: {_when(d.get('last_success_at')) if d.get('last_success_at') else 'never'}",
    ]
    for reason in d.get("reasons") or []:
        lines.append(f"Why: {reason}")
    if d.get("last_error"):
        lines.append(f"Last error: {d['last_error']}")
    return lines


def _drift_body(doc: dict[str, Any]) -> list[str]:
    d = doc.get("details") or {}
    lines = [
        f"Metric: {d.get('metric', '?')} = {d.get('value', '?')} (threshold {d.get('threshold', '?')})",
        f"Window: {d.get('window', '?')} from {_when(d.get('window_start'))} to {_when(d.get('window_end'))}",
    ]
    if d.get("explanation"):
        lines.append(f"Explanation: {d['explanation']}")
    for example in (d.get("examples") or [])[:5]:
        lines.append(f"  - {example.get('source') or '?'} | {example.get('title') or ''} | {example.get('url') or ''}")
    return lines


_BODIES = {"article": _article_body, "duplicate_burst": _burst_body, "feed_health": _feed_body, "drift": _drift_body}


def render_message(doc: dict[str, Any]) -> str:
    """The body of one alert (plain text, works for webhooks, chat and e-mail)."""
    kind = doc.get("kind", "article")
    header = f"[{doc.get('rule_name', '?')}] {_KIND_LABEL.get(kind, kind)} alert"
    return "\n".join([header, *_BODIES.get(kind, _article_body)(doc)])


def render_title(doc: dict[str, Any]) -> str:
    return f"newsdrift [{doc.get('rule_name', '?')}]: {doc.get('title', '')}"[:250]


def render_digest(rule_name: str, docs: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """One message for several alerts of a digest rule."""
    title = f"newsdrift [{rule_name}]: digest of {len(docs)} alert(s)"
    blocks = []
    for number, doc in enumerate(docs, 1):
        text = render_message(doc)
        if doc.get("alert_id"):
            text += f"\nAlert-Id: {doc['alert_id']}"  # per-alert dedup, even if a re-sent digest differs
        blocks.append(f"{number}. " + text.replace("\n", "\n   "))
    return title, "\n\n".join(blocks)


def digest_key(alert_ids: Iterable[str]) -> str:
    """The idempotency key of a digest: the same alerts give the same key, in any order."""
    joined = "\n".join(sorted(set(alert_ids)))
    return "digest-" + hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def with_idempotency_footer(body: str, key: str) -> str:
    """The body with its ``Idempotency-Key: KEY`` footer line (last line, for any channel)."""
    return f"{body}\n\n--\n{IDEMPOTENCY_KEY}: {key}"
