"""Alert rules: loading and validation, and `alerts sync` against the real node."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from newsdrift.alert import (
    ArticleRule,
    ChannelUnavailable,
    DriftRule,
    DuplicateBurstRule,
    FeedHealthRule,
    load_rules,
    parse_rules,
    sync_rules,
)
from newsdrift.alert.rules import TaskFailureRule
from newsdrift.alert.sync import stored_rules
from newsdrift.errors import ConfigError
from newsdrift.settings import PROJECT_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


MIXED = """
channels:
  ops: {url_env: NEWSDRIFT_TEST_CHANNEL_OPS}
  broken: {url: "json://hook.example/SECRET-INLINE-TOKEN"}
rules:
  - name: llama-release
    match: {any: [Llama 4, Llama release]}
    channels: [ops]
  - name: bad-novelty
    match: {min_novelty: 2}
    channels: [ops]
  - name: unknown-channel
    match: {any: [llama]}
    channels: [pager]
  - name: uses-broken-channel
    match: {any: [llama]}
    channels: [broken]
  - name: odd-kind
    kind: sometimes
  - name: digest-without-period
    match: {any: [weights]}
    mode: digest
  - name: empty-match
    match: {}
  - name: bad-field-in-query
    match: {query: {term: {no_such_field: x}}}
  - name: llama-release
    match: {any: [duplicate]}
  - name: feed-down
    kind: feed_health
    consecutive_failures: 3
    channels: [ops]
"""


def test_shipped_rules_file_is_valid():
    ruleset = load_rules(PROJECT_ROOT / "config" / "alerts.yaml")
    assert ruleset.rejected == []
    kinds = {type(r) for r in ruleset.rules}
    assert kinds == {ArticleRule, DuplicateBurstRule, FeedHealthRule, DriftRule, TaskFailureRule}
    names = {r.name for r in ruleset.rules}
    assert {"llama-release", "open-weights-security", "high-novelty"} <= names
    for rule in ruleset.rules:
        assert rule.channels and set(rule.channels) <= set(ruleset.channels)
    assert all(c.url_env or c.url_file for c in ruleset.channels.values())


def test_invalid_rules_are_rejected_by_name_and_valid_ones_load(tmp_path):
    ruleset = load_rules(write(tmp_path, MIXED))
    assert [r.name for r in ruleset.rules] == ["llama-release", "bad-field-in-query", "feed-down"]
    problems = {(p.what, p.name): p.problem for p in ruleset.rejected}
    assert (
        "min_novelty" in problems[("rule", "bad-novelty")]
        and "less than or equal to 1" in problems[("rule", "bad-novelty")]
    )
    assert "unknown channel 'pager'" in problems[("rule", "unknown-channel")]
    assert "'broken' is rejected" in problems[("rule", "uses-broken-channel")]
    assert "kind: must be one of" in problems[("rule", "odd-kind")]
    assert "every_minutes" in problems[("rule", "digest-without-period")]
    assert "at least one condition" in problems[("rule", "empty-match")]
    assert "duplicate rule name" in problems[("rule", "llama-release")]
    assert "inline 'url' is not allowed" in problems[("channel", "broken")]
    # the message names the file and the rule; an inline URL is never echoed back
    text = "\n".join(str(p) for p in ruleset.rejected)
    assert "alerts.yaml: rule 'bad-novelty': match.min_novelty" in text
    assert "SECRET-INLINE-TOKEN" not in text


def test_unreadable_file_and_unknown_top_level_key_raise_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read alert rules"):
        load_rules(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="unknown top-level key"):
        load_rules(write(tmp_path, "rule:\n  - name: x\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules(write(tmp_path, "rules: [\n"))


def test_channel_urls_come_from_environment_or_file(tmp_path, monkeypatch):
    secret_file = tmp_path / "secrets" / "newsroom"
    secret_file.parent.mkdir()
    secret_file.write_text("json://127.0.0.1:9/newsroom-token\n")
    ruleset = load_rules(
        write(
            tmp_path,
            """
        channels:
          ops: {url_env: NEWSDRIFT_TEST_CHANNEL_OPS}
          newsroom: {url_file: secrets/newsroom}
        rules: []
        """,
        )
    )
    monkeypatch.delenv("NEWSDRIFT_TEST_CHANNEL_OPS", raising=False)
    with pytest.raises(ChannelUnavailable, match="NEWSDRIFT_TEST_CHANNEL_OPS is not set"):
        ruleset.channels["ops"].resolve()
    monkeypatch.setenv("NEWSDRIFT_TEST_CHANNEL_OPS", "json://127.0.0.1:9/ops")
    assert ruleset.channels["ops"].resolve() == "json://127.0.0.1:9/ops"
    assert ruleset.channels["newsroom"].resolve() == "json://127.0.0.1:9/newsroom-token"  # relative to the file
    assert "newsroom-token" not in repr(ruleset.channels["newsroom"])


def test_defaults_apply_to_rules(tmp_path):
    ruleset = load_rules(
        write(
            tmp_path,
            """
        channels: {ops: {url_env: X_OPS}, desk: {url_env: X_DESK}}
        defaults: {channels: [ops], mode: digest, every_minutes: 30}
        rules:
          - {name: a, match: {any: [llama]}}
          - {name: b, match: {any: [llama]}, channels: [desk], mode: instant}
        """,
        )
    )
    a, b = ruleset.rules
    assert (a.channels, a.mode, a.every_minutes) == (["ops"], "digest", 30)
    assert (b.channels, b.mode, b.every_minutes) == (["desk"], "instant", None)


def test_sync_registers_rules_rejects_bad_queries_and_reports_unchanged(opensearch_client, initialized_names, tmp_path):
    ruleset = load_rules(write(tmp_path, MIXED))
    report = sync_rules(opensearch_client, initialized_names, ruleset)
    assert sorted(report.created) == ["feed-down", "llama-release"]
    rejected = {p.name: p.problem for p in report.rejected}
    assert "no_such_field" in rejected["bad-field-in-query"]  # refused by OpenSearch, named
    assert {"bad-novelty", "unknown-channel", "odd-kind"} <= set(rejected)
    assert not report.ok

    stored = stored_rules(opensearch_client, initialized_names)
    assert set(stored) == {"llama-release", "feed-down"}
    assert stored["llama-release"]["rule_kind"] == "article"
    assert stored["llama-release"]["rule_hash"] == ruleset.get("llama-release").rule_hash()
    doc = opensearch_client.get(index=initialized_names.alert_rules, id="llama-release")["_source"]
    assert doc["query"]["bool"]["must"]

    again = sync_rules(opensearch_client, initialized_names, ruleset)
    assert sorted(again.unchanged) == ["feed-down", "llama-release"]
    assert again.created == again.updated == again.removed == []


def test_rules_deleted_or_changed_in_the_file_are_removed_or_updated(opensearch_client, initialized_names, tmp_path):
    first = parse_rules(
        {
            "rules": [
                {"name": "keep", "match": {"any": ["llama"]}},
                {"name": "change", "match": {"any": ["weights"]}},
                {"name": "drop", "match": {"all": ["open source", "safety"]}},
                {"name": "drop-burst", "kind": "duplicate_burst", "min_copies": 3},
            ]
        }
    )
    assert sorted(sync_rules(opensearch_client, initialized_names, first).created) == [
        "change",
        "drop",
        "drop-burst",
        "keep",
    ]
    second = parse_rules(
        {
            "rules": [
                {"name": "keep", "match": {"any": ["llama"]}},
                {"name": "change", "match": {"any": ["weights", "licence"]}},
            ]
        }
    )
    report = sync_rules(opensearch_client, initialized_names, second)
    assert (report.unchanged, report.updated, report.removed) == (["keep"], ["change"], ["drop", "drop-burst"])
    ids = {
        h["_id"]
        for h in opensearch_client.search(
            index=initialized_names.alert_rules, body={"size": 100, "query": {"match_all": {}}}
        )["hits"]["hits"]
    }
    # one doc per rule plus one per keyword (used for matched_terms); nothing left of the deleted rules
    assert ids == {"keep", "keep:term:0", "change", "change:term:0", "change:term:1"}


def test_a_rule_refused_this_time_keeps_its_last_good_version(opensearch_client, initialized_names):
    good = parse_rules({"rules": [{"name": "r", "match": {"any": ["llama"]}}]})
    sync_rules(opensearch_client, initialized_names, good)
    broken = parse_rules({"rules": [{"name": "r", "match": {"query": {"term": {"nonexistent": 1}}}}]})
    report = sync_rules(opensearch_client, initialized_names, broken)
    assert [p.name for p in report.rejected] == ["r"] and report.removed == []
    stored = stored_rules(opensearch_client, initialized_names)
    assert stored["r"]["rule_hash"] == good.get("r").rule_hash()
