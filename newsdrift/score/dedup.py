"""Exact and near-duplicate detection: MinHash/LSH fingerprints verified against OpenSearch.

Pure part: normalise -> word shingles -> MinHash signature -> LSH band keys.
Two texts are near-duplicates when they share at least one band key (the
candidate test OpenSearch runs on ``lsh_bands``), the Jaccard estimate of
their signatures reaches ``DedupSettings.verify_gate`` (by default the
``threshold``) and their exact shingles confirm it (``detection/verify.py``);
with verification off, when the estimate reaches ``DedupSettings.threshold``.

Clusters (what ``Deduplicator`` maintains):

* ``story_cluster_id`` is the id of the first article of the story that was
  indexed; it never changes, so it is the key to group by.
* The *representative* is the earliest-published member (ties: smaller id).
  Members point to it with ``near_duplicate_of``; it has none itself and its
  ``cluster_size`` is kept current. Other members keep the size as it was
  when they arrived (a snapshot, handy for percolator burst rules).
* When an arriving article was published before the current representative it
  takes over: it joins the same ``story_cluster_id``, carries the current
  size, and the old representative is demoted (``near_duplicate_of`` = the
  newcomer, ``duplicate_kind="near"``). Members that already pointed at the
  old representative are not rewritten: that would be an unbounded update;
  ``story_cluster_id`` stays the stable join key. Exact copies never take over.
* Clusters are never merged; an article that matches several clusters joins
  the one holding its best match (an exact copy: its original's cluster).
* The representative's current size is read from the candidate hits (ranked
  by shared bands, then earliest first), so it is normally among them. If it is not (a chain of near
  copies that drifted away from it), the largest member snapshot seen is used
  as a lower bound and no takeover is attempted.
* ``duplicate_score`` is the Jaccard estimate against the best match (1.0 for exact copies).

Concurrent writers (two shard tasks, two overlapping runs): an article that would found a new
cluster first *claims* its content hash and then its LSH band keys, one key at a time in one global
order, in the claims index (``_id`` = the key, ``op_type=create``: OpenSearch lets exactly one
writer create a given id). At the first key already claimed by a verified copy (same content hash,
or Jaccard estimate above the threshold, read back with a realtime GET) it stops and joins that
claim's cluster instead. Because every writer tries the keys in the same order and stops at its
first lost key, two copies racing for a story always meet at the first key they share and exactly
one of them founds the cluster. Claims are written before the article is indexed and outlive the
race window (maintenance prunes them after a day); later copies find the story in the articles
index as before. Representative ``cluster_size`` is not updated for a claim join (the founder may
not be indexed yet); ``story_cluster_id`` is what groups a story.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from datasketch import LeanMinHash, MinHash
from opensearchpy import OpenSearch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from newsdrift.records import IndexOutcome, ScoredArticle, content_sha1, normalize_text
from newsdrift.store.bulk import bulk_write

if TYPE_CHECKING:
    from newsdrift.score.verify import ShingleFrequency

# Fixed so signatures computed by any process (pipeline, backfill, baseline
# loader) compare equal. Changing seed, scheme, num_perm, shingle_size,
# bands or min_line_words invalidates every stored signature or band key.
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"  # 32-bit values: always fit the mapping's signed `long`


class DedupSettings(BaseModel):
    """Tuning for duplicate detection; defaults measured by ``bench/dedup_quality.py``."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    threshold: float = Field(default=0.25, gt=0.0, le=1.0)
    """Minimum Jaccard estimate for a near-duplicate."""
    shingle_size: int = Field(default=3, ge=1, le=10)
    """Words per shingle."""
    num_perm: int = Field(default=192, ge=16, le=1024)
    """MinHash permutations = length of the stored ``minhash`` array."""
    bands: int = Field(default=64, ge=1)
    """LSH bands (= ``lsh_bands`` keys per document); rows per band = num_perm / bands."""
    min_line_words: int = Field(default=10, ge=0, le=50)
    """Lines with fewer words are left out of the signature (headlines, bylines, teasers)."""
    candidate_limit: int = Field(default=50, ge=1, le=1000)
    """Max candidates fetched per article and per index in the ``_msearch``."""
    verify_threshold: float = Field(default=0.38, ge=0.0, le=1.0)
    """Candidates past the MinHash estimate are verified on exact shingles: a copy when the weighted
    containment of the smaller text in the larger reaches this (``detection/verify.py``; 0 turns it off)."""
    verify_gate: float = Field(default=0.25, gt=0.0, le=1.0)
    """With verification on, the Jaccard estimate a candidate needs to be verified (at most ``threshold``). A
    copy trimmed to half and wrapped in another site's chrome often estimates 0.15-0.25: 0.15 finds more of
    them on their own (bench/dedup_realtext.py pairs: recall 0.951 -> 0.963) but verifies many more candidates
    (scoring overhead +26 % -> +38 % in bench/ingest_bench.py), and in the pipeline other copies of the story
    link most such trims to it anyway (recall 0.988 -> 0.989), so the default stays at ``threshold``."""
    df_sample: int = Field(default=300, ge=0, le=10_000)
    """Recent indexed articles whose shingles give the document frequencies that down-weight stock
    phrases and site templates (read once per pass, when a candidate first needs verifying)."""

    @model_validator(mode="after")
    def _bands_divide_perms(self) -> DedupSettings:
        if self.num_perm % self.bands:
            raise ValueError(f"bands ({self.bands}) must divide num_perm ({self.num_perm})")
        return self

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    @property
    def gate(self) -> float:
        """The estimate a candidate needs before its exact shingles are compared (``verify_gate``, at most
        ``threshold``)."""
        return min(self.verify_gate, self.threshold)

    @property
    def lsh_threshold(self) -> float:
        """Jaccard at which two texts become candidates with probability ~0.5."""
        return s_curve_threshold(self.bands, self.rows)


# --------------------------------------------------------------------------- pure part


def shingles(normalized: str, k: int) -> set[str]:
    """Word k-shingles of normalised text; a text shorter than k is one shingle."""
    words = normalized.split()
    if not words:
        return set()
    if len(words) <= k:
        return {" ".join(words)}
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def signature_text(text: str, min_line_words: int) -> str:
    """Normalised text of the lines long enough to be body copy.

    Copies of a story differ mostly in short lines (headline, byline, section
    labels, "Share this", "Read more: ..." teasers) and unrelated articles of
    one outlet share exactly those, so they are left out of the signature.
    A text with no long line is kept whole.
    """
    lines = [normalize_text(line) for line in text.splitlines()]
    body = [line for line in lines if len(line.split()) >= min_line_words]
    return " ".join(body or lines).strip()


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> Any:
    # Generating permutations costs more than hashing a short article; reuse them.
    return MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


def minhash_signature(shingle_set: Iterable[str], num_perm: int) -> list[int]:
    """MinHash signature as plain ints (JSON- and ``long``-safe); empty input -> []."""
    encoded = [s.encode("utf-8") for s in shingle_set]
    if not encoded:
        return []
    mh = MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME, permutations=_permutations(num_perm))
    mh.update_batch(encoded)
    return [int(v) for v in LeanMinHash(mh).hashvalues]


def lsh_band_keys(signature: Sequence[int], bands: int) -> list[str]:
    """One key per band, ``b{band}_{digest}``; the band number keeps equal rows in different bands apart."""
    if not signature:
        return []
    rows = len(signature) // bands
    keys = []
    for b in range(bands):
        chunk = struct.pack(f">{rows}Q", *signature[b * rows : (b + 1) * rows])
        keys.append(f"b{b}_{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


def jaccard_estimate(a: Sequence[int], b: Sequence[int]) -> float:
    """Fraction of equal positions of two signatures (0.0 when they are not comparable)."""
    if not a or len(a) != len(b):
        return 0.0
    return float(np.count_nonzero(np.asarray(a, dtype=np.int64) == np.asarray(b, dtype=np.int64))) / len(a)


def s_curve_threshold(bands: int, rows: int) -> float:
    """Jaccard at which P(candidate) = 1 - (1 - J^r)^b is 0.5 (exact, not the (1/b)^(1/r) rule of thumb)."""
    return (1.0 - 0.5 ** (1.0 / bands)) ** (1.0 / rows)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup stores per document."""

    content_sha1: str
    minhash: list[int]
    lsh_bands: list[str]


def fingerprint(text: str, settings: DedupSettings) -> Fingerprint:
    """Fingerprint of an article body: exact hash of all of it, signature of its long lines."""
    body = signature_text(text, settings.min_line_words)
    sig = minhash_signature(shingles(body, settings.shingle_size), settings.num_perm)
    return Fingerprint(
        content_sha1=content_sha1(text),
        minhash=sig,
        lsh_bands=lsh_band_keys(sig, settings.bands),
    )


def verified_score(a: Sequence[int], b: Sequence[int], threshold: float) -> float | None:
    """Jaccard estimate if it reaches the threshold, else None (the verification step)."""
    score = jaccard_estimate(a, b)
    return score if score >= threshold else None


def near_duplicate_score(a: Fingerprint, b: Fingerprint, settings: DedupSettings) -> float | None:
    """Pairwise decision: shared band key (candidate) and verified Jaccard estimate."""
    if not set(a.lsh_bands).intersection(b.lsh_bands):
        return None
    return verified_score(a.minhash, b.minhash, settings.threshold)


# --------------------------------------------------------------------------- OpenSearch part

_CANDIDATE_SOURCE = [
    "minhash",
    "published_at",
    "story_cluster_id",
    "near_duplicate_of",
    # Beyond the signature: content_sha1 tells exact from near copies,
    # duplicate_of names the original, cluster_size is the representative's
    # count; the rest restores an article that is already indexed.
    "content_sha1",
    "duplicate_of",
    "cluster_size",
    "duplicate_kind",
    "duplicate_score",
]
_BASELINE_SOURCE = ["minhash", "baseline_id", "doc_id"]
# A batch's candidate searches (``Deduplicator._search``): hits past this, or band keys past this (the node's
# ``index.max_terms_count`` is 65,536), and each article is asked on its own, as before.
_BATCH_HITS = 2_000
_BATCH_TERMS = 60_000
_LATEST = datetime.max.replace(tzinfo=UTC)  # unknown dates sort last: never representative by default


def _as_utc(value: datetime | str | None) -> datetime:
    if value is None:
        return _LATEST
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return _LATEST
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Candidate:
    id: str
    minhash: list[int]
    published: datetime
    cluster_id: str
    near_duplicate_of: str | None
    duplicate_of: str | None
    content_sha1: str | None
    cluster_size: int
    duplicate_kind: str | None
    duplicate_score: float | None

    @classmethod
    def from_hit(cls, hit: Mapping[str, Any]) -> _Candidate:
        src = hit.get("_source", {})
        return cls(
            id=hit["_id"],
            minhash=list(src.get("minhash") or []),
            published=_as_utc(src.get("published_at")),
            cluster_id=src.get("story_cluster_id") or hit["_id"],
            near_duplicate_of=src.get("near_duplicate_of"),
            duplicate_of=src.get("duplicate_of"),
            content_sha1=src.get("content_sha1"),
            cluster_size=int(src.get("cluster_size") or 1),
            duplicate_kind=src.get("duplicate_kind"),
            duplicate_score=src.get("duplicate_score"),
        )


@dataclass(slots=True)
class _Cluster:
    """A story cluster as known while scoring one batch."""

    cluster_id: str
    rep_id: str
    rep_key: tuple[datetime, str] | None  # None: representative not seen, so no takeover
    size: int
    rep_minhash: list[int] = field(default_factory=list)
    rep_article: ScoredArticle | None = None  # set when the representative is in this batch
    grown: bool = False


@dataclass(slots=True)
class _Match:
    score: float
    key: tuple[datetime, str]
    cluster_id: str
    original: str  # first-seen id, for exact copies
    exact: bool
    candidate: _Candidate | None = None


@dataclass(slots=True)
class DedupResult:
    """Scored articles plus partial updates for documents already indexed."""

    articles: list[ScoredArticle]
    updates: dict[str, dict[str, Any]]  # doc id -> partial document (cluster_size, demotion fields)
    candidates: int = 0  # indexed candidates fetched for the batch
    saturated: int = 0  # articles whose candidate query hit candidate_limit (raise it if this is common)

    @property
    def cluster_sizes(self) -> dict[str, int]:
        """Representative updates as ``{doc_id: new_cluster_size}``."""
        return {k: v["cluster_size"] for k, v in self.updates.items() if "cluster_size" in v}


def _restore(sa: ScoredArticle, stored: _Candidate) -> None:
    """An article scored again after it was indexed keeps what it has: counting it twice would inflate sizes."""
    sa.story_cluster_id = stored.cluster_id
    sa.cluster_size = stored.cluster_size
    sa.near_duplicate_of = stored.near_duplicate_of
    sa.duplicate_of = stored.duplicate_of
    sa.duplicate_kind = stored.duplicate_kind
    sa.duplicate_score = stored.duplicate_score


def _key(article: ScoredArticle) -> tuple[datetime, str]:
    return (_as_utc(article.article.published_at), article.article.id)


class Deduplicator:
    """Scores batches of articles for exact and near duplicates with one ``_msearch`` per batch.

    Call ``score_batch`` before indexing the batch, index it (with a refresh,
    or the next batch will not see it), then apply ``last_updates`` with
    ``apply_cluster_updates``. With ``claims_index`` new clusters are claimed there first, so
    concurrent writers agree on one cluster per story (see the module docstring).
    """

    def __init__(
        self,
        client: OpenSearch,
        articles_index: str,
        baseline_index: str | None,
        settings: DedupSettings | None = None,
        claims_index: str | None = None,
    ) -> None:
        self.client = client
        self.articles_index = articles_index
        self.baseline_index = baseline_index
        self.settings = settings or DedupSettings()
        self.claims_index = claims_index
        self.last_updates: dict[str, dict[str, Any]] = {}
        self._freq: ShingleFrequency | None = None  # document frequencies, sampled once per Deduplicator
        self._claim_memory = ClaimMemory()  # the claims this Deduplicator created, not read back from the node

    def score_batch(self, articles: list[ScoredArticle]) -> list[ScoredArticle]:
        """Fill dedup fields in place and return the articles; updates go to ``last_updates``."""
        result = self.score(articles)
        self.last_updates = result.updates
        return result.articles

    def score(self, articles: list[ScoredArticle]) -> DedupResult:
        """Like ``score_batch`` but returns the updates with the articles."""
        fps = [self._fingerprint(sa) for sa in articles]
        for sa, fp in zip(articles, fps, strict=True):
            sa.minhash, sa.lsh_bands = fp.minhash, fp.lsh_bands
        indexed, baseline = self._search(articles, fps)
        verify = self._verifier(articles, fps, indexed) if self.settings.verify_threshold > 0 else None
        state = _BatchState(self.settings.gate if verify is not None else self.settings.threshold, verify)
        founders: list[tuple[ScoredArticle, Fingerprint]] = []
        for i, sa in enumerate(articles):
            sa.baseline_match = self._best_baseline(fps[i], baseline[i])
            if state.place(sa, fps[i], indexed[i]) and fps[i].lsh_bands:
                founders.append((sa, fps[i]))
        if self.claims_index and founders:
            # A claim holder whose text this batch read (a candidate of the search) is verified like the
            # search path's matches; one it has not read (a racing writer's article, not indexed yet) is
            # judged by the estimate alone, as both writers can.
            confirm = None if verify is None else (lambda own, other: verify(own, other, unknown=True))
            joined = claim_clusters(
                self.client, self.claims_index, founders, self.settings.threshold, self._claim_memory, confirm
            )
            _rejoin(articles, joined)
        limit = self.settings.candidate_limit
        return DedupResult(
            articles,
            state.finish(),
            candidates=sum(len(c) for c in indexed),
            saturated=sum(1 for c in indexed if len(c) >= limit),
        )

    def _verifier(
        self, articles: list[ScoredArticle], fps: list[Fingerprint], indexed: list[list[_Candidate]]
    ) -> Callable[..., bool]:
        """The exact-shingle check for this batch: texts of the batch, plus those of the indexed candidates
        that pass the MinHash estimate (one search), weighted by document frequencies over a sample.
        ``verify(own, other, unknown=False)``: ``unknown`` is the answer when ``other``'s text was not read."""
        from newsdrift.score.verify import ShingleFrequency, is_copy, shingle_hashes

        texts = {sa.article.id: sa.article.text for sa in articles}
        wanted = {
            c.id
            for fp, cands in zip(fps, indexed, strict=True)
            for c in cands
            if c.content_sha1 != fp.content_sha1
            and c.id not in texts
            and verified_score(fp.minhash, c.minhash, self.settings.gate) is not None
        }
        batch_pairs = _pair_past_estimate(fps, self.settings.gate)
        if wanted:
            texts.update(self._texts(sorted(wanted)))
        if (wanted or batch_pairs) and self._freq is None:
            self._freq = ShingleFrequency()
            for doc_id, text in self._sample_texts().items():
                self._freq.add(doc_id, shingle_hashes(text, self.settings))
        hashes: dict[str, frozenset[int]] = {}

        def shingled(doc_id: str) -> frozenset[int]:
            found = hashes.get(doc_id)
            if found is None:
                found = hashes[doc_id] = shingle_hashes(texts.get(doc_id, ""), self.settings)
                if self._freq is not None:
                    self._freq.add(doc_id, found)
            return found

        if wanted or batch_pairs:
            for doc_id in texts:
                shingled(doc_id)

        def verify(own: str, other: str, unknown: bool = False) -> bool:
            if other not in texts:
                return unknown  # not read (withdrawn since the candidate search, or not indexed yet)
            return is_copy(shingled(own), shingled(other), self._freq, self.settings.verify_threshold)[0]

        return verify

    def _texts(self, ids: list[str]) -> dict[str, str]:
        resp = self.client.search(
            index=self.articles_index,
            body={"size": len(ids), "_source": ["text"], "query": {"ids": {"values": ids}}},
        )
        return {h["_id"]: h["_source"].get("text") or "" for h in resp["hits"]["hits"]}

    def _sample_texts(self) -> dict[str, str]:
        if not self.settings.df_sample:
            return {}
        resp = self.client.search(
            index=self.articles_index,
            ignore_unavailable=True,
            body={
                "size": self.settings.df_sample,
                "_source": ["text"],
                "query": {"match_all": {}},
                "sort": [{"published_at": {"order": "desc", "missing": "_last", "unmapped_type": "date"}}],
            },
        )
        return {h["_id"]: h["_source"].get("text") or "" for h in resp["hits"]["hits"]}

    def _fingerprint(self, sa: ScoredArticle) -> Fingerprint:
        """Computed here unless the pipeline's extraction workers already did (same settings)."""
        if sa.minhash and sa.lsh_bands and self.settings == DedupSettings():
            return Fingerprint(sa.article.content_sha1, sa.minhash, sa.lsh_bands)
        return fingerprint(sa.article.text, self.settings)

    # -- search

    def _search(
        self, articles: list[ScoredArticle], fps: list[Fingerprint]
    ) -> tuple[list[list[_Candidate]], list[list[dict[str, Any]]]]:
        """Per article, candidates in the articles alias and in the baseline, from one ``_msearch`` of two
        searches for the whole batch (``_batch_query``): every document that shares a band key (or, in the
        articles, the exact hash or the id) with any article of the batch, sorted out per article here.

        Each article gets what its own query would return (``_all_candidates_query``, and the baseline's
        ``terms`` query, both unranked: the hits of a constant score come in index order, so the batch's hits
        filtered to one article are that article's hits in the same order) for a fraction of the node's work:
        100 queries a batch cost far more than one (#13). A batch whose hits pass ``_BATCH_HITS`` is asked
        again article by article (``_article_queries``), as before.

        When at most ``candidate_limit`` indexed candidates match an article they are all there are, the same
        set the ranked query gives, and their order decides nothing (``_BatchState`` picks matches by score,
        then date and id). Only articles with more go through the ranked query (``_candidate_query``), in a
        second ``_msearch``.
        """
        indexed: list[list[_Candidate]] = [[] for _ in articles]
        baseline: list[list[dict[str, Any]]] = [[] for _ in articles]
        live = [i for i, fp in enumerate(fps) if fp.lsh_bands]  # empty text: nothing to compare
        if not live:
            return indexed, baseline
        live_fps, live_ids = [fps[i] for i in live], [articles[i].article.id for i in live]
        found: dict[str, list[list[dict[str, Any]]]] = {}  # kind -> hits per live article
        if len({b for fp in live_fps for b in fp.lsh_bands}) <= _BATCH_TERMS:
            kinds = ["articles", *(["baseline"] if self.baseline_index else [])]
            body: list[dict[str, Any]] = []
            for kind in kinds:
                body += self._batch_query(kind, live_fps, live_ids)
            for kind, r in zip(kinds, self.client.msearch(body=body)["responses"], strict=True):
                hits = _hits(r, kind)
                if len(hits) <= _BATCH_HITS:
                    found[kind] = _per_article(hits, live_fps, live_ids, hash_and_id=kind == "articles")
        missing = [k for k in ("articles", "baseline") if k not in found and (k == "articles" or self.baseline_index)]
        if missing:
            found.update(self._article_queries(missing, live_ids, live_fps))
        limit = self.settings.candidate_limit
        ranked: list[int] = []  # more candidates than the limit: the best ones are wanted
        for n, i in enumerate(live):
            if self.baseline_index:
                baseline[i] = found["baseline"][n][:limit]
            hits = found["articles"][n]
            if len(hits) > limit:
                ranked.append(i)
            else:
                indexed[i] = [_Candidate.from_hit(h) for h in hits]
        if ranked:
            body = []
            for i in ranked:
                body += [
                    {"index": self.articles_index, "ignore_unavailable": True},
                    self._candidate_query(fps[i], articles[i].article.id),
                ]
            for i, r in zip(ranked, self.client.msearch(body=body)["responses"], strict=True):
                indexed[i] = [_Candidate.from_hit(h) for h in _hits(r, "articles")]
        return indexed, baseline

    def _batch_query(self, kind: str, fps: list[Fingerprint], ids: list[str]) -> list[dict[str, Any]]:
        """The ``_msearch`` lines of one search for the whole batch: ``_all_candidates_query`` or the baseline's
        query for all its articles at once, with each hit's band keys to tell whose it is. One hit more than
        ``_BATCH_HITS`` tells a complete answer from a truncated one."""
        bands = sorted({b for fp in fps for b in fp.lsh_bands})
        should: list[dict[str, Any]] = [{"terms": {"lsh_bands": bands}}]
        source = [*_BASELINE_SOURCE, "lsh_bands"]
        if kind == "articles":
            should += [{"ids": {"values": ids}}, {"terms": {"content_sha1": sorted({fp.content_sha1 for fp in fps})}}]
            source = [*_CANDIDATE_SOURCE, "lsh_bands"]
        query = {
            "size": _BATCH_HITS + 1,
            "_source": source,
            "track_total_hits": False,
            "query": {"constant_score": {"filter": {"bool": {"should": should, "minimum_should_match": 1}}}},
        }
        index = self.articles_index if kind == "articles" else self.baseline_index
        return [{"index": index, "ignore_unavailable": True}, query]

    def _article_queries(
        self, kinds: list[str], ids: list[str], fps: list[Fingerprint]
    ) -> dict[str, list[list[dict[str, Any]]]]:
        """The hits of each article's own queries of these kinds (articles, baseline), in one ``_msearch``."""
        body: list[dict[str, Any]] = []
        for own_id, fp in zip(ids, fps, strict=True):
            if "articles" in kinds:
                body += [
                    {"index": self.articles_index, "ignore_unavailable": True},
                    self._all_candidates_query(fp, own_id),
                ]
            if "baseline" in kinds:
                body += [
                    {"index": self.baseline_index, "ignore_unavailable": True},
                    {
                        "size": self.settings.candidate_limit,
                        "_source": _BASELINE_SOURCE,
                        "track_total_hits": False,
                        "query": {"terms": {"lsh_bands": fp.lsh_bands}},
                    },
                ]
        found: dict[str, list[list[dict[str, Any]]]] = {k: [] for k in kinds}
        responses = iter(self.client.msearch(body=body)["responses"])
        for _ in ids:
            for kind in kinds:
                found[kind].append(_hits(next(responses), kind))
        return found

    def _all_candidates_query(self, fp: Fingerprint, own_id: str) -> dict[str, Any]:
        """The articles ``_candidate_query`` matches (its own id, the exact hash, any band), unranked: one
        more than the limit, to tell a complete set from a truncated one."""
        match = [{"ids": {"values": [own_id]}}, {"term": {"content_sha1": fp.content_sha1}}]
        return {
            "size": self.settings.candidate_limit + 1,
            "_source": _CANDIDATE_SOURCE,
            "track_total_hits": False,
            "query": {
                "constant_score": {
                    "filter": {
                        "bool": {
                            "should": [*match, {"terms": {"lsh_bands": fp.lsh_bands}}],
                            "minimum_should_match": 1,
                        }
                    }
                }
            },
        }

    def _candidate_query(self, fp: Fingerprint, own_id: str) -> dict[str, Any]:
        """Indexed articles sharing a band key or the exact hash, most shared bands first, bounded.

        The article's own id is matched too (and ranked first): if it is already
        indexed it is restored rather than counted into its cluster a second time.

        One constant-score clause per band makes the score the number of shared
        bands, a similarity proxy: when boilerplate-heavy noise fills the limit,
        true copies still come first (a constant-score ``terms`` query ranks them
        arbitrarily; measured in bench/dedup_scale.py's notes).
        """
        bands = [{"constant_score": {"filter": {"term": {"lsh_bands": key}}, "boost": 1}} for key in fp.lsh_bands]
        exact = {"constant_score": {"filter": {"term": {"content_sha1": fp.content_sha1}}, "boost": len(bands) + 1}}
        itself = {"constant_score": {"filter": {"ids": {"values": [own_id]}}, "boost": 3 * len(bands)}}
        return {
            "size": self.settings.candidate_limit,
            "_source": _CANDIDATE_SOURCE,
            "track_total_hits": False,
            "query": {
                "bool": {
                    "should": [itself, exact, *bands],
                    "minimum_should_match": 1,
                }
            },
            # Exact copies, then most shared bands; among equals the earliest (the representative).
            "sort": [
                "_score",
                {"published_at": {"order": "asc", "missing": "_last", "unmapped_type": "date"}},
                {"article_id": {"order": "asc", "unmapped_type": "keyword"}},
            ],
        }

    def _best_baseline(self, fp: Fingerprint, hits: list[dict[str, Any]]) -> dict[str, Any] | None:
        best: dict[str, Any] | None = None
        for h in hits:
            src = h.get("_source", {})
            score = verified_score(fp.minhash, src.get("minhash") or [], self.settings.threshold)
            if score is not None and (best is None or score > best["score"]):
                best = {"baseline_id": src.get("baseline_id"), "doc_id": src.get("doc_id") or h["_id"], "score": score}
        return best


def _pair_past_estimate(fps: Sequence[Fingerprint], threshold: float) -> bool:
    """Whether two fingerprints of a batch share a band key and pass the MinHash estimate. Pairs are found
    through their bands (every pair of a 100-article batch, each with a set of its bands, took 11 ms; now 1.5 ms)."""
    holders: dict[str, list[int]] = {}
    checked: set[tuple[int, int]] = set()
    for i, fp in enumerate(fps):
        for band in fp.lsh_bands:
            for j in holders.get(band, ()):
                if (j, i) not in checked:
                    checked.add((j, i))
                    if verified_score(fp.minhash, fps[j].minhash, threshold) is not None:
                        return True
            holders.setdefault(band, []).append(i)
    return False


def _per_article(
    hits: list[dict[str, Any]], fps: Sequence[Fingerprint], ids: Sequence[str], *, hash_and_id: bool
) -> list[list[dict[str, Any]]]:
    """A batch query's hits sorted out per article, in the order they came: those sharing a band key with the
    article or, with ``hash_and_id`` (the articles), its exact hash or its id: what the article's own query
    matches."""
    by_band: dict[str, list[int]] = {}
    by_sha: dict[str, list[int]] = {}
    by_id: dict[str, list[int]] = {}
    for n, h in enumerate(hits):
        src = h.get("_source", {})
        bands = src.get("lsh_bands") or ()
        for band in {bands} if isinstance(bands, str) else set(bands):
            by_band.setdefault(band, []).append(n)
        if hash_and_id:
            if isinstance(src.get("content_sha1"), str):
                by_sha.setdefault(src["content_sha1"], []).append(n)
            by_id.setdefault(h["_id"], []).append(n)
    out = []
    for fp, own_id in zip(fps, ids, strict=True):
        mine = {n for band in fp.lsh_bands for n in by_band.get(band, ())}
        mine.update(by_sha.get(fp.content_sha1, ()))
        mine.update(by_id.get(own_id, ()))
        out.append([hits[n] for n in sorted(mine)])
    return out


def _hits(response: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    if "error" in response:
        raise RuntimeError(f"dedup msearch failed ({kind}): {response['error']}")
    return list(response["hits"]["hits"])


class _BatchState:
    """Cluster bookkeeping for one batch, in arrival order."""

    def __init__(self, threshold: float, verify: Callable[[str, str], bool] | None = None) -> None:
        self.threshold = threshold
        self.verify = verify  # exact-shingle check of (article id, candidate id) past the estimate
        self.clusters: dict[str, _Cluster] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.band_index: dict[str, list[ScoredArticle]] = {}
        self.first_by_sha: dict[str, ScoredArticle] = {}

    def place(self, sa: ScoredArticle, fp: Fingerprint, indexed: list[_Candidate]) -> bool:
        """Assign one article to a new or existing cluster; True when it founds a new one."""
        art = sa.article
        own = next((c for c in indexed if c.id == art.id), None)
        if own is not None:
            _restore(sa, own)
            return False
        if not fp.lsh_bands:
            sa.story_cluster_id, sa.cluster_size = art.id, 1
            return True
        matches = self._indexed_matches(art.id, fp, indexed) + self._batch_matches(art.id, fp)
        exact = [m for m in matches if m.exact]
        best = min(exact or matches, key=lambda m: (-m.score, m.key), default=None)
        self._register(sa, fp)
        if best is None:
            sa.story_cluster_id, sa.cluster_size = art.id, 1
            self.clusters[art.id] = _Cluster(art.id, art.id, _key(sa), 1, fp.minhash, sa)
            return True
        cluster = self._cluster_for(best, indexed)
        cluster.size += 1
        cluster.grown = True
        sa.story_cluster_id = cluster.cluster_id
        sa.cluster_size = cluster.size
        if not best.exact and cluster.rep_key is not None and _key(sa) < cluster.rep_key:
            self._take_over(cluster, sa, fp, best.score)
            return False
        sa.near_duplicate_of = cluster.rep_id
        sa.duplicate_kind = "exact" if best.exact else "near"
        sa.duplicate_of = best.original if best.exact else None
        sa.duplicate_score = 1.0 if best.exact else best.score
        return False

    def finish(self) -> dict[str, dict[str, Any]]:
        """Write final sizes onto representatives (in place, or as index updates)."""
        for c in self.clusters.values():
            if not c.grown:
                continue
            if c.rep_article is not None:
                c.rep_article.cluster_size = c.size
            else:
                self.updates.setdefault(c.rep_id, {})["cluster_size"] = c.size
        return self.updates

    # -- matching

    def _confirmed(self, own: str, other: str, exact: bool, score: float | None) -> bool:
        return score is not None and (exact or self.verify is None or self.verify(own, other))

    def _indexed_matches(self, own: str, fp: Fingerprint, indexed: list[_Candidate]) -> list[_Match]:
        out = []
        for c in indexed:
            exact = c.content_sha1 == fp.content_sha1
            score = 1.0 if exact else verified_score(fp.minhash, c.minhash, self.threshold)
            if score is not None and self._confirmed(own, c.id, exact, score):
                out.append(_Match(score, (c.published, c.id), c.cluster_id, c.duplicate_of or c.id, exact, c))
        return out

    def _batch_matches(self, own: str, fp: Fingerprint) -> list[_Match]:
        """Earlier articles of this batch: not indexed yet, so compared here."""
        seen: dict[str, ScoredArticle] = {}
        for band in fp.lsh_bands:
            for other in self.band_index.get(band, ()):
                seen.setdefault(other.article.id, other)
        exact_first = self.first_by_sha.get(fp.content_sha1)
        if exact_first is not None:
            seen.setdefault(exact_first.article.id, exact_first)
        out = []
        for other in seen.values():
            exact = other.article.content_sha1 == fp.content_sha1
            score = 1.0 if exact else verified_score(fp.minhash, other.minhash, self.threshold)
            confirmed = self._confirmed(own, other.article.id, exact, score)
            if score is not None and confirmed and other.story_cluster_id is not None:
                original = other.duplicate_of or other.article.id
                out.append(_Match(score, _key(other), other.story_cluster_id, original, exact))
        return out

    def _register(self, sa: ScoredArticle, fp: Fingerprint) -> None:
        for band in fp.lsh_bands:
            self.band_index.setdefault(band, []).append(sa)
        self.first_by_sha.setdefault(fp.content_sha1, sa)

    # -- clusters

    def _cluster_for(self, best: _Match, indexed: list[_Candidate]) -> _Cluster:
        """The cluster state for a match, built from the candidate hits on first use."""
        known = self.clusters.get(best.cluster_id)
        if known is not None:
            return known
        members = [c for c in indexed if c.cluster_id == best.cluster_id]
        reps = [c for c in members if c.near_duplicate_of is None and c.duplicate_of is None]
        if reps:
            rep = min(reps, key=lambda c: (c.published, c.id))
            cluster = _Cluster(best.cluster_id, rep.id, (rep.published, rep.id), rep.cluster_size, rep.minhash)
        else:
            # Representative not among the hits (a chain of near copies): point at
            # the one the best match names; its size is a lower bound from snapshots.
            cand = best.candidate
            rep_id = (cand.near_duplicate_of if cand else None) or best.cluster_id
            size = max((c.cluster_size for c in members), default=1)
            cluster = _Cluster(best.cluster_id, rep_id, None, size)
        self.clusters[best.cluster_id] = cluster
        return cluster

    def _take_over(self, cluster: _Cluster, sa: ScoredArticle, fp: Fingerprint, best_score: float) -> None:
        """An earlier-published newcomer becomes the representative; the old one is demoted."""
        old_score = jaccard_estimate(fp.minhash, cluster.rep_minhash) if cluster.rep_minhash else best_score
        if cluster.rep_article is not None:
            old = cluster.rep_article
            old.near_duplicate_of, old.duplicate_kind, old.duplicate_score = sa.article.id, "near", old_score
        else:
            self.updates[cluster.rep_id] = {
                "near_duplicate_of": sa.article.id,
                "duplicate_kind": "near",
                "duplicate_score": old_score,
            }
        sa.near_duplicate_of = sa.duplicate_kind = sa.duplicate_of = None
        sa.duplicate_score = best_score
        cluster.rep_id, cluster.rep_key = sa.article.id, _key(sa)
        cluster.rep_minhash, cluster.rep_article = fp.minhash, sa


# --------------------------------------------------------------------------- concurrent writers


@dataclass(frozen=True, slots=True)
class ClaimJoin:
    """A would-be founder that lost a claim to a verified copy: it joins that copy's cluster."""

    cluster_id: str
    article_id: str  # the claimant, a copy of this article
    score: float
    exact: bool


_BULK_ITEM_FIELDS = "items.*._id,items.*.status,items.*.error"


def claim_keys(fp: Fingerprint) -> list[str]:
    """The keys an article claims, in the one order every writer uses: content hash, then bands sorted."""
    return [f"sha1_{fp.content_sha1}", *sorted(set(fp.lsh_bands))]


def claim_clusters(
    client: OpenSearch,
    index: str,
    founders: Sequence[tuple[ScoredArticle, Fingerprint]],
    threshold: float,
    memory: ClaimMemory | None = None,
    confirm: Callable[[str, str], bool] | None = None,
) -> dict[str, ClaimJoin]:
    """Claim the keys of would-be cluster founders; those that meet a verified copy's claim join it.

    All keys of all founders go in one bulk request. Between two verified copies, the one holding
    the first key of theirs, in ``claim_keys`` order, that either of them holds founds the
    cluster and the other joins it; each side computes this from the same claims (the other's
    keys follow from its MinHash), so two racing writers agree even when each won some of the
    keys. A key held by an unrelated text (a band collision) is passed over. A founder that joins
    moves its keys to the cluster it joined. Returns article id -> ``ClaimJoin`` for those that join.
    With ``memory`` the claims this writer created are remembered there and not read back (``ClaimMemory``).
    ``confirm(article id, holder id)`` is asked about a holder past the estimate before joining it (the
    exact-shingle verification; False: not a copy, passed over like a band collision).
    """
    from opensearchpy.helpers import bulk

    now = datetime.now(UTC).isoformat()
    plan = {sa.article.id: (fp, claim_keys(fp)) for sa, fp in founders}
    owner: dict[str, str] = {}  # key -> the founder of this request that asks for it
    # The request body is written here, not by opensearch-py's bulk helper: a batch's founders claim
    # about 3,000 keys, and the helper's per-action work cost more than the node's (bench/realpages.py).
    lines: list[str] = []
    for aid, (fp, keys) in plan.items():
        source = {"article_id": aid, "cluster_id": aid, "content_sha1": fp.content_sha1, "created_at": now}
        # the MinHash only on the content-hash claim (position 0): on 64 band claims it was
        # 2 KB of JSON each, most of a pass's dedup time (bench/realpages.py)
        first, rest = json.dumps({**source, "minhash": fp.minhash}), json.dumps(source)
        for position, key in enumerate(keys):
            if key in owner:  # a band collision inside the batch: the first founder asks for it
                continue
            owner[key] = aid
            lines.append(f'{{"create":{{"_id":{json.dumps(key)}}}}}')  # the index is in the URL
            lines.append(first if position == 0 else rest)
    taken: set[str] = set()
    if lines:  # one request for the whole batch
        # only what is read back: the full response was about 200 bytes per claim for the node to
        # write and for us to parse, a third of the pass's JSON (#13)
        resp = client.bulk(index=index, body="\n".join(lines) + "\n", filter_path=_BULK_ITEM_FIELDS)
        for item in resp["items"]:
            info = item.get("create", {})
            if info.get("status") == 409:
                taken.add(info["_id"])
            elif not 200 <= int(info.get("status", 500)) < 300:
                raise RuntimeError(f"dedup claim {info.get('_id')} failed: {info.get('error')}")
    if memory is not None:
        memory.remember(plan, owner, taken)
    wanted_elsewhere = {k for aid, (_fp, keys) in plan.items() for k in keys if owner[k] != aid}
    holders: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for key in sorted(taken | wanted_elsewhere):
        claim = memory.get(key) if memory is not None else None
        if claim is None:
            unknown.append(key)
        else:
            holders[key] = claim
    holders.update(_claims(client, index, unknown))
    joined: dict[str, ClaimJoin] = {}
    for aid, (fp, keys) in plan.items():
        holder_of = {
            k: (aid if owner[k] == aid and k not in taken else holders.get(k, {}).get("article_id")) for k in keys
        }
        join = _join_for(aid, fp, keys, holder_of, holders, threshold, confirm)
        if join is not None:
            joined[aid] = join
    moves = [
        {"_op_type": "update", "_index": index, "_id": key, "doc": {"cluster_id": join.cluster_id}}
        for aid, join in joined.items()
        for key in plan[aid][1]
        if owner[key] == aid and key not in taken or holders.get(key, {}).get("article_id") == aid
    ]
    if moves:
        if memory is not None:
            memory.forget(str(m["_id"]) for m in moves)  # their cluster_id changes (or, if the update fails, not)
        bulk(client, moves, chunk_size=len(moves), raise_on_error=False, raise_on_exception=False)
    return joined


class ClaimMemory:
    """The claims one writer created (``op_type=create`` answered 201), as a realtime GET reads them back
    (with the claimant's MinHash filled in, without ``created_at``, which nothing reads).

    Nobody else changes such a claim: other writers only create keys and move their own, and a move of
    ours forgets the keys it moves. So ``claim_clusters`` reads them from here. Read back from the node,
    each batch's look-up of keys it had just claimed (band collisions inside the batch, or with an
    earlier batch) made the node refresh the claims index to answer it, a third of a batch's claiming
    time on the bench (#13). Bounded: at most ``limit`` keys, the oldest forgotten first, and all of them
    after ``max_age`` seconds, far inside the day after which maintenance prunes claims (``prune_claims``);
    a key not here is read back as before.
    """

    def __init__(self, limit: int = 100_000, max_age: float = 3600.0) -> None:
        self.limit, self.max_age = limit, max_age
        self._claims: dict[str, dict[str, Any]] = {}  # key -> its claimant's claim, shared by its keys
        self._since = time.monotonic()

    def remember(
        self, plan: Mapping[str, tuple[Fingerprint, list[str]]], owner: Mapping[str, str], taken: set[str]
    ) -> None:
        """The keys of this request that its founders created, for founders that created their content-hash
        claim too (the claim that carries the MinHash the others are read back with)."""
        if time.monotonic() - self._since > self.max_age:
            self._claims.clear()
            self._since = time.monotonic()
        for aid, (fp, keys) in plan.items():
            if not keys or owner.get(keys[0]) != aid or keys[0] in taken:
                continue
            claim = {"article_id": aid, "cluster_id": aid, "content_sha1": fp.content_sha1, "minhash": fp.minhash}
            for key in keys:
                if owner[key] == aid and key not in taken:
                    self._claims[key] = claim
        while len(self._claims) > self.limit:
            del self._claims[next(iter(self._claims))]

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of the claim on ``key``, if this writer created it and it is remembered."""
        if time.monotonic() - self._since > self.max_age:
            return None
        claim = self._claims.get(key)
        return None if claim is None else {**claim, "minhash": list(claim["minhash"])}

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._claims.pop(key, None)


def _claims(client: OpenSearch, index: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The claims held on ``keys`` (realtime), each with its claimant's MinHash."""
    if not keys:
        return {}
    docs = client.mget(index=index, body={"ids": keys}, realtime=True)["docs"]
    held = {d["_id"]: d["_source"] for d in docs if d.get("found")}
    _with_minhash(client, index, held)
    return held


def _join_for(
    aid: str,
    fp: Fingerprint,
    keys: list[str],
    holder_of: Mapping[str, str | None],
    claims: Mapping[str, dict[str, Any]],
    threshold: float,
    confirm: Callable[[str, str], bool] | None = None,
) -> ClaimJoin | None:
    """The verified copy whose claim ``aid`` must join, or None when ``aid`` founds its own cluster."""
    decided: set[str] = set()
    for key in keys:
        other = holder_of.get(key)
        if other is None or other == aid or other in decided:
            continue
        decided.add(other)
        claim = claims[key]
        exact = claim.get("content_sha1") == fp.content_sha1
        score = 1.0 if exact else verified_score(fp.minhash, claim.get("minhash") or [], threshold)
        if score is None or not exact and confirm is not None and not confirm(aid, other):
            continue  # a band collision with an unrelated text, or a text the exact shingles say is no copy
        theirs = set(_claimant_keys(claim, len(fp.lsh_bands)))
        # the first shared key that one of the two holds decides; ``key`` is held by ``other``,
        # so an earlier decisive key can only be ours
        decisive = next((k for k in keys if k in theirs and holder_of.get(k) in (aid, other)), key)
        if holder_of[decisive] == other:
            return ClaimJoin(claim["cluster_id"], claim["article_id"], score, exact)
    return None


def _claimant_keys(claim: Mapping[str, Any], bands: int) -> list[str]:
    """The keys the claimant of ``claim`` asked for, rebuilt from its content hash and MinHash."""
    minhash = claim.get("minhash") or []
    band_keys = lsh_band_keys(minhash, bands) if bands else []  # a text too short for shingles has no bands
    return claim_keys(Fingerprint(str(claim.get("content_sha1")), minhash, band_keys))


def _with_minhash(client: OpenSearch, index: str, held: dict[str, dict[str, Any]]) -> None:
    """Band claims carry no MinHash: take it from their claimant's content-hash claim (claimed first)."""
    wanted = {f"sha1_{c['content_sha1']}" for c in held.values() if not c.get("minhash") and c.get("content_sha1")}
    if not wanted:
        return
    docs = client.mget(index=index, body={"ids": sorted(wanted)}, realtime=True)["docs"]
    minhashes = {d["_id"]: d["_source"].get("minhash") for d in docs if d.get("found")}
    for claim in held.values():
        if not claim.get("minhash"):
            claim["minhash"] = minhashes.get(f"sha1_{claim.get('content_sha1')}") or []


def _rejoin(articles: Sequence[ScoredArticle], joined: Mapping[str, ClaimJoin]) -> None:
    """Founders that lost a claim join the claimant's cluster; their batch members follow them."""
    if not joined:
        return
    for sa in articles:
        join = joined.get(sa.article.id)
        if join is not None:
            sa.story_cluster_id = join.cluster_id
            sa.near_duplicate_of = join.article_id
            sa.duplicate_kind = "exact" if join.exact else "near"
            sa.duplicate_of = join.article_id if join.exact else None
            sa.duplicate_score = join.score
            sa.cluster_size = max(sa.cluster_size or 1, 2)
        elif sa.story_cluster_id is not None and sa.story_cluster_id in joined:
            sa.story_cluster_id = joined[sa.story_cluster_id].cluster_id


def prune_claims(client: OpenSearch, index: str, older_than_hours: float = 24.0) -> int:
    """Delete claims older than the race window they guard (later copies find the story in the articles index)."""
    from opensearchpy.exceptions import NotFoundError

    try:
        resp = client.delete_by_query(
            index=index,
            body={"query": {"range": {"created_at": {"lt": f"now-{int(older_than_hours * 3600)}s"}}}},
            conflicts="proceed",
            refresh=True,
        )
    except NotFoundError:
        return 0
    return int(resp.get("deleted", 0))


def apply_cluster_updates(
    client: OpenSearch,
    index_alias: str,
    updates: Mapping[str, int | Mapping[str, Any]],
    refresh: bool | str = False,
) -> list[IndexOutcome]:
    """Apply representative updates (``{id: size}`` or ``{id: partial_doc}``); one outcome per id.

    The alias may span several rolled-over indices and bulk updates need a
    concrete index, so each id's index is looked up with one ``ids`` search.
    """
    if not updates:
        return []
    ids = list(updates)
    resp = client.search(
        index=index_alias,
        body={"query": {"ids": {"values": ids}}, "_source": False, "size": len(ids)},
    )
    where = {h["_id"]: h["_index"] for h in resp["hits"]["hits"]}
    actions = []
    for doc_id, change in updates.items():
        if doc_id in where:
            doc = {"cluster_size": change} if isinstance(change, int) else dict(change)
            actions.append({"_op_type": "update", "_index": where[doc_id], "_id": doc_id, "doc": doc})
    outcomes = bulk_write(client, actions, refresh=refresh) if actions else []
    missing = [IndexOutcome(i, None, "failed", f"not found in {index_alias}") for i in ids if i not in where]
    return outcomes + missing
