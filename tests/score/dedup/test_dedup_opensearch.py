"""Deduplicator against a real OpenSearch node: exact, near, in-batch, takeover, baseline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.records import Article, ScoredArticle, stable_id
from newsdrift.score.dedup.deduplicator import Deduplicator
from newsdrift.score.dedup.minhash import fingerprint
from newsdrift.score.dedup.settings import DedupConfig
from newsdrift.score.dedup.writes import apply_cluster_updates
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.names import IndexNames

DATA = Path(__file__).parents[2] / "data" / "dedup"
DAY0 = datetime(2025, 7, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    rows = [json.loads(line) for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r["text"] for r in rows}


class CountingClient:
    """Passes every call through to the real client, counting search round trips."""

    def __init__(self, client: OpenSearch) -> None:
        self._client = client
        self.calls: dict[str, int] = {"msearch": 0, "search": 0}

    def msearch(self, **kwargs: Any) -> Any:
        self.calls["msearch"] += 1
        return self._client.msearch(**kwargs)

    def search(self, **kwargs: Any) -> Any:
        self.calls["search"] += 1
        return self._client.search(**kwargs)


def scored(name: str, text: str, day: int) -> ScoredArticle:
    url = f"https://news.example/{name}"
    art = Article(
        id=stable_id(url),
        url=url,
        canonical_url=url,
        source="example",
        feed_url="https://news.example/rss",
        title=name,
        text=text,
        authors=[],
        published_at=DAY0 + timedelta(days=day),
        fetched_at=DAY0 + timedelta(days=30),
        language="en",
        site_name="Example",
        word_count=len(text.split()),
        content_sha1="",
    )
    return ScoredArticle(article=art)


def index_batch(client: OpenSearch, names: IndexNames, batch: list[ScoredArticle]) -> None:
    outcomes = bulk_write(
        client, write_actions(names.articles, ((s.article.id, s.to_document()) for s in batch)), refresh="wait_for"
    )
    assert all(o.ok for o in outcomes), outcomes


def stored(client: OpenSearch, names: IndexNames, sa: ScoredArticle) -> dict[str, Any]:
    hits = client.search(index=names.articles, body={"query": {"ids": {"values": [sa.article.id]}}})["hits"]["hits"]
    assert len(hits) == 1
    return hits[0]["_source"]


def assert_untouched(sa: ScoredArticle) -> None:
    assert sa.duplicate_of is None and sa.duplicate_kind is None and sa.near_duplicate_of is None
    assert sa.story_cluster_id == sa.article.id
    assert sa.cluster_size == 1


def test_exact_near_negative_and_baseline(
    opensearch_client: OpenSearch, initialized_names: IndexNames, texts: dict[str, str]
) -> None:
    names, settings = initialized_names, DedupConfig()
    seed = texts["seed_000_115c7577b75f2486:orig"]
    baseline_fp = fingerprint(seed, settings)
    opensearch_client.index(
        index=names.baseline,
        id="bl-1:seed-000",
        body={
            "doc_id": "seed-000",
            "baseline_id": "bl-1",
            "text": seed,
            "content_sha1": baseline_fp.content_sha1,
            "minhash": baseline_fp.minhash,
            "lsh_bands": baseline_fp.lsh_bands,
        },
        refresh=True,
    )
    dedup = Deduplicator(opensearch_client, names.articles, names.baseline, settings)

    original = scored("original", texts["01_llama_405b_release:orig"], day=0)
    other = scored("other-story", texts["03_llama_licence_critics:orig"], day=1)
    first = dedup.score_batch([original, other])
    assert dedup.last_updates == {}
    for sa in first:
        assert_untouched(sa)
        assert sa.baseline_match is None
        assert len(sa.minhash) == settings.num_perm and len(sa.lsh_bands) == settings.bands
    index_batch(opensearch_client, names, first)

    # Same text after normalisation: case, punctuation and spacing differ.
    exact = scored("exact", "  " + original.article.text.upper().replace(".", " . "), day=3)
    near_1 = scored("near-1", texts["01_llama_405b_release:v1"], day=2)
    near_2 = scored("near-2", texts["01_llama_405b_release:v2"], day=4)
    negative = scored("negative", texts["15_brief_llama_downloads:orig"], day=2)
    copy_of_baseline = scored("baseline-copy", texts["seed_000_115c7577b75f2486:v1"], day=2)
    counting = CountingClient(opensearch_client)
    batch = [exact, near_1, near_2, negative, copy_of_baseline]
    result = Deduplicator(counting, names.articles, names.baseline, settings).score(batch)  # type: ignore[arg-type]
    # One candidate _msearch; verification adds one search for the candidates' texts and, once per
    # Deduplicator, one for the document-frequency sample.
    assert counting.calls == {"msearch": 1, "search": 2}

    assert exact.duplicate_kind == "exact"
    assert exact.duplicate_of == original.article.id
    assert exact.near_duplicate_of == original.article.id
    assert exact.story_cluster_id == original.article.id
    assert exact.duplicate_score == 1.0
    assert exact.article.content_sha1 == original.article.content_sha1

    for sa in (near_1, near_2):
        assert sa.duplicate_kind == "near"
        assert sa.duplicate_of is None
        assert sa.near_duplicate_of == original.article.id  # earliest published = representative
        assert sa.story_cluster_id == original.article.id
        assert sa.duplicate_score is not None and sa.duplicate_score >= settings.threshold
    assert [exact.cluster_size, near_1.cluster_size, near_2.cluster_size] == [2, 3, 4]  # snapshots on arrival

    assert_untouched(negative)
    assert negative.baseline_match is None
    assert_untouched(copy_of_baseline)
    assert copy_of_baseline.baseline_match is not None
    assert copy_of_baseline.baseline_match["baseline_id"] == "bl-1"
    assert copy_of_baseline.baseline_match["doc_id"] == "seed-000"
    assert copy_of_baseline.baseline_match["score"] >= settings.threshold

    assert result.updates == {original.article.id: {"cluster_size": 4}}
    assert result.cluster_sizes == {original.article.id: 4}
    index_batch(opensearch_client, names, batch)
    outcomes = apply_cluster_updates(opensearch_client, names.articles, result.cluster_sizes, refresh="wait_for")
    assert [(o.doc_id, o.status) for o in outcomes] == [(original.article.id, "updated")]
    assert outcomes[0].index == names.articles_index(1)
    assert stored(opensearch_client, names, original)["cluster_size"] == 4
    untouched = stored(opensearch_client, names, other)
    assert untouched["cluster_size"] == 1 and "near_duplicate_of" not in untouched

    # Scored again after indexing (a re-polled feed): kept as stored, not counted twice.
    again = scored("near-1", texts["01_llama_405b_release:v1"], day=2)
    dedup.score_batch([again])
    assert (again.near_duplicate_of, again.story_cluster_id, again.cluster_size) == (original.article.id,) * 2 + (3,)
    assert again.duplicate_kind == "near" and again.duplicate_score == near_1.duplicate_score
    assert dedup.last_updates == {}

    # A later copy finds the stored cluster and its current size.
    late = scored("near-late", texts["01_llama_405b_release:v3"], day=9)
    dedup.score_batch([late])
    assert late.near_duplicate_of == original.article.id
    assert late.cluster_size == 5
    assert dedup.last_updates == {original.article.id: {"cluster_size": 5}}


def test_earlier_article_takes_over_as_representative(
    opensearch_client: OpenSearch, initialized_names: IndexNames, texts: dict[str, str]
) -> None:
    names = initialized_names
    dedup = Deduplicator(opensearch_client, names.articles, names.baseline)
    later = scored("later", texts["02_osi_definition:v1"], day=5)
    index_batch(opensearch_client, names, dedup.score_batch([later]))

    earlier = scored("earlier", texts["02_osi_definition:orig"], day=1)
    dedup.score_batch([earlier])
    # The cluster id stays that of the first indexed article; the earlier one represents it.
    assert earlier.story_cluster_id == later.article.id
    assert earlier.near_duplicate_of is None and earlier.duplicate_kind is None
    assert earlier.cluster_size == 2
    demotion = dedup.last_updates[later.article.id]
    assert demotion["near_duplicate_of"] == earlier.article.id
    assert demotion["duplicate_kind"] == "near"
    assert "cluster_size" not in demotion
    index_batch(opensearch_client, names, [earlier])
    outcomes = apply_cluster_updates(opensearch_client, names.articles, dedup.last_updates, refresh="wait_for")
    assert all(o.ok for o in outcomes)
    demoted = stored(opensearch_client, names, later)
    assert demoted["near_duplicate_of"] == earlier.article.id and demoted["duplicate_kind"] == "near"

    middle = scored("middle", texts["02_osi_definition:v2"], day=3)
    dedup.score_batch([middle])
    assert middle.near_duplicate_of == earlier.article.id
    assert middle.story_cluster_id == later.article.id
    assert middle.cluster_size == 3
    assert dedup.last_updates == {earlier.article.id: {"cluster_size": 3}}
    outcomes = apply_cluster_updates(opensearch_client, names.articles, dedup.last_updates, refresh="wait_for")
    assert [o.status for o in outcomes] == ["updated"]
    assert stored(opensearch_client, names, earlier)["cluster_size"] == 3


def test_duplicates_within_one_batch(
    opensearch_client: OpenSearch, initialized_names: IndexNames, texts: dict[str, str]
) -> None:
    names = initialized_names
    dedup = Deduplicator(opensearch_client, names.articles, names.baseline)
    copy = scored("copy", texts["04_eu_ai_act:v1"], day=3)
    source = scored("source", texts["04_eu_ai_act:orig"], day=1)
    repost = scored("repost", texts["04_eu_ai_act:orig"], day=5)
    unrelated = scored("unrelated", texts["05_mistral_apache:orig"], day=2)
    dedup.score_batch([copy, source, repost, unrelated])

    cluster = copy.article.id  # first seen in the batch
    assert {sa.story_cluster_id for sa in (copy, source, repost)} == {cluster}
    assert source.near_duplicate_of is None and source.cluster_size == 3  # earliest: representative
    assert copy.near_duplicate_of == source.article.id and copy.duplicate_kind == "near"
    assert repost.duplicate_kind == "exact" and repost.duplicate_of == source.article.id
    assert repost.near_duplicate_of == source.article.id
    assert_untouched(unrelated)
    assert dedup.last_updates == {}  # everyone involved is in the batch itself
    index_batch(opensearch_client, names, [copy, source, repost, unrelated])


def test_apply_cluster_updates_reports_missing_documents(
    opensearch_client: OpenSearch, initialized_names: IndexNames
) -> None:
    outcomes = apply_cluster_updates(opensearch_client, initialized_names.articles, {"no-such-id": 3})
    assert [(o.doc_id, o.status) for o in outcomes] == [("no-such-id", "failed")]


def test_candidates_past_the_limit_are_ranked(
    opensearch_client: OpenSearch, initialized_names: IndexNames, texts: dict[str, str]
) -> None:
    """Candidates come from an unranked query; only an article with more than ``candidate_limit`` of them is
    asked again with the ranked one (most shared bands first), so both get the candidates the ranked query
    alone gave."""
    names, settings = initialized_names, DedupConfig(candidate_limit=3, verify_threshold=0)
    story = [texts[f"01_llama_405b_release:{v}"] for v in ("orig", "v1", "v2")]
    indexed = [scored(f"copy-{i}", f"{text}\n\nCopy {i} of the wire story.", day=i) for i, text in enumerate(story * 2)]
    index_batch(opensearch_client, names, Deduplicator(opensearch_client, names.articles, None).score_batch(indexed))
    lone = scored("lone", texts["05_mistral_apache:orig"], day=1)
    index_batch(opensearch_client, names, Deduplicator(opensearch_client, names.articles, None).score_batch([lone]))

    def ranked_alone(sa: ScoredArticle) -> list[str]:
        fp = fingerprint(sa.article.text, settings)
        query = Deduplicator(opensearch_client, names.articles, None, settings)._candidate_query(fp, sa.article.id)
        return [h["_id"] for h in opensearch_client.search(index=names.articles, body=query)["hits"]["hits"]]

    copy = scored("copy-new", story[0] + "\n\nAnother copy.", day=9)
    copy_of_lone = scored("lone-copy", texts["05_mistral_apache:v1"], day=9)
    counting = CountingClient(opensearch_client)
    dedup = Deduplicator(counting, names.articles, None, settings)  # type: ignore[arg-type]
    fps = [fingerprint(sa.article.text, settings) for sa in (copy, copy_of_lone)]
    candidates, _ = dedup._search([copy, copy_of_lone], fps)
    assert counting.calls["msearch"] == 2  # the unranked query, then the ranked one for `copy` only
    assert [c.id for c in candidates[0]] == ranked_alone(copy)  # 6 copies match: the 3 best, in order
    assert len(candidates[0]) == settings.candidate_limit
    assert sorted(c.id for c in candidates[1]) == sorted(ranked_alone(copy_of_lone)) == [lone.article.id]
    result = dedup.score([copy, copy_of_lone])
    assert result.saturated == 1 and counting.calls["msearch"] == 4
    assert copy.story_cluster_id in {sa.article.id for sa in indexed} and copy.duplicate_kind == "near"
    assert copy_of_lone.story_cluster_id == lone.article.id


def test_batch_search_gives_each_article_what_its_own_queries_give(
    opensearch_client: OpenSearch, initialized_names: IndexNames, texts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's candidates come from one search of the articles and one of the baseline, sorted out per
    article: the same candidates and the same baseline hits, in the same order (the baseline's are cut at
    ``candidate_limit``: which ones come back is the index order), as each article's own queries."""
    import newsdrift.score.dedup.candidates as candidates_module

    names, settings = initialized_names, DedupConfig(candidate_limit=2, verify_threshold=0)
    story = [texts[f"01_llama_405b_release:{v}"] for v in ("orig", "v1", "v2")]
    for i, text in enumerate([*story, story[0] + "\n\nA reprint in the baseline."]):  # more than the limit
        fp = fingerprint(text, settings)
        body = {"doc_id": f"doc-{i}", "baseline_id": "bl-1", "text": text, "content_sha1": fp.content_sha1}
        body |= {"minhash": fp.minhash, "lsh_bands": fp.lsh_bands}
        opensearch_client.index(index=names.baseline, id=f"bl-1:doc-{i}", body=body, refresh=True)
    indexed = [scored(f"copy-{i}", f"{text}\n\nCopy {i} of the wire story.", day=i) for i, text in enumerate(story * 2)]
    indexed.append(scored("lone", texts["05_mistral_apache:orig"], day=1))
    index_batch(opensearch_client, names, Deduplicator(opensearch_client, names.articles, None).score_batch(indexed))
    batch = [
        scored("copy-new", story[0] + "\n\nAnother copy.", day=9),  # 6 indexed candidates: ranked
        scored("lone-copy", texts["05_mistral_apache:v1"], day=9),  # one
        scored("other", texts["03_llama_licence_critics:orig"], day=9),  # none, or band collisions
        indexed[-1],  # already indexed: its own id is a candidate
        scored("empty", "", day=9),  # no bands: not asked
    ]
    fps = [fingerprint(sa.article.text, settings) for sa in batch]
    dedup = Deduplicator(opensearch_client, names.articles, names.baseline, settings)

    def ids(found: tuple[list[list[Any]], list[list[dict[str, Any]]]]) -> tuple[list[list[str]], list[list[str]]]:
        return [[c.id for c in cands] for cands in found[0]], [[h["_id"] for h in hits] for hits in found[1]]

    together = ids(dedup._search(batch, fps))
    monkeypatch.setattr(candidates_module, "_BATCH_HITS", 1)  # past it: each article asked on its own
    one_by_one = ids(dedup._search(batch, fps))
    monkeypatch.setattr(candidates_module, "_BATCH_TERMS", 0)
    assert together == one_by_one == ids(dedup._search(batch, fps))
    candidates, baseline = together
    assert len(candidates[0]) == settings.candidate_limit and len(baseline[0]) == settings.candidate_limit
    assert candidates[1] == [indexed[-1].article.id] and indexed[-1].article.id in candidates[3]
    assert candidates[4] == [] and baseline[4] == []


class ClaimCallsClient:
    """Passes every call through to the real client, counting the realtime reads of claims."""

    def __init__(self, client: OpenSearch) -> None:
        self._client = client
        self.reads = 0

    def mget(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self._client.mget(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_claims_this_writer_made_are_not_read_back(
    opensearch_client: OpenSearch, initialized_names: IndexNames
) -> None:
    """A copy claiming after its original through the same ``ClaimMemory`` joins it as it would through the
    node, with no realtime read of the claims (each one makes the node refresh the claims index)."""
    from newsdrift.score.dedup.claims import ClaimJoin, ClaimMemory, claim_clusters

    body = "\n".join(f"Paragraph {i} of the story says the open model weights were released today." for i in range(8))
    threshold, memory = DedupConfig().threshold, ClaimMemory()

    def founder(name: str) -> list[tuple[ScoredArticle, Any]]:
        sa = scored(name, body, day=0)
        return [(sa, fingerprint(body, DedupConfig()))]

    counting = ClaimCallsClient(opensearch_client)
    claims = initialized_names.claims
    assert claim_clusters(counting, claims, founder("a"), threshold, memory) == {}  # type: ignore[arg-type]
    original = founder("a")[0][0].article.id
    joined = claim_clusters(counting, claims, founder("b"), threshold, memory)  # type: ignore[arg-type]
    assert counting.reads == 0
    read_back = claim_clusters(counting, claims, founder("c"), threshold)  # type: ignore[arg-type]
    assert counting.reads >= 1
    assert [*joined.values()] == [*read_back.values()] == [ClaimJoin(original, original, 1.0, True)]
