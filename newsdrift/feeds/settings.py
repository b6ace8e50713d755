"""Feed section of the settings: how often each feed is polled."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class FeedSettings(BaseModel):
    """Polling: adaptive per feed, within bounds."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    poll_adaptive: bool = True
    """Poll each feed as often as it publishes (entries of the last week, RSS ``<ttl>``, Cache-Control
    ``max-age``, Retry-After, backoff on failures) within the bounds below; off: each feed's ``poll_interval``."""
    poll_min_interval: float = Field(default=300.0, gt=0)
    """Seconds: no feed is polled more often than this (adaptive polling)."""
    poll_max_interval: float = Field(default=86400.0, gt=0)
    """Seconds: every feed is polled at least this often (adaptive polling; a Retry-After may ask for longer)."""

    @field_validator("poll_max_interval")
    @classmethod
    def _max_above_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("poll_min_interval")
        if low is not None and value < low:
            raise ValueError(f"must be at least poll_min_interval ({low:g} s), got {value:g} s")
        return value
