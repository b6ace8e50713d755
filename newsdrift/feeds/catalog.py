"""The feed list: the ``Feed`` model, its YAML loader and durations.

``config/feeds.yaml`` lists the feeds to poll (the topic profile lives in
``newsdrift.score.topic``). Invalid files raise ``ConfigError``
with one line per problem naming file, entry and field, e.g.
``config/feeds.yaml: feeds[2] (Policy Wire): poll_interval: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsdrift.errors import ConfigError
from newsdrift.records import stable_id
from newsdrift.settings import display_path, load_yaml, validation_lines

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MIN_POLL_INTERVAL = 60
MAX_POLL_INTERVAL = 7 * 86400


def parse_duration(value: Any) -> int:
    """Seconds from an int/float or a string like "15m", "1h30m", "90s", "900"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m' or a number of seconds")
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like '15m' or a number of seconds")
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        return int(text)
    if not text or _DURATION_RE.sub("", text):
        raise ValueError(f"cannot read {value!r} as a duration (use e.g. '90s', '15m', '1h30m', '1d')")
    return int(sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION_RE.findall(text)))


def _format_seconds(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Feed(BaseModel):
    """One feed to poll."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    url: str
    name: str = Field(min_length=1)
    source: str = Field(default="", validation_alias=AliasChoices("source", "outlet"))
    """Outlet name shown on articles; defaults to ``name``."""
    tags: list[str] = Field(default_factory=list)
    poll_interval: int = 900
    """Seconds between polls; YAML accepts "15m", "1h", "90s" or a number of seconds."""
    enabled: bool = True
    ignore_cache: bool = False
    """Never send If-None-Match / If-Modified-Since (for feeds whose validators lie)."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s?#]+", value, re.IGNORECASE):
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("name", "source")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if not MIN_POLL_INTERVAL <= seconds <= MAX_POLL_INTERVAL:
            raise ValueError(
                f"must be between {_format_seconds(MIN_POLL_INTERVAL)} and {_format_seconds(MAX_POLL_INTERVAL)}"
                f" (got {_format_seconds(seconds)})"
            )
        return seconds

    @model_validator(mode="before")
    @classmethod
    def _source_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("source") and not data.get("outlet"):
            data = {**data, "source": data.get("name", "")}
        return data

    @property
    def id(self) -> str:
        """Document id of the feed's state (sha1 of the URL, as in mappings/feeds.json)."""
        return stable_id(self.url)


# --- loading ------------------------------------------------------------------


def parse_feeds(data: Any, origin: str = "feeds.yaml") -> list[Feed]:
    """Validate the parsed YAML of a feeds file; ``origin`` names it in errors."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with a 'feeds' list")
    unknown = sorted(set(data) - {"feeds", "defaults"})
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level key(s): {', '.join(map(str, unknown))}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{origin}: defaults: expected a mapping")
    entries = data.get("feeds") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{origin}: feeds: expected a list")
    feeds: list[Feed] = []
    problems: list[str] = []
    seen_urls: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for index, entry in enumerate(entries):
        label = f"feeds[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{origin}: {label}: expected a mapping with url and name")
            continue
        if entry.get("name"):
            label += f" ({entry['name']})"
        merged = {**defaults, **entry}
        if "tags" in defaults and "tags" in entry:
            merged["tags"] = [*_as_list(defaults["tags"]), *_as_list(entry["tags"])]
        try:
            feed = Feed.model_validate(merged)
        except ValidationError as exc:
            problems.extend(validation_lines(exc, f"{origin}: {label}: "))
            continue
        for key, seen, field in ((feed.url.lower(), seen_urls, "url"), (feed.name.lower(), seen_names, "name")):
            if key in seen:
                problems.append(f"{origin}: {label}: {field}: duplicate of {seen[key]}")
            seen.setdefault(key, label)
        feeds.append(feed)
    if problems:
        raise ConfigError("\n".join(problems))
    return feeds


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value or [])


def load_feeds(path: Path | str) -> list[Feed]:
    """All feeds (enabled or not) from a feeds YAML file."""
    path = Path(path)
    return parse_feeds(load_yaml(path, "feeds file"), display_path(path))


def enabled_feeds(feeds: Iterable[Feed]) -> list[Feed]:
    return [f for f in feeds if f.enabled]
