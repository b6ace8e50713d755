"""newsdrift_drift: recompute the narrative-drift windows and emit drift events.

Runs whenever ``newsdrift_ingest`` publishes new articles (the ``newsdrift://articles``
asset) and at least once a day (NEWSDRIFT_DRIFT_CRON, default 02:30 UTC), so windows
close and events release even on quiet days.

* ``recompute``: windows touched by articles indexed in the last ``since_hours`` (all
  windows with ``full``), against ``baseline_id`` (default: NEWSDRIFT_BASELINE_ID); the
  default baseline is loaded from ``baseline/`` first when it is missing.
* ``emit_events``: the alerting cycle with no new article, which alerts on the current drift
  events (and runs the other checks: feed health, bursts, delivery).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from newsdrift.airflow.callbacks import on_task_failure
from newsdrift.settings import get_settings

ARTICLES = Asset(name="newsdrift_articles", uri="newsdrift://articles")
DAILY = CronTriggerTimetable(get_settings().drift_cron, timezone="UTC")

DEFAULT_ARGS = {
    "owner": "newsdrift",
    "on_failure_callback": on_task_failure,  # through the alert channels (kind: task_failure rules)
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="newsdrift_drift",
    schedule=AssetOrTimeSchedule(timetable=DAILY, assets=ARTICLES),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsdrift", "drift"],
    doc_md=__doc__,
    params={
        "since_hours": Param(48, type="number", minimum=1, description="Articles indexed this recently."),
        "full": Param(False, type="boolean", description="Recompute every window (after a baseline change)."),
        "baseline_id": Param(None, type=["null", "string"], description="Default: NEWSDRIFT_BASELINE_ID."),
    },
)
def newsdrift_drift() -> None:
    @task
    def recompute(params: dict | None = None) -> dict:
        from newsdrift.airflow import drift as tasks

        return tasks.update_drift(float(params["since_hours"]), params["baseline_id"], bool(params["full"]))

    @task
    def emit_events(drift: dict) -> dict:
        from newsdrift.airflow import drift as tasks

        return {"events": drift["events"], **tasks.notify_drift_events(drift["event_ids"])}

    emit_events(recompute())


newsdrift_drift()
