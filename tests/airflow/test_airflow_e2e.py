"""End to end through Airflow: ``dag.test()`` runs against the real OpenSearch node and the sample corpus.

The sample server runs in this process on loopback; Airflow runs in subprocesses
(``tests/support/airflow_runner.py``) with a SQLite metadata DB migrated once per session. What is
expected comes from the corpus manifest: every page linked from a polled feed, except the
one robots.txt disallows, lands once under its canonical URL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from opensearchpy import OpenSearch

from newsdrift.ops import demo
from newsdrift.ops.sample.server import CORPUS_DIR, SampleServer
from newsdrift.records import stable_id
from newsdrift.settings import load_settings
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import delete_all
from tests.support import airflow_runner as runner

MANIFEST = json.loads((CORPUS_DIR / "manifest.json").read_text(encoding="utf-8"))
FAULTED_FEED = "/byteline/atom.xml"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return dict(runner.session_airflow(tmp_path_factory.getbasetemp() / "airflow-home")["env"])


@pytest.fixture(scope="module")
def sample_server() -> Iterator[SampleServer]:
    server = SampleServer(port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def feeds_file(sample_server: SampleServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A feed list with every feed of the sample corpus (at this server's URL)."""
    feeds = [
        {"url": sample_server.url + f["path"], "name": f"{f['outlet']} {f['path']}", "source": f["outlet"]}
        for f in MANIFEST["feeds"]
    ]
    path = tmp_path_factory.mktemp("feeds") / "feeds.yaml"
    path.write_text(yaml.safe_dump({"feeds": feeds}), encoding="utf-8")
    return path


def new_prefix(client: OpenSearch) -> Iterator[IndexNames]:
    names = IndexNames(f"taf{uuid.uuid4().hex[:10]}")
    yield names
    delete_all(client, names)


@pytest.fixture(scope="module")
def happy_names(opensearch_client: OpenSearch) -> Iterator[IndexNames]:
    yield from new_prefix(opensearch_client)


@pytest.fixture(scope="module")
def fault_names(opensearch_client: OpenSearch) -> Iterator[IndexNames]:
    yield from new_prefix(opensearch_client)


def expected_paths(feed_paths: set[str]) -> set[str]:
    """Canonical paths of the pages linked from these feeds that may be fetched."""
    blocked = set(MANIFEST["robots_disallowed"]) | set(MANIFEST["dead_links"])
    return {p["canonical_path"] for p in MANIFEST["pages"] if set(p["feed"]) & feed_paths and p["path"] not in blocked}


def page_paths(docs: list[dict[str, Any]]) -> set[str]:
    """Canonical paths of the articles whose text came from their page."""
    return {urlsplit(d["canonical_url"]).path for d in docs if d.get("text_source", "page") == "page"}


def feed_text_paths(docs: list[dict[str, Any]]) -> set[str]:
    """Paths of the articles indexed from the feed's own text: pages robots.txt keeps us from."""
    paths = {urlsplit(d["canonical_url"]).path for d in docs if d.get("text_source") == "feed"}
    assert paths <= set(MANIFEST["robots_disallowed"])
    return paths


def parseable_feeds() -> set[str]:
    return {f["path"] for f in MANIFEST["feeds"] if f["recoverable"]}


def article_docs(client: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    client.indices.refresh(index=names.articles)
    hits = client.search(index=names.articles, body={"size": 1000, "query": {"match_all": {}}})["hits"]["hits"]
    return [{"_id": h["_id"], **h["_source"]} for h in hits]


def connection_json(url: str) -> str:
    """``AIRFLOW_CONN_OPENSEARCH_DEFAULT`` (JSON form, connection type ``opensearch``) for a cluster URL."""
    parts = urlsplit(url)
    return json.dumps(
        {
            "conn_type": "opensearch",
            "host": parts.hostname,
            "port": parts.port,
            "login": parts.username,
            "password": parts.password,
            "extra": {"scheme": parts.scheme},
        }
    )


@pytest.fixture(scope="module")
def happy_runs(
    airflow_env: dict[str, str],
    opensearch_url: str,
    happy_names: IndexNames,
    feeds_file: Path,
    opensearch_client: OpenSearch,
) -> dict[str, Any]:
    """Ingest twice (the second with force), then load the baseline and recompute drift: one process.

    The store comes from the Airflow connection; NEWSDRIFT_STORE_URL points at a closed
    port, so any task falling back to it would fail.
    """
    env = {
        **airflow_env,
        "AIRFLOW_CONN_OPENSEARCH_DEFAULT": connection_json(opensearch_url),
        "NEWSDRIFT_STORE_URL": "http://127.0.0.1:9",
        "NEWSDRIFT_INDEX_PREFIX": happy_names.prefix,
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDRIFT_PER_HOST_DELAY": "0",
    }
    conf = {"feeds_file": str(feeds_file)}
    single = str(sorted(load_settings().baseline_dir.glob("*.txt"))[0])
    first, second, third, baseline, custom, drift = runner.invoke(
        env,
        "run",
        "newsdrift_ingest",
        json.dumps(conf),
        "newsdrift_ingest",
        json.dumps({**conf, "force": True}),
        "newsdrift_ingest",
        json.dumps(conf),
        "newsdrift_baseline",
        "{}",
        "newsdrift_baseline",
        json.dumps({"paths": [single], "name": "one-doc"}),
        "newsdrift_drift",
        "{}",
    )
    print(
        f"\n[airflow] newsdrift_ingest on the sample corpus: {first['seconds']:.2f} s "
        f"({first['xcom']['percolate']['indexed']} articles, {len(MANIFEST['feeds'])} feeds in one shard); "
        f"second run {second['seconds']:.2f} s; baseline {baseline['seconds']:.2f} s; drift {drift['seconds']:.2f} s"
    )
    return {
        "first": first,
        "second": second,
        "third": third,
        "baseline": baseline,
        "custom": custom,
        "drift": drift,
        "env": env,
        "conf": conf,
    }


def shard_results(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [run["xcom"][k] for k in run["xcom"] if k.startswith("ingest_shard[")]


def test_first_ingest_run_indexes_the_sample_corpus(
    happy_runs: dict[str, Any], happy_names: IndexNames, opensearch_client: OpenSearch, sample_server: SampleServer
) -> None:
    run = happy_runs["first"]
    assert run["state"] == "success", run["tasks"]
    assert all(state == "success" for state in run["tasks"].values()), run["tasks"]
    plan, shards = run["xcom"]["plan_shards"], shard_results(run)
    # every sample feed is on one host: one shard holds them all (a host's politeness stays in one task)
    assert len(plan) == len(shards) == 1 and plan[0]["feeds"] == len(MANIFEST["feeds"])
    assert plan[0]["shards"] == load_settings().ingest_shards
    summary = run["xcom"]["percolate"]
    assert summary["feeds_polled"] == len(MANIFEST["feeds"])
    assert summary["feeds_failed"] == sum(1 for f in MANIFEST["feeds"] if not f["recoverable"])
    docs = article_docs(opensearch_client, happy_names)
    assert summary["indexed"] == len(docs) == len(set(summary["indexed_ids"]))
    assert {d["_id"] for d in docs} == set(summary["indexed_ids"]) == set(shards[0]["indexed_ids"])
    assert page_paths(docs) == expected_paths(parseable_feeds())
    assert feed_text_paths(docs) == set(MANIFEST["robots_disallowed"])  # the scoop, from its feed summary
    settings = load_settings()
    for doc in docs:
        assert doc["_id"] == stable_id(doc["canonical_url"])
        # page text has min_words; the feed's own text (a summary) feed_text_min_words
        floor = settings.min_words if doc.get("text_source", "page") == "page" else settings.feed_text_min_words
        assert doc["title"] and doc["word_count"] >= floor and doc["text"]
        assert doc["feed_url"].startswith(sample_server.url) and doc["source"]
    assert run["asset_events"] == [
        {"uri": "newsdrift://articles/", "extra": {"indexed": len(docs), "alerts": summary["alerts"]}}
    ]
    states = opensearch_client.search(index=happy_names.feeds, body={"size": 100})["hits"]["hits"]
    assert len(states) == len(MANIFEST["feeds"])
    failing = {s["_source"]["feed_url"] for s in states if s["_source"].get("consecutive_failures")}
    assert failing == {sample_server.url + f["path"] for f in MANIFEST["feeds"] if not f["recoverable"]}
    # mapped shard tasks are labelled with their shard and feed count (map_index_template)
    assert list(run["map_labels"].values()) == [f"shard {plan[0]['shard']} ({plan[0]['feeds']} feeds)"]


def test_feeds_not_due_are_not_mapped(happy_runs: dict[str, Any]) -> None:
    """A third run without force: every feed was just polled, so nothing is due and nothing is mapped."""
    third = happy_runs["third"]
    assert third["state"] == "success", third["tasks"]
    assert third["xcom"]["plan_shards"] == [] and third["tasks"]["ingest_shard"] == "skipped"
    assert third["xcom"]["percolate"]["indexed"] == 0 and third["asset_events"] == []


def test_a_retried_shard_polls_its_feeds_again(happy_runs: dict[str, Any]) -> None:
    """After a run no feed is due; a retried shard task polls every feed of its shard (a failed attempt
    may have stored next poll times) and finds nothing new: the validators answer 304."""
    shard = happy_runs["first"]["xcom"]["plan_shards"][0]
    conf = {"feeds_file": happy_runs["conf"]["feeds_file"]}
    calls = [
        ["ingest.ingest_shard", {"shard": shard, **conf}],
        ["ingest.ingest_shard", {"shard": shard, **conf, "retry": True}],
    ]
    not_due, retried = runner.invoke(happy_runs["env"], "call", json.dumps(calls))
    assert not_due["feeds"] == shard["feeds"] and not_due["feeds_polled"] == 0
    assert retried["feeds_polled"] == shard["feeds"]
    assert retried["feeds_not_modified"] == retried["feeds_polled"] - retried["feeds_failed"] > 0
    assert retried["indexed"] == 0 and retried["indexed_ids"] == []


def test_alerts_come_from_the_alerting_cycle(
    happy_runs: dict[str, Any], happy_names: IndexNames, opensearch_client: OpenSearch
) -> None:
    """percolate ran newsdrift.alert's cycle; every alert a run reports is one stored alert (no repeats)."""
    runs = [happy_runs[k]["xcom"] for k in ("first", "second", "third")]
    assert runs[0]["percolate"]["alerts"] > 0
    opensearch_client.indices.refresh(index=happy_names.alerts)
    stored = opensearch_client.count(index=happy_names.alerts)["count"]
    reported = sum(r["percolate"]["alerts"] for r in runs) + happy_runs["drift"]["xcom"]["emit_events"]["alerts"]
    assert stored == reported


def test_second_ingest_run_adds_nothing(
    happy_runs: dict[str, Any], happy_names: IndexNames, opensearch_client: OpenSearch
) -> None:
    first, second = happy_runs["first"], happy_runs["second"]
    assert second["state"] == "success", second["tasks"]
    summary = second["xcom"]["percolate"]
    assert summary["indexed"] == 0 and summary["indexed_ids"] == []
    assert second["tasks"]["publish"] == "skipped" and second["asset_events"] == []
    assert {d["_id"] for d in article_docs(opensearch_client, happy_names)} == set(
        first["xcom"]["percolate"]["indexed_ids"]
    )


def test_baseline_and_drift_dags(
    happy_runs: dict[str, Any], happy_names: IndexNames, opensearch_client: OpenSearch
) -> None:
    """The default baseline loads once (a re-load reuses its version); a new name makes a new baseline
    whose drift windows are computed separately; the drift DAG recomputes the active baseline's windows."""
    settings = load_settings()
    baseline, custom, drift = happy_runs["baseline"], happy_runs["custom"], happy_runs["drift"]
    for run in (baseline, custom, drift):
        assert run["state"] == "success", run["tasks"]
    files = sorted(settings.baseline_dir.glob("*.txt"))
    loaded = baseline["xcom"]["load"]
    assert loaded["baseline_id"] == settings.baseline_id and loaded["active"] is True
    assert loaded["documents"] == len(files)
    assert custom["xcom"]["load"] | {"sources": None} == {
        "baseline_id": "one-doc-v1",
        "version": 1,
        "created": True,
        "documents": 1,
        "sources": None,
        "active": False,
    }

    def count(index: str, *filters: dict[str, Any]) -> int:
        opensearch_client.indices.refresh(index=index)
        return opensearch_client.count(index=index, body={"query": {"bool": {"filter": list(filters)}}})["count"]

    assert count(happy_names.baseline, {"term": {"baseline_id": settings.baseline_id}}) == len(files)
    assert count(happy_names.baseline, {"term": {"baseline_id": "one-doc-v1"}}) == 1
    for run, baseline_id in ((baseline, settings.baseline_id), (custom, "one-doc-v1")):
        recomputed = run["xcom"]["recompute_drift"]
        assert recomputed["status"] == "ok" and recomputed["baseline_id"] == baseline_id
        assert recomputed["windows"] > 0 and recomputed["failures"] == []
        assert count(happy_names.drift, {"term": {"kind": "window"}}, {"term": {"baseline_id": baseline_id}}) > 0
    recomputed = drift["xcom"]["recompute"]
    assert recomputed["status"] == "ok" and recomputed["baseline_id"] == settings.baseline_id
    assert recomputed["windows"] > 0 and recomputed["failures"] == []
    assert drift["xcom"]["emit_events"]["drift_events"] == recomputed["events"]


def test_failing_feed_does_not_stop_the_others_and_maintenance(
    airflow_env: dict[str, str],
    opensearch_url: str,
    fault_names: IndexNames,
    tmp_path: Path,
    sample_server: SampleServer,
    opensearch_client: OpenSearch,
) -> None:
    """One feed answers 500: its poll task succeeds with outcome failed, the other feeds' articles land.
    Then maintenance disables the failing feeds, rolls the alias over and applies retention.

    The feeds come from the sample fallback (empty feed list + ``sample_base_url``): those feeds
    may reach loopback although NEWSDRIFT_ALLOW_PRIVATE_NETWORKS is not set.
    """
    empty = tmp_path / "feeds.yaml"
    empty.write_text("feeds: []\n", encoding="utf-8")
    sample_server.set_fault(FAULTED_FEED, "status", code=500)
    env = {
        **airflow_env,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": fault_names.prefix,
        "NEWSDRIFT_PER_HOST_DELAY": "0",
        "NEWSDRIFT_FEED_RETRIES": "0",
    }  # a 500 is retried by the poller otherwise; not what this test is about
    conf = {"feeds_file": str(empty), "sample_base_url": sample_server.url}
    try:
        [run] = runner.invoke(env, "run", "newsdrift_ingest", json.dumps(conf))
    finally:
        sample_server.clear_faults()
    assert run["state"] == "success", run["tasks"]
    assert all(state == "success" for state in run["tasks"].values()), run["tasks"]
    [shard] = shard_results(run)
    assert shard["feeds"] == shard["feeds_polled"] == len(demo.sample_feeds(sample_server.url))
    faulted = opensearch_client.get(index=fault_names.feeds, id=stable_id(sample_server.url + FAULTED_FEED))
    assert "500" in faulted["_source"]["last_error"] and faulted["_source"]["consecutive_failures"] == 1
    working = parseable_feeds() - {FAULTED_FEED}
    docs = article_docs(opensearch_client, fault_names)
    assert page_paths(docs) == expected_paths(working)
    feed_text_paths(docs)
    assert expected_paths({FAULTED_FEED}) - expected_paths(working)  # the fault did cost articles
    assert run["xcom"]["percolate"]["indexed"] == len(docs)

    maintenance = {"rollover_max_docs": 1, "retention_days": 0, "disable_after_days": 0}
    [maint] = runner.invoke(env, "run", "newsdrift_maintenance", json.dumps(maintenance))
    assert maint["state"] == "success", maint["tasks"]
    health = maint["xcom"]["feed_health"]
    opensearch_client.indices.refresh(index=fault_names.feeds)
    states = opensearch_client.search(index=fault_names.feeds, body={"size": 100})["hits"]["hits"]
    failing_urls = {s["_source"]["feed_url"] for s in states if s["_source"].get("consecutive_failures")}
    assert sample_server.url + FAULTED_FEED in failing_urls
    assert {d["feed_id"] for d in health["disabled"]} == {stable_id(u) for u in failing_urls}
    for url in failing_urls:
        state = opensearch_client.get(index=fault_names.feeds, id=stable_id(url))["_source"]
        assert state["enabled"] is False and state["health"] == "disabled"
        assert state["last_error"] in state["disabled_reason"]
    rolled = maint["xcom"]["rollover"]
    assert rolled["rolled_over"] is True and rolled["old_index"] == fault_names.articles_index(1)
    retention = maint["xcom"]["retention"]
    assert retention["deleted"] == [fault_names.articles_index(1)]
    assert retention["write_index"] == rolled["new_index"] == fault_names.articles_index(2)
    assert opensearch_client.indices.exists(index=fault_names.articles_index(2))
    assert opensearch_client.count(index=fault_names.articles)["count"] == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_ingest_dag_script(opensearch_url: str, opensearch_client: OpenSearch, tmp_path: Path) -> None:
    """The main job: scripts/run_ingest_dag.py sets up its own Airflow home, migrates, serves the sample
    corpus (no feed configured) and runs the DAG once; a second run finds the DB migrated and adds nothing."""
    names = next(gen := new_prefix(opensearch_client))
    empty = tmp_path / "feeds.yaml"
    empty.write_text("feeds: []\n", encoding="utf-8")
    env = {
        **runner.base_environment(tmp_path / "unused"),
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": names.prefix,
        "NEWSDRIFT_FEEDS_FILE": str(empty),
        "NEWSDRIFT_PER_HOST_DELAY": "0",
        "NEWSDRIFT_SAMPLE_PORT": str(free_port()),
    }
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW")}  # the script sets up Airflow itself
    script = [
        sys.executable,
        str(runner.PROJECT_ROOT / "scripts" / "run_ingest_dag.py"),
        "--airflow-home",
        str(tmp_path / "airflow"),
        "--json",
    ]
    try:
        results = []
        for _ in range(2):
            proc = subprocess.run(
                script, env=env, capture_output=True, text=True, timeout=600, check=False, cwd=os.getcwd()
            )
            assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
            results.append(json.loads(proc.stdout[proc.stdout.index("{\n") :]))
        first, second = results
        print(
            f"\n[airflow] scripts/run_ingest_dag.py: db migrate {first['migrate_seconds']:.2f} s, DAG run "
            f"{first['dag_run_seconds']:.2f} s, whole script {first['total_seconds']:.2f} s; second run: "
            f"migrate check {second['migrate_seconds']:.2f} s, DAG run {second['dag_run_seconds']:.2f} s"
        )
        assert first["state"] == second["state"] == "success"
        assert first["migrated"] is True and second["migrated"] is False
        assert Path(first["airflow_home"]) == (tmp_path / "airflow").resolve()
        docs = article_docs(opensearch_client, names)
        assert first["summary"]["indexed"] == len(docs) > 0
        assert page_paths(docs) == expected_paths(parseable_feeds())
        assert feed_text_paths(docs) == set(MANIFEST["robots_disallowed"])
        assert second["summary"]["indexed"] == 0 and len(article_docs(opensearch_client, names)) == len(docs)
    finally:
        next(gen, None)
