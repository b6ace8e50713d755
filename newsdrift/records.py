"""Typed records that flow one way through the pipeline.

FeedEntry -> FetchedPage -> Article -> ScoredArticle -> (indexed document) -> Alert.
Every stage takes records in and gives records out; failures travel as
``Failure`` records so nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any


def stable_id(*parts: str) -> str:
    """Deterministic document id: sha1 of the parts joined by a unit separator."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


class _Separators(dict[int, int | str | None]):
    """``str.translate`` table, filled per code point on first sight (C speed afterwards)."""

    def __missing__(self, code: int) -> int | str | None:
        ch = chr(code)
        # Apostrophes vanish so "meta's" stays one word; other punctuation,
        # symbols, separators and controls become a space so "open-source"
        # and "open source" normalise alike.
        value: int | str | None = None if ch in "'\u2019" else " " if unicodedata.category(ch)[0] in "PSZC" else code
        self[code] = value
        return value


_SEPARATORS = _Separators()


def normalize_text(text: str) -> str:
    """NFKC, lowercase, punctuation and symbols to spaces, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().translate(_SEPARATORS).split())


def content_sha1(text: str) -> str:
    """sha1 of the normalised text: equal for copies that differ only in case, punctuation or spacing."""
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that went wrong for one item; recorded, never raised past its stage."""

    where: str  # e.g. "feed:https://x/rss", "page:https://x/a", "index:<id>"
    reason: str
    transient: bool = False  # worth retrying on the next pass (timeouts, 5xx, 429)

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(slots=True)
class FeedEntry:
    """One item from a polled feed, before its page is fetched."""

    feed_url: str
    feed_name: str
    source: str  # outlet name from the feed configuration
    link: str
    title: str = ""
    summary: str = ""
    published_at: datetime | None = None
    entry_id: str = ""
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    content: str = ""  # the entry's full text (content:encoded), when the feed carries one


@dataclass(slots=True)
class FetchedPage:
    """An HTTP response body for an article URL, decoded to text."""

    entry: FeedEntry
    requested_url: str
    final_url: str  # after redirects
    status: int
    content_type: str
    html: str
    fetched_at: datetime
    decoding: str | None = (
        None  # set when the declared charset was wrong or bytes were lost (newsdrift/fetch/charset.py)
    )


@dataclass(slots=True)
class Article:
    """A cleaned article, as extracted by trafilatura."""

    id: str  # stable_id(canonical_url)
    url: str
    canonical_url: str
    source: str
    feed_url: str
    title: str
    text: str
    authors: list[str]
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    site_name: str | None
    word_count: int
    content_sha1: str
    feed_name: str = ""
    tags: list[str] = field(default_factory=list)
    date_source: str = ""  # "page", "feed", "htmldate" or "" when unknown
    decoding: str | None = None  # the page's charset note, e.g. "lossy: 3 invalid utf-8 sequences replaced ..."
    text_source: str = "page"  # "feed": the page could not be had, the text is the feed's (extractors/feedtext.py)
    text_source_reason: str | None = None  # why the page was not used, when text_source is "feed"

    def __post_init__(self) -> None:
        if not self.content_sha1:  # the exact-duplicate key: one definition, filled from the text when not given
            self.content_sha1 = content_sha1(self.text)


@dataclass(slots=True)
class ScoredArticle:
    """An article plus everything the scoring stages computed about it."""

    article: Article
    topic_relevance: float = 0.0
    topic_terms: list[str] = field(default_factory=list)
    off_topic: bool = False
    # dedup
    duplicate_of: str | None = None
    duplicate_kind: str | None = None  # "exact" | "near"
    near_duplicate_of: str | None = None
    duplicate_score: float | None = None
    story_cluster_id: str | None = None
    cluster_size: int = 1
    minhash: list[int] = field(default_factory=list)
    lsh_bands: list[str] = field(default_factory=list)
    baseline_match: dict[str, Any] | None = None  # {"baseline_id", "doc_id", "score"}
    # drift
    baseline_id: str | None = None
    baseline_similarity: float | None = None
    novelty: float | None = None
    frames: list[str] = field(default_factory=list)
    frame_scores: dict[str, float] = field(default_factory=dict)
    # stage key -> what that stage computed from the text in an extraction worker (not indexed)
    text_analyses: dict[str, Any] = field(default_factory=dict, repr=False)
    # alerting: "matched" once the alerting stage wrote the article's alerts before indexing
    # (None: indexed as "pending", for the next matching step; see newsdrift.alert.pending)
    alert_state: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The OpenSearch document (field names match mappings/articles.json).

        A shallow copy (lists and dicts are shared with the records): ``dataclasses.asdict``
        deep-copied every MinHash value and cost more than the bulk request itself.
        """
        article = self.article
        doc = {name: getattr(article, name) for name in _ARTICLE_FIELDS}
        for key in ("published_at", "fetched_at"):
            if doc[key] is not None:
                doc[key] = doc[key].isoformat()
        doc.update((name, getattr(self, name)) for name in _SCORE_FIELDS)
        doc["article_id"] = doc.pop("id")
        return {k: v for k, v in doc.items() if v is not None}


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_SCORE_FIELDS = tuple(f.name for f in fields(ScoredArticle) if f.name not in ("article", "text_analyses"))


@dataclass(slots=True)
class IndexOutcome:
    """Per-document result of a bulk request."""

    doc_id: str
    index: str | None
    status: str  # "created" | "updated" | "noop" | "exists" | "failed"
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(slots=True)
class Alert:
    """An alert record; its id is deterministic so each (rule, subject) alerts once."""

    id: str
    rule: str
    kind: str  # "article" | "duplicate_burst" | "drift" | "feed_health"
    subject_id: str  # article id, cluster id, drift event id or feed id
    title: str
    message: str
    created_at: datetime
    channels: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    """What a pass did; ``to_json`` is the ``--json`` output of ``newsdrift run``."""

    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    entries_seen: int = 0
    entries_dropped: int = 0
    articles_new: int = 0
    articles_known: int = 0
    fetch_failed: int = 0
    extraction_failed: int = 0
    off_topic: int = 0
    indexed: int = 0
    index_failed: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    drift_windows: int = 0
    drift_events: int = 0
    alerts: int = 0
    indexed_from_feed: int = 0  # pages that could not be had, indexed from the feed's content
    dead_links: int = 0  # links that failed for good this pass, recorded with a retry time in days
    dead_links_skipped: int = 0  # entries skipped because their link failed for good and is not due again
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Busy time per stage (poll, select, fetch, extract, score, index, alerts...). Stages overlap:
    fetches run concurrently and extraction in several workers, so these add up to more than ``seconds``."""
    errors: list[Failure] = field(default_factory=list)
    indexed_ids: list[str] = field(default_factory=list)
    transient_feeds: set[str] = field(default_factory=set)  # feeds with entries worth retrying
    failed_links: list[tuple[FeedEntry, str]] = field(default_factory=list)  # (entry, reason), failed for good

    def add_error(self, failure: Failure) -> None:
        self.errors.append(failure)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add_time(stage, time.perf_counter() - started)

    def merge(self, other: RunSummary) -> None:
        for key, value in asdict(other).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(self, key, getattr(self, key) + value)
        for stage, seconds in other.stage_seconds.items():
            self.add_time(stage, seconds)
        self.errors.extend(other.errors)
        self.indexed_ids.extend(other.indexed_ids)
        self.transient_feeds |= other.transient_feeds
        self.failed_links.extend(other.failed_links)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [e.to_dict() for e in self.errors]
        data.pop("indexed_ids")
        data.pop("transient_feeds")
        data.pop("failed_links")
        data["seconds"] = round(self.seconds, 2)
        data["stage_seconds"] = {stage: round(value, 2) for stage, value in self.stage_seconds.items()}
        return data
