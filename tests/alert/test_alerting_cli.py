"""`newsdrift alerts sync|list|test` through the typer sub-app, against the real node."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from newsdrift.alert import match_articles, parse_rules
from newsdrift.alert.receivers import WebhookReceiver
from newsdrift.cli.alerts import alerts_app
from newsdrift.settings import get_settings

RULES_YAML = """
channels:
  hook: {url_env: NEWSDRIFT_TEST_CLI_HOOK}
rules:
  - name: llama
    match: {any: [llama]}
    channels: [hook]
  - name: broken
    match: {min_topic_relevance: 7}
"""


@pytest.fixture
def cli_env(monkeypatch, opensearch_url, initialized_names, tmp_path):
    rules = tmp_path / "alerts.yaml"
    rules.write_text(textwrap.dedent(RULES_YAML))
    monkeypatch.setenv("NEWSDRIFT_STORE_URL", opensearch_url)
    monkeypatch.setenv("NEWSDRIFT_INDEX_PREFIX", initialized_names.prefix)
    monkeypatch.setenv("NEWSDRIFT_ALERT_RULES_FILE", str(rules))
    get_settings.cache_clear()
    yield rules
    get_settings.cache_clear()


def test_sync_list_and_test_commands(cli_env, opensearch_client, initialized_names, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(alerts_app, ["sync", "--json"])
    assert result.exit_code == 1  # one rule rejected: reported, the other synced
    report = json.loads(result.stdout)
    assert report["created"] == ["llama"]
    assert [r["name"] for r in report["rejected"]] == ["broken"]
    assert "min_topic_relevance" in report["rejected"][0]["message"]

    result = runner.invoke(alerts_app, ["sync"])
    assert "unchanged" in result.stdout and "llama" in result.stdout
    assert "rejected:" in result.output and "broken" in result.output

    ruleset = parse_rules(
        {
            "channels": {"hook": {"url_env": "NEWSDRIFT_TEST_CLI_HOOK"}},
            "rules": [{"name": "llama", "match": {"any": ["llama"]}, "channels": ["hook"]}],
        }
    )
    match_articles(
        opensearch_client,
        initialized_names,
        [("a1", {"article_id": "a1", "title": "Llama on the CLI", "text": "llama"})],
        ruleset,
    )
    result = runner.invoke(alerts_app, ["list", "--since", "1h", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["rule"], r["title"], r["delivery_state"]) for r in rows] == [("llama", "Llama on the CLI", "pending")]
    result = runner.invoke(alerts_app, ["list", "--since", "soon"])
    assert result.exit_code == 1 and "--since" in result.output

    with WebhookReceiver() as hook:
        monkeypatch.setenv("NEWSDRIFT_TEST_CLI_HOOK", hook.apprise_url("cli"))
        result = runner.invoke(alerts_app, ["test", "hook"])
        assert result.exit_code == 0, result.output
        assert hook.wait_for(1) and hook.requests[0].path == "/cli"
    result = runner.invoke(alerts_app, ["test", "pager"])
    assert result.exit_code == 1 and "no channel named 'pager'" in result.output
    monkeypatch.delenv("NEWSDRIFT_TEST_CLI_HOOK")
    result = runner.invoke(alerts_app, ["test", "hook"])
    assert result.exit_code == 1 and "NEWSDRIFT_TEST_CLI_HOOK is not set" in result.output
