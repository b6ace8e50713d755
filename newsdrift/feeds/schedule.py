"""Adaptive poll intervals: when to poll a feed next, from what it and its server tell us.

As Miniflux's "entry frequency" scheduler, FreshRSS and Media Cloud's fetcher do: a feed that
published ``n`` entries over the last week is polled about every ``week / n``, never more often
than its RSS ``<ttl>`` or its ``Cache-Control: max-age`` ask, nor than a ``Retry-After``;
a failing feed backs off exponentially; everything is kept within ``poll_min_interval`` and
``poll_max_interval`` (settings). With ``poll_adaptive`` off, the feed's own ``poll_interval``
is used (failures and server hints still push it out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from newsdrift.feeds.settings import FeedSettings

WEEK = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class PollBounds:
    """What the scheduler may choose from (``FeedSettings.poll_*``)."""

    min_seconds: float = 300.0
    max_seconds: float = 86400.0
    adaptive: bool = True

    @classmethod
    def from_settings(cls, settings: FeedSettings) -> PollBounds:
        return cls(settings.poll_min_interval, settings.poll_max_interval, settings.poll_adaptive)


@dataclass(frozen=True, slots=True)
class NextPoll:
    seconds: float
    reason: str  # configured | rate | no-recent-entries | ttl | max-age | retry-after | backoff
    entries_per_week: float | None = None


def entries_per_week(published: list[datetime], now: datetime) -> float:
    """Entries published in the week before ``now`` (what the feed shows of it)."""
    since = now - timedelta(seconds=WEEK)
    return float(sum(1 for p in published if since <= p <= now + timedelta(hours=1)))


def next_poll(
    configured: float,
    previous: dict[str, Any] | None,
    *,
    ok: bool,
    modified: bool,
    published: list[datetime],
    now: datetime,
    failures: int,
    ttl_seconds: float | None = None,
    max_age_seconds: float | None = None,
    retry_after: float | None = None,
    bounds: PollBounds | None = None,
) -> NextPoll:
    """The interval until the next poll and why.

    ``modified``: the poll read the feed (200); on a 304 the rate measured last time stands.
    ``failures``: consecutive failures including this poll (0 when it succeeded).
    """
    bounds = bounds or PollBounds()
    prev = previous or {}
    rate: float | None = prev.get("entries_per_week")
    if not bounds.adaptive:
        seconds, reason = float(configured), "configured"
    elif ok and modified:
        rate = entries_per_week(published, now)
        seconds, reason = (WEEK / rate, "rate") if rate else (bounds.max_seconds, "no-recent-entries")
    elif rate is not None:
        seconds, reason = (WEEK / rate, "rate") if rate else (bounds.max_seconds, "no-recent-entries")
    else:
        seconds, reason = float(configured), "configured"
    seconds = min(max(seconds, bounds.min_seconds), bounds.max_seconds)
    # the server's own hints are lower bounds: polling sooner only gets the same answer
    for hint, name in ((ttl_seconds, "ttl"), (max_age_seconds, "max-age")):
        if hint and hint > seconds:
            seconds, reason = min(float(hint), bounds.max_seconds), name
    if failures > 0:
        backoff = min(seconds * 2 ** (failures - 1), bounds.max_seconds)
        if backoff > seconds:
            seconds, reason = backoff, "backoff"
    if retry_after and retry_after > seconds:
        seconds, reason = float(retry_after), "retry-after"  # the server said so: beyond the max if need be
    return NextPoll(round(seconds, 1), reason, rate)


def parse_max_age(cache_control: str | None) -> float | None:
    """``max-age`` seconds of a Cache-Control header (``s-maxage`` is for shared caches), None if absent."""
    if not cache_control:
        return None
    directives = [d.strip().lower() for d in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return None
    for d in directives:
        if d.startswith("max-age="):
            try:
                value = float(d.split("=", 1)[1].strip('"'))
            except ValueError:
                return None
            return value if value >= 0 else None
    return None


def parse_ttl(value: Any) -> float | None:
    """RSS ``<ttl>`` (minutes) in seconds, None when absent or not a number."""
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None
