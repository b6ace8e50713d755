"""Sending one message to one channel through apprise, with bounded retries and redacted errors.

A message may carry an idempotency key (the alert id, or a digest id). Besides
the body footer (messages.py), it is added where the apprise plugin allows
per-message extras: as an ``Idempotency-Key`` header on every plugin that takes
custom headers (json://, form://, xml://, mailto:// and a few HTTP services)
and as an ``idempotency_key`` payload field on json://, form:// and xml://.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import apprise

from newsdrift.alert.messages import with_idempotency_footer
from newsdrift.alert.rules import Channel, ChannelUnavailable
from newsdrift.secrets import redact

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 600
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_FIELD = "idempotency_key"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per message within one delivery call; later calls retry again (nothing is dropped)."""

    attempts: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class SendResult:
    ok: bool
    attempts: int
    error: str | None = None
    permanent: bool = False  # retrying this call would not help (bad or missing URL)


def _level(entry: object) -> int:
    level = getattr(entry, "level", logging.INFO)
    if isinstance(level, int):
        return level
    value = logging.getLevelName(str(getattr(level, "name", level)).upper())
    return value if isinstance(value, int) else logging.INFO


def _result_error(result: apprise.AppriseResult) -> str:
    """The warnings apprise recorded for a failed notification, plus the low-level cause."""
    lines: list[str] = []
    for entry in result.logs():
        message = str(getattr(entry, "message", entry))
        relevant = _level(entry) >= logging.WARNING or "Exception" in message or "error" in message.lower()
        if relevant and message not in lines:
            lines.append(message)
    text = "; ".join(lines) or "the notification failed (no reason given)"
    return redact(text)[:MAX_ERROR_CHARS]


def _plugin(url: str, idempotency_key: str | None) -> apprise.NotifyBase | None:
    """The apprise plugin for ``url`` with the key as header/payload field where the plugin takes them."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None or not idempotency_key:
        return plugin
    extras = getattr(plugin, "template_kwargs", None) or {}
    # the same dicts apprise fills from ``+Header=value`` / ``:field=value`` URL arguments
    headers = getattr(plugin, "headers", None)
    if "headers" in extras and isinstance(headers, dict):
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    payload = getattr(plugin, "payload_extras", None)
    if "payload" in extras and isinstance(payload, dict):
        payload[IDEMPOTENCY_FIELD] = idempotency_key
    return plugin


def notify_once(
    url: str, title: str, body: str, notify_type: str = "info", idempotency_key: str | None = None
) -> SendResult:
    """One apprise notification; never raises."""
    ap = apprise.Apprise()
    try:
        plugin = _plugin(url, idempotency_key)
        if plugin is None or not ap.add(plugin):
            return SendResult(False, 1, "the channel URL is not a supported apprise URL", permanent=True)
        result = ap.notify(
            body=body,
            title=title,
            notify_type=apprise.NotifyType(notify_type),
            body_format=apprise.NotifyFormat.TEXT,
            log_level=logging.DEBUG,
        )
        try:
            return SendResult(True, 1) if result else SendResult(False, 1, _result_error(result))
        finally:
            result.close()
    except Exception as exc:  # a plugin bug must not take the delivery loop down
        return SendResult(False, 1, redact(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS])


def send(
    channel: Channel,
    title: str,
    body: str,
    notify_type: str = "info",
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    idempotency_key: str | None = None,
) -> SendResult:
    """Send with retries and exponential backoff (bounded by ``policy``); never raises.

    Every attempt carries the same ``idempotency_key`` (header/payload field where the channel allows).
    """
    policy = policy or RetryPolicy()
    try:
        url = channel.resolve()
    except ChannelUnavailable as exc:
        return SendResult(False, 0, str(exc), permanent=True)
    last = SendResult(False, 0, "not attempted")
    for attempt in range(1, max(1, policy.attempts) + 1):
        outcome = notify_once(url, title, body, notify_type, idempotency_key)
        last = SendResult(outcome.ok, attempt, outcome.error, outcome.permanent)
        if outcome.ok or outcome.permanent:
            break
        log.info("channel %s: attempt %d failed: %s", channel.name, attempt, outcome.error)
        if attempt < policy.attempts:
            sleep(policy.delay(attempt))
    if not last.ok:
        log.warning("channel %s: not delivered after %d attempt(s): %s", channel.name, last.attempts, last.error)
    return last


def test_channel(channel: Channel, policy: RetryPolicy | None = None) -> tuple[bool, str | None]:
    """Send a test message (`newsdrift alerts test CHANNEL`); returns (ok, redacted error)."""
    key = f"test-{uuid.uuid4().hex}"
    result = send(
        channel,
        f"newsdrift test message ({channel.name})",
        with_idempotency_footer(
            f"This is a test message from newsdrift for channel {channel.name!r}. If you can read it, alerts "
            "will reach you here.",
            key,
        ),
        policy=policy or RetryPolicy(attempts=1),
        idempotency_key=key,
    )
    return result.ok, result.error


test_channel.__test__ = False  # type: ignore[attr-defined]  # not a pytest test when imported into a test module
