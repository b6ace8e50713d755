"""Time in one spelling: aware UTC datetimes, ISO strings in documents and ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | str) -> datetime:
    """Aware UTC datetime from a datetime or ISO string; naive times are taken as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | str | None) -> Any:
    """The one ISO spelling used in documents, ids and queries (strings and None pass through)."""
    if value is None or isinstance(value, str):
        return value
    return as_utc(value).isoformat()


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO string (or datetime); None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return as_utc(str(value))
    except ValueError:
        return None
