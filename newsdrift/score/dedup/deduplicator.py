"""The dedup stage's entry point: ``Deduplicator`` fills the exact and near-duplicate fields of a batch of
articles from its candidates, its exact-shingle verification, cluster placement and claims."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.records import ScoredArticle
from newsdrift.score.dedup.candidates import Candidate, CandidateSearch
from newsdrift.score.dedup.claims import ClaimMemory, claim_clusters, rejoin
from newsdrift.score.dedup.clusters import BatchPlacement
from newsdrift.score.dedup.minhash import Fingerprint, fingerprint, pair_past_estimate, verified_score
from newsdrift.score.dedup.settings import DedupConfig
from newsdrift.score.dedup.verify import ShingleFrequency, is_copy, shingle_hashes


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


class Deduplicator(CandidateSearch):
    """Scores batches of articles for exact and near duplicates with one ``_msearch`` per batch.

    Two texts are near-duplicates when they share at least one band key (the candidate test the node runs on
    ``lsh_bands``), the Jaccard estimate of their signatures reaches ``DedupConfig.gate`` and their exact
    shingles confirm it (``verify.py``); with verification off, when the estimate reaches
    ``DedupConfig.threshold``. Where each article goes is ``BatchPlacement``'s business.

    Call ``score_batch`` before indexing the batch, index it (with a refresh,
    or the next batch will not see it), then apply ``last_updates`` with
    ``writes.apply_cluster_updates``. With ``claims_index`` new clusters are claimed there first, so
    concurrent writers agree on one cluster per story (``claims.claim_clusters``).
    """

    def __init__(
        self,
        client: OpenSearch,
        articles_index: str,
        baseline_index: str | None,
        config: DedupConfig | None = None,
        claims_index: str | None = None,
    ) -> None:
        super().__init__(client, articles_index, baseline_index, config or DedupConfig())
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
        verify = self._verifier(articles, fps, indexed) if self.config.verify_threshold > 0 else None
        state = BatchPlacement(self.config.gate if verify is not None else self.config.threshold, verify)
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
                self.client, self.claims_index, founders, self.config.threshold, self._claim_memory, confirm
            )
            rejoin(articles, joined)
        limit = self.config.candidate_limit
        return DedupResult(
            articles,
            state.finish(),
            candidates=sum(len(c) for c in indexed),
            saturated=sum(1 for c in indexed if len(c) >= limit),
        )

    def _verifier(
        self, articles: list[ScoredArticle], fps: list[Fingerprint], indexed: list[list[Candidate]]
    ) -> Callable[..., bool]:
        """The exact-shingle check for this batch: texts of the batch, plus those of the indexed candidates
        that pass the MinHash estimate (one search), weighted by document frequencies over a sample.
        ``verify(own, other, unknown=False)``: ``unknown`` is the answer when ``other``'s text was not read."""
        texts = {sa.article.id: sa.article.text for sa in articles}
        wanted = {
            c.id
            for fp, cands in zip(fps, indexed, strict=True)
            for c in cands
            if c.content_sha1 != fp.content_sha1
            and c.id not in texts
            and verified_score(fp.minhash, c.minhash, self.config.gate) is not None
        }
        batch_pairs = pair_past_estimate(fps, self.config.gate)
        if wanted:
            texts.update(self._texts(sorted(wanted)))
        if (wanted or batch_pairs) and self._freq is None:
            self._freq = ShingleFrequency()
            for doc_id, text in self._sample_texts().items():
                self._freq.add(doc_id, shingle_hashes(text, self.config))
        hashes: dict[str, frozenset[int]] = {}

        def shingled(doc_id: str) -> frozenset[int]:
            found = hashes.get(doc_id)
            if found is None:
                found = hashes[doc_id] = shingle_hashes(texts.get(doc_id, ""), self.config)
                if self._freq is not None:
                    self._freq.add(doc_id, found)
            return found

        if wanted or batch_pairs:
            for doc_id in texts:
                shingled(doc_id)

        def verify(own: str, other: str, unknown: bool = False) -> bool:
            if other not in texts:
                return unknown  # not read (withdrawn since the candidate search, or not indexed yet)
            return is_copy(shingled(own), shingled(other), self._freq, self.config.verify_threshold)[0]

        return verify

    def _texts(self, ids: list[str]) -> dict[str, str]:
        resp = self.client.search(
            index=self.articles_index,
            body={"size": len(ids), "_source": ["text"], "query": {"ids": {"values": ids}}},
        )
        return {h["_id"]: h["_source"].get("text") or "" for h in resp["hits"]["hits"]}

    def _sample_texts(self) -> dict[str, str]:
        if not self.config.df_sample:
            return {}
        resp = self.client.search(
            index=self.articles_index,
            ignore_unavailable=True,
            body={
                "size": self.config.df_sample,
                "_source": ["text"],
                "query": {"match_all": {}},
                "sort": [{"published_at": {"order": "desc", "missing": "_last", "unmapped_type": "date"}}],
            },
        )
        return {h["_id"]: h["_source"].get("text") or "" for h in resp["hits"]["hits"]}

    def _fingerprint(self, sa: ScoredArticle) -> Fingerprint:
        """The extraction workers' fingerprint (made with the default shape) when this config has that shape, else
        computed here."""
        if sa.minhash and sa.lsh_bands and self.config.fingerprint_shape == DedupConfig().fingerprint_shape:
            return Fingerprint(sa.article.content_sha1, sa.minhash, sa.lsh_bands)
        return fingerprint(sa.article.text, self.config)

    def _best_baseline(self, fp: Fingerprint, hits: list[dict[str, Any]]) -> dict[str, Any] | None:
        best: dict[str, Any] | None = None
        for h in hits:
            src = h.get("_source", {})
            score = verified_score(fp.minhash, src.get("minhash") or [], self.config.threshold)
            if score is not None and (best is None or score > best["score"]):
                best = {"baseline_id": src.get("baseline_id"), "doc_id": src.get("doc_id") or h["_id"], "score": score}
        return best
