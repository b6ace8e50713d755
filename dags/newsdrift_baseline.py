"""newsdrift_baseline: load a baseline corpus, then recompute every drift window against it.

Manual only (trigger with params). ``paths``: files, folders (their .txt/.html files) or http(s)
URLs (default: NEWSDRIFT_BASELINE_DIR, ``baseline/``); ``name``: the baseline's name (default:
the name part of NEWSDRIFT_BASELINE_ID). Baselines are versioned: the id is ``<name>-v<N>``;
the same documents again reuse the existing version, different ones make version N+1 and
nothing computed against an older version is overwritten. To measure drift against a new
version by default, set NEWSDRIFT_BASELINE_ID to the id this run returns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from newsdrift.airflow.callbacks import on_task_failure

DEFAULT_ARGS = {
    "owner": "newsdrift",
    "on_failure_callback": on_task_failure,  # through the alert channels (kind: task_failure rules)
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="newsdrift_baseline",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsdrift", "baseline"],
    doc_md=__doc__,
    params={
        "paths": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Baseline files, folders or URLs (default: NEWSDRIFT_BASELINE_DIR).",
        ),
        "name": Param(None, type=["null", "string"], description="Default: from NEWSDRIFT_BASELINE_ID."),
        "recompute_drift": Param(True, type="boolean", description="Recompute all drift windows afterwards."),
    },
)
def newsdrift_baseline() -> None:
    @task
    def load(params: dict | None = None) -> dict:
        from newsdrift.airflow import baseline

        return baseline.load_baseline(params["paths"] or None, params["name"])

    @task
    def recompute_drift(loaded: dict, params: dict | None = None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from newsdrift.airflow import drift

        if not params["recompute_drift"]:
            raise AirflowSkipException("recompute_drift is off")
        return drift.update_drift(baseline_id=loaded["baseline_id"], full=True)

    recompute_drift(load())


newsdrift_baseline()
