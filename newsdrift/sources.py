"""Feed list and topic profile: pydantic models, YAML loaders and topic scoring.

``config/feeds.yaml`` lists the feeds to poll; ``config/topic.yaml`` describes
the debate being watched as weighted terms. Invalid files raise ``ConfigError``
with one line per problem naming file, entry and field, e.g.
``config/feeds.yaml: feeds[2] (Policy Wire): poll_interval: ...``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from newsdrift.config import display_path, load_yaml
from newsdrift.errors import ConfigError
from newsdrift.records import stable_id

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MIN_POLL_INTERVAL = 60
ANCHOR_WEIGHT = 1.5  # an independent term this heavy establishes the AI context
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


def _error_lines(exc: ValidationError, prefix: str) -> list[str]:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(entry)"
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(got, dict | list) or "(got " in msg else f" (got {got!r})"
        lines.append(f"{prefix}{field}: {msg}{shown}")
    return lines


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
            problems.extend(_error_lines(exc, f"{origin}: {label}: "))
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


# --- topic profile ------------------------------------------------------------


class TopicTerm(BaseModel):
    """A weighted term; ``variants`` are other spellings that count as the same term."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, le=10)
    variants: list[str] = Field(default_factory=list)
    case_sensitive: bool = False
    """For names that are also common words (Meta, Llama, Grok)."""
    needs_context: bool = False
    """Counts only when one of the profile's ``context`` terms also appears."""


class TopicProfile(BaseModel):
    """What the monitored debate looks like, as weighted terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    terms: list[TopicTerm] = Field(min_length=1)
    negative: list[TopicTerm] = Field(default_factory=list)
    """Terms pointing at other subjects; they lower the score."""
    context: list[str] = Field(default_factory=list)
    """Terms establishing the AI context required by ``needs_context`` terms."""
    title_weight: float = Field(default=2.0, ge=0, le=10)
    """Extra weight of a term found in the title (added to its body score)."""
    saturation: float = Field(default=8.0, gt=0)
    """Raw score giving relevance 1 - 1/e (~0.63); relevance = 1 - exp(-raw / saturation)."""

    _context_re: re.Pattern[str] | None = PrivateAttr(default=None)

    _keys: dict[str, tuple[tuple[str, ...], ...]] = PrivateAttr(default_factory=dict)
    _max_words: int = PrivateAttr(default=1)

    def model_post_init(self, __context: Any) -> None:
        # Scoring runs on every article: terms are matched as word n-grams of one tokenisation pass
        # instead of one regex scan of the whole text per term.
        for t in [*self.terms, *self.negative]:
            phrases = [t.term, *t.variants]
            self._keys[t.term] = tuple(
                {tuple(w if t.case_sensitive else w.lower() for w in _words(p)) for p in phrases if _words(p)}
            )
            self._max_words = max(self._max_words, *(len(k) for k in self._keys[t.term]))
        if self.context:
            self._context_re = _phrases_pattern(self.context, case_sensitive=False)


def _phrase_regex(phrase: str) -> str:
    # "open source" also matches "open-source" and "open\nsource".
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.strip()) if w]
    return r"[\s\-]+".join(words)


def _phrases_pattern(phrases: Iterable[str], *, case_sensitive: bool) -> re.Pattern[str]:
    alternatives = sorted({_phrase_regex(p) for p in phrases if p.strip()}, key=len, reverse=True)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", flags)


def load_topic(path: Path | str) -> TopicProfile:
    """The topic profile from a YAML file."""
    path = Path(path)
    origin = display_path(path)
    data = load_yaml(path, "topic profile")
    if data is None:
        raise ConfigError(f"{origin}: the topic profile is empty (expected a mapping with name and terms)")
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping with name and terms")
    try:
        return TopicProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_error_lines(exc, f"{origin}: "))) from None


_WORD_RE = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


class _Grams:
    """Counts of word n-grams (n <= max_n) of a text, case-folded and as written."""

    def __init__(self, text: str, max_n: int) -> None:
        words = _words(text)
        lowered = [w.lower() for w in words]
        self.exact: dict[tuple[str, ...], int] = {}
        self.folded: dict[tuple[str, ...], int] = {}
        for n in range(1, max_n + 1):
            for i in range(len(words) - n + 1):
                key = tuple(words[i : i + n])
                self.exact[key] = self.exact.get(key, 0) + 1
                key = tuple(lowered[i : i + n])
                self.folded[key] = self.folded.get(key, 0) + 1

    def count(self, term: TopicTerm, keys: tuple[tuple[str, ...], ...]) -> int:
        table = self.exact if term.case_sensitive else self.folded
        return sum(table.get(k, 0) for k in keys)


def _occurrence_score(count: int) -> float:
    # Repetition helps, with diminishing returns: 1, 1.69, 2.10, 2.39, ...
    return 1.0 + math.log(count) if count > 0 else 0.0


def score_topic(title: str, text: str, profile: TopicProfile) -> tuple[float, list[str]]:
    """Relevance of an article to the profile in [0, 1] and the matched terms, strongest first.

    ``needs_context`` terms count when a ``context`` term appears, or when an
    independent term of weight >= ``ANCHOR_WEIGHT`` matched (an article about
    "open models" needs no "AI" to make "Llama" mean the model).
    """
    title = title or ""
    text = text or ""
    in_title = _Grams(title, profile._max_words)
    in_text = _Grams(text, profile._max_words)

    def term_score(term: TopicTerm) -> float:
        keys = profile._keys[term.term]
        title_bonus = profile.title_weight if in_title.count(term, keys) else 0.0
        return term.weight * (_occurrence_score(in_text.count(term, keys)) + title_bonus)

    contributions: dict[str, float] = {}
    deferred: list[tuple[TopicTerm, float]] = []
    for term in profile.terms:
        score = term_score(term)
        if not score:
            continue
        if term.needs_context:
            deferred.append((term, score))
        else:
            contributions[term.term] = contributions.get(term.term, 0.0) + score
    has_context = any(t.weight >= ANCHOR_WEIGHT and not t.needs_context for t, _ in _matched(profile, contributions))
    if not has_context and profile._context_re is not None:
        has_context = bool(profile._context_re.search(title) or profile._context_re.search(text))
    if has_context:
        for term, score in deferred:
            contributions[term.term] = contributions.get(term.term, 0.0) + score
    raw = sum(contributions.values())
    for term in profile.negative:
        raw -= term_score(term)
    relevance = 1.0 - math.exp(-max(raw, 0.0) / profile.saturation)
    matched = sorted(contributions, key=lambda k: (-contributions[k], k))
    return round(relevance, 4), matched


def _matched(profile: TopicProfile, contributions: dict[str, float]) -> list[tuple[TopicTerm, float]]:
    return [(t, contributions[t.term]) for t in profile.terms if t.term in contributions]
