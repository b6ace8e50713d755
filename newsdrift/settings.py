"""The one settings object: ``NEWSDRIFT_*`` environment variables over an optional file.

Precedence (highest first): environment, the file named by ``NEWSDRIFT_CONFIG``
(YAML or TOML, same keys without the prefix), defaults. Invalid values fail at
start-up with a ``ConfigError`` that names the field.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from newsdrift.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_STORE_ALIASES = ("url", "user", "password", "verify_certs", "ca_certs")
PACKAGED_DATA = Path(__file__).resolve().parent / "_data"  # filled by setup.py when a wheel is built
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def data_dir(name: str) -> Path:
    """``mappings``, ``config``, ``dashboards`` or ``baseline``: the checkout's folder when newsdrift runs
    from a checkout (or an image of one), else the copy shipped in the wheel."""
    checkout = PROJECT_ROOT / name
    if (PROJECT_ROOT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    packaged = PACKAGED_DATA / name
    return packaged if packaged.is_dir() else checkout


def _default_config_dir() -> Path:
    """The ``config/`` folder of the checkout (or image) this package runs from, else the packaged one."""
    return data_dir("config")


class Settings(BaseSettings):
    """Everything newsdrift can be told; each field maps to ``NEWSDRIFT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSDRIFT_", extra="forbid", validate_default=True)

    config: Path | None = None
    """Optional settings file (YAML or TOML) with the same keys, lower-case, no prefix."""

    home: Path = Field(default_factory=lambda: Path.home() / ".newsdrift")
    """State, data and logs of the embedded OpenSearch node."""

    # --- the store (OpenSearch or Elasticsearch) ---------------------------
    # NEWSDRIFT_STORE_* are the engine-neutral names; NEWSDRIFT_OPENSEARCH_* (below) are still accepted and
    # name the same settings: setting both to different values is an error, and either fills the other.
    store_url: str | None = None
    """An existing OpenSearch or Elasticsearch cluster to use instead of the embedded node."""
    store_user: str | None = None
    store_password: SecretStr | None = None
    store_verify_certs: bool | None = None
    """TLS certificate verification (default on); same as NEWSDRIFT_OPENSEARCH_VERIFY_CERTS."""
    store_ca_certs: Path | None = None
    engine: Literal["opensearch", "elasticsearch"] = "opensearch"
    """Which embedded node (``newsdrift node start --engine``) is used when no store URL is set."""
    opensearch_url: str | None = None
    """An existing cluster to use instead of the embedded node (e.g. https://localhost:9200)."""
    opensearch_user: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_certs: bool = True
    """TLS certificate verification; on by default, only switch it off for local test clusters."""
    opensearch_ca_certs: Path | None = None
    opensearch_timeout: float = Field(default=10.0, gt=0)
    opensearch_retries: int = Field(default=3, ge=0, le=10)
    opensearch_compress: Literal["auto", "on", "off"] = "auto"
    """gzip request bodies; ``auto``: on, except toward a node on this machine (loopback), where
    compressing costs CPU the node shares and saves nothing (bench/realpages.py)."""
    index_prefix: str = "newsdrift"
    """Every index, alias and template name starts with this prefix."""

    # --- OpenSearch Dashboards (``newsdrift dashboards import``) ------------
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

    # --- embedded node ----------------------------------------------------
    opensearch_port: int = Field(default=9201, ge=1024, le=65535)
    """HTTP port the embedded node asks for (the runner moves up when it is busy)."""
    opensearch_heap: str = "1g"
    opensearch_start_timeout: float = Field(default=120.0, gt=0)
    java_home: Path | None = None
    """JDK 21+ for the embedded node; found under /usr/lib/jvm or JAVA_HOME when unset."""
    elasticsearch_port: int = Field(default=9211, ge=1024, le=65535)
    """HTTP port the embedded Elasticsearch 7.10 node asks for (``newsdrift node start --engine elasticsearch``)."""
    es_java_home: Path | None = None
    """JDK 11-17 for the embedded Elasticsearch 7.10 node; found under /usr/lib/jvm when unset."""

    # --- files ------------------------------------------------------------
    config_dir: Path = Field(default_factory=_default_config_dir)
    feeds_file: Path | None = None
    """Feed list (YAML); default ``<config_dir>/feeds.yaml``."""
    topic_file: Path | None = None
    frames_file: Path | None = None
    alert_rules_file: Path | None = None
    baseline_dir: Path = Field(default_factory=lambda: data_dir("baseline"))
    baseline_id: str = "seed-v1"

    # --- fetching ---------------------------------------------------------
    user_agent: str = "newsdrift/0.1 (+https://github.com/newsdrift/newsdrift; news monitoring)"
    allow_private_networks: bool = False
    """Allow feeds/pages on loopback and private addresses (tests and the offline demo)."""
    allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """CIDR ranges allowed even when private networks are not (an internal feed proxy, say);
    as an environment variable comma-separated (NEWSDRIFT_ALLOWED_NETWORKS=10.8.0.0/16,192.168.5.0/24)
    or a JSON list (NEWSDRIFT_ALLOWED_NETWORKS='["10.8.0.0/16"]')."""
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
    robots_ttl: float = Field(default=6 * 3600, ge=0, le=86400)
    """Seconds a host's robots.txt is reused across passes (kept in OpenSearch; RFC 9309: at most 24 h)."""
    dead_link_retry_days: float = Field(default=1.0, gt=0, le=365)
    """A link that failed for good (404, 410, robots.txt, not HTML, too short) is tried again after this
    many days, doubling with every further failure up to ``dead_link_retry_max_days``."""
    dead_link_retry_max_days: float = Field(default=30.0, gt=0, le=365)
    feed_text_min_words: int = Field(default=20, ge=1)
    """A page that cannot be had (401/403, robots.txt, too short) is indexed from the feed's own content
    (content:encoded, summary) when that has at least this many words, with ``text_source: feed``."""

    poll_adaptive: bool = True
    """Poll each feed as often as it publishes (entries of the last week, RSS ``<ttl>``, Cache-Control
    ``max-age``, Retry-After, backoff on failures) within the bounds below; off: each feed's ``poll_interval``."""
    poll_min_interval: float = Field(default=300.0, gt=0)
    """Seconds: no feed is polled more often than this (adaptive polling)."""
    poll_max_interval: float = Field(default=86400.0, gt=0)
    """Seconds: every feed is polled at least this often (adaptive polling; a Retry-After may ask for longer)."""

    sample_port: int = Field(default=8765, ge=1025, le=65000)
    """Port of the offline sample corpus used when no feeds are configured (fixed, so article URLs and
    ids stay the same from one run to the next)."""
    sample_url: str | None = None
    """A running sample corpus server (e.g. http://127.0.0.1:8765) whose feeds the ingest DAG polls when
    no feed is configured; the DAG's ``sample_base_url`` param defaults to it."""

    # --- pipeline ---------------------------------------------------------
    min_words: int = Field(default=80, ge=1)
    """Bodies shorter than this are recorded as extraction failures, not indexed."""
    extraction_focus: Literal["balanced", "precision", "recall"] = "balanced"
    """trafilatura's trade-off: "balanced" (its defaults, best F1 on real pages), "precision" for
    sites whose teaser or related-story blocks end up in the text, "recall" to keep more."""
    off_topic: Literal["flag", "drop"] = "flag"
    """Off-topic articles are indexed with ``off_topic: true`` (flag) or not indexed (drop)."""
    topic_threshold: float = Field(default=0.2, ge=0, le=1)
    batch_size: int = Field(default=50, ge=1, le=5000)
    """Articles fetched, scored and bulk-indexed together; memory is bounded by one batch."""
    extract_workers: int = Field(default_factory=lambda: max(2, os.cpu_count() or 2), ge=1, le=64)
    """Worker processes (threads for small passes) running trafilatura while pages download."""

    # --- drift events (calibrated change, #13) -------------------------------
    drift_false_alarm_rate: float = Field(default=0.002, gt=0, lt=0.5)
    """Expected false drift events per window over all statistics (the CUSUM, jump and joint limits come from it)."""
    drift_reference_windows: int = Field(default=10, ge=3, le=365)
    """Windows learned as the no-change reference after a baseline is loaded and after every event."""
    drift_cusum_k: float = Field(default=1.5, gt=0, le=5)
    """CUSUM allowance in standard errors per window."""
    drift_jump_share: float = Field(default=0.2, ge=0, le=0.7)
    """Share of the stated rate for the one-window jump rule; 0 turns it off (bursty coverage, where rare
    frames spike on single days, fires it beyond its share: bench/drift_calibration.py)."""

    # --- Airflow ----------------------------------------------------------
    ingest_schedule: str = "*/15 * * * *"
    """Cron schedule of the ``newsdrift_ingest`` DAG (read when the DAG file is parsed); empty: triggered runs only."""
    drift_cron: str = "30 2 * * *"
    """Daily run of the ``newsdrift_drift`` DAG (cron, UTC), besides every new-articles asset event."""
    maintenance_schedule: str = "0 3 * * *"
    """Cron schedule of the ``newsdrift_maintenance`` DAG."""
    rollover_max_age_days: float = Field(default=30.0, ge=0)
    """Maintenance: the articles alias rolls over when its write index is older than this ..."""
    rollover_max_docs: int = Field(default=1_000_000, ge=1)
    """... or holds more documents than this (defaults of the DAG's params)."""
    retention_days: float = Field(default=365.0, ge=0)
    """Maintenance: article indices whose newest document is older than this are deleted (never the write index)."""
    disable_feed_after_days: float = Field(default=7.0, ge=0)
    """Maintenance: feeds failing for at least this long are disabled, with the reason recorded."""
    ingest_shards: int = Field(default=8, ge=1, le=1024)
    """Tasks the ``newsdrift_ingest`` DAG maps per run: due feeds are grouped by host into at most this many
    shards, each polled, fetched, extracted, scored and indexed by one task (1,024 is Airflow's map limit)."""
    airflow_home: Path | None = None
    """AIRFLOW_HOME of the local Airflow (SQLite) that ``scripts/run_ingest_dag.py`` (``make demo``) sets up;
    default ``<home>/airflow``."""

    def __init__(self, **values: Any) -> None:
        # a value passed in code (tests, the Airflow connection) wins over the environment under either name
        for suffix in _STORE_ALIASES:
            neutral, legacy = f"store_{suffix}", f"opensearch_{suffix}"
            if legacy in values and neutral not in values:
                values[neutral] = values[legacy]
            elif neutral in values and legacy not in values:
                values[legacy] = values[neutral]
        super().__init__(**values)

    @field_validator("index_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _PREFIX_RE.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (max 41 chars)")
        return value

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
        import ipaddress

        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"{net!r} is not a network in CIDR notation ({exc})") from None
        return value

    @field_validator("poll_max_interval")
    @classmethod
    def _max_above_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("poll_min_interval")
        if low is not None and value < low:
            raise ValueError(f"must be at least poll_min_interval ({low:g} s), got {value:g} s")
        return value

    @field_validator("opensearch_url", "store_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must start with http:// or https:// and name a host")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _store_aliases(self) -> Settings:
        """NEWSDRIFT_STORE_X and NEWSDRIFT_OPENSEARCH_X are one setting: either fills the other."""
        for suffix in _STORE_ALIASES:
            neutral, legacy = getattr(self, f"store_{suffix}"), getattr(self, f"opensearch_{suffix}")
            if neutral is None:
                object.__setattr__(self, f"store_{suffix}", legacy)
                continue
            same = (
                neutral.get_secret_value() == legacy.get_secret_value()
                if isinstance(neutral, SecretStr) and isinstance(legacy, SecretStr)
                else neutral == legacy
            )
            legacy_default = type(self).model_fields[f"opensearch_{suffix}"].default
            if legacy != legacy_default and not same:
                raise ValueError(
                    f"NEWSDRIFT_STORE_{suffix.upper()} and NEWSDRIFT_OPENSEARCH_{suffix.upper()} name the same "
                    "setting and are set to different values; set only one of them"
                )
            object.__setattr__(self, f"opensearch_{suffix}", neutral)
        return self

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


# --- reading configuration files ---------------------------------------------------


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(path)


def read_config_text(path: Path | str, what: str) -> str:
    """The text of a configuration file; unreadable files and invalid UTF-8 raise ``ConfigError``
    naming the file (and, for bad bytes, the line and column)."""
    path = Path(path)
    origin = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{origin}: cannot read {what} ({exc.strerror or exc})") from None
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{origin}: not valid UTF-8 at line {line}, column {column} (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys (plain YAML silently keeps the last one). libyaml's parser
    when PyYAML has it: a 10,000-feed list parses in ~1 s instead of ~10 s (each ingest shard reads it)."""


def _construct_unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *anchor' merges; explicit keys may override
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    """``at line L, column C: problem (context)`` from a PyYAML error, 1-based like editors."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem is None:
        return str(exc).replace("\n", " ")
    where = ""
    if exc.problem_mark is not None:
        where = f"at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}: "
    context = ""
    if exc.context:
        context = f" ({exc.context}"
        if exc.context_mark is not None:
            context += f" at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        context += ")"
    return f"{where}{exc.problem}{context}"


def load_yaml(path: Path | str, what: str) -> Any:
    """Parse one YAML configuration file: the shared loader of feeds, topic, frames, alert rules
    and settings files. Unreadable files, invalid UTF-8, YAML syntax errors and duplicate keys all
    raise ``ConfigError`` naming the file and, where known, the line."""
    path = Path(path)
    text = read_config_text(path, what)
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        detail = describe_yaml_error(exc)
        sep = " " if detail.startswith("at line") else ": "
        raise ConfigError(f"{display_path(path)}: not valid YAML{sep}{detail}") from None


def read_settings_file(path: Path) -> dict[str, Any]:
    """Parse a YAML or TOML settings file into a dict, with errors naming the file."""
    origin = display_path(path)
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(read_config_text(path, "settings file"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    else:
        data = load_yaml(path, "settings file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of setting names to values")
    return {str(k).lower().removeprefix("newsdrift_"): v for k, v in data.items()}


def validation_problems(exc: ValidationError, *, show_input: bool = True) -> list[tuple[tuple[str, ...], str]]:
    """(field path, message) per problem of a pydantic error: the one reading of validation errors that
    every configuration file (settings, feeds, topic, frames, alert rules) formats its messages from.

    The message ends with ``(got VALUE)`` for a bad scalar unless ``show_input`` is off (secrets).
    """
    problems = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union")))
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if (
            show_input
            and err["type"] != "missing"
            and got is not None
            and not isinstance(got, dict | list)
            and "(got " not in msg
        ):
            msg += f" (got {got!r})"
        problems.append((loc, msg))
    return problems


def validation_lines(
    exc: ValidationError, prefix: str = "", *, show_input: bool = True, whole: str = "(entry)"
) -> list[str]:
    """``PREFIX field.path: message`` per problem (``whole`` names a problem of the entry itself)."""
    return [f"{prefix}{'.'.join(loc) or whole}: {msg}" for loc, msg in validation_problems(exc, show_input=show_input)]


def describe_validation_error(exc: ValidationError, origin: str = "NEWSDRIFT_") -> str:
    """One line per bad field, naming the field as the user wrote it (``NEWSDRIFT_FIELD`` or ``file: field``)."""
    lines = []
    for loc, msg in validation_problems(exc):
        if not loc and origin == "NEWSDRIFT_":  # a check across fields names them in its message
            lines.append(msg)
            continue
        field = ".".join(loc) or "(settings)"
        lines.append(f"{origin}{field.upper() if origin == 'NEWSDRIFT_' else field}: {msg}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, raising ``ConfigError`` with field names."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except SettingsError as exc:  # an environment value pydantic-settings could not even decode
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise ConfigError(f"invalid settings: {exc}{cause}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (environment read once)."""
    return load_settings()
