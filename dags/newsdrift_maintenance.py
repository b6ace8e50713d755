"""newsdrift_maintenance: daily rollover, retention and feed health.

* ``rollover``: the articles write alias rolls over when its write index is older than
  ``rollover_max_age_days`` or holds more than ``rollover_max_docs`` documents.
* ``retention``: article indices whose newest document is older than ``retention_days``
  are deleted (never the write index); runs after the rollover.
* ``feed_health``: per-health counts and the failing feeds; feeds failing for at least
  ``disable_after_days`` are disabled with the reason recorded on their state.

Defaults come from NEWSDRIFT_ROLLOVER_MAX_AGE_DAYS (30), NEWSDRIFT_ROLLOVER_MAX_DOCS (1000000),
NEWSDRIFT_RETENTION_DAYS (365) and NEWSDRIFT_DISABLE_FEED_AFTER_DAYS (7); every run can override them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from newsdrift.airflow.callbacks import on_task_failure
from newsdrift.settings import get_settings

SETTINGS = get_settings()

DEFAULT_ARGS = {
    "owner": "newsdrift",
    "on_failure_callback": on_task_failure,  # through the alert channels (kind: task_failure rules)
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(minutes=30),
}


@dag(
    dag_id="newsdrift_maintenance",
    schedule=SETTINGS.maintenance_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsdrift", "maintenance"],
    doc_md=__doc__,
    params={
        "rollover_max_age_days": Param(SETTINGS.rollover_max_age_days, type="number", minimum=0),
        "rollover_max_docs": Param(SETTINGS.rollover_max_docs, type="integer", minimum=1),
        "retention_days": Param(SETTINGS.retention_days, type="number", minimum=0),
        "disable_after_days": Param(SETTINGS.disable_feed_after_days, type="number", minimum=0),
    },
)
def newsdrift_maintenance() -> None:
    @task
    def rollover(params: dict | None = None) -> dict:
        from newsdrift.airflow import maintenance as tasks

        return tasks.rollover_articles(params["rollover_max_age_days"], params["rollover_max_docs"])

    @task
    def retention(rolled: dict, params: dict | None = None) -> dict:
        from newsdrift.airflow import maintenance as tasks

        return {"rolled_over": rolled["rolled_over"], **tasks.apply_retention(params["retention_days"])}

    @task
    def feed_health(params: dict | None = None) -> dict:
        from newsdrift.airflow import maintenance as tasks

        return tasks.feed_health(params["disable_after_days"])

    retention(rollover())
    feed_health()


newsdrift_maintenance()
