"""Index, alias and template names, all derived from one prefix."""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("articles", "baseline", "alert-rules", "alerts", "feeds", "drift", "hosts", "links", "claims")


@dataclass(frozen=True)
class IndexNames:
    prefix: str = "newsdrift"

    @property
    def articles(self) -> str:
        """Read and write alias over the rollover indices."""
        return f"{self.prefix}-articles"

    @property
    def articles_pattern(self) -> str:
        return f"{self.prefix}-articles-*"

    def articles_index(self, generation: int = 1) -> str:
        return f"{self.prefix}-articles-{generation:06d}"

    @property
    def baseline(self) -> str:
        return f"{self.prefix}-baseline"

    @property
    def alert_rules(self) -> str:
        return f"{self.prefix}-alert-rules"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def feeds(self) -> str:
        return f"{self.prefix}-feeds"

    @property
    def drift(self) -> str:
        return f"{self.prefix}-drift"

    @property
    def hosts(self) -> str:
        """robots.txt cache per origin."""
        return f"{self.prefix}-hosts"

    @property
    def links(self) -> str:
        """Links that failed for good, with their retry time."""
        return f"{self.prefix}-links"

    @property
    def claims(self) -> str:
        """Dedup claims (one per LSH band / content hash) that keep concurrent writers on one cluster per story."""
        return f"{self.prefix}-claims"

    def template(self, family: str) -> str:
        return f"{self.prefix}-{family}"

    def for_family(self, family: str) -> str:
        """The concrete index (or alias, for articles) a family writes to."""
        return self.articles if family == "articles" else f"{self.prefix}-{family}"
