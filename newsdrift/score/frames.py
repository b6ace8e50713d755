"""Narrative frames: weighted lexicons that say which way an article tells the story.

A frame file (``config/frames.yaml``) names frames and gives each a lexicon of
words and phrases with weights. Scoring a text gives ``frame_scores`` (matched
weight per 1000 tokens, every frame present, zeros included) and ``frames``
(the frames whose score reaches the file's threshold, strongest first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from newsdrift.errors import ConfigError, FramesConfigError
from newsdrift.settings import data_dir, display_path, load_yaml, validation_problems

DEFAULT_FRAMES_PATH = data_dir("config") / "frames.yaml"  # the checkout's, else the copy in the wheel

# Letters and digits only: "open-source" -> open, source; "Meta’s" -> meta, s.
_TOKEN_RE = re.compile(r"[^\W_]+")
_FRAME_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MIN_PREFIX = 3  # shorter wildcard stems ("ai*") would match half the dictionary
_CACHE_LIMIT = 200_000


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, the unit both frames and drift count in."""
    return _TOKEN_RE.findall(text.lower())


Word = tuple[str, bool]  # (text, is_prefix)
Pattern = tuple[Word, ...]


def parse_entry(entry: str) -> Pattern:
    """Turn a lexicon entry into word patterns; ``*`` may end any word."""
    words: list[Word] = []
    for chunk in entry.split():
        prefix = chunk.endswith("*")
        stem = chunk[:-1] if prefix else chunk
        if "*" in stem:
            raise ValueError(f"'*' may only end a word, got {entry!r}")
        parts = tokenize(stem)
        if not parts:
            raise ValueError(f"entry {entry!r} has a word without letters or digits")
        words.extend((p, False) for p in parts[:-1])
        if prefix and len(parts[-1]) < _MIN_PREFIX:
            raise ValueError(f"wildcard stem {parts[-1]!r} in {entry!r} is shorter than {_MIN_PREFIX}")
        words.append((parts[-1], prefix))
    if not words:
        raise ValueError("entry is empty")
    return tuple(words)


def _check_entry(entry: str) -> str:
    parse_entry(entry)
    return entry


Entry = Annotated[str, AfterValidator(_check_entry)]


class FrameModel(BaseModel):
    """One frame as written in the file."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    terms: dict[Entry, Annotated[float, Field(gt=0, le=10)]] = Field(min_length=1)


def _check_frame_name(name: str) -> str:
    if not _FRAME_NAME_RE.match(name):
        raise ValueError("frame names are snake_case: lower-case letters, digits and '_'")
    return name


class FramesFile(BaseModel):
    """The whole frames file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    threshold: float = Field(gt=0, description="Score (weight per 1000 tokens) a frame needs to be listed.")
    frames: dict[Annotated[str, AfterValidator(_check_frame_name)], FrameModel] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class _Compiled:
    pattern: Pattern
    frames: tuple[tuple[str, float], ...]
    rank: tuple[int, int]  # longer phrase first, then exact words and longer stems


class FrameSet:
    """Compiled frames: matches lexicon phrases on tokens, longest phrase wins."""

    def __init__(self, spec: FramesFile, source: str = "<memory>") -> None:
        self.spec = spec
        self.source = source
        self.names: tuple[str, ...] = tuple(spec.frames)
        self.threshold = spec.threshold
        by_pattern: dict[Pattern, dict[str, float]] = {}
        for name, frame in spec.frames.items():
            for entry, weight in frame.terms.items():
                slot = by_pattern.setdefault(parse_entry(entry), {})
                slot[name] = max(weight, slot.get(name, 0.0))
        self._exact: dict[str, list[_Compiled]] = {}
        self._prefix: dict[str, list[_Compiled]] = {}
        for pattern, frames in by_pattern.items():
            rank = (len(pattern), sum(len(w) + (100 if not p else 0) for w, p in pattern))
            compiled = _Compiled(pattern, tuple(sorted(frames.items())), rank)
            first, is_prefix = pattern[0]
            (self._prefix if is_prefix else self._exact).setdefault(first, []).append(compiled)
        self._cache: dict[str, tuple[_Compiled, ...]] = {}

    def _candidates(self, token: str) -> tuple[_Compiled, ...]:
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        found = list(self._exact.get(token, ()))
        for end in range(_MIN_PREFIX, len(token) + 1):
            found.extend(self._prefix.get(token[:end], ()))
        found.sort(key=lambda c: c.rank, reverse=True)
        result = tuple(found)
        if len(self._cache) >= _CACHE_LIMIT:  # bounded: news vocabulary keeps growing
            self._cache.clear()
        self._cache[token] = result
        return result

    def weights(self, tokens: Sequence[str]) -> dict[str, float]:
        """Matched weight per frame (not normalised); each token counts once."""
        totals = dict.fromkeys(self.names, 0.0)
        i, n = 0, len(tokens)
        while i < n:
            step = 1
            for cand in self._candidates(tokens[i]):
                size = len(cand.pattern)
                if i + size > n or not all(
                    tokens[i + k].startswith(w) if p else tokens[i + k] == w
                    for k, (w, p) in enumerate(cand.pattern[1:], start=1)
                ):
                    continue
                for name, weight in cand.frames:
                    totals[name] += weight
                step = size
                break
            i += step
        return totals

    def score_tokens(self, tokens: Sequence[str]) -> tuple[list[str], dict[str, float]]:
        """(frames at or above threshold, strongest first; per-frame weight per 1000 tokens)."""
        raw = self.weights(tokens)
        per_k = 1000.0 / len(tokens) if tokens else 0.0
        scores = {name: round(value * per_k, 4) for name, value in raw.items()}
        present = sorted(
            (name for name, value in scores.items() if value >= self.threshold and value > 0),
            key=lambda name: (-scores[name], name),
        )
        return present, scores

    def score(self, text: str) -> tuple[list[str], dict[str, float]]:
        """Score a text; see :meth:`score_tokens`."""
        return self.score_tokens(tokenize(text))

    def shares(self, frame_scores: Iterable[Mapping[str, float]]) -> dict[str, float]:
        """Share of total frame weight per frame, summed over articles (each article's
        scores are per 1000 tokens, so every article weighs the same whatever its length)."""
        totals = dict.fromkeys(self.names, 0.0)
        for scores in frame_scores:
            for name in self.names:
                totals[name] += float(scores.get(name, 0.0) or 0.0)
        return normalise(totals)

    def profile(self, texts: Iterable[str]) -> dict[str, float]:
        """Frame shares of a corpus, e.g. the baseline's seed documents."""
        return self.shares(self.score(t)[1] for t in texts)


def normalise(totals: Mapping[str, float]) -> dict[str, float]:
    """Divide by the sum; all zeros stay zeros."""
    whole = sum(totals.values())
    return {k: (v / whole if whole > 0 else 0.0) for k, v in totals.items()}


def _describe(source: str, loc: tuple[str, ...], msg: str) -> str:
    parts = [str(part) for part in loc]
    is_key = bool(parts) and parts[-1] == "[key]"  # pydantic's marker for a bad dict key
    if is_key:
        parts.pop()
    if len(parts) >= 2 and parts[0] == "frames":
        field = ".".join(parts[2:]) or "name"
        where = f"frame {parts[1]!r}, field {field!r}"
    else:
        where = f"field {'.'.join(parts) or '(top level)'!r}"
    return f"{source}: {where}{' (key)' if is_key else ''}: {msg}"


def frames_from_mapping(data: Any, source: str = "<memory>") -> FrameSet:
    """Validate an already-parsed mapping; errors name source, frame and field."""
    try:
        return FrameSet(FramesFile.model_validate(data), source)
    except ValidationError as exc:
        lines = [_describe(source, loc, msg) for loc, msg in validation_problems(exc, show_input=False)]
        raise FramesConfigError("\n".join(lines)) from None


def load_frames(path: str | Path = DEFAULT_FRAMES_PATH) -> FrameSet:
    """Load and validate a frames file (shared YAML loader: duplicate keys and bad UTF-8 are errors)."""
    path = Path(path)
    origin = display_path(path)
    try:
        data = load_yaml(path, "frames file")
    except ConfigError as exc:
        raise FramesConfigError(str(exc)) from None
    if data is None:
        raise FramesConfigError(f"{origin}: the frames file is empty (expected threshold and frames)")
    if not isinstance(data, dict):
        raise FramesConfigError(f"{origin}: expected a mapping with threshold and frames, got a {type(data).__name__}")
    return frames_from_mapping(data, origin)
