"""Candidate search: the indexed articles and baseline documents that share a band key (or the exact hash) with
the articles of a batch, read with one ``_msearch`` per batch because a query per article costs the node far more."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.records import ScoredArticle
from newsdrift.score.dedup.minhash import Fingerprint
from newsdrift.score.dedup.settings import DedupConfig

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
# A batch's candidate searches (``CandidateSearch._search``): hits past this, or band keys past this (the node's
# ``index.max_terms_count`` is 65,536), and each article is asked on its own.
_BATCH_HITS = 2_000
_BATCH_TERMS = 60_000
_LATEST = datetime.max.replace(tzinfo=UTC)  # unknown dates sort last: never representative by default


def as_utc(value: datetime | str | None) -> datetime:
    """An aware UTC datetime; a missing or unreadable date sorts after every real one."""
    if value is None:
        return _LATEST
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return _LATEST
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(slots=True)
class Candidate:
    """An indexed article that shares a band key, the exact hash or the id with an article of the batch."""

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
    def from_hit(cls, hit: Mapping[str, Any]) -> Candidate:
        src = hit.get("_source", {})
        return cls(
            id=hit["_id"],
            minhash=list(src.get("minhash") or []),
            published=as_utc(src.get("published_at")),
            cluster_id=src.get("story_cluster_id") or hit["_id"],
            near_duplicate_of=src.get("near_duplicate_of"),
            duplicate_of=src.get("duplicate_of"),
            content_sha1=src.get("content_sha1"),
            cluster_size=int(src.get("cluster_size") or 1),
            duplicate_kind=src.get("duplicate_kind"),
            duplicate_score=src.get("duplicate_score"),
        )


class CandidateSearch:
    """The node queries that find each article's candidates; ``Deduplicator`` builds on it."""

    def __init__(
        self, client: OpenSearch, articles_index: str, baseline_index: str | None, config: DedupConfig
    ) -> None:
        self.client = client
        self.articles_index = articles_index
        self.baseline_index = baseline_index
        self.config = config

    def _search(
        self, articles: list[ScoredArticle], fps: list[Fingerprint]
    ) -> tuple[list[list[Candidate]], list[list[dict[str, Any]]]]:
        """Per article, candidates in the articles alias and in the baseline, from one ``_msearch`` of two
        searches for the whole batch (``_batch_query``): every document that shares a band key (or, in the
        articles, the exact hash or the id) with any article of the batch, sorted out per article here.

        Each article gets what its own query would return (``_all_candidates_query``, and the baseline's
        ``terms`` query, both unranked: the hits of a constant score come in index order, so the batch's hits
        filtered to one article are that article's hits in the same order) for a fraction of the node's work:
        100 queries a batch cost far more than one. A batch whose hits pass ``_BATCH_HITS`` is asked
        again article by article (``_article_queries``).

        When at most ``candidate_limit`` indexed candidates match an article they are all there are, the same
        set the ranked query gives, and their order decides nothing (``BatchPlacement`` picks matches by score,
        then date and id). Only articles with more go through the ranked query (``_candidate_query``), in a
        second ``_msearch``.
        """
        indexed: list[list[Candidate]] = [[] for _ in articles]
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
        limit = self.config.candidate_limit
        ranked: list[int] = []  # more candidates than the limit: the best ones are wanted
        for n, i in enumerate(live):
            if self.baseline_index:
                baseline[i] = found["baseline"][n][:limit]
            hits = found["articles"][n]
            if len(hits) > limit:
                ranked.append(i)
            else:
                indexed[i] = [Candidate.from_hit(h) for h in hits]
        if ranked:
            body = []
            for i in ranked:
                body += [
                    {"index": self.articles_index, "ignore_unavailable": True},
                    self._candidate_query(fps[i], articles[i].article.id),
                ]
            for i, r in zip(ranked, self.client.msearch(body=body)["responses"], strict=True):
                indexed[i] = [Candidate.from_hit(h) for h in _hits(r, "articles")]
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
                        "size": self.config.candidate_limit,
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
            "size": self.config.candidate_limit + 1,
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
            "size": self.config.candidate_limit,
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
