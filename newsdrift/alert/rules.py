"""Alert rules and channels from ``config/alerts.yaml``: pydantic models, loading, query compilation.

A broken rule never takes the others down: ``load_rules`` returns the valid
rules plus one ``RuleProblem`` per rejected rule, naming it and what is wrong.
Only a file that cannot be read at all raises ``ConfigError``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsdrift.errors import ChannelUnavailable, ConfigError
from newsdrift.feeds.catalog import parse_duration
from newsdrift.settings import display_path, load_yaml, validation_problems

RULE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TEXT_FIELDS = ["title", "text"]
# Bumped when the compiled form of a rule changes, so `sync` rewrites every rule once.
RULE_FORMAT_VERSION = 1

Term = Annotated[str, Field(min_length=1, max_length=200)]


def _terms(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        cleaned = [v.strip() if isinstance(v, str) else v for v in value]
        return [v for v in cleaned if v != ""]
    return value


class ArticleMatch(BaseModel):
    """What an article must look like. Keywords and phrases match title or text (English stemming)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[Term] = Field(default_factory=list)
    """Every one of these must appear."""
    any: list[Term] = Field(default_factory=list)
    """At least one of these must appear."""
    none: list[Term] = Field(default_factory=list)
    """None of these may appear."""
    title_any: list[Term] = Field(default_factory=list)
    """At least one of these must appear in the title (a headline names the event, a passing mention does not)."""
    title_none: list[Term] = Field(default_factory=list)
    """None of these may appear in the title."""
    sources: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    min_topic_relevance: float | None = Field(default=None, ge=0, le=1)
    min_novelty: float | None = Field(default=None, ge=0, le=1)
    exclude_near_duplicates: bool = False
    """Duplicates never start an alert; they are only folded into an existing one as copies."""
    include_off_topic: bool = False
    """Articles flagged ``off_topic`` are ignored unless this is true (llamas, the animal)."""
    query: dict[str, Any] | None = None
    """Advanced form: a raw OpenSearch query over the article fields (combined with the rest)."""

    @field_validator("all", "any", "none", "title_any", "title_none", "sources", "languages", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _terms(value)

    @field_validator("query")
    @classmethod
    def _one_query(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) != 1:
            raise ValueError("must be one OpenSearch query object, e.g. {match: {title: llama}}")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ArticleMatch:
        conditions = (self.all, self.any, self.title_any, self.sources, self.languages, self.query)
        thresholds = (self.min_topic_relevance, self.min_novelty)
        if not any(conditions) and all(t is None for t in thresholds):
            raise ValueError(
                "needs at least one condition (all, any, title_any, sources, languages, min_topic_relevance, "
                "min_novelty or query)"
            )
        return self

    def terms(self) -> list[str]:
        """The rule's positive terms, in file order, without repeats."""
        return list(dict.fromkeys([*self.all, *self.any, *self.title_any]))


class RuleBase(BaseModel):
    """Fields every rule has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    channels: list[str] = Field(default_factory=list)
    mode: Literal["instant", "digest"] = "instant"
    every_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    """Digest period; digest alerts are sent together at the end of each period."""
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not RULE_NAME_RE.match(value):
            raise ValueError("must be letters, digits, '-', '_' or '.' (max 100 chars), starting with a letter/digit")
        return value

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _digest_period(self) -> RuleBase:
        if self.mode == "digest" and self.every_minutes is None:
            raise ValueError("mode 'digest' needs every_minutes")
        if self.mode == "instant" and self.every_minutes is not None:
            raise ValueError("every_minutes only applies to mode 'digest'")
        return self

    def rule_hash(self) -> str:
        """Content hash of the definition: `sync` rewrites a rule only when this changes."""
        payload = {"v": RULE_FORMAT_VERSION, **self.model_dump(mode="json")}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


class ArticleRule(RuleBase):
    """Fires once per matching article (copies of one story are folded into one alert)."""

    kind: Literal["article"] = "article"
    match: ArticleMatch

    def query(self) -> dict[str, Any]:
        return article_query(self.match)


class DuplicateBurstRule(RuleBase):
    """Fires when one story (``story_cluster_id``) has at least ``min_copies`` articles within ``within``."""

    kind: Literal["duplicate_burst"]
    min_copies: int = Field(ge=2, le=10_000)
    within: int = Field(default=6 * 3600, description="seconds")
    time_field: Literal["published_at", "fetched_at", "indexed_at"] = "published_at"

    @field_validator("within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if not 60 <= seconds <= 30 * 86400:
            raise ValueError("must be between 1m and 30d")
        return seconds


class FeedHealthRule(RuleBase):
    """Fires when a feed fails N polls in a row, or has not succeeded for K × its poll interval."""

    kind: Literal["feed_health"]
    consecutive_failures: int | None = Field(default=None, ge=1, le=10_000)
    silent_intervals: float | None = Field(default=None, gt=0, le=10_000)
    """K: silent when the last success is older than K × the feed's poll interval."""

    @model_validator(mode="after")
    def _a_condition(self) -> FeedHealthRule:
        if self.consecutive_failures is None and self.silent_intervals is None:
            raise ValueError("needs consecutive_failures or silent_intervals (or both)")
        return self


class DriftRule(RuleBase):
    """Fires once per drift event (``kind: event`` docs in the drift index)."""

    kind: Literal["drift"]
    metrics: list[str] = Field(default_factory=list)
    """Only events of these metrics (vocabulary_shift, frame_shift); all when empty."""
    lookback: int = Field(default=86400, description="seconds")
    """Events older than this are not alerted (so a new rule does not replay history)."""

    @field_validator("lookback", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if not 60 <= seconds <= 365 * 86400:
            raise ValueError("must be between 1m and 365d")
        return seconds


class TaskFailureRule(RuleBase):
    """Fires once per failed Airflow task try (the DAGs' ``on_failure_callback``)."""

    kind: Literal["task_failure"]
    dags: list[str] = Field(default_factory=list)
    """Only failures of these DAG ids; all newsdrift DAGs when empty."""


Rule = ArticleRule | DuplicateBurstRule | FeedHealthRule | DriftRule | TaskFailureRule
RULE_KINDS: dict[str, type[RuleBase]] = {
    "article": ArticleRule,
    "duplicate_burst": DuplicateBurstRule,
    "feed_health": FeedHealthRule,
    "drift": DriftRule,
    "task_failure": TaskFailureRule,
}


def _phrase(term: str) -> dict[str, Any]:
    return {"multi_match": {"query": term, "type": "phrase", "fields": TEXT_FIELDS}}


def _title_phrase(term: str) -> dict[str, Any]:
    return {"match_phrase": {"title": term}}


def article_query(match: ArticleMatch) -> dict[str, Any]:
    """The percolator query of an article rule (parsed by OpenSearch against the article mapping)."""
    must: list[dict[str, Any]] = [_phrase(t) for t in match.all]
    if match.any:
        must.append({"bool": {"should": [_phrase(t) for t in match.any], "minimum_should_match": 1}})
    if match.title_any:
        must.append({"bool": {"should": [_title_phrase(t) for t in match.title_any], "minimum_should_match": 1}})
    if match.query:
        must.append(match.query)
    filters: list[dict[str, Any]] = []
    if match.sources:
        filters.append({"terms": {"source": match.sources}})
    if match.languages:
        filters.append({"terms": {"language": match.languages}})
    if match.min_topic_relevance is not None:
        filters.append({"range": {"topic_relevance": {"gte": match.min_topic_relevance}}})
    if match.min_novelty is not None:
        filters.append({"range": {"novelty": {"gte": match.min_novelty}}})
    must_not = [_phrase(t) for t in match.none] + [_title_phrase(t) for t in match.title_none]
    if not match.include_off_topic:
        must_not.append({"term": {"off_topic": True}})
    body: dict[str, Any] = {}
    if must:
        body["must"] = must
    if filters:
        body["filter"] = filters
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


# --- channels -------------------------------------------------------------------


class ChannelSpec(BaseModel):
    """Where a channel's apprise URL comes from. The URL itself never appears in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    url_file: Path | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _no_inline_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            # Say why without repeating the value: it is a secret.
            raise ValueError(
                "an inline 'url' is not allowed; put the URL in an environment variable (url_env) "
                "or a secrets file (url_file)"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> ChannelSpec:
        if (self.url_env is None) == (self.url_file is None):
            raise ValueError("needs exactly one of url_env or url_file")
        return self


@dataclass(frozen=True)
class Channel:
    """A named delivery channel; ``resolve()`` reads its secret URL when needed (never stored or logged)."""

    name: str
    url_env: str | None = None
    url_file: Path | None = None
    description: str = ""

    @property
    def source(self) -> str:
        """Where the URL comes from, safe to show (the variable or file name, not its content)."""
        return f"${self.url_env}" if self.url_env else f"file {self.url_file}"

    def resolve(self) -> str:
        """The apprise URL; raises ``ChannelUnavailable`` with a message that names only the source."""
        from newsdrift.secrets import register_secret

        if self.url_env:
            url = os.environ.get(self.url_env, "").strip()
            if not url:
                raise ChannelUnavailable(f"channel {self.name!r}: environment variable {self.url_env} is not set")
        else:
            assert self.url_file is not None
            try:
                url = self.url_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ChannelUnavailable(
                    f"channel {self.name!r}: cannot read {self.url_file} ({exc.strerror})"
                ) from None
            if not url:
                raise ChannelUnavailable(f"channel {self.name!r}: {self.url_file} is empty")
        register_secret(url)
        return url


# --- loading ---------------------------------------------------------------------


@dataclass(frozen=True)
class RuleProblem:
    """Why one rule (or channel) was rejected."""

    name: str
    problem: str
    origin: str = "alerts.yaml"
    what: str = "rule"

    def __str__(self) -> str:
        return f"{self.origin}: {self.what} {self.name!r}: {self.problem}"


@dataclass
class RuleSet:
    """The valid rules and channels of a file, and what was rejected."""

    rules: list[Rule] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    rejected: list[RuleProblem] = field(default_factory=list)
    origin: str = "alerts.yaml"

    def __iter__(self):  # a RuleSet can be passed wherever a list of rules is expected
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def of_kind(self, kind: type[RuleBase]) -> list[Any]:
        return [r for r in self.rules if isinstance(r, kind) and r.enabled]


_TOP_LEVEL = {"channels", "defaults", "rules"}
_DEFAULT_KEYS = {"channels", "mode", "every_minutes", "enabled"}


def _describe(exc: ValidationError, secret: bool = False) -> str:
    problems = validation_problems(exc, show_input=not secret)
    return "; ".join(f"{'.'.join(loc)}: {msg}" if loc else msg for loc, msg in problems)


def _parse_channels(raw: Any, origin: str, base_dir: Path | None) -> tuple[dict[str, Channel], list[RuleProblem]]:
    channels: dict[str, Channel] = {}
    problems: list[RuleProblem] = []
    if raw is None:
        return channels, problems
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: channels: expected a mapping of channel names to {{url_env | url_file}}")
    for name, spec in raw.items():
        name = str(name)
        if not CHANNEL_NAME_RE.match(name):
            problems.append(RuleProblem(name, "name must be letters, digits, '-', '_' or '.'", origin, "channel"))
            continue
        try:
            parsed = ChannelSpec.model_validate(spec if spec is not None else {})
        except ValidationError as exc:
            problems.append(RuleProblem(name, _describe(exc, secret=True), origin, "channel"))
            continue
        path = parsed.url_file
        if path is not None and not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        channels[name] = Channel(name, parsed.url_env, path, parsed.description)
    return channels, problems


def parse_rules(data: Any, origin: str = "alerts.yaml", base_dir: Path | None = None) -> RuleSet:
    """Validate the parsed YAML of a rules file. Bad entries become ``rejected``; the rest load."""
    if data is None:
        return RuleSet(origin=origin)
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with 'channels' and 'rules'")
    unknown = sorted(set(map(str, data)) - _TOP_LEVEL)
    if unknown:
        keys = ", ".join(unknown)
        raise ConfigError(f"{origin}: unknown top-level key(s): {keys} (expected channels, defaults, rules)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - _DEFAULT_KEYS:
        raise ConfigError(f"{origin}: defaults: expected a mapping with only {', '.join(sorted(_DEFAULT_KEYS))}")
    entries = data.get("rules") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{origin}: rules: expected a list")

    channels, problems = _parse_channels(data.get("channels"), origin, base_dir)
    bad_channels = {p.name for p in problems}
    result = RuleSet(channels=channels, rejected=problems, origin=origin)
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            result.rejected.append(RuleProblem(f"rules[{index}]", "expected a mapping with name and match", origin))
            continue
        label = str(entry.get("name") or f"rules[{index}]")
        kind = entry.get("kind", "article")
        model = RULE_KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            result.rejected.append(
                RuleProblem(label, f"kind: must be one of {', '.join(RULE_KINDS)} (got {kind!r})", origin)
            )
            continue
        merged = {**defaults, **entry}
        if merged.get("mode", "instant") != "digest" and "every_minutes" not in entry:
            merged.pop("every_minutes", None)  # a default digest period does not apply to instant rules
        try:
            rule = model.model_validate(merged)
        except ValidationError as exc:
            result.rejected.append(RuleProblem(label, _describe(exc), origin))
            continue
        if rule.name in seen:
            result.rejected.append(RuleProblem(label, "duplicate rule name (the first one is kept)", origin))
            continue
        seen.add(rule.name)
        missing = [c for c in rule.channels if c not in channels]
        if missing:
            known = ", ".join(sorted(channels)) or "none"
            details = [
                f"channel {c!r} is rejected (see its message)" if c in bad_channels else f"unknown channel {c!r}"
                for c in missing
            ]
            result.rejected.append(RuleProblem(label, f"channels: {'; '.join(details)} (defined: {known})", origin))
            continue
        result.rules.append(rule)  # type: ignore[arg-type]
    return result


def load_rules(path: Path | str) -> RuleSet:
    """Rules and channels from a YAML file (``settings.alert_rules_path``)."""
    path = Path(path)
    origin = display_path(path)
    data = load_yaml(path, "alert rules")
    return parse_rules(data, origin, path.resolve().parent)
