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

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

DEFAULT_ARGS = {
    "owner": "newsdrift",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(minutes=30),
}


def _env_number(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dag(
    dag_id="newsdrift_maintenance",
    schedule=os.environ.get("NEWSDRIFT_MAINTENANCE_SCHEDULE", "0 3 * * *"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsdrift", "maintenance"],
    doc_md=__doc__,
    params={
        "rollover_max_age_days": Param(_env_number("NEWSDRIFT_ROLLOVER_MAX_AGE_DAYS", 30), type="number", minimum=0),
        "rollover_max_docs": Param(int(_env_number("NEWSDRIFT_ROLLOVER_MAX_DOCS", 1_000_000)), type="integer",
                                   minimum=1),
        "retention_days": Param(_env_number("NEWSDRIFT_RETENTION_DAYS", 365), type="number", minimum=0),
        "disable_after_days": Param(_env_number("NEWSDRIFT_DISABLE_FEED_AFTER_DAYS", 7), type="number", minimum=0),
    },
)
def newsdrift_maintenance() -> None:
    @task
    def rollover(params: dict | None = None) -> dict:
        from newsdrift import orchestration

        return orchestration.rollover_articles(params["rollover_max_age_days"], params["rollover_max_docs"])

    @task
    def retention(rolled: dict, params: dict | None = None) -> dict:
        from newsdrift import orchestration

        return {"rolled_over": rolled["rolled_over"], **orchestration.apply_retention(params["retention_days"])}

    @task
    def feed_health(params: dict | None = None) -> dict:
        from newsdrift import orchestration

        return orchestration.feed_health(params["disable_after_days"])

    retention(rollover())
    feed_health()


newsdrift_maintenance()
