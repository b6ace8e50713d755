"""Which search engine answers: OpenSearch or Elasticsearch, read from the root endpoint.

newsdrift talks to both through opensearch-py (see the README's Elasticsearch section for why one
client); the few APIs that differ are chosen here by what the server says it is, never by a setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch


@dataclass(frozen=True)
class EngineInfo:
    name: str  # "opensearch" | "elasticsearch"
    version: str
    build_flavor: str | None = None

    @property
    def label(self) -> str:
        return "OpenSearch" if self.name == "opensearch" else "Elasticsearch"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        parts = []
        for piece in self.version.split("-")[0].split("."):
            if not piece.isdigit():
                break
            parts.append(int(piece))
        return tuple(parts)

    @property
    def has_opensearch_pit(self) -> bool:
        """OpenSearch's point-in-time API (``/_search/point_in_time``, 2.4+). Elasticsearch's PIT is another
        API (``/_pit``, 7.10+ with X-Pack only: the OSS 7.10 node has none)."""
        return self.name == "opensearch" and self.version_tuple >= (2, 4)

    def describe(self) -> str:
        return f"{self.label} {self.version}"


def parse_root(root: dict[str, Any]) -> EngineInfo:
    """The engine from ``GET /``: OpenSearch says ``version.distribution: opensearch``; Elasticsearch has
    no distribution field (``build_flavor`` is ``default``, ``oss`` or, for embedded builds, ``unknown``)."""
    version = root.get("version") or {}
    distribution = str(version.get("distribution") or "elasticsearch").lower()
    name = "opensearch" if distribution == "opensearch" else "elasticsearch"
    return EngineInfo(
        name=name, version=str(version.get("number", "unknown")), build_flavor=version.get("build_flavor")
    )


def engine_of(client: OpenSearch) -> EngineInfo:
    """The engine behind ``client`` (one ``GET /`` per client object, remembered on it)."""
    found = getattr(client, "_newsdrift_engine", None)
    if not isinstance(found, EngineInfo):
        found = parse_root(client.info())
        client._newsdrift_engine = found  # type: ignore[attr-defined]
    return found
