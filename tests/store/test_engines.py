"""What differs between the engines, checked on both real nodes (a matrix module: see conftest).

The engine is read from the root endpoint, feed states page without OpenSearch's PIT on Elasticsearch,
templates (composable + component), rollover and percolation behave the same; the store settings
(NEWSDRIFT_STORE_*, NEWSDRIFT_ENGINE) and the `node` command group serve both engines.
"""

from __future__ import annotations

import json

import pytest

from newsdrift.errors import ConfigError, NodeError
from newsdrift.feeds import state as feedstate
from newsdrift.ops import node
from newsdrift.settings import load_settings
from newsdrift.store.engine import engine_of, parse_root
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates
from tests.support.cli import run_cli


def test_engine_is_read_from_the_root_endpoint(opensearch_client, store_engine):
    engine = engine_of(opensearch_client)
    assert engine.name == store_engine
    if store_engine == "elasticsearch":
        assert engine.version == "7.10.2" and engine.build_flavor == "unknown"
        assert not engine.has_opensearch_pit
    else:
        assert engine.version_tuple >= (3,) and engine.has_opensearch_pit


def test_info_and_init_through_the_neutral_store_url(opensearch_url, store_engine, index_names):
    env = {
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
    }
    init = run_cli("init", "--json", env=env)
    assert init.returncode == 0, init.stderr
    assert json.loads(init.stdout)["changed"] == 19
    info = json.loads(run_cli("info", "--json", env=env).stdout)
    assert info["engine"] == store_engine
    assert "opensearch_version" not in info
    assert (info["version"] == "7.10.2") == (store_engine == "elasticsearch")
    assert f"{index_names.prefix}-articles-000001" in {row["index"] for row in info["indices"]}
    text = run_cli("info", env=env)
    assert ("Elasticsearch 7.10.2" in text.stdout) == (store_engine == "elasticsearch")


def test_feed_states_page_through_every_feed_in_name_order(opensearch_client, initialized_names: IndexNames):
    names = initialized_names
    feeds = [(f"f{i:02d}", f"Feed {chr(ord('a') + (i * 7) % 26)}{i}") for i in range(11)]
    for feed_id, name in feeds:
        opensearch_client.index(index=names.feeds, id=feed_id, body={"feed_id": feed_id, "name": name})
    opensearch_client.index(index=names.feeds, id="nameless", body={"feed_id": "nameless"})
    states = list(feedstate.iter_states(opensearch_client, names, page_size=3))  # four full pages
    assert [s["feed_id"] for s in states[:-1]] == [f for f, _ in sorted(feeds, key=lambda x: x[1])]
    assert states[-1]["feed_id"] == "nameless"  # missing names sort last
    assert len({s["feed_id"] for s in states}) == 12


def test_templates_are_composable_and_the_alias_rolls_over(opensearch_client, initialized_names: IndexNames):
    names = initialized_names
    client = opensearch_client
    assert client.indices.get_index_template(name=names.template("articles"))["index_templates"]
    assert apply_templates(client, names) and all(  # a second apply changes nothing, on either engine
        c.action == "unchanged" for c in apply_templates(client, names)
    )
    client.index(index=names.articles, id="a1", body={"url": "https://example.org/a1"}, refresh=True)
    rolled = client.indices.rollover(alias=names.articles, body={"conditions": {"max_docs": 1}})
    assert rolled["rolled_over"] and rolled["new_index"] == names.articles_index(2)
    mapping = client.indices.get_mapping(index=names.articles_index(2))[names.articles_index(2)]["mappings"]
    assert mapping["dynamic"] == "strict"  # the new index got the composed template too


def test_store_settings_are_validated():
    assert load_settings(store_url="http://h:1/").store_url == "http://h:1"
    assert load_settings(store_url="").store_url is None
    assert load_settings().store_verify_certs is True
    with pytest.raises(ConfigError) as bad:
        load_settings(store_url="h:1")
    assert "NEWSDRIFT_STORE_URL: must start with http://" in str(bad.value)
    with pytest.raises(ConfigError) as engine:
        load_settings(engine="solr")
    assert "NEWSDRIFT_ENGINE" in str(engine.value)


def test_root_endpoint_parsing():
    es = parse_root({"version": {"number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"})
    assert (es.name, es.version_tuple, es.has_opensearch_pit) == ("elasticsearch", (8, 15, 0), False)
    os_ = parse_root({"version": {"distribution": "opensearch", "number": "2.3.0"}})
    assert (os_.name, os_.has_opensearch_pit) == ("opensearch", False)  # PIT came with 2.4
    assert parse_root({"version": {"distribution": "opensearch", "number": "2.11.1"}}).has_opensearch_pit


def test_elasticsearch_node_needs_java_11_to_17(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(NodeError) as err:
        node.find_java(load_settings(home=tmp_path), jvm_root=tmp_path / "jvm", engine="elasticsearch")
    assert "Elasticsearch 7.10 needs Java 11-17" in str(err.value) and "NEWSDRIFT_ES_JAVA_HOME" in str(err.value)
    with pytest.raises(NodeError, match="unknown engine 'solr'"):
        node.start(load_settings(home=tmp_path), engine="solr")


def test_node_status_per_engine(opensearch_url, store_engine):
    port = opensearch_url.rsplit(":", 1)[1]
    env = {"NEWSDRIFT_STORE_URL": opensearch_url}
    result = run_cli("node", "status", "--engine", store_engine, "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == store_engine and data["url"].endswith(f":{port}")
    assert data["health"] in ("green", "yellow")
    assert run_cli("node", "status", "--engine", "solr", env=env).returncode != 0


def test_node_status_of_an_elasticsearch_node_that_is_not_running(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    env = {
        "NEWSDRIFT_HOME": str(tmp_path),
        "NEWSDRIFT_ELASTICSEARCH_PORT": str(free),
        "NEWSDRIFT_STORE_URL": "",
    }
    result = run_cli("node", "status", "--engine", "elasticsearch", "--json", env=env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["engine"], data["pid"], data["health"], data["installed"]) == ("elasticsearch", None, None, False)
    assert data["url"] == f"http://127.0.0.1:{free}"
    stopped = run_cli("node", "stop", "--engine", "elasticsearch", env=env)
    assert stopped.returncode == 0 and "Elasticsearch was not running." in stopped.stdout


def test_a_store_url_passed_in_code_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("NEWSDRIFT_STORE_URL", "http://from-env:1")
    assert load_settings(store_url="http://from-code:2").store_url == "http://from-code:2"
    assert load_settings().store_url == "http://from-env:1"
