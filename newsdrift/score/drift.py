"""Narrative drift against a named baseline: article scores, windows, events and their storage.

Four layers, each usable alone:

* ``DriftScorer`` scores one article against the baseline corpus (TF-IDF cosine
  similarity, novelty, frames). Pure Python on small dicts: well under 5 ms.
* ``compute_windows`` turns (published_at, text, frame_scores) items into
  tumbling-window records: Jensen–Shannon divergence, frame shares vs the
  baseline profile, emerging terms (G² keyness + log ratio), centroid shift.
* ``detect_events`` runs a hysteresis state machine over a window series and
  gives drift events with deterministic ids and a readable explanation.
* ``DriftStore`` (in ``drift_store.py``) recomputes only the windows touched by new articles, reading
  them from the articles alias page by page, and writes window/frame/term/event
  docs with deterministic ids so a re-run overwrites and never duplicates.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from newsdrift.clock import as_utc as utc
from newsdrift.clock import iso
from newsdrift.records import ScoredArticle, stable_id
from newsdrift.score.change import FRAME, JOINT, JUMP, VOCABULARY, Alarm, Trace, detect_changes, normal_confidence
from newsdrift.score.frames import FrameSet, normalise, tokenize

_STOP_FILE = Path(__file__).with_name("stopwords.txt")
ENGLISH_STOP_WORDS = frozenset(
    line.strip() for line in _STOP_FILE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
)
# News boilerplate and tokenizer debris ("Meta’s" -> "s") on top of the English list.
STOP_WORDS: frozenset[str] = ENGLISH_STOP_WORDS | {
    "said",
    "says",
    "say",
    "saying",
    "told",
    "tells",
    "according",
    "also",
    "just",
    "like",
    "don",
    "doesn",
    "didn",
    "isn",
    "wasn",
    "won",
    "ll",
    "ve",
    "re",
    "mr",
    "ms",
}
METRICS: tuple[str, ...] = ("vocabulary_shift", "frame_shift")
"""Event metrics: a change in the mean article similarity to the baseline, a change in one frame's share."""
_ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weekly windows start on Mondays
_WINDOW_RE = re.compile(r"^(\d+)([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def content_terms(tokens: Iterable[str]) -> list[str]:
    """Tokens that carry meaning: no stop words, no bare numbers, no single letters."""
    return [t for t in tokens if len(t) > 1 and t not in STOP_WORDS and not t.isdigit()]


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two L2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    return sum(w * get(t, 0.0) for t, w in a.items())


def _l2(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()} if norm > 0 else {}


# --------------------------------------------------------------------------- config


class DriftConfig(BaseModel):
    """Drift thresholds and window settings; defaults come from bench/drift_quality.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: tuple[str, ...] = ("1d", "7d")
    """Tumbling window sizes: <n>h, <n>d or <n>w; weeks start on Monday 00:00 UTC."""
    false_alarm_rate: float = Field(default=0.002, gt=0, lt=0.5)
    """Expected false events per window, all statistics and both directions together (the CUSUM limit
    is solved from it: 0.002 is one false event in 500 windows of stable coverage, if the reference holds)."""
    cusum_k: float = Field(default=1.5, gt=0, le=5)
    """CUSUM allowance in standard errors, sized for abrupt shifts: a shift of about 3 standard errors fires
    within two windows (changes smaller than about k per window are left to ``gradual_k``)."""
    reference_windows: int = Field(default=10, ge=3, le=365)
    """Windows learned as the no-change reference after a baseline is loaded and after every event ..."""
    reference_articles: int = Field(default=10, ge=1)
    """... and at least this many articles in them (sparse streams learn over more windows)."""
    reference_lag: int = Field(default=2, ge=0, le=365)
    """While nothing fires, a watched window joins the reference this many windows later (self-starting;
    the lag keeps the start of a slow change out of the reference it is measured against) ..."""
    reference_max_windows: int = Field(default=56, ge=3, le=3650)
    """... until the reference holds this many windows; then the oldest leaves (a rolling reference)."""
    gradual_k: float | None = Field(default=0.75, gt=0, le=5)
    """Allowance of a second CUSUM for slow changes (small steps that ``cusum_k`` lets go add up here);
    None: one CUSUM only. The CUSUMs share the CUSUM part of the false-alarm rate."""
    jump_share: float = Field(default=0.2, ge=0, lt=1)
    """Share of the false-alarm rate given to the one-window jump rule (a window whose |z| alone passes its
    limit fires at once); the rest goes to the CUSUM. 0 turns the jump rule off: on bursty coverage (rare
    frames near 0 on most days, far above on a few) it fires beyond its share (bench/drift_calibration.py)."""
    joint_share: float = Field(default=0.3, ge=0, lt=1)
    """Share of the false-alarm rate given to the joint rules, one per span (the summed squared scores of all
    watched statistics over each span of ``joint_windows``, against limits that allow for their correlation):
    several frames moving a little together fire sooner than any one of them alone. 0 turns them off."""
    joint_windows: tuple[int, ...] = (1, 2, 3, 5)
    """Spans (in windows) of the joint rules; they split ``joint_share`` evenly."""
    min_overdispersion: float = Field(default=1.25, ge=1, le=100)
    """Floor of a window's variance as a multiple of its article-sampling variance: news days differ more
    than article sampling explains, and a few reference windows can hide that by chance."""
    max_step: float = Field(default=3.5, gt=0, le=100)
    """A window's standardised value is clipped to +-max_step (a robust CUSUM: one odd day cannot fire alone)."""
    min_article_var: float = Field(default=0.002, ge=0, le=1)
    """Floor of a statistic's per-article variance (a frame unseen in the reference must not give z = inf)."""
    bootstrap: int = Field(default=200, ge=20, le=5000)
    """Bootstrap resamples of a window's articles for the per-article variance of its frame shares."""
    min_articles: int = Field(default=5, ge=1)
    """A window with fewer articles cannot fire an event on its own (its CUSUM step is capped below the limit)."""
    js_smoothing: float = Field(default=0.1, gt=0)
    """Additive smoothing per term for the JS divergence distributions (damps one-off words)."""
    top_terms: int = Field(default=20, ge=0)
    """Emerging terms kept per window."""
    min_term_freq: int = Field(default=5, ge=1)
    """An emerging term occurs at least this often in the window ..."""
    min_term_docs: int = Field(default=2, ge=1)
    """... in at least this many articles ..."""
    min_keyness: float = Field(default=3.84, ge=0)
    """... with G² at least this (3.84 = p < 0.05; a small baseline gives G² little power) ..."""
    min_log_ratio: float = Field(default=1.0, gt=0)
    """... and at least 2**min_log_ratio times its relative frequency in the baseline."""
    examples_per_window: int = Field(default=3, ge=0)
    """Most novel articles remembered per window, for event explanations."""
    explain_lookback: int = Field(default=7, ge=0)
    """Event explanations prefer terms not already emerging in this many windows before the run."""

    @field_validator("windows")
    @classmethod
    def _windows_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            WindowSpec.parse(name)
        return value

    @field_validator("joint_windows")
    @classmethod
    def _spans_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(span < 1 or span > 60 for span in value):
            raise ValueError(f"joint_windows are spans of 1 to 60 windows, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _shares_fit(self) -> DriftConfig:
        if self.jump_share + self.joint_share >= 1:
            raise ValueError(
                f"jump_share ({self.jump_share}) + joint_share ({self.joint_share}) must stay below 1: "
                "the CUSUMs need a part of the false-alarm rate"
            )
        return self


# --------------------------------------------------------------------------- articles


class ArticleDrift(NamedTuple):
    """Per-article drift scores, in the order ScoredArticle stores them."""

    similarity: float
    novelty: float
    frames: list[str]
    frame_scores: dict[str, float]


@dataclass(slots=True)
class Analysis:
    """Everything the window layer needs from one article, computed in one pass."""

    terms: Counter[str]
    vector: dict[str, float]  # L2-normalised TF-IDF
    drift: ArticleDrift


class DriftScorer:
    """Scores articles against a baseline corpus.

    Vectors are sublinear TF-IDF (1 + ln tf) over content terms, with IDF from
    the baseline's paragraphs (two seed documents are too few for IDF; their
    paragraphs give graded weights: words the baseline repeats everywhere count
    less, words it never uses count most). The vocabulary is open: unseen words
    get the largest IDF, so an article's norm includes everything it says.

    * ``similarity`` is the cosine to the baseline centroid (mean of the
      normalised baseline document vectors).
    * ``novelty`` is 1 − the largest cosine to any baseline document or, when
      ``recent_size`` > 0, to any of the last ``recent_size`` articles this
      scorer has seen. With the default ``recent_size=0`` it depends on the text
      alone, so recomputing it gives the same value.

    With ``recent_size=0`` the terms and scores of the last ``MEMO_SIZE`` texts scored are remembered:
    a pass scores its articles, then the window update reads them back and would analyse them again (#13).
    """

    MEMO_SIZE = 1024  # about 25 KB each (terms, scores and the text as key)

    def __init__(
        self,
        baseline_texts: Sequence[str],
        frames: FrameSet,
        *,
        baseline_id: str = "baseline",
        recent_size: int = 0,
    ) -> None:
        if not baseline_texts or not any(t.strip() for t in baseline_texts):
            raise ValueError("a baseline needs at least one non-empty document")
        self.baseline_id = baseline_id
        self.frames = frames
        units = [
            set(terms)
            for text in baseline_texts
            for para in text.splitlines()
            if len(terms := content_terms(tokenize(para))) >= 3
        ] or [set(content_terms(tokenize(t))) for t in baseline_texts]
        df = Counter(t for unit in units for t in unit)
        n = len(units)
        self._idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self._idf_unseen = math.log(1 + n) + 1.0
        self.baseline_counts: Counter[str] = Counter()
        self._doc_vectors: list[dict[str, float]] = []
        frame_scores: list[dict[str, float]] = []
        for text in baseline_texts:
            analysis = self._analyse(text, with_similarity=False)
            self.baseline_counts.update(analysis.terms)
            self._doc_vectors.append(analysis.vector)
            frame_scores.append(analysis.drift.frame_scores)
        summed: Counter[str] = Counter()
        for vec in self._doc_vectors:
            summed.update(vec)
        self.centroid: dict[str, float] = _l2(dict(summed))
        self.baseline_shares: dict[str, float] = frames.shares(frame_scores)
        self._recent: deque[dict[str, float]] = deque(maxlen=max(recent_size, 1))
        self._remember = recent_size > 0
        self._memo: dict[str, tuple[Counter[str], ArticleDrift]] = {}  # text -> (terms, scores), oldest first

    @classmethod
    def from_directory(
        cls, path: str | Path, frames: FrameSet, *, baseline_id: str, pattern: str = "*.txt", recent_size: int = 0
    ) -> DriftScorer:
        """A scorer over the text files of a directory (e.g. ``baseline/``), read in name order."""
        texts = [p.read_text(encoding="utf-8") for p in sorted(Path(path).glob(pattern))]
        return cls(texts, frames, baseline_id=baseline_id, recent_size=recent_size)

    def vector(self, terms: Mapping[str, int]) -> dict[str, float]:
        """L2-normalised TF-IDF vector of term counts."""
        idf, unseen = self._idf, self._idf_unseen
        return _l2({t: (1.0 + math.log(c)) * idf.get(t, unseen) for t, c in terms.items()})

    def _analyse(self, text: str, *, with_similarity: bool = True, remember: bool = True) -> Analysis:
        memo = with_similarity and not self._remember  # the result depends on the text alone
        if memo and (known := self._memo.get(text)) is not None:
            terms, drift = known
            return Analysis(terms, self.vector(terms), drift)  # the vector is cheap to redo, and large
        analysis = self._analyse_text(text, with_similarity=with_similarity, remember=remember)
        if memo and remember:  # scored articles only: the window update's reads would crowd them out
            while len(self._memo) >= self.MEMO_SIZE:
                del self._memo[next(iter(self._memo))]
            self._memo[text] = (analysis.terms, analysis.drift)
        return analysis

    @property
    def text_only(self) -> bool:
        """Whether a text's analysis depends on the text alone (no recent-article memory)."""
        return not self._remember

    def forget(self) -> None:
        """Drop the remembered analyses (the pipeline's drift stage does at the end of each pass)."""
        self._memo.clear()

    def _analyse_text(self, text: str, *, with_similarity: bool, remember: bool) -> Analysis:
        tokens = tokenize(text)
        terms = Counter(content_terms(tokens))
        vec = self.vector(terms)
        frames, frame_scores = self.frames.score_tokens(tokens)
        if not with_similarity:
            return Analysis(terms, vec, ArticleDrift(0.0, 0.0, frames, frame_scores))
        similarity = _cosine(vec, self.centroid) if vec else 0.0
        nearest = max((_cosine(vec, d) for d in self._doc_vectors), default=0.0)
        if self._remember and remember and vec:
            nearest = max(nearest, max((_cosine(vec, r) for r in self._recent), default=0.0))
            self._recent.append(vec)
        drift = ArticleDrift(round(similarity, 6), round(1.0 - nearest, 6), frames, frame_scores)
        return Analysis(terms, vec, drift)

    def analyse(self, text: str, *, remember: bool = True) -> Analysis:
        """Terms, vector and scores of one text; ``remember=False`` leaves the recent memory alone."""
        return self._analyse(text, remember=remember)

    def score(self, text: str) -> ArticleDrift:
        """(baseline_similarity, novelty, frames, frame_scores) of one text."""
        return self._analyse(text).drift

    def score_batch(self, texts: Iterable[str]) -> list[ArticleDrift]:
        """Scores in input order (with recent memory, earlier texts count as recent for later ones)."""
        return [self._analyse(t).drift for t in texts]

    def apply(self, scored: ScoredArticle) -> ScoredArticle:
        """Fill the drift fields of a ScoredArticle in place and return it."""
        self.analyse_into(scored)
        return scored

    def analyse_into(self, scored: ScoredArticle, analysis: Analysis | None = None) -> Analysis:
        """Fill the drift fields of a ScoredArticle in place (from ``analysis`` when one was made already, as
        an extraction worker does); return the whole analysis (windows reuse it)."""
        analysis = analysis or self._analyse(scored.article.text)
        drift = analysis.drift
        scored.baseline_id = self.baseline_id
        scored.baseline_similarity = drift.similarity
        scored.novelty = drift.novelty
        scored.frames = drift.frames
        scored.frame_scores = drift.frame_scores
        return analysis


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A tumbling window size such as "1d" or "7d"."""

    name: str
    size: timedelta

    @classmethod
    def parse(cls, name: str) -> WindowSpec:
        match = _WINDOW_RE.match(name)
        if not match or int(match.group(1)) == 0:
            raise ValueError(f"window size must look like 12h, 1d, 7d or 1w, got {name!r}")
        return cls(name, int(match.group(1)) * _UNIT[match.group(2)])

    def start_of(self, when: datetime | str) -> datetime:
        """Start of the window containing ``when``."""
        offset = (utc(when) - _ANCHOR) // self.size
        return _ANCHOR + offset * self.size

    def end_of(self, start: datetime) -> datetime:
        return utc(start) + self.size


@dataclass(slots=True)
class WindowArticle:
    """One article as the window layer sees it."""

    published_at: datetime
    text: str
    frame_scores: Mapping[str, float] | None = None
    article_id: str = ""
    title: str = ""

    @classmethod
    def coerce(cls, item: WindowArticle | Sequence[Any] | Mapping[str, Any]) -> WindowArticle:
        """Accept a WindowArticle, a (published_at, text, frame_scores[, id, title]) tuple or a source doc."""
        if isinstance(item, WindowArticle):
            return item
        if isinstance(item, Mapping):
            return cls(
                utc(item["published_at"]),
                item.get("text") or "",
                item.get("frame_scores"),
                item.get("article_id") or "",
                item.get("title") or "",
            )
        published, text, *rest = item
        return cls(utc(published), text or "", *rest)


@dataclass(frozen=True, slots=True)
class EmergingTerm:
    """A term over-represented in a window relative to the baseline."""

    term: str
    count: int
    baseline_count: int
    keyness: float  # G² log-likelihood
    log_ratio: float  # log2 of the relative-frequency ratio (Hardie), 0.5 for a zero count
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "count": self.count,
            "baseline_count": self.baseline_count,
            "keyness": self.keyness,
            "log_ratio": self.log_ratio,
            "rank": self.rank,
        }


@dataclass(slots=True)
class WindowRecord:
    """Drift metrics of one window against one baseline."""

    baseline_id: str
    window: str
    window_start: datetime
    window_end: datetime
    article_count: int
    js_divergence: float
    centroid_shift: float
    mean_baseline_similarity: float
    mean_novelty: float
    frame_shares: dict[str, float]
    baseline_shares: dict[str, float]
    emerging_terms: list[EmergingTerm] = field(default_factory=list)
    example_article_ids: list[str] = field(default_factory=list)  # most novel first
    example_titles: dict[str, str] = field(default_factory=dict)
    frame_profile: dict[str, float] = field(default_factory=dict)
    """Mean per-article frame share over the articles that carry a frame (what frame events watch)."""
    frame_var: dict[str, float] = field(default_factory=dict)
    """Per-article variance of sqrt(frame_profile) (bootstrap over the window's framed articles, times n);
    change.observations carries it to the arcsine-square-root scale events watch."""
    framed_articles: int = 0
    """Articles in the window with any frame weight."""
    similarity_var: float = 0.0
    """Per-article (sample) variance of the baseline similarity."""

    def share_delta(self, frame: str) -> float:
        return self.frame_shares.get(frame, 0.0) - self.baseline_shares.get(frame, 0.0)

    @property
    def frame_shift(self) -> float:
        """Total variation distance between window and baseline frame shares (0..1)."""
        frames = set(self.frame_shares) | set(self.baseline_shares)
        return round(0.5 * sum(abs(self.share_delta(f)) for f in frames), 6)

    def metric(self, name: str) -> float:
        return float(getattr(self, name))


def js_divergence(window: Mapping[str, int], baseline: Mapping[str, int], alpha: float = 0.01) -> float:
    """Jensen–Shannon divergence in bits (0..1) of two term-count maps, add-alpha smoothed."""
    vocab = list(window.keys() | baseline.keys())
    if not vocab:
        return 0.0
    p = np.fromiter((window.get(t, 0) for t in vocab), dtype=float, count=len(vocab)) + alpha
    q = np.fromiter((baseline.get(t, 0) for t in vocab), dtype=float, count=len(vocab)) + alpha
    p /= p.sum()
    q /= q.sum()
    m = 0.5 * (p + q)
    return float(max(0.0, 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))))


def keyness(count: int, total: int, base_count: int, base_total: int) -> tuple[float, float]:
    """(G² log-likelihood, log2 ratio) of a term in a target corpus vs a reference corpus."""
    both = count + base_count
    expected = total * both / (total + base_total)
    base_expected = base_total * both / (total + base_total)
    g2 = 0.0
    if count:
        g2 += count * math.log(count / expected)
    if base_count:
        g2 += base_count * math.log(base_count / base_expected)
    ratio = ((count or 0.5) / total) / ((base_count or 0.5) / base_total)
    return 2.0 * g2, math.log2(ratio)


class WindowAccumulator:
    """Streams one window's articles into running sums; ``finish`` gives the record."""

    def __init__(self, scorer: DriftScorer, spec: WindowSpec, start: datetime, config: DriftConfig) -> None:
        self.scorer, self.spec, self.config = scorer, spec, config
        self.start = utc(start)
        self.counts: Counter[str] = Counter()
        self.doc_freq: Counter[str] = Counter()
        self.centroid: Counter[str] = Counter()
        self.frame_totals: dict[str, float] = dict.fromkeys(scorer.frames.names, 0.0)
        self.similarity_sum = 0.0
        self.novelty_sum = 0.0
        self.count = 0
        self._examples: list[tuple[float, str, str]] = []  # min-heap of (novelty, id, title)
        self._frame_rows: list[list[float]] = []  # per-article frame scores, for the bootstrap
        self._similarities: list[float] = []
        self._row_keys: list[tuple[datetime, str]] = []  # (published_at, id) of each row

    def add(self, item: WindowArticle | Sequence[Any] | Mapping[str, Any]) -> None:
        article = WindowArticle.coerce(item)
        # remember=False: a window's numbers must not depend on what was scored before it.
        self.add_analysed(article, self.scorer.analyse(article.text, remember=False))

    def add_analysed(self, article: WindowArticle, analysis: Analysis) -> None:
        """Like ``add`` with the analysis already done (one analysis serves every window size)."""
        self.counts.update(analysis.terms)
        self.doc_freq.update(analysis.terms.keys())
        self.centroid.update(analysis.vector)
        # Stored frame scores are what the article was indexed with; recompute only if absent.
        scores = article.frame_scores or analysis.drift.frame_scores
        row = [float(scores.get(name, 0.0) or 0.0) for name in self.frame_totals]
        for name, value in zip(self.frame_totals, row, strict=True):
            self.frame_totals[name] += value
        self._frame_rows.append(row)
        self._similarities.append(analysis.drift.similarity)
        self._row_keys.append((article.published_at, article.article_id))
        self.similarity_sum += analysis.drift.similarity
        self.novelty_sum += analysis.drift.novelty
        self.count += 1
        if self.config.examples_per_window and article.article_id:
            entry = (analysis.drift.novelty, article.article_id, article.title)
            if len(self._examples) < self.config.examples_per_window:
                heapq.heappush(self._examples, entry)
            else:
                heapq.heappushpop(self._examples, entry)

    def order_rows(self) -> None:
        """Put the per-article rows in the order a read of the window gives (published, then id): the
        bootstrap resamples rows by position, so a window filled in another order gets the same record."""
        order = sorted(range(len(self._row_keys)), key=self._row_keys.__getitem__)
        self._frame_rows = [self._frame_rows[i] for i in order]
        self._similarities = [self._similarities[i] for i in order]
        self._row_keys = [self._row_keys[i] for i in order]

    def emerging_terms(self) -> list[EmergingTerm]:
        cfg = self.config
        total, base = self.counts.total(), self.scorer.baseline_counts
        base_total = base.total()
        found: list[tuple[float, str, int, int, float]] = []
        for term, count in self.counts.items():
            if count < cfg.min_term_freq or self.doc_freq[term] < cfg.min_term_docs:
                continue
            g2, ratio = keyness(count, total, base.get(term, 0), base_total)
            if ratio >= cfg.min_log_ratio and g2 >= cfg.min_keyness:
                found.append((g2, term, count, base.get(term, 0), ratio))
        found.sort(key=lambda f: (-f[0], f[1]))
        return [
            EmergingTerm(term, count, b, round(g2, 4), round(ratio, 4), rank)
            for rank, (g2, term, count, b, ratio) in enumerate(found[: cfg.top_terms], start=1)
        ]

    def frame_profile(self) -> tuple[dict[str, float], dict[str, float], int]:
        """(mean per-article frame share, per-article variance of its square root, framed articles).

        What events watch: each article's frame weights normalised to shares, averaged over the articles
        that carry any frame, so one article dense in one frame's phrases weighs no more than another
        (the level ``frame_shares`` is a ratio of sums, where it can weigh far more). The variance is
        n times the variance of sqrt(mean) over bootstrap resamples of the window's framed articles (the
        square root tames the long right tail of rare frames). Seeded by the window start, so a
        recomputed window gives the same numbers."""
        names = list(self.frame_totals)
        rows = np.asarray(self._frame_rows, dtype=float).reshape(-1, len(names))
        totals = rows.sum(axis=1)
        own = rows[totals > 0] / totals[totals > 0, None]
        n = len(own)
        if n == 0:
            return dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0), 0
        mean = own.mean(axis=0)
        if n < 2:
            return dict(zip(names, map(float, mean), strict=True)), dict.fromkeys(names, 0.0), n
        rng = np.random.default_rng(int(self.start.timestamp()) & 0xFFFFFFFF)
        boot = np.sqrt(own[rng.integers(0, n, size=(self.config.bootstrap, n))].mean(axis=1))
        var = boot.var(axis=0, ddof=1) * n
        return (
            {name: round(float(m), 6) for name, m in zip(names, mean, strict=True)},
            {name: round(float(v), 8) for name, v in zip(names, var, strict=True)},
            n,
        )

    def finish(self) -> WindowRecord | None:
        """The window's record, or None when it has no articles."""
        if not self.count:
            return None
        scorer = self.scorer
        shift = 1.0 - _cosine(_l2(dict(self.centroid)), scorer.centroid)
        examples = sorted(self._examples, key=lambda e: (-e[0], e[1]))
        profile, profile_var, framed = self.frame_profile()
        return WindowRecord(
            baseline_id=scorer.baseline_id,
            window=self.spec.name,
            window_start=self.start,
            window_end=self.spec.end_of(self.start),
            article_count=self.count,
            js_divergence=round(js_divergence(self.counts, scorer.baseline_counts, self.config.js_smoothing), 6),
            centroid_shift=round(max(0.0, shift), 6),
            mean_baseline_similarity=round(self.similarity_sum / self.count, 6),
            mean_novelty=round(self.novelty_sum / self.count, 6),
            frame_shares={k: round(v, 6) for k, v in normalise(self.frame_totals).items()},
            baseline_shares={k: round(v, 6) for k, v in scorer.baseline_shares.items()},
            emerging_terms=self.emerging_terms(),
            example_article_ids=[e[1] for e in examples],
            example_titles={e[1]: e[2] for e in examples if e[2]},
            frame_profile=profile,
            frame_var=profile_var,
            framed_articles=framed,
            similarity_var=round(float(np.var(self._similarities, ddof=1)), 8) if self.count > 1 else 0.0,
        )


def compute_windows(
    articles: Iterable[WindowArticle | Sequence[Any] | Mapping[str, Any]],
    scorer: DriftScorer,
    window: str = "1d",
    config: DriftConfig | None = None,
) -> list[WindowRecord]:
    """Window records, oldest first, for items of (published_at, text, frame_scores[, id, title])."""
    config = config or DriftConfig()
    spec = WindowSpec.parse(window)
    accumulators: dict[datetime, WindowAccumulator] = {}
    for item in articles:
        article = WindowArticle.coerce(item)
        start = spec.start_of(article.published_at)
        acc = accumulators.get(start)
        if acc is None:
            acc = accumulators[start] = WindowAccumulator(scorer, spec, start, config)
        acc.add(article)
    records = (accumulators[s].finish() for s in sorted(accumulators))
    return [r for r in records if r is not None]


# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class DriftEvent:
    """A calibrated change in one statistic: the vocabulary (mean similarity to the baseline) or one frame's share.

    ``window_start`` is the first window of the CUSUM run that crossed the limit, or the window itself for
    a one-window jump (part of the id); ``fired_window_start`` the window where it crossed; ``window_end``
    the end of the episode so far.
    The event stays open until the detector has learned the new regime as its reference.
    ``value`` is the statistic's mean over the run, ``reference`` its no-change mean, ``delta`` the
    difference with a 95% interval (``ci_low``..``ci_high``) and ``confidence`` = 1 - p of that change;
    ``threshold`` is the limit of the rule that fired (a CUSUM's, the jump rule's on |z|, or a joint rule's
    chi-square limit) and ``peak`` what crossed it; the stated ``false_alarm_rate`` gives every limit.
    """

    event_id: str
    baseline_id: str
    window: str
    metric: str
    window_start: datetime
    window_end: datetime
    fired_window_start: datetime
    value: float
    peak: float  # what crossed the limit: a CUSUM, |z|, or a joint rule's summed squares
    threshold: float
    release: float
    consecutive_windows: int
    open: bool
    explanation: str
    example_article_ids: list[str]
    frame_shares: dict[str, dict[str, float]]  # frame -> {share, baseline_share, delta} over the triggering run
    emerging_terms: list[dict[str, Any]]
    frame: str = ""
    direction: int = 1
    reference: float = 0.0
    delta: float = 0.0
    ci_low: float = 0.0
    ci_high: float = 0.0
    confidence: float = 0.0
    false_alarm_rate: float = 0.0
    reference_windows: int = 0


def event_id(baseline_id: str, window: str, metric: str, first_window_start: datetime, frame: str = "") -> str:
    """Deterministic: the same run of windows always gives the same event id."""
    parts = [baseline_id, window, metric, *([frame] if frame else []), iso(first_window_start)]
    return stable_id("drift-event", *parts)


_METRIC_LABEL = {
    "vocabulary_shift": "vocabulary (mean article similarity to the baseline)",
    "frame_shift": "frame share",
}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _run_summary(
    run: Sequence[WindowRecord], before: Sequence[WindowRecord]
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]], list[str]]:
    """Run-averaged frame shares, pooled emerging terms and example article ids."""
    frames = sorted(set().union(*(w.frame_shares.keys() | w.baseline_shares.keys() for w in run)))
    shares: dict[str, dict[str, float]] = {}
    for f in frames:
        share = sum(w.frame_shares.get(f, 0.0) for w in run) / len(run)
        base = run[-1].baseline_shares.get(f, 0.0)
        shares[f] = {"share": round(share, 4), "baseline_share": round(base, 4), "delta": round(share - base, 4)}
    pooled: dict[str, dict[str, Any]] = {}
    for w in run:
        for t in w.emerging_terms:
            slot = pooled.setdefault(
                t.term, {"term": t.term, "count": 0, "keyness": 0.0, "log_ratio": 0.0, "windows": 0}
            )
            slot["count"] += t.count
            slot["keyness"] += t.keyness
            slot["log_ratio"] += t.log_ratio
            slot["windows"] += 1
    # Against a small baseline the stream's everyday words are always "emerging";
    # what tells the story is the terms that were not emerging just before the run.
    usual = {t.term for w in before for t in w.emerging_terms}
    ranked = sorted(pooled.values(), key=lambda s: (s["term"] in usual, -s["keyness"], s["term"]))
    terms = ranked[:10]
    for slot in terms:
        slot["new"] = slot["term"] not in usual
        slot["keyness"] = round(slot["keyness"], 2)
        slot["log_ratio"] = round(slot["log_ratio"] / slot["windows"], 2)
    # Round-robin over the run's windows so the examples span the run.
    examples: list[str] = []
    for i in range(max((len(w.example_article_ids) for w in run), default=0)):
        for w in run:
            if i < len(w.example_article_ids) and w.example_article_ids[i] not in examples:
                examples.append(w.example_article_ids[i])
    return shares, terms, examples[:3]


def explain(
    alarm: Alarm,
    run: Sequence[WindowRecord],
    shares: Mapping[str, Mapping[str, float]],
    terms: Sequence[Mapping[str, Any]],
    examples: Sequence[str],
    titles: Mapping[str, str],
    config: DriftConfig,
) -> str:
    """A readable account of what changed during the triggering run."""
    first, last = run[0], run[-1]
    ref = alarm.reference
    moved = "rose" if alarm.direction > 0 else "fell"
    articles = sum(w.article_count for w in run)
    ref_value, run_value, delta, low, high = alarm.in_units()
    if alarm.statistic.startswith("frame:"):
        what = f"The mean per-article share of frame {alarm.statistic.removeprefix('frame:')!r}"
        fmt = _pct
        change = f"{100 * delta:+.1f} pts (95% interval {100 * low:+.1f} to {100 * high:+.1f})"
    else:
        what = "The mean article similarity to the baseline (vocabulary)"
        fmt = "{:.3f}".format
        change = f"{delta:+.3f} (95% interval {low:+.3f} to {high:+.3f})"
    lines = [
        f"Change vs the reference period on {first.window} windows of baseline {first.baseline_id!r}: {what} {moved} "
        f"from {fmt(ref_value)} (reference: {ref.windows} windows, {ref.articles} articles) to {fmt(run_value)} "
        f"over {first.window_start:%Y-%m-%d %H:%M} to {last.window_end:%Y-%m-%d %H:%M} UTC "
        f"({len(run)} windows, {articles} articles): {change}, confidence {100 * normal_confidence(alarm.z):.1f}%.",
        (
            f"One window moved {alarm.cusum:.2f} standard errors, past the one-window jump limit {alarm.limit:.2f}, "
            if alarm.rule == JUMP
            else f"Several statistics moved together: their summed squared scores {alarm.cusum:.1f} passed the "
            f"joint limit {alarm.limit:.1f} (chi-square over {alarm.fired - alarm.run_start + 1} window(s)), "
            if alarm.rule == JOINT
            else f"CUSUM {alarm.cusum:.2f} crossed its limit {alarm.limit:.2f} (allowance {config.cusum_k} "
            f"standard errors{'' if not config.gradual_k else f', or {config.gradual_k} for slow changes'}), "
        )
        + f"set for at most {config.false_alarm_rate:g} false events per window over all statistics.",
    ]
    grew = sorted((f for f, s in shares.items() if s["delta"] >= 0.02), key=lambda f: -shares[f]["delta"])[:3]
    shrank = sorted((f for f, s in shares.items() if s["delta"] <= -0.02), key=lambda f: shares[f]["delta"])[:3]

    def fmt_share(f: str) -> str:
        s = shares[f]
        return f"{f} {_pct(s['baseline_share'])} → {_pct(s['share'])} ({100 * s['delta']:+.0f} pts)"

    lines.append(
        "Frame levels vs the seed baseline over the run: grew "
        + ("; ".join(map(fmt_share, grew)) if grew else "none")
        + "; shrank "
        + ("; ".join(map(fmt_share, shrank)) if shrank else "none")
        + "."
    )
    if terms:
        lines.append(
            "Top emerging terms: "
            + ", ".join(
                f"{t['term']} (G² {t['keyness']:.1f}, log ratio {t['log_ratio']:+.1f}"
                f"{'' if t.get('new', True) else ', already emerging before'})"
                for t in terms[:5]
            )
            + "."
        )
    else:
        lines.append("Top emerging terms: none passed the keyness filters.")
    if examples:
        lines.append(
            "Example articles: " + "; ".join(f"{a} “{titles[a]}”" if titles.get(a) else a for a in examples) + "."
        )
    return "\n".join(lines)


def detect_events(
    windows: Sequence[WindowRecord],
    config: DriftConfig | None = None,
    titles: Mapping[str, str] | None = None,
    metrics: Sequence[str] = METRICS,
    trace: Trace | None = None,
) -> list[DriftEvent]:
    """Calibrated change events over one baseline's window series of one size (see ``change.py``).

    The levels against the seed never fire by themselves: each statistic is compared with its own
    reference period, so a baseline unlike all coverage raises nothing while coverage is stable.
    """
    config = config or DriftConfig()
    series = sorted(windows, key=lambda w: w.window_start)
    if len({(w.baseline_id, w.window) for w in series}) > 1:
        raise ValueError("detect_events takes the windows of one baseline and one window size")
    known = dict(titles or {})
    for w in series:
        for a, t in w.example_titles.items():
            known.setdefault(a, t)
    trace = trace or detect_changes(series, config)
    events: list[DriftEvent] = []
    for alarm in trace.alarms:
        metric = FRAME if alarm.statistic.startswith("frame:") else VOCABULARY
        if metric not in metrics:
            continue
        frame = alarm.statistic.removeprefix("frame:") if metric == FRAME else ""
        run = list(series[alarm.run_start : alarm.fired + 1])
        last = alarm.settled if alarm.settled is not None else len(series) - 1
        before = series[max(0, alarm.run_start - config.explain_lookback) : alarm.run_start]
        shares, terms, examples = _run_summary(run, before)
        first, fired = run[0], series[alarm.fired]
        ref_value, run_value, delta, low, high = alarm.in_units()
        events.append(
            DriftEvent(
                event_id=event_id(first.baseline_id, first.window, metric, first.window_start, frame),
                baseline_id=first.baseline_id,
                window=first.window,
                metric=metric,
                window_start=first.window_start,
                window_end=series[last].window_end,
                fired_window_start=fired.window_start,
                value=round(run_value, 6),
                peak=alarm.cusum,
                threshold=alarm.limit,
                release=0.0,
                consecutive_windows=last - alarm.run_start + 1,
                open=alarm.settled is None,
                explanation=explain(alarm, run, shares, terms, examples, known, config),
                example_article_ids=examples,
                frame_shares=shares,
                emerging_terms=terms,
                frame=frame,
                direction=alarm.direction,
                reference=round(ref_value, 6),
                delta=round(delta, 6),
                ci_low=round(low, 6),
                ci_high=round(high, 6),
                confidence=round(normal_confidence(alarm.z), 6),
                false_alarm_rate=config.false_alarm_rate,
                reference_windows=alarm.reference.windows,
            )
        )
    events.sort(key=lambda e: (e.window_start, e.metric, e.frame))
    return events


# --------------------------------------------------------------------------- documents


def window_doc_id(baseline_id: str, window: str, start: datetime, kind: str = "window", name: str = "") -> str:
    """Deterministic id of a window, frame or term doc."""
    parts = ["drift", baseline_id, window, iso(start), kind]
    return stable_id(*parts, name) if name else stable_id(*parts)


def window_documents(record: WindowRecord, updated_at: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(id, doc) for the window doc, one frame doc per frame and one term doc per emerging term."""
    base = {
        "baseline_id": record.baseline_id,
        "window": record.window,
        "window_start": iso(record.window_start),
        "window_end": iso(record.window_end),
        "article_count": record.article_count,
        "updated_at": iso(updated_at),
    }
    frames = sorted(record.frame_shares.keys() | record.baseline_shares.keys())
    shares = {
        f: {
            "share": record.frame_shares.get(f, 0.0),
            "baseline_share": record.baseline_shares.get(f, 0.0),
            "delta": round(record.share_delta(f), 6),
        }
        for f in frames
    }
    docs = [
        (
            window_doc_id(record.baseline_id, record.window, record.window_start),
            {
                **base,
                "kind": "window",
                "js_divergence": record.js_divergence,
                "centroid_shift": record.centroid_shift,
                "frame_shift": record.frame_shift,
                "mean_baseline_similarity": record.mean_baseline_similarity,
                "mean_novelty": record.mean_novelty,
                "frame_shares": shares,
                "emerging_terms": [t.to_dict() for t in record.emerging_terms],
                "example_article_ids": record.example_article_ids,
                "stats": {
                    "frame_profile": record.frame_profile,
                    "frame_var": record.frame_var,
                    "framed_articles": record.framed_articles,
                    "similarity_var": record.similarity_var,
                },
            },
        )
    ]
    for f in frames:
        docs.append(
            (
                window_doc_id(record.baseline_id, record.window, record.window_start, "frame", f),
                {
                    **base,
                    "kind": "frame",
                    "frame": f,
                    "share": shares[f]["share"],
                    "baseline_share": shares[f]["baseline_share"],
                    "share_delta": shares[f]["delta"],
                },
            )
        )
    for t in record.emerging_terms:
        docs.append(
            (
                window_doc_id(record.baseline_id, record.window, record.window_start, "term", t.term),
                {
                    **base,
                    "kind": "term",
                    "term": t.term,
                    "keyness": t.keyness,
                    "log_ratio": t.log_ratio,
                    "rank": t.rank,
                    "count": t.count,
                    "baseline_count": t.baseline_count,
                },
            )
        )
    return docs


def window_from_doc(doc: Mapping[str, Any]) -> WindowRecord:
    """Rebuild a WindowRecord from its window doc."""
    shares = doc.get("frame_shares") or {}
    stats = doc.get("stats") or {}
    return WindowRecord(
        baseline_id=doc["baseline_id"],
        window=doc["window"],
        window_start=utc(doc["window_start"]),
        window_end=utc(doc["window_end"]),
        article_count=int(doc.get("article_count", 0)),
        js_divergence=float(doc.get("js_divergence", 0.0)),
        centroid_shift=float(doc.get("centroid_shift", 0.0)),
        mean_baseline_similarity=float(doc.get("mean_baseline_similarity", 0.0)),
        mean_novelty=float(doc.get("mean_novelty", 0.0)),
        frame_shares={f: float(s["share"]) for f, s in shares.items()},
        baseline_shares={f: float(s["baseline_share"]) for f, s in shares.items()},
        emerging_terms=[EmergingTerm(**t) for t in doc.get("emerging_terms") or []],
        example_article_ids=list(doc.get("example_article_ids") or []),
        frame_profile={f: float(v) for f, v in (stats.get("frame_profile") or {}).items()},
        frame_var={f: float(v) for f, v in (stats.get("frame_var") or {}).items()},
        framed_articles=int(stats.get("framed_articles", 0)),
        similarity_var=float(stats.get("similarity_var", 0.0)),
    )


_EVENT_STATS = (
    "direction",
    "reference",
    "delta",
    "ci_low",
    "ci_high",
    "confidence",
    "false_alarm_rate",
    "reference_windows",
)


def event_document(event: DriftEvent, updated_at: datetime) -> dict[str, Any]:
    """The kind=event doc (its _id is ``event.event_id``).

    The drift mapping has no fields for peak, release, open or the firing window,
    so they ride in the unindexed ``emerging_terms`` object next to the terms.
    """
    return {
        "kind": "event",
        "event_id": event.event_id,
        "baseline_id": event.baseline_id,
        "window": event.window,
        "window_start": iso(event.window_start),
        "window_end": iso(event.window_end),
        "metric": event.metric,
        "value": event.value,
        "threshold": event.threshold,
        "consecutive_windows": event.consecutive_windows,
        "explanation": event.explanation,
        "example_article_ids": event.example_article_ids,
        "frame_shares": event.frame_shares,
        "emerging_terms": {
            "terms": event.emerging_terms,
            "peak": event.peak,
            "release": event.release,
            "open": event.open,
            "fired_window_start": iso(event.fired_window_start),
        },
        "frame": event.frame or None,
        "stats": {k: getattr(event, k) for k in _EVENT_STATS},
        "updated_at": iso(updated_at),
    }


def event_from_doc(doc: Mapping[str, Any]) -> DriftEvent:
    """Rebuild a DriftEvent from its doc."""
    extra = doc.get("emerging_terms") or {}
    stats = doc.get("stats") or {}
    return DriftEvent(
        event_id=doc["event_id"],
        baseline_id=doc["baseline_id"],
        window=doc["window"],
        metric=doc["metric"],
        window_start=utc(doc["window_start"]),
        window_end=utc(doc["window_end"]),
        fired_window_start=utc(extra.get("fired_window_start") or doc["window_start"]),
        value=float(doc.get("value", 0.0)),
        peak=float(extra.get("peak", doc.get("value", 0.0))),
        threshold=float(doc.get("threshold", 0.0)),
        release=float(extra.get("release", 0.0)),
        consecutive_windows=int(doc.get("consecutive_windows", 0)),
        open=bool(extra.get("open", False)),
        explanation=doc.get("explanation", ""),
        example_article_ids=list(doc.get("example_article_ids") or []),
        frame_shares=dict(doc.get("frame_shares") or {}),
        emerging_terms=list(extra.get("terms") or []),
        frame=doc.get("frame") or "",
        direction=int(stats.get("direction", 1)),
        reference=float(stats.get("reference", 0.0)),
        delta=float(stats.get("delta", 0.0)),
        ci_low=float(stats.get("ci_low", 0.0)),
        ci_high=float(stats.get("ci_high", 0.0)),
        confidence=float(stats.get("confidence", 0.0)),
        false_alarm_rate=float(stats.get("false_alarm_rate", 0.0)),
        reference_windows=int(stats.get("reference_windows", 0)),
    )


# --------------------------------------------------------------------------- OpenSearch
