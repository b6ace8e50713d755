"""The one settings object: ``NEWSDRIFT_*`` environment variables over an optional file.

Precedence (highest first): environment, the file named by ``NEWSDRIFT_CONFIG``
(YAML or TOML, same keys without the prefix), defaults. Invalid values fail at
start-up with a ``ConfigError`` that names the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newsdrift.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def _default_config_dir() -> Path:
    """The ``config/`` folder of the checkout (or image) this package runs from."""
    return PROJECT_ROOT / "config"


class Settings(BaseSettings):
    """Everything newsdrift can be told; each field maps to ``NEWSDRIFT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSDRIFT_", extra="forbid", validate_default=True)

    config: Path | None = None
    """Optional settings file (YAML or TOML) with the same keys, lower-case, no prefix."""

    home: Path = Field(default_factory=lambda: Path.home() / ".newsdrift")
    """State, data and logs of the embedded OpenSearch node."""

    # --- OpenSearch -------------------------------------------------------
    opensearch_url: str | None = None
    """An existing cluster to use instead of the embedded node (e.g. https://localhost:9200)."""
    opensearch_user: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_certs: bool = True
    """TLS certificate verification; on by default, only switch it off for local test clusters."""
    opensearch_ca_certs: Path | None = None
    opensearch_timeout: float = Field(default=10.0, gt=0)
    opensearch_retries: int = Field(default=3, ge=0, le=10)
    index_prefix: str = "newsdrift"
    """Every index, alias and template name starts with this prefix."""

    # --- embedded node ----------------------------------------------------
    opensearch_port: int = Field(default=9201, ge=1025, le=65000)
    """HTTP port the embedded node asks for (the runner moves up when it is busy)."""
    opensearch_heap: str = "1g"
    opensearch_start_timeout: float = Field(default=120.0, gt=0)
    java_home: Path | None = None
    """JDK 21+ for the embedded node; found under /usr/lib/jvm or JAVA_HOME when unset."""

    # --- files ------------------------------------------------------------
    config_dir: Path = Field(default_factory=_default_config_dir)
    feeds_file: Path | None = None
    """Feed list (YAML); default ``<config_dir>/feeds.yaml``."""
    topic_file: Path | None = None
    frames_file: Path | None = None
    alert_rules_file: Path | None = None
    baseline_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "baseline")
    baseline_id: str = "seed-v1"

    # --- fetching ---------------------------------------------------------
    user_agent: str = "newsdrift/0.1 (+https://github.com/newsdrift/newsdrift; news monitoring)"
    allow_private_networks: bool = False
    """Allow feeds/pages on loopback and private addresses (tests and the offline demo)."""
    allowed_networks: list[str] = Field(default_factory=list)
    """CIDR ranges allowed even when private networks are not (an internal feed proxy, say);
    as an environment variable a JSON list: NEWSDRIFT_ALLOWED_NETWORKS='["10.8.0.0/16"]'."""
    http_timeout: float = Field(default=15.0, gt=0)
    max_feed_bytes: int = Field(default=5_000_000, gt=0)
    max_page_bytes: int = Field(default=5_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    retry_after_cap: float = Field(default=60.0, ge=0)
    feed_retries: int = Field(default=2, ge=0, le=10)
    fetch_concurrency: int = Field(default=8, ge=1, le=256)
    per_host_concurrency: int = Field(default=2, ge=1, le=64)
    per_host_delay: float = Field(default=0.25, ge=0)
    """Minimum seconds between two requests to the same host."""

    sample_port: int = Field(default=8765, ge=1025, le=65000)
    """Port of the offline sample corpus used when no feeds are configured (fixed, so article URLs and
    ids stay the same from one run to the next)."""

    # --- pipeline ---------------------------------------------------------
    min_words: int = Field(default=80, ge=1)
    """Bodies shorter than this are recorded as extraction failures, not indexed."""
    off_topic: Literal["flag", "drop"] = "flag"
    """Off-topic articles are indexed with ``off_topic: true`` (flag) or not indexed (drop)."""
    topic_threshold: float = Field(default=0.2, ge=0, le=1)
    batch_size: int = Field(default=50, ge=1, le=5000)
    """Articles fetched, scored and bulk-indexed together; memory is bounded by one batch."""
    extract_workers: int = Field(default_factory=lambda: max(2, os.cpu_count() or 2), ge=1, le=64)
    """Worker processes (threads for small passes) running trafilatura while pages download."""

    @field_validator("index_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _PREFIX_RE.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (max 41 chars)")
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"{net!r} is not a network in CIDR notation ({exc})") from None
        return value

    @field_validator("opensearch_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must start with http:// or https:// and name a host")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    # --- derived paths ----------------------------------------------------
    def config_path(self, name: str, override: Path | None) -> Path:
        return override if override is not None else self.config_dir / name

    @property
    def feeds_path(self) -> Path:
        return self.config_path("feeds.yaml", self.feeds_file)

    @property
    def topic_path(self) -> Path:
        return self.config_path("topic.yaml", self.topic_file)

    @property
    def frames_path(self) -> Path:
        return self.config_path("frames.yaml", self.frames_file)

    @property
    def alert_rules_path(self) -> Path:
        return self.config_path("alerts.yaml", self.alert_rules_file)


class _FileSource(PydanticBaseSettingsSource):
    """Reads the file named by NEWSDRIFT_CONFIG (or passed as ``config=``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self.current_state.get("config") or os.environ.get("NEWSDRIFT_CONFIG")
        if not path:
            return {}
        return read_settings_file(Path(path))


def read_settings_file(path: Path) -> dict[str, Any]:
    """Parse a YAML or TOML settings file into a dict, with errors naming the file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting names to values")
    return {str(k).lower().removeprefix("newsdrift_"): v for k, v in data.items()}


def describe_validation_error(exc: ValidationError, origin: str = "NEWSDRIFT_") -> str:
    """One line per bad field, naming the field as the user wrote it."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(settings)"
        name = f"{origin}{field.upper()}" if origin == "NEWSDRIFT_" else f"{origin}{field}"
        got = err.get("input")
        shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        lines.append(f"{name}: {err['msg']}{shown}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, raising ``ConfigError`` with field names."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (environment read once)."""
    return load_settings()
