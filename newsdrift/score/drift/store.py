"""Drift state in the store: window, frame, term and event documents kept in step with the articles, read
from the articles alias and written to the drift index."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.clock import as_utc as utc
from newsdrift.clock import iso
from newsdrift.records import Failure
from newsdrift.score.drift.documents import event_document, event_from_doc, window_documents, window_from_doc
from newsdrift.score.drift.events import DriftEvent, detect_events
from newsdrift.score.drift.scoring import Analysis, DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowAccumulator, WindowArticle, WindowRecord, WindowSpec
from newsdrift.settings import Settings
from newsdrift.store.bulk import bulk_write
from newsdrift.store.names import IndexNames


@dataclass(slots=True)
class DriftUpdate:
    """What one DriftStore.update did; failures are recorded, not raised."""

    windows: list[tuple[str, datetime]] = field(default_factory=list)  # recomputed (size, start)
    windows_removed: list[tuple[str, datetime]] = field(default_factory=list)  # no articles left
    docs_written: int = 0
    docs_deleted: int = 0
    events: list[str] = field(default_factory=list)  # ids of every event currently detected
    failures: list[Failure] = field(default_factory=list)


ARTICLE_FIELDS = ["article_id", "title", "text", "published_at", "frame_scores"]
WindowKey = tuple[str, datetime]  # (window size, window start)


class PassWindows:
    """The windows one pass touched, filled with the pass's own articles as each batch is indexed.

    The pipeline's drift stage adds every batch here, while later pages are still being fetched, so the
    end of the pass (``DriftStore.update`` with ``seeded=``) only adds the articles of earlier passes
    and checks the pass's against what the node now holds; it does not read them back or analyse them
    again.
    """

    def __init__(self, scorer: DriftScorer, config: DriftConfig) -> None:
        self.scorer, self.config = scorer, config
        self.specs = [WindowSpec.parse(w) for w in config.windows]
        self.accumulators: dict[WindowKey, WindowAccumulator] = {}
        self.ids: dict[WindowKey, set[str]] = {}

    def add(self, article: WindowArticle, analysis: Analysis | None = None) -> None:
        """One indexed article, with its analysis if at hand (an article already in a window is not added twice)."""
        if not article.text or not article.article_id or not self.scorer.text_only:
            return  # a scorer with recent-article memory: ``DriftStore.update`` reads every window whole
        for spec in self.specs:
            key = (spec.name, spec.start_of(article.published_at))
            ids = self.ids.setdefault(key, set())
            if article.article_id in ids:
                continue
            if (acc := self.accumulators.get(key)) is None:
                acc = self.accumulators[key] = WindowAccumulator(self.scorer, spec, key[1], self.config)
            analysis = analysis or self.scorer.analyse(article.text, remember=False)
            acc.add_analysed(article, analysis)
            ids.add(article.article_id)


def _merged_ranges(ranges: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching [start, end) ranges merged, so a stretch of windows is read once."""
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


class DriftStore:
    """Keeps one baseline's drift docs in OpenSearch in step with the articles.

    Only windows containing the given publication dates are recomputed; their
    articles are read page by page (search_after) from the articles alias.
    Every query and delete is filtered on ``scorer.baseline_id``, so other
    baselines' docs are never touched. Exact and near copies (``duplicate_of``
    set) and ``off_topic`` articles are left out by default: a syndicated story
    reprinted twenty times is one voice, not twenty.
    """

    def __init__(
        self,
        client: Any,
        drift_index: str,
        articles_alias: str,
        scorer: DriftScorer,
        config: DriftConfig | None = None,
        *,
        page_size: int = 500,
        exclude_duplicates: bool = True,
        exclude_off_topic: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.drift_index = drift_index
        self.articles_alias = articles_alias
        self.scorer = scorer
        self.config = config or DriftConfig()
        self.page_size = page_size
        self.exclude_duplicates = exclude_duplicates
        self.exclude_off_topic = exclude_off_topic
        self.clock = clock

    @property
    def baseline_id(self) -> str:
        return self.scorer.baseline_id

    # -- reading articles

    def _article_filter(self, start: datetime, end: datetime) -> dict[str, Any]:
        must_not: list[dict[str, Any]] = []
        if self.exclude_duplicates:
            # exact copies carry duplicate_of, syndicated rewrites near_duplicate_of: one voice either way
            must_not.append({"exists": {"field": "duplicate_of"}})
            must_not.append({"exists": {"field": "near_duplicate_of"}})
        if self.exclude_off_topic:
            must_not.append({"term": {"off_topic": True}})
        return {
            "bool": {"filter": [{"range": {"published_at": {"gte": iso(start), "lt": iso(end)}}}], "must_not": must_not}
        }

    def iter_articles(self, start: datetime, end: datetime) -> Iterator[WindowArticle]:
        """Articles published in [start, end), a page at a time, oldest first."""
        body: dict[str, Any] = {
            "size": self.page_size,
            "_source": ARTICLE_FIELDS,
            "query": self._article_filter(start, end),
            "sort": [{"published_at": "asc"}, {"article_id": "asc"}],
        }
        while True:
            hits = self.client.search(index=self.articles_alias, body=body)["hits"]["hits"]
            for hit in hits:
                src = hit["_source"]
                if src.get("published_at") and src.get("text"):
                    yield WindowArticle.coerce(src)
            if len(hits) < self.page_size:
                return
            body["search_after"] = hits[-1]["sort"]

    def iter_ids(self, start: datetime, end: datetime) -> Iterator[tuple[str, datetime]]:
        """(id, published_at) of the articles ``iter_articles`` would give, from doc values (no text)."""
        body: dict[str, Any] = {
            "size": self.page_size,
            "_source": False,
            "docvalue_fields": ["article_id", {"field": "published_at", "format": "epoch_millis"}],
            "query": self._article_filter(start, end),
            "sort": [{"published_at": "asc"}, {"article_id": "asc"}],
        }
        while True:
            hits = self.client.search(index=self.articles_alias, body=body)["hits"]["hits"]
            for hit in hits:
                fields = hit.get("fields", {})
                if fields.get("article_id") and fields.get("published_at"):
                    millis = float(fields["published_at"][0])
                    yield fields["article_id"][0], datetime.fromtimestamp(millis / 1000, UTC)
            if len(hits) < self.page_size:
                return
            body["search_after"] = hits[-1]["sort"]

    def articles_by_id(self, article_ids: Sequence[str]) -> Iterator[WindowArticle]:
        """These articles, as ``iter_articles`` gives them (those without a text are left out)."""
        for first in range(0, len(article_ids), self.page_size):
            chunk = list(article_ids[first : first + self.page_size])
            resp = self.client.search(
                index=self.articles_alias,
                body={"size": len(chunk), "_source": ARTICLE_FIELDS, "query": {"terms": {"article_id": chunk}}},
            )
            for hit in resp["hits"]["hits"]:
                src = hit["_source"]
                if src.get("published_at") and src.get("text"):
                    yield WindowArticle.coerce(src)

    def titles(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Titles of the given articles (for event explanations)."""
        if not article_ids:
            return {}
        resp = self.client.search(
            index=self.articles_alias,
            body={
                "size": len(article_ids),
                "_source": ["article_id", "title"],
                "query": {"terms": {"article_id": list(article_ids)}},
            },
        )
        return {h["_source"]["article_id"]: h["_source"].get("title") or "" for h in resp["hits"]["hits"]}

    # -- recomputing

    def affected_windows(self, published: Iterable[datetime | str]) -> dict[str, list[datetime]]:
        """Window size -> sorted starts of the windows containing these publication times."""
        specs = [WindowSpec.parse(w) for w in self.config.windows]
        starts: dict[str, set[datetime]] = {s.name: set() for s in specs}
        for when in published:
            if when:
                for spec in specs:
                    starts[spec.name].add(spec.start_of(when))
        return {name: sorted(s) for name, s in starts.items()}

    def update(self, published: Iterable[datetime | str], seeded: PassWindows | None = None) -> DriftUpdate:
        """Recompute the windows containing these publication times, then the events.

        Each contiguous stretch of affected windows is read once (every article analysed once for all
        window sizes), and all window, frame and term docs, stale ones deleted, go in one bulk request.
        With ``seeded`` (a pass's own articles, already added) only the ids in each window are read, and
        the text of the articles the seeded windows lack; a seeded window holding an article the node
        no longer counts in it (say, demoted to a near copy since) is read whole instead.
        """
        result = DriftUpdate()
        affected = self.affected_windows(published)
        if not any(affected.values()):
            return result
        specs = {name: WindowSpec.parse(name) for name in affected}
        accumulators = {
            (name, start): WindowAccumulator(self.scorer, specs[name], start, self.config)
            for name, starts in affected.items()
            for start in starts
        }
        if seeded is not None and not (seeded.accumulators and self.scorer.text_only):
            seeded = None
        for lo, hi in _merged_ranges((start, specs[name].end_of(start)) for name, start in accumulators):
            if seeded is not None:
                self._fill_seeded(lo, hi, specs, accumulators, seeded)
                continue
            for article in self.iter_articles(lo, hi):
                analysis = self.scorer.analyse(article.text, remember=False)
                for name, spec in specs.items():
                    acc = accumulators.get((name, spec.start_of(article.published_at)))
                    if acc is not None:
                        acc.add_analysed(article, analysis)
        now = self.clock()
        docs: list[tuple[str, dict[str, Any]]] = []
        for (name, start), acc in accumulators.items():
            record = acc.finish()
            if record is None:
                result.windows_removed.append((name, start))
            else:
                docs += window_documents(record, now)
                result.windows.append((name, start))
        self.client.indices.refresh(index=self.drift_index)  # the stale-doc search must see earlier writes
        keep = {doc_id for doc_id, _ in docs}
        stale = [i for i in self._window_doc_ids(list(accumulators)) if i not in keep]
        result.docs_written, result.docs_deleted = self._bulk_write(docs, stale, result)
        self.client.indices.refresh(index=self.drift_index)
        for name, starts in affected.items():
            if starts:
                self._refresh_events(name, result)
        self.client.indices.refresh(index=self.drift_index)
        return result

    def _fill_seeded(
        self,
        lo: datetime,
        hi: datetime,
        specs: dict[str, WindowSpec],
        accumulators: dict[WindowKey, WindowAccumulator],
        seeded: PassWindows,
    ) -> None:
        """Fill the windows inside [lo, hi): the seeded ones with what they lack, the others whole."""
        counted: dict[WindowKey, set[str]] = {key: set() for key in accumulators if lo <= key[1] < hi}
        for article_id, published in self.iter_ids(lo, hi):
            for name, spec in specs.items():
                ids = counted.get((name, spec.start_of(published)))
                if ids is not None:
                    ids.add(article_id)
        wanted: dict[str, list[WindowKey]] = {}
        for key, ids in counted.items():
            have = seeded.ids.get(key)
            if have is not None and have <= ids:
                accumulators[key] = seeded.accumulators[key]
                ids = ids - have
            for article_id in ids:
                wanted.setdefault(article_id, []).append(key)
        for article in self.articles_by_id(sorted(wanted)):
            analysis = self.scorer.analyse(article.text, remember=False)
            for key in wanted[article.article_id]:
                accumulators[key].add_analysed(article, analysis)
        for key in counted:
            accumulators[key].order_rows()

    def _window_doc_ids(self, windows: list[tuple[str, datetime]]) -> list[str]:
        """Ids of the stored window/frame/term docs of these windows (this baseline only)."""
        # A window has at most 1 + frames + top_terms docs, so each chunk fits one page of 10,000 hits.
        per_window = 1 + len(self.scorer.frames.names) + self.config.top_terms
        chunk = max(1, 10_000 // per_window)
        ids: list[str] = []
        for start in range(0, len(windows), chunk):
            should = [
                {"bool": {"filter": [{"term": {"window": name}}, {"term": {"window_start": iso(when)}}]}}
                for name, when in windows[start : start + chunk]
            ]
            hits = self.client.search(
                index=self.drift_index,
                body={
                    "size": 10_000,
                    "_source": False,
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"baseline_id": self.baseline_id}},
                                {"terms": {"kind": ["window", "frame", "term"]}},
                            ],
                            "should": should,
                            "minimum_should_match": 1,
                        }
                    },
                },
            )["hits"]["hits"]
            ids += [h["_id"] for h in hits]
        return ids

    def _bulk_write(
        self, docs: Sequence[tuple[str, dict[str, Any]]], stale: Sequence[str], result: DriftUpdate
    ) -> tuple[int, int]:
        actions: list[dict[str, Any]] = [
            {"_op_type": "index", "_index": self.drift_index, "_id": doc_id, "_source": doc} for doc_id, doc in docs
        ]
        actions += [{"_op_type": "delete", "_index": self.drift_index, "_id": doc_id} for doc_id in stale]
        written = deleted = 0
        for outcome in bulk_write(self.client, actions):
            if outcome.status in ("created", "updated", "noop"):
                written += 1
            elif outcome.status in ("deleted", "not_found"):
                deleted += 1
            else:
                result.failures.append(Failure(f"drift:{outcome.doc_id}", outcome.reason or "not written"))
        return written, deleted

    def backfill(self) -> DriftUpdate:
        """Recompute every window that has articles (first run, or after a baseline change)."""
        resp = self.client.search(
            index=self.articles_alias,
            body={
                "size": 0,
                "query": {"exists": {"field": "published_at"}},
                "aggs": {"first": {"min": {"field": "published_at"}}, "last": {"max": {"field": "published_at"}}},
            },
        )
        aggs = resp["aggregations"]
        if aggs["first"]["value"] is None:
            return DriftUpdate()
        first = datetime.fromtimestamp(aggs["first"]["value"] / 1000, UTC)
        last = datetime.fromtimestamp(aggs["last"]["value"] / 1000, UTC)
        step = min(WindowSpec.parse(w).size for w in self.config.windows)
        times = [first + i * step for i in range(int((last - first) / step) + 1)] + [last]
        return self.update(times)

    # -- events

    def load_windows(
        self, window: str = "1d", since: datetime | str | None = None, until: datetime | str | None = None
    ) -> list[WindowRecord]:
        """This baseline's window records of one size, oldest first."""
        rng: dict[str, str] = {}
        if since is not None:
            rng["gte"] = iso(utc(since))
        if until is not None:
            rng["lt"] = iso(utc(until))
        filters: list[dict[str, Any]] = [
            {"term": {"kind": "window"}},
            {"term": {"baseline_id": self.baseline_id}},
            {"term": {"window": window}},
        ]
        if rng:
            filters.append({"range": {"window_start": rng}})
        body: dict[str, Any] = {
            "size": self.page_size,
            "query": {"bool": {"filter": filters}},
            "sort": [{"window_start": "asc"}],
        }
        records: list[WindowRecord] = []
        while True:
            hits = self.client.search(index=self.drift_index, body=body)["hits"]["hits"]
            records.extend(window_from_doc(h["_source"]) for h in hits)
            if len(hits) < self.page_size:
                return records
            body["search_after"] = hits[-1]["sort"]

    def load_events(self, window: str | None = None, since: datetime | str | None = None) -> list[DriftEvent]:
        """This baseline's stored events, oldest first."""
        filters: list[dict[str, Any]] = [{"term": {"kind": "event"}}, {"term": {"baseline_id": self.baseline_id}}]
        if window:
            filters.append({"term": {"window": window}})
        if since is not None:
            filters.append({"range": {"window_end": {"gt": iso(utc(since))}}})
        resp = self.client.search(
            index=self.drift_index,
            body={
                "size": 10_000,
                "query": {"bool": {"filter": filters}},
                "sort": [{"window_start": "asc"}, {"metric": "asc"}],
            },
        )
        return [event_from_doc(h["_source"]) for h in resp["hits"]["hits"]]

    def _refresh_events(self, window: str, result: DriftUpdate) -> None:
        # Each statistic's reference is learned from the series itself, so the whole series of this size is
        # replayed; window docs are small summaries, unlike the articles behind them.
        records = self.load_windows(window)
        wanted = {a for r in records for a in r.example_article_ids}
        events = detect_events(records, self.config)
        used = {a for e in events for a in e.example_article_ids}
        titles = self.titles(sorted(used & wanted))
        if titles:
            events = detect_events(records, self.config, titles=titles)
        now = self.clock()
        result.docs_written += self._bulk_write([(e.event_id, event_document(e, now)) for e in events], [], result)[0]
        result.events.extend(e.event_id for e in events)


def open_drift_store(
    settings: Settings, client: OpenSearch, names: IndexNames, baseline_id: str | None = None
) -> DriftStore | None:
    """The drift store of a baseline (default: the active one, loaded from ``baseline_dir`` on first use).

    The one place the scorer and store are put together: the pipeline's drift stage, the
    ``newsdrift drift`` commands and the drift DAG all call this. None when that baseline has no text.
    """
    from newsdrift.score import baseline
    from newsdrift.score.frames import load_frames

    baseline_id = baseline_id or settings.baseline_id
    frames = load_frames(settings.frames_path)
    if baseline_id == settings.baseline_id:
        docs = baseline.ensure_default(client, names, settings, frames)
    else:
        docs = baseline.documents(client, names, baseline_id)
    texts = [d["text"] for d in docs if d.get("text")]
    if not texts:
        return None
    scorer = DriftScorer(texts, frames, baseline_id=baseline_id)
    return DriftStore(client, names.drift, names.articles, scorer, settings.drift_config())
