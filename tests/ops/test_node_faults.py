"""Faults of the OpenSearch process itself, on a node of this module's own (the shared one keeps serving):
a stall longer than the client timeout in the middle of a bulk write, and a kill -9 of the JVM mid-pass.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest

from newsdrift.errors import ClusterUnavailable
from newsdrift.ops import node
from newsdrift.ops.demo import sample_feeds
from newsdrift.run.ingest import run_once
from newsdrift.score.stages import default_scorers
from newsdrift.settings import load_settings
from newsdrift.store.client import make_client
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates
from tests.ops.test_node import _free_port_above_9299, _share_installed_jars
from tests.run.test_reliability import _article_alert_keys, _count, reference_run
from tests.support.alert_pending import count_pending


@pytest.fixture(scope="module")
def own_node(tmp_path_factory, opensearch_url):
    settings = load_settings(
        home=tmp_path_factory.mktemp("faultnode"),
        opensearch_port=_free_port_above_9299(),
        store_url=None,
        opensearch_heap="512m",
    )
    _share_installed_jars(settings)
    state = node.start(settings)
    yield settings, state
    node.stop(settings)


@pytest.fixture(scope="module")
def reference(opensearch_url, tmp_path_factory):
    with reference_run(opensearch_url, tmp_path_factory.mktemp("home")) as numbers:
        yield numbers


def _settings(state, tmp_path, **overrides):
    names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    settings = load_settings(
        store_url=state.url,
        index_prefix=names.prefix,
        allow_private_networks=True,
        per_host_delay=0.0,
        home=tmp_path / "home",
        **overrides,
    )
    return settings, names


class StallNodeOnce:
    """A stage that freezes the node (SIGSTOP) just before the first batch's bulk write goes out,
    for longer than the client timeout, then lets it go on (SIGCONT)."""

    def __init__(self, pid: int, seconds: float) -> None:
        self.pid, self.seconds, self.done = pid, seconds, False

    def score(self, batch, summary):
        if self.done:
            return
        self.done = True
        os.kill(self.pid, signal.SIGSTOP)
        threading.Timer(self.seconds, os.kill, (self.pid, signal.SIGCONT)).start()

    def after_index(self, indexed, summary):
        return None

    def finish(self, summary):
        return None


def test_stall_longer_than_the_client_timeout_keeps_counts_true(own_node, sample_server, channels, reference, tmp_path):
    """The bulk request times out and is retried; the first attempt landed, so the retry answers 409.
    The pass must still count, match and alert those articles as its own."""
    _, state = own_node
    settings, names = _settings(state, tmp_path, store_timeout=1.0, store_retries=5)
    client = make_client(settings)
    apply_templates(client, names)
    stages = default_scorers(settings, client, names, alerts=False)
    from newsdrift.alert.stage import AlertingStage

    stages += [StallNodeOnce(state.pid, 2.5), AlertingStage(settings, client, names)]
    summary = run_once(settings, client, sample_feeds(sample_server.url), scorers=stages)
    assert summary.indexed == reference["indexed"] == _count(client, names.articles)
    assert summary.index_failed == 0 and summary.articles_known == reference["articles_known"]
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert summary.alerts == reference["summary_alerts"]  # the stall changed no count
    assert _count(client, names.alerts) == reference["alerts"]
    assert count_pending(client, names) == 0


def test_kill_9_of_the_node_mid_pass_loses_nothing(own_node, sample_server, channels, reference, tmp_path):
    """kill -9 of the JVM while a pass indexes: the pass stops with one clear error; after a restart,
    the next passes index every article once and alert every story once."""
    node_settings, state = own_node
    settings, names = _settings(state, tmp_path, store_timeout=2.0, store_retries=1)
    client = make_client(settings)
    apply_templates(client, names)

    class KillNode(StallNodeOnce):
        def score(self, batch, summary):
            if not self.done:
                self.done = True
                os.kill(self.pid, signal.SIGKILL)

    stages = default_scorers(settings, client, names, alerts=False)
    from newsdrift.alert.stage import AlertingStage

    stages += [KillNode(state.pid, 0), AlertingStage(settings, client, names)]
    with pytest.raises(ClusterUnavailable):
        run_once(settings, client, sample_feeds(sample_server.url), scorers=stages)
    deadline = time.monotonic() + 30
    while node._pid_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    restarted = node.start(node_settings)
    assert restarted.url == state.url

    client = make_client(settings)
    first = run_once(settings, client, sample_feeds(sample_server.url), force=True)
    assert first.index_failed == 0
    assert _count(client, names.articles) == reference["indexed"]
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    again = run_once(settings, client, sample_feeds(sample_server.url), force=True)
    assert again.indexed == 0
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert count_pending(client, names) == 0
