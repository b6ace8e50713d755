"""Configuration problems are one message and exit 1, found before anything is polled."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from opensearchpy import OpenSearch, helpers
from typer.testing import CliRunner

from newsdrift import settings as config
from newsdrift.cli import app
from newsdrift.errors import ConfigError
from newsdrift.run import preflight as configcheck
from newsdrift.settings import PROJECT_ROOT, get_settings, load_settings
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates
from tests.support.cli import run_cli

CONFIG = PROJECT_ROOT / "config"
BAD_UTF8 = b"name: caf\xe9 talk\n"  # Latin-1 'é': invalid UTF-8 on line 1


def invoke(monkeypatch, args: list[str], env: dict[str, str]):
    """The CLI in-process (typer's CliRunner) with ``env``; settings are read afresh."""
    for key in [k for k in os.environ if k.startswith("NEWSDRIFT_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, catch_exceptions=True)
    finally:
        get_settings.cache_clear()


def assert_one_message(result, *needles: str) -> None:
    """Exit 1 through the error handler (no exception escaped) with one ``error:`` message."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("error:") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --- one error type, one YAML helper, every file --------------------------------------------------


FRAMES_PROBLEMS = {
    "malformed": (b"threshold: 1\nframes: {a: [\n", "not valid YAML at line 3"),
    "empty": (b"", "is empty"),
    "duplicate": (
        b"threshold: 1\nframes:\n  a:\n    terms: {x: 1}\n  a:\n    terms: {y: 1}\n",
        "line 5, column 3: duplicate key 'a'",
    ),
    "shape": (b"- threshold\n- frames\n", "expected a mapping"),
    "missing": (None, "cannot read frames file"),
}


@pytest.mark.parametrize("problem", sorted(FRAMES_PROBLEMS))
def test_frames_file_problems_are_one_message(monkeypatch, tmp_path, opensearch_url, index_names, problem):
    content, needle = FRAMES_PROBLEMS[problem]
    frames = tmp_path / "frames.yaml"
    if content is not None:
        frames.write_bytes(content)
    env = {
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
        "NEWSDRIFT_FRAMES_FILE": str(frames),
    }
    result = invoke(monkeypatch, ["drift", "report"], env)
    assert_one_message(result, "frames.yaml", needle)


def test_frames_error_is_a_config_error(tmp_path):
    from newsdrift.score.frames import FramesConfigError, load_frames

    assert issubclass(FramesConfigError, ConfigError)
    with pytest.raises(ConfigError, match="frames.yaml: not valid YAML"):
        load_frames(_write(tmp_path / "frames.yaml", b"frames: [\n"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("which", ["feeds", "topic", "frames", "alerts", "settings"])
def test_invalid_utf8_in_any_configuration_file_is_one_message(monkeypatch, tmp_path, which):
    # not "alerts.yaml": every command masks registered secrets, and the delivery tests register an
    # SMTP user called "alerts" process-wide (see test_invalid_utf8_in_rules_for_alerts_sync)
    name = "watch-rules" if which == "alerts" else which
    bad = _write(tmp_path / f"{name}.yaml", b"# comment\n" + BAD_UTF8)
    variable = {
        "feeds": "NEWSDRIFT_FEEDS_FILE",
        "topic": "NEWSDRIFT_TOPIC_FILE",
        "frames": "NEWSDRIFT_FRAMES_FILE",
        "alerts": "NEWSDRIFT_ALERT_RULES_FILE",
        "settings": "NEWSDRIFT_CONFIG",
    }[which]
    # nothing is reachable: the configuration must be refused before any connection is tried
    env = {variable: str(bad), "NEWSDRIFT_STORE_URL": "http://127.0.0.1:9", "NEWSDRIFT_HOME": str(tmp_path)}
    result = invoke(monkeypatch, ["run", "--json"], env)
    assert_one_message(result, f"{name}.yaml", "line 2", "not valid UTF-8")


def test_invalid_utf8_in_rules_for_alerts_sync(monkeypatch, tmp_path):
    # not "alerts.yaml": the delivery tests register an SMTP user called "alerts" as a secret, and
    # secrets are masked process-wide
    bad = _write(tmp_path / "watch-rules.yaml", BAD_UTF8)
    result = invoke(monkeypatch, ["alerts", "sync", "--rules", str(bad)], {})
    assert_one_message(result, "watch-rules.yaml", "line 1", "not valid UTF-8")


def test_yaml_helper_rejects_duplicate_keys_everywhere(tmp_path):
    dup = _write(tmp_path / "dup.yaml", b"feeds:\n  - {url: 'http://a.example/f', name: A}\nfeeds: []\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml: not valid YAML at line 3, column 1: duplicate key 'feeds'"):
        config.load_yaml(dup, "feeds file")
    from newsdrift.alert.rules import load_rules
    from newsdrift.feeds.catalog import load_feeds
    from newsdrift.score.topic import load_topic

    for loader in (load_feeds, load_topic, load_rules):
        with pytest.raises(ConfigError, match="duplicate key 'feeds'"):
            loader(dup)
    # merge keys are not duplicates, and an explicit key may override a merged one
    merged = _write(tmp_path / "merge.yaml", b"base: &b {a: 1, b: 2}\nthis:\n  <<: *b\n  b: 3\n")
    assert config.load_yaml(merged, "test file")["this"] == {"a": 1, "b": 3}


def test_duplicate_key_in_settings_file(monkeypatch, tmp_path):
    path = _write(tmp_path / "settings.yaml", b"batch_size: 5\nbatch_size: 6\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(path))
    with pytest.raises(ConfigError, match="settings.yaml: not valid YAML at line 2, column 1: duplicate key"):
        load_settings()


def test_allowed_networks_accept_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", "10.0.0.0/8")
    assert load_settings().allowed_networks == ["10.0.0.0/8"]
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.0/24")
    assert load_settings().allowed_networks == ["10.0.0.0/8", "192.168.1.0/24"]
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", '["10.8.0.0/16"]')
    assert load_settings().allowed_networks == ["10.8.0.0/16"]
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", "")
    assert load_settings().allowed_networks == []
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", '["10.8.0.0/16"')
    with pytest.raises(ConfigError, match="NEWSDRIFT_ALLOWED_NETWORKS"):
        load_settings()


def test_allowed_networks_from_the_shell_is_not_a_traceback():
    result = run_cli(
        "node",
        "status",
        env={"NEWSDRIFT_ALLOWED_NETWORKS": "10.0.0.0/8, nonsense", "NEWSDRIFT_STORE_URL": "http://127.0.0.1:9"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "NEWSDRIFT_ALLOWED_NETWORKS" in result.stderr and "'nonsense'" in result.stderr


# --- validated at start-up, before anything is polled -----------------------------------------------


def test_validate_all_checks_every_file(tmp_path):
    settings = load_settings(config_dir=CONFIG)
    configcheck.validate_all(settings)  # the shipped configuration is valid
    bad_topic = _write(tmp_path / "topic.yaml", b"name: x\nterms: []\n")
    with pytest.raises(ConfigError, match="topic.yaml: terms"):
        configcheck.validate_all(settings.model_copy(update={"topic_file": bad_topic}))
    bad_rules = _write(tmp_path / "alerts.yaml", b"rules: {\n")
    with pytest.raises(ConfigError, match="alerts.yaml: not valid YAML"):
        configcheck.validate_all(settings.model_copy(update={"alert_rules_file": bad_rules}))
    with pytest.raises(ConfigError, match="cannot read alert rules"):
        configcheck.validate_all(settings.model_copy(update={"alert_rules_file": tmp_path / "nope.yaml"}))
    bad_feeds = _write(tmp_path / "feeds.yaml", b"feeds: [{url: ftp://x, name: X}]\n")
    with pytest.raises(ConfigError, match="feeds.yaml: feeds"):
        configcheck.validate_all(settings, feeds_file=bad_feeds)


def test_malformed_topic_stops_run_before_any_feed_is_polled(
    opensearch_client: OpenSearch, opensearch_url, index_names, sample_server, tmp_path
):
    from newsdrift.ops.demo import sample_feeds

    feed = sample_feeds(sample_server.url)[0]
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - url: {feed.url}\n    name: {feed.name}\n")
    topic = _write(tmp_path / "topic.yaml", b"name: open-source AI\nterms:\n  - term: llama\n    weight: 99\n")
    env = {
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDRIFT_PER_HOST_DELAY": "0",
        "NEWSDRIFT_TOPIC_FILE": str(topic),
        "NEWSDRIFT_FEEDS_FILE": str(feeds),
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
    }
    result = run_cli("run", "--json", env=env)
    if opensearch_client.indices.exists(index=index_names.feeds):  # nothing polled, no state stored
        opensearch_client.indices.refresh(index=index_names.feeds)
        assert opensearch_client.count(index=index_names.feeds)["count"] == 0
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error:") == 1, result.stderr
    assert "topic.yaml: terms.0.weight" in result.stderr  # one line, not wrapped at 80 columns


def test_dag_first_task_validates_configuration(monkeypatch, tmp_path, opensearch_url, index_names, opensearch_client):
    from newsdrift.airflow import ingest

    topic = _write(tmp_path / "topic.yaml", b"name: x\nterms: [\n")
    for key, value in {
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
        "NEWSDRIFT_TOPIC_FILE": str(topic),
    }.items():
        monkeypatch.setenv(key, value)
    # the tasks read the cluster from the real Airflow connection (from the environment, as in a deployment)
    monkeypatch.setenv("AIRFLOW_CONN_OPENSEARCH_DEFAULT", airflow_connection_json(opensearch_url))
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="topic.yaml: not valid YAML"):
            ingest.plan_shards(str(CONFIG / "feeds.yaml"), "http://127.0.0.1:9")
    finally:
        get_settings.cache_clear()
    assert not opensearch_client.indices.exists_alias(name=index_names.articles)  # nothing written


# --- every feed, not the first 1,000 -----------------------------------------------------------------


def test_feeds_status_and_feed_health_list_every_feed(monkeypatch, opensearch_client, opensearch_url, index_names):
    from newsdrift.airflow import maintenance

    apply_templates(opensearch_client, index_names)
    total = 2500
    docs = (
        {
            "_index": index_names.feeds,
            "_id": f"f{i:05d}",
            "_source": {
                "feed_id": f"f{i:05d}",
                "name": f"Feed {i:05d}",
                "health": "ok",
                "enabled": True,
                "feed_url": f"http://feeds.example/{i}",
            },
        }
        for i in range(total)
    )
    helpers.bulk(opensearch_client, docs, chunk_size=1000, refresh="wait_for")
    env = {"NEWSDRIFT_STORE_URL": opensearch_url, "NEWSDRIFT_INDEX_PREFIX": index_names.prefix}
    result = run_cli("feeds", "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    states = json.loads(result.stdout)
    assert len(states) == total
    assert [s["name"] for s in states] == [f"Feed {i:05d}" for i in range(total)]

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # the tasks read the cluster from the real Airflow connection (from the environment, as in a deployment)
    monkeypatch.setenv("AIRFLOW_CONN_OPENSEARCH_DEFAULT", airflow_connection_json(opensearch_url))
    get_settings.cache_clear()
    try:
        report = maintenance.feed_health(disable_after_days=None)
    finally:
        get_settings.cache_clear()
    assert report["feeds"] == total and report["by_health"] == {"ok": total}


def test_feeds_status_before_init_is_empty(opensearch_url, index_names):
    from newsdrift.feeds.state import all_states
    from newsdrift.store.client import connect

    client = connect(load_settings(store_url=opensearch_url))
    assert all_states(client, IndexNames(index_names.prefix)) == []


def airflow_connection_json(url: str) -> str:
    """``AIRFLOW_CONN_OPENSEARCH_DEFAULT`` (JSON form, connection type ``opensearch``) for a cluster URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return json.dumps(
        {"conn_type": "opensearch", "host": parts.hostname, "port": parts.port, "extra": {"scheme": parts.scheme}}
    )
