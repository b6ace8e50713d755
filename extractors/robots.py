"""robots.txt policy per origin (RFC 9309), built from a fetched response.

* 2xx: the rules apply (the first ``ROBOTS_MAX_BYTES`` are parsed).
* 4xx ("unavailable", including 404): everything is allowed. 429 is treated
  like a server error instead: the site is asking us to slow down.
* 5xx, 429, timeouts, network errors ("unreachable"): everything is
  disallowed for this run.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

ROBOTS_MAX_BYTES = 512_000  # RFC 9309: parse at least 500 KiB


@dataclass(slots=True)
class RobotsPolicy:
    """Whether an origin lets our user agent fetch a URL."""

    origin: str
    parser: RobotFileParser | None = None  # None: ``allow_all`` decides
    allow_all: bool = True
    note: str = ""  # why allow_all/disallow applies (e.g. "robots.txt HTTP 503")

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(user_agent, url)

    def refusal(self, url: str, user_agent: str) -> str | None:
        """The failure reason for ``url``, or None when it may be fetched."""
        if self.allows(url, user_agent):
            return None
        if self.parser is None:
            return f"robots.txt unreachable ({self.note}); host disallowed for this run"
        return "robots.txt disallows"

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    """scheme://host[:port] of ``url`` (robots.txt applies per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rsplit('@', 1)[-1]}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def policy_from_response(origin: str, status: int, body: bytes) -> RobotsPolicy:
    """The policy an HTTP status and body imply."""
    if 200 <= status < 300:
        parser = RobotFileParser()
        parser.parse(body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace").splitlines())
        return RobotsPolicy(origin, parser, note=f"robots.txt HTTP {status}")
    if status == 429 or status >= 500:
        return RobotsPolicy(origin, allow_all=False, note=f"HTTP {status}")
    return RobotsPolicy(origin, allow_all=True, note=f"robots.txt HTTP {status}")


def unreachable_policy(origin: str, reason: str) -> RobotsPolicy:
    return RobotsPolicy(origin, allow_all=False, note=reason)
