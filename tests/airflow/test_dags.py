"""The DAG files, through Airflow itself: DagBag, schedules and task settings, parse times, an empty run.

Airflow runs in subprocesses (``tests/support/airflow_runner.py``) with a temporary AIRFLOW_HOME and a
SQLite metadata DB migrated once per session; this process never imports airflow.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.store.names import IndexNames
from newsdrift.store.templates import delete_all
from tests.support import airflow_runner as runner

DAG_IDS = {"newsdrift_ingest", "newsdrift_drift", "newsdrift_baseline", "newsdrift_maintenance"}
ARTICLES_URI = "newsdrift://articles/"  # Airflow normalises the asset URI with a trailing slash


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return dict(runner.session_airflow(tmp_path_factory.getbasetemp() / "airflow-home")["env"])


@pytest.fixture(scope="module")
def dagbag(airflow_env: dict[str, str]) -> dict[str, Any]:
    return runner.invoke(airflow_env, "dagbag")


@pytest.fixture
def prefix(opensearch_client: OpenSearch) -> Iterator[str]:
    names = IndexNames(f"taf{uuid.uuid4().hex[:10]}")
    yield names.prefix
    delete_all(opensearch_client, names)


def test_dagbag_loads_without_errors(dagbag: dict[str, Any]) -> None:
    assert dagbag["import_errors"] == {}
    assert dagbag["warnings"] == {}  # includes "unknown pool" warnings (known_pools is given)
    assert set(dagbag["dag_ids"]) == DAG_IDS
    for dag_id, dag in dagbag["dags"].items():
        assert dag["fileloc"] == f"{dag_id}.py"
        assert dag["catchup"] is False
        assert dag["max_active_runs"] == 1
        assert "newsdrift" in dag["tags"]
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 2, (dag_id, task_id)
            assert task["retry_exponential_backoff"] == 2.0, (dag_id, task_id)
            assert 0 < task["retry_delay"] < task["max_retry_delay"], (dag_id, task_id)


def test_ingest_dag_shape(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["newsdrift_ingest"]
    assert dag["timetable"] == "CronTriggerTimetable"
    assert dag["summary"] == "*/15 * * * *"
    assert set(dag["params"]) == {"feeds_file", "sample_base_url", "force"}
    tasks = dag["tasks"]
    assert set(tasks) == {"plan_shards", "ingest_shard", "percolate", "publish"}
    # shards, not feeds, are mapped: a bounded number of tasks however many feeds there are
    assert tasks["ingest_shard"]["mapped"] is True
    assert tasks["ingest_shard"]["upstream"] == ["plan_shards"]
    assert tasks["ingest_shard"]["pool"] == "newsdrift_http"
    # a feed list with no feed maps ingest_shard to zero tasks (skipped): percolate must still run
    assert tasks["percolate"]["upstream"] == ["ingest_shard"]
    assert tasks["percolate"]["trigger_rule"] == "none_failed"
    assert tasks["publish"]["upstream"] == ["percolate"]
    assert tasks["publish"]["outlets"] == [ARTICLES_URI]
    assert all(not t["outlets"] for name, t in tasks.items() if name != "publish")


def test_drift_dag_listens_to_the_articles_asset_and_runs_daily(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["newsdrift_drift"]
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["assets"] == dagbag["dags"]["newsdrift_ingest"]["tasks"]["publish"]["outlets"]
    assert dag["description"].startswith("Triggered by assets or At 02:30")
    assert list(dag["tasks"]) == ["recompute", "emit_events"]


def test_baseline_dag_is_manual(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["newsdrift_baseline"]
    assert dag["timetable"] == "NullTimetable"
    assert set(dag["params"]) == {"paths", "name", "recompute_drift"}
    assert dag["tasks"]["recompute_drift"]["upstream"] == ["load"]


def test_maintenance_dag_runs_daily(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["newsdrift_maintenance"]
    assert dag["summary"] == "0 3 * * *"
    assert set(dag["tasks"]) == {"rollover", "retention", "feed_health"}
    assert dag["tasks"]["retention"]["upstream"] == ["rollover"]
    assert {"rollover_max_age_days", "rollover_max_docs", "retention_days", "disable_after_days"} == set(dag["params"])


def test_ingest_schedule_comes_from_the_environment(airflow_env: dict[str, str]) -> None:
    bag = runner.invoke({**airflow_env, "NEWSDRIFT_INGEST_SCHEDULE": "*/5 * * * *"}, "dagbag")
    assert bag["dags"]["newsdrift_ingest"]["summary"] == "*/5 * * * *"


def test_each_dag_file_parses_fast_without_heavy_imports(dagbag: dict[str, Any], airflow_env: dict[str, str]) -> None:
    """Each file in a fresh interpreter: airflow.sdk import (Airflow's own, once per process), then the file."""
    files = sorted(runner.DAGS_FOLDER.glob("newsdrift_*.py"))
    assert {f.stem for f in files} == DAG_IDS
    rows = [runner.invoke(airflow_env, "parse", str(f)) for f in files]
    print("\n[airflow] DAG parse times (fresh interpreter; DagBag in-process):")
    for row in rows:
        print(
            f"  {row['file']:<26} file {row['file_seconds'] * 1000:6.1f} ms   airflow.sdk import "
            f"{row['sdk_import_seconds']:.2f} s   total {row['total_seconds']:.2f} s   DagBag "
            f"{dagbag['file_seconds'][row['file']] * 1000:5.1f} ms"
        )
    for row in rows:
        assert row["heavy_modules"] == [], row
        assert row["file_seconds"] < 1.0, row
        assert dagbag["file_seconds"][row["file"]] < 1.0, row


def test_settings_from_the_airflow_connection(airflow_env: dict[str, str]) -> None:
    conn = {
        "conn_type": "opensearch",
        "host": "search.example.org",
        "port": 9443,
        "login": "nd",
        "password": "s3cret",
        "extra": {"use_ssl": True, "verify_certs": False, "timeout": 20},
    }
    env = {
        **airflow_env,
        "AIRFLOW_CONN_OPENSEARCH_DEFAULT": json.dumps(conn),
        "NEWSDRIFT_STORE_URL": "http://127.0.0.1:9",
        "NEWSDRIFT_INDEX_PREFIX": "fromenv",
    }
    got = runner.invoke(env, "settings")
    assert got == {
        "store_url": "https://search.example.org:9443",
        "user": "nd",
        "password": "s3cret",
        "verify_certs": False,
        "timeout": 20.0,
        "prefix": "fromenv",
    }
    uri = runner.invoke({**env, "AIRFLOW_CONN_OPENSEARCH_DEFAULT": "opensearch://127.0.0.1:9251"}, "settings")
    assert uri["store_url"] == "http://127.0.0.1:9251" and uri["user"] is None and uri["verify_certs"] is True
    fallback = runner.invoke({k: v for k, v in env.items() if k != "AIRFLOW_CONN_OPENSEARCH_DEFAULT"}, "settings")
    assert fallback["store_url"] == "http://127.0.0.1:9" and fallback["user"] is None


def test_ingest_run_with_no_feeds(
    airflow_env: dict[str, str], opensearch_url: str, opensearch_client: OpenSearch, prefix: str, tmp_path: Path
) -> None:
    """dag.test() with an empty feed list: nothing mapped, nothing indexed, no asset event, run succeeds."""
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds: []\n", encoding="utf-8")
    env = {**airflow_env, "NEWSDRIFT_STORE_URL": opensearch_url, "NEWSDRIFT_INDEX_PREFIX": prefix}
    [run] = runner.invoke(env, "run", "newsdrift_ingest", json.dumps({"feeds_file": str(feeds)}))
    print(f"\n[airflow] empty ingest run: {run['seconds']:.2f} s")
    assert run["state"] == "success"
    assert run["tasks"] == {
        "plan_shards": "success",
        "ingest_shard": "skipped",
        "percolate": "success",
        "publish": "skipped",
    }
    assert run["xcom"]["plan_shards"] == []
    assert run["xcom"]["percolate"]["indexed"] == 0 and run["xcom"]["percolate"]["feeds_polled"] == 0
    assert run["asset_events"] == []
    names = IndexNames(prefix)
    assert opensearch_client.indices.exists_alias(name=names.articles)  # plan_shards prepared the indices
    assert opensearch_client.count(index=names.articles)["count"] == 0
