"""newsdrift_ingest: poll the feeds, fetch/extract/score/index the new articles, alert, publish.

Wiring only: every task imports ``newsdrift.tasks.ingest`` when it runs, so parsing this file
touches neither the network, the metadata DB nor heavy libraries (only the settings are read).

* ``load_feeds``: the enabled feeds of ``feeds_file`` (param; default NEWSDRIFT_FEEDS_FILE or
  config/feeds.yaml) that are due (all with ``force``), or the sample corpus at ``sample_base_url``
  when no feed is configured.
* ``poll_feed``: one mapped task per feed (``.expand``), in pool ``newsdrift_http``; a feed
  that fails is reported as outcome ``failed`` and never fails the run.
* ``ingest``: new entries fetched, extracted, scored and bulk-indexed in batches.
* ``percolate``: the alerting cycle: alert rules on the new articles, then feed health, duplicate
  bursts, drift events and delivery (alerts have deterministic ids: a retry never alerts twice).
* ``publish``: emits an event on the ``newsdrift://articles`` asset when articles were indexed
  (skipped otherwise); ``newsdrift_drift`` is scheduled on it.

Schedule: NEWSDRIFT_INGEST_SCHEDULE (cron, default every 15 minutes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task

from newsdrift.callbacks import on_task_failure
from newsdrift.config import get_settings

SETTINGS = get_settings()
ARTICLES = Asset(name="newsdrift_articles", uri="newsdrift://articles")
HTTP_POOL = "newsdrift_http"  # as newsdrift.tasks.common.HTTP_POOL (not imported at parse time)

DEFAULT_ARGS = {
    "owner": "newsdrift",
    "on_failure_callback": on_task_failure,  # through the alert channels (kind: task_failure rules)
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,  # 30 s, 60 s, 120 s ... (Airflow 3.3: a multiplier; True means 2.0)
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


@dag(
    dag_id="newsdrift_ingest",
    schedule=SETTINGS.ingest_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=DEFAULT_ARGS,
    tags=["newsdrift", "ingest"],
    doc_md=__doc__,
    params={
        "feeds_file": Param(
            None,
            type=["null", "string"],
            description="Absolute path of a feed list YAML (default: NEWSDRIFT_FEEDS_FILE or config/feeds.yaml).",
        ),
        "sample_base_url": Param(
            SETTINGS.sample_url,
            type=["null", "string"],
            description="Sample corpus server used when no feed is configured (e.g. http://127.0.0.1:8765).",
        ),
        "force": Param(False, type="boolean", description="Poll every enabled feed, not only the due ones."),
    },
)
def newsdrift_ingest() -> None:
    @task
    def load_feeds(params: dict | None = None) -> list[dict]:
        from newsdrift.tasks import ingest as tasks

        return tasks.load_feed_list(params["feeds_file"], params["sample_base_url"], force=params["force"])

    @task(pool=HTTP_POOL, map_index_template="{{ feed_name }}")
    def poll_feed(feed: dict, params: dict | None = None) -> dict:
        from newsdrift.tasks import ingest as tasks

        context = get_current_context()
        context["feed_name"] = feed["name"]  # type: ignore[typeddict-unknown-key]
        # a retry re-fetches: the failed attempt may have stored the feed's validators already
        return tasks.poll_one_feed(feed, force=bool(params["force"]), refetch=context["ti"].try_number > 1)

    @task(pool=HTTP_POOL, trigger_rule="none_failed")
    def ingest(polls: list[dict] | None) -> dict:
        from newsdrift.tasks import ingest as tasks

        polls = list(polls[:]) if polls is not None else []  # one XCom request for all mapped results
        entries, held = tasks.collect_entries(polls), tasks.collect_validators(polls)
        result = tasks.ingest_entries(entries, held)
        return {"polls": tasks.summarize_polls(polls), **result}

    @task(trigger_rule="none_failed")
    def percolate(ingested: dict) -> dict:
        from newsdrift.tasks import ingest as tasks

        alerts = tasks.percolate_alerts(ingested.get("indexed_ids"))
        return tasks.run_summary(ingested["polls"], ingested, alerts) | {"indexed_ids": ingested["indexed_ids"]}

    @task(outlets=[ARTICLES])
    def publish(summary: dict, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        if not summary["indexed"]:
            raise AirflowSkipException("no new article indexed: no asset event")
        outlet_events[ARTICLES].extra = {"indexed": summary["indexed"], "alerts": summary["alerts"]}
        return {k: v for k, v in summary.items() if k != "indexed_ids"}

    polls = poll_feed.expand(feed=load_feeds())
    publish(percolate(ingest(polls)))


newsdrift_ingest()
