"""A trimmed copy in another site's chrome: its MinHash estimate is low, its exact shingles are not."""

from __future__ import annotations

import json

import pytest
from opensearchpy import OpenSearch

from newsdrift.records import ScoredArticle
from newsdrift.score.dedup.deduplicator import Deduplicator
from newsdrift.score.dedup.minhash import fingerprint, jaccard_estimate
from newsdrift.score.dedup.settings import DedupConfig
from newsdrift.store.names import IndexNames
from tests.score.dedup.test_dedup_opensearch import DATA, index_batch, scored


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if len(p.split()) >= 10]


@pytest.mark.parametrize("story", ["04_eu_ai_act", "05_mistral_apache"])
def test_a_third_of_a_story_in_another_sites_chrome_is_verified_past_a_lower_gate(
    opensearch_client: OpenSearch, initialized_names: IndexNames, story: str
) -> None:
    rows = [json.loads(line) for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {r["id"]: r["text"] for r in rows}
    chrome_src = _paragraphs(texts["14_false_binary_opinion:orig"]) + _paragraphs(
        texts["13_training_data_transparency:orig"]
    )
    site_y = [" ".join(p.split()[:40]) for p in chrome_src[:4]]  # a header and a footer of two lines each
    site_x = [" ".join(p.split()[:40]) for p in chrome_src[4:6]]
    body = _paragraphs(texts[f"{story}:orig"])
    original = scored(f"{story}-x", "\n".join([site_x[0], *body, site_x[1]]), day=0)
    # site Y's other stories: its chrome is frequent in the index, so it weighs little in the verification
    others = [
        scored(f"y-{name}", "\n".join([site_y[0], site_y[1], *_paragraphs(texts[f"{name}:orig"])[:3], *site_y[2:]]), 1)
        for name in ("07_ntia_report", "08_sb1047", "11_derivatives_hub", "12_startups_cost")
    ]
    names = initialized_names
    index_batch(opensearch_client, names, Deduplicator(opensearch_client, names.articles, None).score_batch([original]))
    index_batch(opensearch_client, names, Deduplicator(opensearch_client, names.articles, None).score_batch(others))

    def on_site_y(name: str, paragraphs: list[str], day: int) -> ScoredArticle:
        return scored(name, "\n".join([site_y[0], site_y[1], *paragraphs, *site_y[2:]]), day)

    copy = on_site_y(f"{story}-y", body[:2], day=2)  # the first third of the story
    settings = DedupConfig(verify_gate=0.15)
    a, b = fingerprint(original.article.text, settings), fingerprint(copy.article.text, settings)
    estimate = jaccard_estimate(a.minhash, b.minhash)
    assert set(a.lsh_bands) & set(b.lsh_bands) and settings.verify_gate <= estimate < settings.threshold
    # With the default gate (the estimate threshold) the copy is not even verified: a story of its own.
    old = on_site_y(f"{story}-y", body[:2], day=2)
    Deduplicator(opensearch_client, names.articles, None, DedupConfig()).score_batch([old])
    assert old.duplicate_kind is None and old.story_cluster_id == old.article.id
    # Past a lower gate its exact shingles are compared, and it joins the original's story.
    Deduplicator(opensearch_client, names.articles, None, settings).score_batch([copy])
    assert copy.duplicate_kind == "near" and copy.story_cluster_id == original.article.id
    assert copy.duplicate_score == pytest.approx(estimate)
    # Another story of site Y shares only the chrome with the copy's site: not a copy.
    unrelated = on_site_y("y-unrelated", _paragraphs(texts["09_openai_open_weights:orig"])[:2], day=3)
    Deduplicator(opensearch_client, names.articles, None, settings).score_batch([unrelated])
    assert unrelated.duplicate_kind is None


def test_a_pair_the_verification_rejects_is_not_joined_through_the_claims(
    opensearch_client: OpenSearch, initialized_names: IndexNames
) -> None:
    """Two short stories of one site share its chrome: their estimate passes 0.25, their exact shingles do not.
    The second founds its own story in the search path, and must not join the first through the claims."""
    rows = [json.loads(line) for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {r["id"]: r["text"] for r in rows}
    chrome = [" ".join(p.split()[:40]) for p in _paragraphs(texts["14_false_binary_opinion:orig"])[:4]]
    names, settings = initialized_names, DedupConfig()

    def on_site(name: str, story: str, day: int) -> ScoredArticle:
        return scored(name, "\n".join([chrome[0], chrome[1], *_paragraphs(texts[story])[:2], *chrome[2:]]), day)

    # the site's other articles: its chrome is frequent in the index, so it weighs little in the verification
    stories = ("01_llama_405b_release", "02_osi_definition", "03_llama_licence_critics", "04_eu_ai_act")
    stories += ("07_ntia_report", "08_sb1047", "11_derivatives_hub", "12_startups_cost")
    filler = [on_site(f"site-{s}", f"{s}:orig", 0) for s in stories]
    dedup = Deduplicator(opensearch_client, names.articles, None, settings, claims_index=names.claims)
    index_batch(opensearch_client, names, dedup.score_batch(filler))
    first = on_site("first", "16_brief_gemma:orig", 1)
    index_batch(opensearch_client, names, dedup.score_batch([first]))
    second = on_site("second", "18_brief_olmo:orig", 2)
    a, b = fingerprint(first.article.text, settings), fingerprint(second.article.text, settings)
    assert set(a.lsh_bands) & set(b.lsh_bands) and jaccard_estimate(a.minhash, b.minhash) >= settings.threshold
    dedup.score_batch([second])
    assert second.duplicate_kind is None and second.story_cluster_id == second.article.id
