"""Tumbling windows: one record of drift metrics per window of articles, against the baseline."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from newsdrift.clock import as_utc as utc
from newsdrift.score.drift.features import cosine, js_divergence, keyness, l2_normalised
from newsdrift.score.drift.scoring import Analysis, DriftScorer
from newsdrift.score.drift.settings import DriftConfig, window_size
from newsdrift.score.frames import normalise

_ANCHOR = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weekly windows start on Mondays


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A tumbling window size such as "1d" or "7d"."""

    name: str
    size: timedelta

    @classmethod
    def parse(cls, name: str) -> WindowSpec:
        return cls(name, window_size(name))

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
    ``detect.observations`` carries it to the arcsine-square-root scale events watch."""
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
        shift = 1.0 - cosine(l2_normalised(dict(self.centroid)), scorer.centroid)
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
