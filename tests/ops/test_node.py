"""The embedded node: a second home gets its own single-node cluster; stop leaves no JVM behind."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from newsdrift.errors import NodeError
from newsdrift.ops import node
from newsdrift.settings import load_settings


def test_second_embedded_node_is_its_own_cluster_and_stops_cleanly(opensearch_url, tmp_path):
    settings = load_settings(home=tmp_path / "home", opensearch_port=9261, store_url=None)
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
    assert "NEWSDRIFT_STORE_URL" in str(maven.value)


def _share_installed_jars(settings, engine: str = "opensearch") -> None:
    """Use the test node's jars (no Maven run) when they are installed."""
    from newsdrift.settings import PROJECT_ROOT

    test_home = Path(os.environ.get("NEWSDRIFT_TEST_HOME", PROJECT_ROOT / ".cache" / "test-home"))
    shared = node.lib_dir(load_settings(home=test_home), engine)
    if (shared / ".installed").exists():
        node.node_dir(settings, engine).mkdir(parents=True, exist_ok=True)
        node.lib_dir(settings, engine).symlink_to(shared, target_is_directory=True)


def _free_port_above_9299() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port > 9299:
            return port


def test_embedded_node_on_a_port_above_9299(opensearch_url, tmp_path):
    port = _free_port_above_9299()
    settings = load_settings(home=tmp_path / "home", opensearch_port=port, store_url=None, opensearch_heap="512m")
    _share_installed_jars(settings)
    state = node.start(settings)
    try:
        assert state.port == port and state.url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{state.url}/_cluster/health").json()["status"] in ("green", "yellow")
        assert node.running_state(settings).pid == state.pid
    finally:
        assert node.stop(settings) is True
    assert not node._pid_alive(state.pid)


def test_node_exiting_early_says_why(tmp_path):
    # every port from the requested one up is busy: the runner gives up, and the message says so
    settings = load_settings(home=tmp_path / "home", opensearch_port=65535, store_url=None, opensearch_heap="256m")
    _share_installed_jars(settings)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 65535))
        busy.listen()
        with pytest.raises(NodeError) as err:
            node.start(settings)
    message = str(err.value)
    assert "exited with status 1 while starting: " in message
    assert "The http port 65536 is unavailable" in message
    assert "NEWSDRIFT_OPENSEARCH_PORT" in message
    assert node.running_state(settings) is None


def test_embedded_elasticsearch_node_starts_above_9299_and_stops(tmp_path):
    """`--engine elasticsearch`: Elasticsearch 7.10.2 on Java 11-17, through the launcher (port > 9299)."""
    port = _free_port_above_9299()
    settings = load_settings(home=tmp_path / "home", elasticsearch_port=port, store_url=None, opensearch_heap="512m")
    _share_installed_jars(settings, "elasticsearch")
    state = node.start(settings, engine="elasticsearch")
    try:
        assert (state.engine, state.port) == ("elasticsearch", port)
        root = httpx.get(state.url).json()
        assert root["version"]["number"] == "7.10.2" and "distribution" not in root["version"]
        assert 11 <= (node.java_major(Path(state.java)) or 0) <= 17
        assert node.running_state(settings, "elasticsearch").pid == state.pid
        assert node.running_state(settings) is None  # the OpenSearch slot of this home is untouched
    finally:
        assert node.stop(settings, engine="elasticsearch") is True
    assert not node._pid_alive(state.pid)
    assert node.stop(settings, engine="elasticsearch") is False
