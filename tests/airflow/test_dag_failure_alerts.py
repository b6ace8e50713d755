"""DAG failure callbacks: a failed task try goes out through newsdrift's own alert channels.

Real Airflow (``dag.test()`` on SQLite, in a fresh interpreter), the real node, a loopback webhook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdrift.alert.receivers import WebhookReceiver
from tests.support import airflow_runner as runner

FAILING_DAG = """
from datetime import UTC, datetime

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from newsdrift.airflow.callbacks import on_task_failure


@dag(dag_id="newsdrift_failing", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), catchup=False,
     default_args={"on_failure_callback": on_task_failure, "retries": 0})
def newsdrift_failing():
    @task
    def explode():
        raise AirflowFailException("feed proxy password expired")

    explode()


newsdrift_failing()
"""

RULES = """
channels:
  ops: {url_env: NEWSDRIFT_CHANNEL_OPS}
rules:
  - name: task-failed
    kind: task_failure
    channels: [ops]
  - name: only-ingest
    kind: task_failure
    dags: [newsdrift_ingest]
    channels: [ops]
"""


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return dict(runner.session_airflow(tmp_path_factory.getbasetemp() / "airflow-home")["env"])


def test_every_newsdrift_task_has_the_failure_callback(airflow_env):
    bag = runner.invoke(airflow_env, "dagbag")
    tasks = [(d, t, info) for d, dag in bag["dags"].items() for t, info in dag["tasks"].items()]
    assert len(bag["dags"]) == 4 and tasks
    for dag_id, task_id, info in tasks:
        assert info["on_failure_callback"] == ["newsdrift.airflow.callbacks.on_task_failure"], (dag_id, task_id)


def test_a_failed_task_alerts_through_the_channels(
    airflow_env, opensearch_url, opensearch_client, index_names, tmp_path
):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "failing.py").write_text(FAILING_DAG)
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    with WebhookReceiver() as receiver:
        env = {
            **airflow_env,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "NEWSDRIFT_STORE_URL": opensearch_url,
            "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
            "NEWSDRIFT_ALERT_RULES_FILE": str(rules),
            "NEWSDRIFT_CHANNEL_OPS": receiver.apprise_url("ops"),
        }
        (result,) = runner.invoke(env, "run", "newsdrift_failing")
        assert result["state"] == "failed" and result["tasks"] == {"explode": "failed"}
        assert len(receiver.requests) == 1  # one rule matches this DAG; the ingest-only rule does not
        payload = json.loads(receiver.requests[0].body)
    assert "newsdrift_failing.explode failed" in payload["title"]
    assert "feed proxy password expired" in payload["message"]
    opensearch_client.indices.refresh(index=index_names.alerts)
    hits = opensearch_client.search(index=index_names.alerts, body={"query": {"term": {"kind": "task_failure"}}})
    (alert,) = [h["_source"] for h in hits["hits"]["hits"]]
    assert alert["rule_name"] == "task-failed" and alert["delivery_state"] == "sent"
    assert Path(str(dags / "failing.py")).exists()
