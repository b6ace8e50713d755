"""The embedded node: a second home gets its own single-node cluster; stop leaves no JVM behind."""

from __future__ import annotations

import httpx
import pytest

from newsdrift import node
from newsdrift.config import load_settings
from newsdrift.errors import NodeError


def test_second_embedded_node_is_its_own_cluster_and_stops_cleanly(opensearch_url, tmp_path):
    settings = load_settings(home=tmp_path / "home", opensearch_port=9261, opensearch_url=None)
    state = node.start(settings)
    try:
        assert state.url != opensearch_url
        mine = httpx.get(f"{state.url}/_cluster/health").json()
        theirs = httpx.get(f"{opensearch_url}/_cluster/health").json()
        assert mine["number_of_nodes"] == 1 and theirs["number_of_nodes"] == 1
        assert httpx.get(state.url).json()["cluster_uuid"] != httpx.get(opensearch_url).json()["cluster_uuid"]
        assert node.start(settings).pid == state.pid  # a second start reuses the running node
    finally:
        assert node.stop(settings) is True
    assert not node._pid_alive(state.pid)
    assert node.running_state(settings) is None
    assert node.stop(settings) is False


def test_missing_java_and_maven_are_clear_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java, no mvn
    monkeypatch.delenv("JAVA_HOME", raising=False)
    settings = load_settings(home=tmp_path / "home")
    with pytest.raises(NodeError) as java:
        node.find_java(settings, jvm_root=tmp_path / "jvm")
    assert "Java 21+" in str(java.value) and "NEWSDRIFT_JAVA_HOME" in str(java.value)
    with pytest.raises(NodeError) as maven:
        node.install(settings)
    assert "Maven ('mvn') is not on PATH" in str(maven.value)
    assert "NEWSDRIFT_OPENSEARCH_URL" in str(maven.value)
