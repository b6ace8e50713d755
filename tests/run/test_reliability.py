"""Nothing lost, nothing twice: faults during a pass against the real node and the loopback sample corpus.

Each test sets up a real fault (a write block, a pass that indexed but never alerted, a rules file
swapped mid-pass, two processes loading the baseline at once) and checks exact numbers against an
undisturbed reference pass over the same corpus.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import CHANNELS

from newsdrift.alert.stage import AlertingStage
from newsdrift.errors import ConfigError
from newsdrift.feeds import state as feedstate
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.state import indexed_counts, set_indexed_counts
from newsdrift.ops.demo import sample_feeds
from newsdrift.ops.sample import load_manifest
from newsdrift.records import RunSummary
from newsdrift.run.ingest import run_once
from newsdrift.score import baseline
from newsdrift.score.stages import default_scorers
from newsdrift.settings import load_settings
from newsdrift.store.client import make_client
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates, delete_all
from tests.support.alert_pending import count_pending


@contextmanager
def reference_run(opensearch_url: str, home: Path):
    """One undisturbed pass over the sample corpus: the numbers every faulty run must end with."""
    from newsdrift.alert.receivers import WebhookReceiver
    from newsdrift.ops.sample import SampleServer

    names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    mp = pytest.MonkeyPatch()
    with WebhookReceiver() as receiver, SampleServer(port=0) as server:
        for channel in CHANNELS:
            mp.setenv(f"NEWSDRIFT_CHANNEL_{channel}", receiver.apprise_url(channel.lower()))
        settings = load_settings(
            store_url=opensearch_url,
            index_prefix=names.prefix,
            allow_private_networks=True,
            per_host_delay=0.0,
            home=home,
        )
        client = make_client(settings)
        apply_templates(client, names)
        try:
            summary = run_once(settings, client, sample_feeds(server.url))
            client.indices.refresh(index=f"{names.prefix}-*")
            yield {
                "indexed": summary.indexed,
                "articles_known": summary.articles_known,
                "summary_alerts": summary.alerts,
                "article_alerts": _article_alert_keys(client, names),
                "alerts": client.count(index=names.alerts)["count"],
            }
        finally:
            mp.undo()
            delete_all(client, names)


@pytest.fixture(scope="module")
def reference(opensearch_url, tmp_path_factory):
    with reference_run(opensearch_url, tmp_path_factory.mktemp("home")) as numbers:
        yield numbers


def _article_alert_keys(client, names: IndexNames) -> Counter[str]:
    """Article alerts per rule (one per story): the same corpus must give the same counts, whatever
    order the entries came in (the order decides which copy of a story leads, not how many stories)."""
    client.indices.refresh(index=names.alerts)
    resp = client.search(
        index=names.alerts, body={"size": 1000, "query": {"term": {"kind": "article"}}, "_source": ["rule_name"]}
    )
    return Counter(h["_source"]["rule_name"] for h in resp["hits"]["hits"])


def _alert_ids(client, names: IndexNames) -> set[str]:
    client.indices.refresh(index=names.alerts)
    resp = client.search(index=names.alerts, body={"size": 10_000, "query": {"match_all": {}}, "_source": False})
    return {h["_id"] for h in resp["hits"]["hits"]}


def _added_alerts(client, names: IndexNames, before: set[str]) -> list[dict]:
    """The alert documents written since ``before`` (a set of ``_alert_ids``)."""
    return [client.get(index=names.alerts, id=i)["_source"] for i in sorted(_alert_ids(client, names) - before)]


def _broken_feeds(feeds: list[Feed]) -> list[Feed]:
    """The corpus feeds that fail every poll (an HTML error page where the feed should be)."""
    paths = {spec["path"] for spec in load_manifest()["feeds"] if not spec["recoverable"]}
    return [f for f in feeds if urlsplit(f.url).path in paths]


def _count(client, index: str) -> int:
    client.indices.refresh(index=index)
    return client.count(index=index)["count"]


def _block_writes(client, index: str, on: bool) -> None:
    client.indices.put_settings(index=index, body={"index.blocks.write": on})


def test_reference_pass_is_what_the_corpus_gives(reference):
    assert reference["indexed"] == 51 and len(reference["article_alerts"]) > 0


def test_write_block_holds_validators_and_the_entries_come_back(
    settings, sample_server, opensearch_client, initialized_names, channels, reference
):
    client, names = opensearch_client, initialized_names
    feeds = sample_feeds(sample_server.url)
    _block_writes(client, names.articles_index(1), True)
    try:
        blocked = run_once(settings, client, feeds)
    finally:
        _block_writes(client, names.articles_index(1), False)
    assert blocked.indexed == 0 and blocked.index_failed == reference["indexed"]
    index_errors = [e for e in blocked.errors if e.where.startswith("index:")]
    assert len(index_errors) == reference["indexed"]
    assert all("cluster_block_exception" in e.reason for e in index_errors)
    states = {s["feed_url"]: s for s in feedstate.all_states(client, names)}

    # block lifted: the same feeds (polled again at once with --all) give every entry back
    again = run_once(settings, client, feeds, force=True)
    assert again.indexed == reference["indexed"] and again.index_failed == 0
    # no feed whose entries failed to land had stored the validators of the blocked poll
    fed = indexed_counts(client, names, list(states))
    assert fed and not any(states[url].get("etag") or states[url].get("last_modified") for url in fed)
    assert _count(client, names.articles) == reference["indexed"]
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    # and now the validators are stored: a third pass is all 304s and indexes nothing
    third = run_once(settings, client, feeds, force=True)
    assert third.indexed == 0 and third.feeds_not_modified == third.feeds_polled - third.feeds_failed


def test_articles_indexed_but_never_matched_are_alerted_by_the_next_pass(
    settings, sample_server, opensearch_client, initialized_names, channels, reference
):
    """The state a kill between indexing and alerting leaves: articles indexed, no alert written."""
    client, names = opensearch_client, initialized_names
    feeds = sample_feeds(sample_server.url)
    no_alerting = default_scorers(settings, client, names, alerts=False)
    first = run_once(settings, client, feeds, scorers=no_alerting)
    assert first.indexed == reference["indexed"] and first.alerts == 0
    assert count_pending(client, names) == reference["indexed"]
    assert _article_alert_keys(client, names) == Counter()

    # nothing new on the feeds (304s), yet the pass matches what the dead one left pending
    second = run_once(settings, client, feeds, force=True)
    assert second.indexed == 0
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert count_pending(client, names) == 0
    # and once only: a third pass adds no article alert. It adds one monitor alert, and must: its poll
    # is the broken feed's third failure in a row, the feed-down threshold (consecutive_failures: 3)
    (broken,) = _broken_feeds(feeds)
    before = _alert_ids(client, names)
    third = run_once(settings, client, feeds, force=True)
    added = _added_alerts(client, names, before)
    assert [(a["kind"], a["rule_name"], a["subject_id"]) for a in added] == [("feed_health", "feed-down", broken.id)], (
        added
    )
    assert third.alerts == 1


def test_feed_down_alerts_on_the_pass_of_the_third_failed_poll_once(
    settings, sample_server, opensearch_client, initialized_names, channels
):
    """feed-down (consecutive_failures: 3) fires on the pass whose poll is the broken feed's third failure
    in a row, and once. The feeds index's periodic refresh is off: the health check read the states with
    a search, so it saw this pass's poll only if a refresh happened to land between the poll and the check
    (on a slow CI runner; a third pass then added this alert, 105 against 104), else one pass later."""
    client, names = opensearch_client, initialized_names
    feeds = sample_feeds(sample_server.url)
    (broken,) = _broken_feeds(feeds)
    healthy = next(f for f in feeds if f.url.endswith("/meridian/atom.xml"))
    client.indices.put_settings(index=names.feeds, body={"index.refresh_interval": "-1"})
    added_per_pass = []
    for n in range(4):
        before = _alert_ids(client, names)
        summary = run_once(settings, client, [broken, healthy], force=True)
        assert summary.feeds_polled == 2 and summary.feeds_failed == 1
        added = _added_alerts(client, names, before)
        if n == 0:  # the first pass also alerts on the healthy feed's articles; the later ones on nothing else
            added = [a for a in added if a["kind"] == "feed_health"]
        added_per_pass.append(
            [(a["rule_name"], a["subject_id"], a["details"].get("consecutive_failures")) for a in added]
        )
    assert added_per_pass == [[], [], [("feed-down", broken.id, 3)], []]


def test_alert_write_failure_is_reported_and_retried(
    settings, sample_server, opensearch_client, initialized_names, channels, reference
):
    """Alerts that cannot be written: the summary says so (not only stderr) and a later pass writes them."""
    client, names = opensearch_client, initialized_names
    feeds = sample_feeds(sample_server.url)
    _block_writes(client, names.alerts, True)
    try:
        blocked = run_once(settings, client, feeds)
    finally:
        _block_writes(client, names.alerts, False)
    assert blocked.indexed == reference["indexed"]
    assert blocked.alerts == 0 == _count(client, names.alerts)  # the count matches the index
    logged = [e for e in blocked.errors if e.where.startswith("log:alert.")]
    assert any("cluster_block_exception" in e.reason for e in logged), blocked.errors
    assert count_pending(client, names) > 0

    after = run_once(settings, client, feeds, force=True)
    assert after.indexed == 0
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert count_pending(client, names) == 0


def test_malformed_rules_file_refuses_the_pass_before_anything_is_written(
    settings, sample_server, opensearch_client, initialized_names, tmp_path: Path
):
    rules = tmp_path / "alerts.yaml"
    rules.write_text("rules: [ {name: broken, match: {any: [llama]}\n")  # unclosed flow sequence
    bad = settings.model_copy(update={"alert_rules_file": rules})
    with pytest.raises(ConfigError, match="alerts.yaml"):
        run_once(bad, opensearch_client, sample_feeds(sample_server.url))
    assert _count(opensearch_client, initialized_names.feeds) == 0
    assert _count(opensearch_client, initialized_names.articles) == 0


def test_rules_file_broken_mid_pass_keeps_the_last_good_rules(
    settings, sample_server, opensearch_client, initialized_names, channels, reference, tmp_path: Path
):
    client, names = opensearch_client, initialized_names
    rules = tmp_path / "alerts.yaml"
    rules.write_text((Path(settings.alert_rules_path)).read_text())
    good = settings.model_copy(update={"alert_rules_file": rules})

    class BreakRulesFile:
        """A stage that swaps the rules file for a broken one while the first batch is scored."""

        def score(self, batch, summary):
            rules.write_text("rules: [ {name: broken\n")

        def after_index(self, indexed, summary):
            return None

        def finish(self, summary):
            return None

    stages = default_scorers(good, client, names, alerts=False)
    stages += [BreakRulesFile(), AlertingStage(good, client, names)]
    summary = run_once(good, client, sample_feeds(sample_server.url), scorers=stages)
    assert summary.indexed == reference["indexed"]
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert any("alert rules not reloaded" in e.reason for e in summary.errors), summary.errors
    assert count_pending(client, names) == 0


def test_default_baseline_loaded_by_two_processes_at_once(opensearch_url, tmp_path: Path, opensearch_client):
    """Two runs starting on a fresh prefix both load the shipped baseline: both get it, stored once."""
    for attempt in range(6):
        names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
        settings = load_settings(store_url=opensearch_url, index_prefix=names.prefix, home=tmp_path / "h")
        apply_templates(opensearch_client, names)
        try:
            barrier = threading.Barrier(2)
            got: list[object] = [None, None]

            def load(slot: int, settings=settings, names=names, barrier=barrier, got=got) -> None:
                client = make_client(settings)
                barrier.wait()
                try:
                    got[slot] = baseline.ensure_default(client, names, settings)
                except Exception as exc:  # the assertion below reports it
                    got[slot] = exc

            threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert all(isinstance(g, list) and len(g) == 2 for g in got), (attempt, got)
            assert [b["baseline_id"] for b in baseline.list_baselines(opensearch_client, names)] == ["seed-v1"]
            assert _count(opensearch_client, names.baseline) == 2
        finally:
            delete_all(opensearch_client, names)


def test_feed_counters_are_exact_after_retries_and_repairs(
    settings, sample_server, opensearch_client, initialized_names, channels, reference
):
    client, names = opensearch_client, initialized_names
    feeds = sample_feeds(sample_server.url)
    run_once(settings, client, feeds)

    def stored() -> dict[str, int]:
        client.indices.refresh(index=names.feeds)
        return {s["feed_url"]: int(s.get("articles_indexed", 0)) for s in feedstate.all_states(client, names)}

    truth = indexed_counts(client, names, [f.url for f in feeds])
    assert sum(truth.values()) == reference["indexed"]
    assert {u: n for u, n in stored().items() if n} == truth
    # a retried counter update (the same request applied twice) changes nothing
    summary = RunSummary()
    set_indexed_counts(client, names, list(truth), summary)
    set_indexed_counts(client, names, list(truth), summary)
    assert not summary.errors and {u: n for u, n in stored().items() if n} == truth
    # a count left wrong (a pass killed before its update) is repaired by the next pass, even all-304
    for state in feedstate.all_states(client, names):
        client.update(index=names.feeds, id=state["feed_id"], body={"doc": {"articles_indexed": 999}}, refresh=True)
    again = run_once(settings, client, feeds, force=True)
    assert again.indexed == 0
    assert {u: n for u, n in stored().items() if n} == truth


def test_dropped_feed_entries_are_in_the_run_json_and_feeds_status(opensearch_url, initialized_names, tmp_path):
    """29 items, 5 unusable: `run --json` counts and names all 5; `feeds status --json` keeps them per feed."""
    import json
    import subprocess
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    items = [
        f"<item><title>Off-site story {i}</title><link>http://127.0.0.1:9/story-{i}</link>"
        f"<guid isPermaLink='false'>id-{i}</guid></item>"
        for i in range(24)
    ]
    items += [
        "<item><title>No link</title><guid isPermaLink='false'>id-nolink</guid></item>",
        "<item><title>Script</title><link>javascript:alert(1)</link><guid isPermaLink='false'>id-js</guid></item>",
        "<item><title>File</title><link>file:///etc/passwd</link><guid isPermaLink='false'>id-file</guid></item>",
        "<item><title>Mail</title><link>mailto:desk@example.org</link><guid isPermaLink='false'>id-mail</guid></item>",
        "<item><title>Copy</title><link>http://127.0.0.1:9/story-3</link>"
        "<guid isPermaLink='false'>id-dup</guid></item>",
    ]
    body = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Drops</title><link>http://127.0.0.1/</link>"
        "<description>d</description>" + "".join(items) + "</channel></rss>"
    ).encode()

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    feed_url = f"http://127.0.0.1:{httpd.server_address[1]}/rss"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - {{url: '{feed_url}', name: Drops, source: drops}}\n")
    env = {
        **__import__("os").environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": initialized_names.prefix,
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDRIFT_HTTP_TIMEOUT": "2",
    }
    try:
        run = subprocess.run(
            [sys.executable, "-m", "newsdrift", "run", "--feeds", str(feeds), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        status = subprocess.run(
            [sys.executable, "-m", "newsdrift", "feeds", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        httpd.shutdown()
    summary = json.loads(run.stdout)
    assert summary["entries_seen"] == 24 and summary["entries_dropped"] == 5
    dropped = {e["where"]: e["reason"] for e in summary["errors"] if e["where"].startswith("entry:")}
    assert dropped == {
        f"entry:{feed_url}#id-nolink": "no link",
        f"entry:{feed_url}#id-js": "unsupported link scheme 'javascript'",
        f"entry:{feed_url}#id-file": "unsupported link scheme 'file'",
        f"entry:{feed_url}#id-mail": "unsupported link scheme 'mailto'",
        f"entry:{feed_url}#id-dup": "duplicate link http://127.0.0.1:9/story-3",
    }
    [state] = json.loads(status.stdout)
    assert state["entries_dropped"] == 5 and len(state["dropped_reasons"]) == 5


def test_sigkill_of_a_running_pass_then_rerun_loses_and_repeats_nothing(
    opensearch_url, initialized_names, opensearch_client, tmp_path, reference
):
    """SIGKILL `newsdrift run` as soon as its first articles land; the next run ends where an undisturbed one does."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": initialized_names.prefix,
        "NEWSDRIFT_SAMPLE_PORT": str(port),
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
    }
    command = [sys.executable, "-m", "newsdrift", "run", "--all", "--json"]
    client, names = opensearch_client, initialized_names
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if client.count(index=names.articles)["count"] > 0:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    landed = _count(client, names.articles)
    assert 0 < landed <= reference["indexed"]

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["indexed"] == reference["indexed"] - landed
    assert _count(client, names.articles) == reference["indexed"]
    assert _article_alert_keys(client, names) == reference["article_alerts"]
    assert count_pending(client, names) == 0
