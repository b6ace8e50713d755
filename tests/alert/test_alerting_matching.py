"""Article rules against the real node: one percolate per batch, at-most-once alerts, folded copies."""

from __future__ import annotations

from typing import Any

from newsdrift.alert import match_articles, parse_rules, sync_rules
from newsdrift.records import stable_id

RULES = {
    "channels": {"desk": {"url_env": "NEWSDRIFT_TEST_DESK"}},
    "rules": [
        {
            "name": "llama-release",
            "channels": ["desk"],
            "match": {"any": ["Llama 4", "Llama release", "new Llama model"], "min_topic_relevance": 0.2},
        },
        {
            "name": "open-weights-security",
            "channels": ["desk"],
            "match": {"all": ["open weights"], "any": ["jailbreak", "backdoor", "vulnerability"]},
        },
        {
            "name": "high-novelty",
            "channels": ["desk"],
            "mode": "digest",
            "every_minutes": 60,
            "match": {"min_novelty": 0.8, "exclude_near_duplicates": True},
        },
        {"name": "wire-only", "channels": ["desk"], "match": {"sources": ["Wire"], "languages": ["en"]}},
        {"name": "raw-query", "match": {"query": {"match_phrase": {"title": "export controls"}}}},
        {"name": "no-llama-farms", "match": {"any": ["llama"], "none": ["alpaca"]}},
        {"name": "disabled", "enabled": False, "match": {"any": ["llama"]}},
    ],
}


def article(article_id: str, title: str, text: str = "", **fields: Any) -> tuple[str, dict[str, Any]]:
    doc = {
        "article_id": article_id,
        "title": title,
        "text": text or title,
        "source": "Daily",
        "url": f"https://news.example/{article_id}",
        "canonical_url": f"https://news.example/{article_id}",
        "published_at": "2026-11-20T10:00:00+00:00",
        "language": "en",
        "topic_relevance": 0.5,
        "story_cluster_id": article_id,
        **fields,
    }
    return article_id, doc


def setup_rules(client, names):
    ruleset = parse_rules(RULES)
    assert ruleset.rejected == []
    sync_rules(client, names, ruleset)
    return ruleset


def rule_index_searches(client, names) -> int:
    stats = client.indices.stats(index=names.alert_rules, metric="search")
    return stats["indices"][names.alert_rules]["primaries"]["search"]["query_total"]


def stored_alerts(client, names) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=names.alerts)
    hits = client.search(index=names.alerts, body={"size": 1000, "query": {"match_all": {}}})["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_batch_is_matched_with_terms_reasons_and_deterministic_ids(opensearch_client, initialized_names):
    ruleset = setup_rules(opensearch_client, initialized_names)
    docs = [
        article("a1", "Meta releases Llama 4", "Meta released the new Llama model on Tuesday.", novelty=0.3),
        article(
            "a2",
            "Open weights and jailbreaks",
            "Researchers say open-weight models invite jailbreak attempts.",
            source="Wire",
        ),
        article("a3", "Senate debates export controls on AI", novelty=0.95, language="de"),
        article("a4", "A llama and an alpaca walk into a farm", "llama alpaca"),
        article("a5", "Llama release lands", "Llama released", off_topic=True),  # off topic: ignored
        article("a6", "Nothing to see", "Weather report.", extra_unmapped_field="ignored"),
    ]
    searches = rule_index_searches(opensearch_client, initialized_names)
    alerts = match_articles(opensearch_client, initialized_names, docs, ruleset)
    assert rule_index_searches(opensearch_client, initialized_names) - searches == 1  # one percolate per batch
    got = {(a.rule, a.subject_id) for a in alerts}
    assert got == {
        ("llama-release", "a1"),
        ("open-weights-security", "a2"),
        ("wire-only", "a2"),
        ("high-novelty", "a3"),
        ("raw-query", "a3"),
        ("no-llama-farms", "a1"),
    }
    by_key = {(a.rule, a.subject_id): a for a in alerts}
    release = by_key[("llama-release", "a1")]
    assert release.id == stable_id("llama-release", "a1")
    # exact: "Llama release" is not claimed although both words occur apart ("released ... Llama")
    assert release.details["matched_terms"] == ["Llama 4", "new Llama model"]
    assert by_key[("open-weights-security", "a2")].details["matched_terms"] == ["open weights", "jailbreak"]
    assert "topic relevance 0.50 >= 0.20" in release.message and "https://news.example/a1" in release.message
    novelty = by_key[("high-novelty", "a3")]
    assert novelty.details["mode"] == "digest" and novelty.details["digest_due_at"]
    assert "novelty 0.95 >= 0.80" in novelty.message

    stored = stored_alerts(opensearch_client, initialized_names)
    assert set(stored) == {a.id for a in alerts}
    doc = stored[release.id]
    assert doc["rule_name"] == "llama-release" and doc["article_id"] == "a1" and doc["kind"] == "article"
    assert doc["matched_terms"] == ["Llama 4", "new Llama model"]
    assert doc["deliveries"] == [{"channel": "desk", "state": "pending", "attempts": 0}]
    assert doc["delivery_state"] == "pending"
    assert stored[by_key[("raw-query", "a3")].id]["delivery_state"] == "none"  # rule without channels


def test_rerun_alerts_nothing_twice(opensearch_client, initialized_names):
    ruleset = setup_rules(opensearch_client, initialized_names)
    docs = [article("a1", "Meta releases Llama 4"), article("a2", "A new Llama model is out")]
    first = match_articles(opensearch_client, initialized_names, docs, ruleset)
    assert len(first) == 4  # llama-release and no-llama-farms, for each article
    before = stored_alerts(opensearch_client, initialized_names)
    assert match_articles(opensearch_client, initialized_names, docs, ruleset) == []
    assert match_articles(opensearch_client, initialized_names, docs[::-1], ruleset) == []
    assert stored_alerts(opensearch_client, initialized_names) == before


def test_syndication_wave_makes_one_alert_listing_the_copies(opensearch_client, initialized_names):
    ruleset = setup_rules(opensearch_client, initialized_names)
    text = "Meta released a new Llama model with open weights; a jailbreak was found within hours."
    original = article("orig", "Meta ships Llama 4", text, source="Wire", published_at="2026-11-20T09:00:00+00:00")
    wave = [original] + [
        article(
            f"copy{i}",
            f"Meta ships Llama 4 ({outlet})",
            text,
            source=outlet,
            story_cluster_id="orig",
            near_duplicate_of="orig",
            duplicate_kind="near",
            published_at=f"2026-11-20T1{i}:00:00+00:00",
        )
        for i, outlet in enumerate(["Gazette", "Courier", "Herald"])
    ]
    # the copies arrive first in the batch: the original still leads the alert
    alerts = match_articles(opensearch_client, initialized_names, wave[::-1], ruleset)
    release = [a for a in alerts if a.rule == "llama-release"]
    assert len(release) == 1
    assert release[0].subject_id == "orig" and release[0].id == stable_id("llama-release", "orig")
    assert sorted(release[0].details["copies"]) == ["copy0", "copy1", "copy2"]
    assert release[0].details["copy_count"] == 3
    for outlet in ("Gazette", "Courier", "Herald"):
        assert outlet in release[0].message

    # more copies in a later batch: the same alert grows, no new alert for this story
    later = [
        article(
            "copy3",
            "Meta ships Llama 4 (Post)",
            text,
            source="Post",
            story_cluster_id="orig",
            near_duplicate_of="orig",
            duplicate_kind="exact",
        ),
        article(
            "copy4",
            "Llama 4 roundup",
            text,
            source="Tribune",
            story_cluster_id="orig",
            near_duplicate_of="copy3",
            duplicate_kind="near",
        ),
    ]
    folded = match_articles(opensearch_client, initialized_names, later, ruleset)
    assert {a.id for a in folded} == {
        stable_id(r, "orig") for r in ("llama-release", "open-weights-security", "no-llama-farms")
    }
    stored = stored_alerts(opensearch_client, initialized_names)
    story = [d for d in stored.values() if d["rule_name"] == "llama-release"]
    assert len(story) == 1
    assert story[0]["copy_count"] == 5 and sorted(story[0]["copies"]) == [f"copy{i}" for i in range(5)]
    assert "Tribune" in story[0]["message"]
    assert match_articles(opensearch_client, initialized_names, wave + later, ruleset) == []


def test_exclude_near_duplicates_never_starts_an_alert_from_a_copy(opensearch_client, initialized_names):
    ruleset = setup_rules(opensearch_client, initialized_names)
    copy = article(
        "c1",
        "Novel take",
        novelty=0.9,
        story_cluster_id="elsewhere",
        near_duplicate_of="elsewhere",
        duplicate_kind="near",
    )
    assert [a.rule for a in match_articles(opensearch_client, initialized_names, [copy], ruleset)] == []
    original = article("o1", "Another novel take", novelty=0.9)
    second_copy = article(
        "c2",
        "Another novel take (syndicated)",
        novelty=0.9,
        story_cluster_id="o1",
        near_duplicate_of="o1",
        duplicate_kind="exact",
    )
    alerts = match_articles(opensearch_client, initialized_names, [original, second_copy], ruleset)
    assert [(a.rule, a.subject_id, a.details["copies"]) for a in alerts] == [("high-novelty", "o1", ["c2"])]


def test_rules_not_passed_or_disabled_do_not_fire(opensearch_client, initialized_names):
    ruleset = setup_rules(opensearch_client, initialized_names)
    only = [r for r in ruleset.rules if r.name == "wire-only"]
    docs = [article("w1", "Meta releases Llama 4", source="Wire")]
    assert [a.rule for a in match_articles(opensearch_client, initialized_names, docs, only)] == ["wire-only"]
    alerts = match_articles(opensearch_client, initialized_names, docs, ruleset)
    assert "disabled" not in {a.rule for a in alerts}


def test_title_rules_need_the_phrase_in_the_headline_not_in_the_text(opensearch_client, initialized_names):
    ruleset = parse_rules(
        {
            "rules": [
                {
                    "name": "regulatory",
                    "match": {"title_any": ["export controls", "designates"], "title_none": ["opinion"]},
                },
            ]
        }
    )
    assert ruleset.rejected == []
    sync_rules(opensearch_client, initialized_names, ruleset)
    docs = [
        article("t1", "Commerce weighs export controls on model weights"),
        article("t2", "Brussels designates a systemic-risk model"),  # stemming: "designated" would match too
        article("t3", "Chips and cloud prices", "Analysts expect export controls to tighten next year."),
        article("t4", "Opinion: export controls will not work"),
    ]
    alerts = match_articles(opensearch_client, initialized_names, docs, ruleset)
    assert sorted(a.subject_id for a in alerts) == ["t1", "t2"]
