"""Settings: environment over file over defaults; errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsdrift.errors import ConfigError
from newsdrift.settings import load_settings


def test_env_overrides_defaults(monkeypatch):
    monkeypatch.setenv("NEWSDRIFT_FETCH_CONCURRENCY", "3")
    monkeypatch.setenv("NEWSDRIFT_INDEX_PREFIX", "news-x")
    settings = load_settings()
    assert settings.fetch_concurrency == 3
    assert settings.index_prefix == "news-x"
    assert settings.store_verify_certs is True


def test_drift_settings_reach_the_drift_store(monkeypatch, opensearch_client, initialized_names):
    from newsdrift.score.drift.store import open_drift_store

    monkeypatch.setenv("NEWSDRIFT_DRIFT_JUMP_SHARE", "0")
    monkeypatch.setenv("NEWSDRIFT_DRIFT_CUSUM_K", "1.25")
    store = open_drift_store(load_settings(), opensearch_client, initialized_names)
    assert store is not None and store.config.jump_share == 0 and store.config.cusum_k == 1.25


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("NEWSDRIFT_FETCH_CONCURRENCY", "abc", "NEWSDRIFT_FETCH_CONCURRENCY"),
        ("NEWSDRIFT_INDEX_PREFIX", "Bad Prefix!", "NEWSDRIFT_INDEX_PREFIX"),
        ("NEWSDRIFT_STORE_URL", "localhost:9200", "NEWSDRIFT_STORE_URL"),
        ("NEWSDRIFT_OFF_TOPIC", "maybe", "NEWSDRIFT_OFF_TOPIC"),
        ("NEWSDRIFT_DRIFT_FALSE_ALARM_RATE", "0", "NEWSDRIFT_DRIFT_FALSE_ALARM_RATE"),
        ("NEWSDRIFT_DRIFT_REFERENCE_WINDOWS", "2", "NEWSDRIFT_DRIFT_REFERENCE_WINDOWS"),
        ("NEWSDRIFT_DRIFT_JUMP_SHARE", "0.9", "NEWSDRIFT_DRIFT_JUMP_SHARE"),
    ],
)
def test_invalid_env_names_the_field(monkeypatch, var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in str(info.value)
    assert repr(value) in str(info.value)


def test_settings_file_yaml_and_env_precedence(monkeypatch, tmp_path: Path):
    path = tmp_path / "newsdrift.yaml"
    path.write_text("fetch_concurrency: 4\nindex_prefix: fromfile\nbatch_size: 7\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(path))
    monkeypatch.setenv("NEWSDRIFT_BATCH_SIZE", "9")
    settings = load_settings()
    assert (settings.fetch_concurrency, settings.index_prefix, settings.batch_size) == (4, "fromfile", 9)


def test_settings_file_errors_name_file_and_field(monkeypatch, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("fetch_concurrency = 'many'\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(bad))
    with pytest.raises(ConfigError, match="FETCH_CONCURRENCY"):
        load_settings()
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(broken))
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_settings()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("fetch_concurency: 3\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(unknown))
    with pytest.raises(ConfigError, match="FETCH_CONCURENCY"):
        load_settings()


def test_allowed_networks_are_validated(monkeypatch):
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", '["10.8.0.0/16"]')
    assert load_settings().allowed_networks == ["10.8.0.0/16"]
    monkeypatch.setenv("NEWSDRIFT_ALLOWED_NETWORKS", '["not-a-net"]')
    with pytest.raises(ConfigError, match="NEWSDRIFT_ALLOWED_NETWORKS"):
        load_settings()


def test_sections_make_one_settings_object(monkeypatch, tmp_path: Path):
    """Each section's fields, validators and methods act through ``Settings``: environment, file and code alike."""
    from extractors.settings import ExtractSettings
    from newsdrift.feeds.settings import FeedSettings
    from newsdrift.fetch.settings import FetchSettings
    from newsdrift.score.dedup.settings import DedupSettings
    from newsdrift.score.drift.settings import DriftSettings
    from newsdrift.settings import Settings
    from newsdrift.store.settings import StoreSettings

    sections = (StoreSettings, FetchSettings, FeedSettings, ExtractSettings, DriftSettings, DedupSettings)
    for section in sections:
        assert issubclass(Settings, section)
        assert set(section.model_fields) <= set(Settings.model_fields)
    path = tmp_path / "settings.toml"
    path.write_text("min_words = 30\ndedup_threshold = 0.3\n")
    monkeypatch.setenv("NEWSDRIFT_CONFIG", str(path))
    monkeypatch.setenv("NEWSDRIFT_STORE_PASSWORD", "s3cret")
    monkeypatch.setenv("NEWSDRIFT_DRIFT_CUSUM_K", "1.25")
    settings = load_settings(poll_min_interval=60)
    assert (settings.min_words, settings.poll_min_interval) == (30, 60)
    assert settings.store_password is not None and settings.store_password.get_secret_value() == "s3cret"
    assert settings.drift_config().cusum_k == 1.25 and settings.dedup_config().threshold == 0.3
    with pytest.raises(ConfigError, match="NEWSDRIFT_POLL_MAX_INTERVAL: must be at least poll_min_interval"):
        load_settings(poll_min_interval=600, poll_max_interval=60)
    with pytest.raises(ConfigError, match="drift_joint_share"):  # a section's check across its fields
        load_settings(drift_jump_share=0.7, drift_joint_share=0.5)
    with pytest.raises(ConfigError, match="NEWSDRIFT_OPENSEARCH_URL: Extra inputs are not permitted"):
        load_settings(opensearch_url="http://127.0.0.1:9200")
