"""Fetch section of the settings: how feeds, pages and robots.txt are downloaded."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode

from newsdrift import __version__


class FetchSettings(BaseModel):
    """HTTP: who we say we are, where we may connect, how long and how much, how politely."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    user_agent: str = f"newsdrift/{__version__} (+https://github.com/newsdrift/newsdrift; news monitoring)"
    """User-Agent of every request; robots.txt rules are matched against it."""
    allow_private_networks: bool = False
    """Allow feeds/pages on loopback and private addresses (tests and the offline demo)."""
    allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """CIDR ranges allowed even when private networks are not (an internal feed proxy, say);
    as an environment variable comma-separated (NEWSDRIFT_ALLOWED_NETWORKS=10.8.0.0/16,192.168.5.0/24)
    or a JSON list (NEWSDRIFT_ALLOWED_NETWORKS='["10.8.0.0/16"]')."""
    http_timeout: float = Field(default=15.0, gt=0)
    """Seconds one request (feed, page, robots.txt, sitemap) may take."""
    max_feed_bytes: int = Field(default=5_000_000, gt=0)
    """A feed larger than this many bytes (decompressed) is refused."""
    max_page_bytes: int = Field(default=5_000_000, gt=0)
    """A page larger than this many bytes (decompressed) is refused."""
    max_redirects: int = Field(default=5, ge=0, le=20)
    """Redirects followed per request."""
    retry_after_cap: float = Field(default=60.0, ge=0)
    """Seconds: the longest Retry-After (or backoff) honoured within a pass; a feed asking for longer is
    polled again in a later pass."""
    feed_retries: int = Field(default=2, ge=0, le=10)
    """Retries of a feed poll after a transient failure (timeouts, 429, 5xx)."""
    fetch_concurrency: int = Field(default=8, ge=1, le=256)
    """Requests in flight at once, over all hosts."""
    per_host_concurrency: int = Field(default=2, ge=1, le=64)
    """Requests in flight at once to one host."""
    per_host_delay: float = Field(default=0.25, ge=0)
    """Minimum seconds between two requests to the same host."""
    robots_ttl: float = Field(default=6 * 3600, ge=0, le=86400)
    """Seconds a host's robots.txt is reused across passes (kept in the store; RFC 9309: at most 24 h)."""
    dead_link_retry_days: float = Field(default=1.0, gt=0, le=365)
    """A link that failed for good (404, 410, robots.txt, not HTML, too short) is tried again after this
    many days, doubling with every further failure up to ``dead_link_retry_max_days``."""
    dead_link_retry_max_days: float = Field(default=30.0, gt=0, le=365)
    """The longest wait, in days, before a dead link is tried again."""

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _network_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not a JSON list ({exc}); write e.g. 10.8.0.0/16,192.168.5.0/24") from None
        return [part for part in re.split(r"[,\s]+", text) if part]

    @field_validator("allowed_networks")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"{net!r} is not a network in CIDR notation ({exc})") from None
        return value
