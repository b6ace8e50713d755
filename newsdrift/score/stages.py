"""The pipeline's stages after extraction: duplicates, drift, then alerting.

Every stage implements ``Stage``: ``score`` fills fields of ``ScoredArticle`` on a
batch before it is indexed; ``after_index`` runs once the batch is searchable
(cluster sizes on representatives, alert matching); ``finish`` runs once per pass
(drift windows for every date the pass touched, alert checks and delivery).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from opensearchpy import OpenSearch

from newsdrift.records import Article, Failure, RunSummary, ScoredArticle
from newsdrift.settings import Settings
from newsdrift.store.names import IndexNames

if TYPE_CHECKING:
    from newsdrift.score.drift.scoring import Analysis
    from newsdrift.score.drift.store import PassWindows


@runtime_checkable
class Stage(Protocol):
    """What the pipeline calls on each stage, in stage order."""

    def score(self, batch: list[ScoredArticle], summary: RunSummary) -> None:
        """Fill this stage's fields on a batch that is about to be indexed."""

    def after_index(self, indexed: list[ScoredArticle], summary: RunSummary) -> None:
        """React to what was indexed (the batch is searchable)."""

    def finish(self, summary: RunSummary) -> None:
        """Once per pass, after the last batch."""


_TEXT_ANALYSES: dict[str, Callable[[Article], Any]] = {}  # the running passes' stages' (``worker_analyses``)


@contextmanager
def worker_analyses(scorers: list[Stage]) -> Iterator[None]:
    """Run the stages' text-only analyses next to extraction while inside this block.

    A stage that defines ``analysis_key`` and ``analyse_text(article)`` has that analysis made by the
    extraction workers (``analyse_text`` below); it finds the result in ``ScoredArticle.text_analyses``.
    Worker processes forked inside the block inherit the stages (nothing is pickled but the result), so
    that work leaves the indexing process, whose interpreter lock also serves the fetching.
    """
    added = {
        stage.analysis_key: stage.analyse_text  # type: ignore[attr-defined]
        for stage in scorers
        if getattr(stage, "analysis_key", None) and callable(getattr(stage, "analyse_text", None))
    }
    _TEXT_ANALYSES.update(added)
    try:
        yield
    finally:
        for key in added:
            _TEXT_ANALYSES.pop(key, None)


def analyse_text(article: Article) -> dict[str, Any]:
    """Every registered text-only analysis of one article, by stage key (in an extraction worker)."""
    done: dict[str, Any] = {}
    for key, analyse in list(_TEXT_ANALYSES.items()):
        try:
            done[key] = analyse(article)
        except Exception:  # noqa: BLE001 - the stage analyses the text again itself, where a failure is reported
            continue
    return done


class DedupScorer:
    """Exact and near duplicates via MinHash/LSH candidates in OpenSearch (one _msearch per batch)."""

    def __init__(self, settings: Settings, client: OpenSearch, names: IndexNames) -> None:
        from newsdrift.score.dedup.deduplicator import Deduplicator

        self.client, self.names = client, names
        config = settings.dedup_config()
        self.dedup = Deduplicator(client, names.articles, names.baseline, config, claims_index=names.claims)
        self.pending: dict[str, Any] = {}

    def score(self, batch: list[ScoredArticle], summary: RunSummary) -> None:
        self.dedup.score_batch(batch)
        self.pending = self.dedup.last_updates

    def after_index(self, indexed: list[ScoredArticle], summary: RunSummary) -> None:
        from newsdrift.score.dedup.writes import apply_cluster_updates

        # representatives are already indexed, or were indexed in this very batch
        for outcome in apply_cluster_updates(self.client, self.names.articles, self.pending):
            if not outcome.ok:
                summary.add_error(Failure(f"cluster-update:{outcome.doc_id}", outcome.reason or "failed"))
        self.pending = {}

    def finish(self, summary: RunSummary) -> None:
        """Nothing once per pass: clusters are updated batch by batch."""


class DriftScoring:
    """Per-article drift fields against the baseline; windows and events once per pass."""

    # Its fields follow from each article's text alone and it reads no other stage's: the extraction workers
    # analyse each text (``worker_analyses``), and what they could not, it scores in a thread while the stages
    # before it wait on the node (see ``score_stages``).
    text_only = True

    def __init__(self, settings: Settings, client: OpenSearch, names: IndexNames) -> None:
        from newsdrift.errors import NewsdriftError
        from newsdrift.score.drift.store import open_drift_store

        store = open_drift_store(settings, client, names)
        if store is None:
            raise NewsdriftError(f"baseline {settings.baseline_id!r} has no text to measure drift against")
        self.store, self.scorer = store, store.scorer
        self.dates: set[datetime] = set()
        self.windows = self._pass_windows()
        self.analyses: dict[str, Analysis] = {}  # the batch being indexed: article id -> its analysis
        self.analysed_here = 0  # texts no extraction worker had analysed (a thread-pool pass does it too)

    def _pass_windows(self) -> PassWindows:
        from newsdrift.score.drift.store import PassWindows

        return PassWindows(self.store.scorer, self.store.config)

    @property
    def analysis_key(self) -> str | None:
        """Its key in ``ScoredArticle.text_analyses``; None (no analysis in the workers) when a score depends
        on more than the text (a scorer with recent-article memory)."""
        return f"drift:{id(self)}" if self.scorer.text_only else None

    def analyse_text(self, article: Article) -> Analysis:
        return self.scorer.analyse(article.text, remember=False)  # remember=False: no memo writes from threads

    def score(self, batch: list[ScoredArticle], summary: RunSummary) -> None:
        key = self.analysis_key
        self.analyses = {}
        for item in batch:
            done = item.text_analyses.get(key) if key else None
            self.analysed_here += done is None
            self.analyses[item.article.id] = self.scorer.analyse_into(item, done)

    def after_index(self, indexed: list[ScoredArticle], summary: RunSummary) -> None:
        from newsdrift.clock import as_utc
        from newsdrift.score.drift.windows import WindowArticle

        self.dates.update(i.article.published_at for i in indexed if i.article.published_at)
        for item in indexed:
            # copies and off-topic articles are left out of windows (DriftStore); the end of the pass
            # checks these windows against the node either way
            if item.article.published_at and not (item.duplicate_of or item.near_duplicate_of or item.off_topic):
                self.windows.add(
                    WindowArticle(
                        as_utc(item.article.published_at),  # rows are ordered next to the node's (aware) dates
                        item.article.text,
                        item.frame_scores,
                        item.article.id,
                        item.article.title or "",
                    ),
                    self.analyses.get(item.article.id),
                )
        self.analyses = {}

    def finish(self, summary: RunSummary) -> None:
        windows, self.windows = self.windows, self._pass_windows()
        if not self.dates:
            self.scorer.forget()
            return
        try:
            # the pass's own articles are in ``windows`` already: only earlier passes' are read
            update = self.store.update(sorted(self.dates), seeded=windows)
        finally:
            self.scorer.forget()
        summary.drift_events += len(update.events)
        summary.drift_windows += len(update.windows)
        for failure in update.failures:
            summary.add_error(failure)
        self.dates = set()


def default_scorers(
    settings: Settings, client: OpenSearch, names: IndexNames, *, alerts: bool = True, alert_checks: bool = True
) -> list[Stage]:
    """Duplicates, drift (it skips copies), then alerting (it reads all of them). Topic relevance and the
    MinHash fingerprint are computed earlier, next to extraction (``newsdrift.run.extraction``).

    ``alerts=False`` leaves alerting to a later step; ``alert_checks=False`` matches the articles but
    leaves the end-of-pass checks and delivery to a later step (the Airflow DAG's ``percolate`` task,
    once for all shards).
    """
    stages: list[Stage] = [
        DedupScorer(settings, client, names),
        DriftScoring(settings, client, names),
    ]
    if alerts:
        from newsdrift.alert.stage import AlertingStage

        stages.append(AlertingStage(settings, client, names, pass_end=alert_checks))
    return stages


def stage_name(stage: Stage) -> str:
    """``DedupScorer`` -> "dedup": the key of its time in ``RunSummary.stage_seconds``."""
    name = type(stage).__name__
    for suffix in ("Scorer", "Scoring", "Stage"):
        name = name.removesuffix(suffix)
    return name.lower() or "stage"


def score_stages(scorers: list[Stage], batch: list[ScoredArticle], summary: RunSummary) -> None:
    """Every stage's ``score`` on a batch, each stage after the ones before it; except that a stage with
    ``text_only = True`` starts at once, in a thread, next to the stages before it (dedup's time is mostly
    waiting on the node), and is waited for before any later stage starts."""
    running: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="score") as side:
        try:
            for scorer in scorers:
                if getattr(scorer, "text_only", False):
                    timed = _timed_score(scorer, batch, summary)
                    running.append(side.submit(contextvars.copy_context().run, timed))
            for scorer in scorers:
                if getattr(scorer, "text_only", False):
                    running.pop(0).result()
                else:
                    _timed_score(scorer, batch, summary)()
        finally:
            wait(running)


def _timed_score(scorer: Stage, batch: list[ScoredArticle], summary: RunSummary) -> Callable[[], None]:
    def run() -> None:
        with summary.timed(f"score:{stage_name(scorer)}"):
            scorer.score(batch, summary)

    return run


def finish_pass(scorers: list[Stage], summary: RunSummary) -> None:
    """The once-per-pass hooks, in stage order (drift events exist before alerting looks for them)."""
    for scorer in scorers:
        with summary.timed(f"finish:{stage_name(scorer)}"):
            scorer.finish(summary)
