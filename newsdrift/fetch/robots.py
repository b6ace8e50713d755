"""robots.txt policy per origin (RFC 9309), built from a fetched response.

Rules are matched by protego (as in Scrapy): ``*`` and ``$`` wildcards, and the
longest matching rule wins (``Allow`` on a tie). Crawl-delay is read here, so
fractional values count for our user agent's own group first.

* 2xx: the rules apply (the first ``ROBOTS_MAX_BYTES`` are parsed).
* 4xx ("unavailable", including 404): everything is allowed. 429 is treated
  like a server error instead: the site is asking us to slow down.
* 5xx, 429, timeouts, network errors ("unreachable"): everything is
  disallowed for this run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

ROBOTS_MAX_BYTES = 512_000  # RFC 9309: parse at least 500 KiB


@dataclass(slots=True)
class RobotsPolicy:
    """Whether an origin lets our user agent fetch a URL."""

    origin: str
    parser: Protego | None = None  # None: ``allow_all`` decides
    # (user-agent tokens of a group, its Crawl-delay), read here so a group naming us wins over "*"
    delays: list[tuple[list[str], float]] = field(default_factory=list)
    allow_all: bool = True
    note: str = ""  # why allow_all/disallow applies (e.g. "robots.txt HTTP 503")

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))

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
        token = user_agent.split("/")[0].lower()
        matched = [d for agents, d in self.delays if any(a != "*" and a in token for a in agents)]
        fallback = [d for agents, d in self.delays if "*" in agents]
        for found in (matched, fallback):
            if found:
                return found[0]
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None

    @property
    def cacheable(self) -> bool:
        """Only a definite answer (2xx rules, 4xx allow-all) is kept across passes; unreachable is retried."""
        return self.parser is not None or self.allow_all


def parse_crawl_delays(lines: list[str]) -> list[tuple[list[str], float]]:
    """Each group's user agents and its Crawl-delay, fractional values included."""
    groups: list[tuple[list[str], float]] = []
    agents: list[str] = []
    in_rules = False
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow", "crawl-delay", "request-rate"):
            in_rules = True
            if key == "crawl-delay" and agents:
                try:
                    delay = float(value)
                except ValueError:
                    continue
                if delay >= 0 and delay == delay:  # not NaN
                    groups.append((list(agents), delay))
    return groups


def origin_of(url: str) -> str:
    """scheme://host[:port] of ``url`` (robots.txt applies per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rsplit('@', 1)[-1]}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def policy_from_response(origin: str, status: int, body: bytes) -> RobotsPolicy:
    """The policy an HTTP status and body imply."""
    if 200 <= status < 300:
        text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        lines = text.splitlines()
        parser = Protego.parse(text)
        return RobotsPolicy(origin, parser, delays=parse_crawl_delays(lines), note=f"robots.txt HTTP {status}")
    if status == 429 or status >= 500:
        return RobotsPolicy(origin, allow_all=False, note=f"HTTP {status}")
    return RobotsPolicy(origin, allow_all=True, note=f"robots.txt HTTP {status}")


def unreachable_policy(origin: str, reason: str) -> RobotsPolicy:
    return RobotsPolicy(origin, allow_all=False, note=reason)
