"""Per-article drift scores: each article's similarity to the baseline, its novelty and its frames."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from newsdrift.records import ScoredArticle
from newsdrift.score.drift.features import content_terms, cosine, l2_normalised
from newsdrift.score.frames import FrameSet, tokenize


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
    a pass scores its articles, then the window update reads them back and would analyse them again.
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
        self.centroid: dict[str, float] = l2_normalised(dict(summed))
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
        return l2_normalised({t: (1.0 + math.log(c)) * idf.get(t, unseen) for t, c in terms.items()})

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
        similarity = cosine(vec, self.centroid) if vec else 0.0
        nearest = max((cosine(vec, d) for d in self._doc_vectors), default=0.0)
        if self._remember and remember and vec:
            nearest = max(nearest, max((cosine(vec, r) for r in self._recent), default=0.0))
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
