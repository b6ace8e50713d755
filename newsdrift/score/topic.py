"""Topic relevance: the weighted-term profile in ``config/topic.yaml`` and its scoring.

Scoring runs in the extraction workers, next to trafilatura; the profile is
compiled once per process. Invalid files raise ``ConfigError`` naming file and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from newsdrift.errors import ConfigError
from newsdrift.settings import display_path, load_yaml, validation_lines

ANCHOR_WEIGHT = 1.5  # an independent term this heavy establishes the AI context


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
    # first word of a key -> the lengths of the keys it starts (case-sensitive terms, folded ones)
    _exact_starts: dict[str, tuple[int, ...]] = PrivateAttr(default_factory=dict)
    _folded_starts: dict[str, tuple[int, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        # Scoring runs on every article: terms are matched as word n-grams of one tokenisation pass
        # instead of one regex scan of the whole text per term.
        for t in [*self.terms, *self.negative]:
            phrases = [t.term, *t.variants]
            self._keys[t.term] = tuple(
                {tuple(w if t.case_sensitive else w.lower() for w in _words(p)) for p in phrases if _words(p)}
            )
            starts = self._exact_starts if t.case_sensitive else self._folded_starts
            for key in self._keys[t.term]:
                starts[key[0]] = tuple(sorted({*starts.get(key[0], ()), len(key)}))
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
        raise ConfigError("\n".join(validation_lines(exc, f"{origin}: "))) from None


_WORD_RE = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


class _Grams:
    """Counts of the word n-grams of a text that can be profile keys, case-folded and as written.

    Only n-grams starting with the first word of some key are counted: counting every n-gram
    of a long article cost about 12 ms, ten times the rest of the scoring.
    """

    def __init__(self, text: str, profile: TopicProfile) -> None:
        words = _words(text)
        lowered = [w.lower() for w in words]
        self.exact: dict[tuple[str, ...], int] = {}
        self.folded: dict[tuple[str, ...], int] = {}
        _count_from(words, profile._exact_starts, self.exact)
        _count_from(lowered, profile._folded_starts, self.folded)

    def count(self, term: TopicTerm, keys: tuple[tuple[str, ...], ...]) -> int:
        table = self.exact if term.case_sensitive else self.folded
        return sum(table.get(k, 0) for k in keys)


def _count_from(words: list[str], starts: dict[str, tuple[int, ...]], table: dict[tuple[str, ...], int]) -> None:
    """Count the n-grams of ``words`` whose first word is in ``starts`` (with the key lengths it begins)."""
    end = len(words)
    for i, word in enumerate(words):
        lengths = starts.get(word)
        if lengths is None:
            continue
        for n in lengths:
            if i + n <= end:
                key = tuple(words[i : i + n])
                table[key] = table.get(key, 0) + 1


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
    in_title = _Grams(title, profile)
    in_text = _Grams(text, profile)

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
