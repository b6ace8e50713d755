"""The one settings object: ``NEWSDRIFT_*`` environment variables over an optional file.

Precedence (highest first): environment, the file named by ``NEWSDRIFT_CONFIG``
(YAML or TOML, same keys without the prefix), defaults. Invalid values fail at
start-up with a ``ConfigError`` that names the field.
"""

from __future__ import annotations

import codecs
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from extractors.settings import ExtractSettings
from newsdrift.airflow.settings import AirflowSettings
from newsdrift.errors import ConfigError
from newsdrift.feeds.settings import FeedSettings
from newsdrift.fetch.settings import FetchSettings
from newsdrift.ops.settings import DashboardSettings, NodeSettings
from newsdrift.run.settings import RunSettings
from newsdrift.score.dedup.settings import DedupSettings
from newsdrift.score.drift.settings import DriftSettings
from newsdrift.score.settings import ScoreSettings
from newsdrift.store.settings import StoreSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGED_DATA = Path(__file__).resolve().parent / "_data"  # filled by setup.py when a wheel is built


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


class Settings(
    StoreSettings,
    FetchSettings,
    FeedSettings,
    ExtractSettings,
    ScoreSettings,
    DedupSettings,
    DriftSettings,
    RunSettings,
    AirflowSettings,
    NodeSettings,
    DashboardSettings,
    BaseSettings,
):
    """Everything newsdrift can be told; each field maps to ``NEWSDRIFT_<NAME>``.

    The fields are declared by section (one class per stage, next to the code that reads them); code that
    needs one section takes that class, and this one object satisfies them all.
    """

    model_config = SettingsConfigDict(
        env_prefix="NEWSDRIFT_", extra="forbid", validate_default=True, use_attribute_docstrings=True
    )

    config: Path | None = None
    """Optional settings file (YAML or TOML) with the same keys, lower-case, no prefix."""
    home: Path = Field(default_factory=lambda: Path.home() / ".newsdrift")
    """State, data and logs of the embedded node and of the local Airflow (default ``~/.newsdrift``)."""
    config_dir: Path = Field(default_factory=_default_config_dir)
    """Folder of the configuration files below (default: ``config/`` of the checkout or the installed package)."""
    feeds_file: Path | None = None
    """Feed list (YAML); default ``<config_dir>/feeds.yaml``."""
    topic_file: Path | None = None
    """Topic definition (YAML); default ``<config_dir>/topic.yaml``."""
    frames_file: Path | None = None
    """Frame lexicons drift is measured on (YAML); default ``<config_dir>/frames.yaml``."""
    alert_rules_file: Path | None = None
    """Alert rules (YAML); default ``<config_dir>/alerts.yaml``."""
    baseline_dir: Path = Field(default_factory=lambda: data_dir("baseline"))
    """Seed documents of the default baseline, loaded on first use (default: ``baseline/`` of the checkout
    or the installed package)."""

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
