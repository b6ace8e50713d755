"""The pipeline stage: ScoredArticle batches in, alerts delivered to a real webhook; rules reloaded on change."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime

from newsdrift.alert.receivers import WebhookReceiver
from newsdrift.alert.stage import AlertingStage
from newsdrift.alert.sync import stored_rules
from newsdrift.records import Article, RunSummary, ScoredArticle, stable_id

Summary = RunSummary


def scored(url: str, title: str, **scores) -> ScoredArticle:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    article = Article(
        id=stable_id(url),
        url=url,
        canonical_url=url,
        source="Wire",
        feed_url="https://wire/rss",
        title=title,
        text=f"{title}. " * 20,
        authors=[],
        published_at=now,
        fetched_at=now,
        language="en",
        site_name=None,
        word_count=100,
        content_sha1="x",
    )
    return ScoredArticle(article=article, topic_relevance=0.6, story_cluster_id=stable_id(url), **scores)


def test_stage_alerts_per_batch_and_reloads_rules(
    opensearch_client, initialized_names, settings, tmp_path, monkeypatch
):
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        textwrap.dedent("""
        channels: {hook: {url_env: NEWSDRIFT_TEST_STAGE_HOOK}}
        rules:
          - {name: llama, channels: [hook], match: {any: [llama]}}
        """)
    )
    with WebhookReceiver() as hook:
        monkeypatch.setenv("NEWSDRIFT_TEST_STAGE_HOOK", hook.apprise_url("stage"))
        stage = AlertingStage(settings, opensearch_client, initialized_names, rules_path=rules)
        assert set(stored_rules(opensearch_client, initialized_names)) == {"llama"}

        summary = Summary()
        stage.score([], summary)
        batch = [scored("https://wire/a", "Llama news"), scored("https://wire/b", "Weather")]
        stage.score(batch, summary)  # matched before indexing: the batch is indexed "matched"
        assert summary.alerts == 1
        assert [i.alert_state for i in batch] == ["matched", "matched"]
        assert not hook.requests  # matched per batch, delivered once per pass
        stage.finish(summary)
        assert hook.wait_for(1) and hook.requests[0].json["title"] == "newsdrift [llama]: Llama news"

        rules.write_text(
            textwrap.dedent("""
            channels: {hook: {url_env: NEWSDRIFT_TEST_STAGE_HOOK}}
            rules:
              - {name: weather, channels: [hook], match: {any: [weather]}}
            """)
        )
        os.utime(rules, (rules.stat().st_mtime + 5, rules.stat().st_mtime + 5))  # mtime granularity
        report = stage.after_pass(summary)
        assert set(stored_rules(opensearch_client, initialized_names)) == {"weather"}
        assert report.alerts == [] and report.delivery.sent == []
        stage.score([scored("https://wire/c", "Weather and llamas")], summary)
        assert summary.alerts == 2
        stage.finish(summary)
        assert hook.wait_for(2) and hook.requests[1].json["title"] == "newsdrift [weather]: Weather and llamas"
        assert len(hook.requests) == 2


def test_every_pipeline_stage_implements_the_stage_protocol(settings, opensearch_client, initialized_names):
    from newsdrift.score.stages import Stage, default_scorers

    stages = default_scorers(settings, opensearch_client, initialized_names)
    assert [type(s).__name__ for s in stages] == ["DedupScorer", "DriftScoring", "AlertingStage"]
    assert all(isinstance(s, Stage) for s in stages)
