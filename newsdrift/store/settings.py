"""Store section of the settings: where the OpenSearch or Elasticsearch cluster is and how to talk to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


class StoreSettings(BaseModel):
    """The store: an existing cluster (``NEWSDRIFT_STORE_URL``) or the embedded node, and the index names."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    store_url: str | None = None
    """An existing OpenSearch or Elasticsearch cluster (e.g. https://localhost:9200) to use instead of the
    embedded node."""
    store_user: str | None = None
    """Basic-auth user for the cluster."""
    store_password: SecretStr | None = None
    """Basic-auth password for the cluster."""
    store_verify_certs: bool = True
    """TLS certificate verification; only switch it off for local test clusters."""
    store_ca_certs: Path | None = None
    """CA bundle that signed the cluster's certificate (default: the system's)."""
    store_timeout: float = Field(default=10.0, gt=0)
    """Seconds a request to the cluster may take."""
    store_retries: int = Field(default=3, ge=0, le=10)
    """Retries of a request that failed to connect or timed out."""
    store_compress: Literal["auto", "on", "off"] = "auto"
    """gzip request bodies; ``auto``: on, except toward a node on this machine (loopback), where
    compressing costs CPU the node shares and saves nothing (bench/realpages.py)."""
    engine: Literal["opensearch", "elasticsearch"] = "opensearch"
    """Which embedded node (``newsdrift node start --engine``) is used when no store URL is set."""
    index_prefix: str = "newsdrift"
    """Every index, alias and template name starts with this prefix."""

    @field_validator("store_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must start with http:// or https:// and name a host")
        return value.rstrip("/")

    @field_validator("index_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _PREFIX_RE.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (max 41 chars)")
        return value
