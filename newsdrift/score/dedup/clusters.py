"""Cluster placement: which story cluster each article of a batch joins and which member represents it, decided
in the indexing process so one pass keeps every story in one cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsdrift.records import ScoredArticle
from newsdrift.score.dedup.candidates import Candidate, as_utc
from newsdrift.score.dedup.minhash import Fingerprint, jaccard_estimate, verified_score


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
    candidate: Candidate | None = None


def _restore(sa: ScoredArticle, stored: Candidate) -> None:
    """An article scored again after it was indexed keeps what it has: counting it twice would inflate sizes."""
    sa.story_cluster_id = stored.cluster_id
    sa.cluster_size = stored.cluster_size
    sa.near_duplicate_of = stored.near_duplicate_of
    sa.duplicate_of = stored.duplicate_of
    sa.duplicate_kind = stored.duplicate_kind
    sa.duplicate_score = stored.duplicate_score


def _key(article: ScoredArticle) -> tuple[datetime, str]:
    return (as_utc(article.article.published_at), article.article.id)


class BatchPlacement:
    """Cluster bookkeeping for one batch, in arrival order.

    * ``story_cluster_id`` is the id of the first article of the story that was indexed; it never changes, so
      it is the key to group by.
    * The *representative* is the earliest-published member (ties: smaller id). Members point to it with
      ``near_duplicate_of``; it has none itself and its ``cluster_size`` is kept current. Other members keep
      the size as it was when they arrived (a snapshot, handy for percolator burst rules).
    * When an arriving article was published before the current representative it takes over: it joins the
      same ``story_cluster_id``, carries the current size, and the old representative is demoted
      (``near_duplicate_of`` = the newcomer, ``duplicate_kind="near"``). Members that already pointed at the
      old representative are not rewritten: that would be an unbounded update; ``story_cluster_id`` stays the
      stable join key. Exact copies never take over.
    * Clusters are never merged; an article that matches several clusters joins the one holding its best
      match (an exact copy: its original's cluster).
    * The representative's current size is read from the candidate hits (ranked by shared bands, then
      earliest first), so it is normally among them. If it is not (a chain of near copies that drifted away
      from it), the largest member snapshot seen is used as a lower bound and no takeover is attempted.
    * ``duplicate_score`` is the Jaccard estimate against the best match (1.0 for exact copies).
    """

    def __init__(self, threshold: float, verify: Callable[[str, str], bool] | None = None) -> None:
        self.threshold = threshold
        self.verify = verify  # exact-shingle check of (article id, candidate id) past the estimate
        self.clusters: dict[str, _Cluster] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.band_index: dict[str, list[ScoredArticle]] = {}
        self.first_by_sha: dict[str, ScoredArticle] = {}

    def place(self, sa: ScoredArticle, fp: Fingerprint, indexed: list[Candidate]) -> bool:
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

    def _indexed_matches(self, own: str, fp: Fingerprint, indexed: list[Candidate]) -> list[_Match]:
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

    def _cluster_for(self, best: _Match, indexed: list[Candidate]) -> _Cluster:
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
