"""Ops sections of the settings: the embedded store node and OpenSearch Dashboards."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class NodeSettings(BaseModel):
    """The embedded node (``newsdrift node start``), used when no store URL is set."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    opensearch_port: int = Field(default=9201, ge=1024, le=65535)
    """HTTP port the embedded OpenSearch node asks for (the runner moves up when it is busy)."""
    opensearch_heap: str = "1g"
    """Java heap of the embedded node, either engine (-Xms and -Xmx), e.g. ``512m`` or ``2g``."""
    opensearch_start_timeout: float = Field(default=120.0, gt=0)
    """Seconds ``newsdrift node start`` waits for the embedded node (either engine) to become healthy."""
    java_home: Path | None = None
    """JDK 21+ for the embedded OpenSearch node; found under /usr/lib/jvm or JAVA_HOME when unset."""
    elasticsearch_port: int = Field(default=9211, ge=1024, le=65535)
    """HTTP port the embedded Elasticsearch 7.10 node asks for (``newsdrift node start --engine elasticsearch``)."""
    es_java_home: Path | None = None
    """JDK 11-17 for the embedded Elasticsearch 7.10 node; found under /usr/lib/jvm when unset."""


class DashboardSettings(BaseModel):
    """OpenSearch Dashboards, for ``newsdrift dashboards import``."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    dashboards_url: str = "http://127.0.0.1:5601"
    """OpenSearch Dashboards base URL (``--url`` overrides it)."""
    dashboards_user: str | None = None
    """Basic-auth user for the saved-objects import (``--user``)."""
    dashboards_password: SecretStr | None = None
    """Basic-auth password for the saved-objects import (``--password``; prefer this variable)."""
    dashboards_verify_certs: bool = True
    """TLS certificate verification for Dashboards (``--verify/--no-verify``)."""
    dashboards_ca_certs: Path | None = None
    """CA bundle for Dashboards TLS verification (``--ca-certs``)."""
    dashboards_tenant: str | None = None
    """Security-plugin tenant for the import, e.g. ``global`` (``--tenant``; default: the user's default)."""
