"""newsdrift_ingest: poll the feeds, fetch/extract/score/index the new articles, alert, publish.

Wiring only: every task imports ``newsdrift.airflow.ingest`` when it runs, so parsing this file
touches neither the network, the metadata DB nor heavy libraries (only the settings are read).

* ``plan_shards``: checks the configuration, prepares the indices, groups the due feeds of
  ``feeds_file`` (param; default NEWSDRIFT_FEEDS_FILE or config/feeds.yaml; all enabled feeds with
  ``force``; the sample corpus at ``sample_base_url`` when no feed is configured) by host into at
  most NEWSDRIFT_INGEST_SHARDS shards; returns one small dict per non-empty shard.
* ``ingest_shard``: one mapped task per shard (``.expand``), in pool ``newsdrift_http``: polls the
  shard's feeds, then fetches, extracts, scores and bulk-indexes their new entries (the pipeline's
  pass); returns counts and the indexed ids. A failing feed is counted, never fails the run.
* ``percolate``: sums the shards, then the rest of the alerting cycle (the shards matched their
  articles while indexing them): articles left ``alert_state: pending``, feed health, duplicate
  bursts, drift events and delivery (alerts have deterministic ids: a retry never alerts twice).
* ``publish``: emits an event on the ``newsdrift://articles`` asset when articles were indexed
  (skipped otherwise); ``newsdrift_drift`` is scheduled on it.

Schedule: NEWSDRIFT_INGEST_SCHEDULE (cron, default every 15 minutes; empty: triggered runs only).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task

from newsdrift.airflow.callbacks import on_task_failure
from newsdrift.settings import get_settings

SETTINGS = get_settings()
ARTICLES = Asset(name="newsdrift_articles", uri="newsdrift://articles")
HTTP_POOL = "newsdrift_http"  # as newsdrift.airflow.common.HTTP_POOL (not imported at parse time)

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
    schedule=SETTINGS.ingest_schedule or None,  # empty: triggered runs only
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
    def plan_shards(params: dict | None = None) -> list[dict]:
        from newsdrift.airflow import ingest as tasks

        return tasks.plan_shards(params["feeds_file"], params["sample_base_url"], force=params["force"])

    @task(pool=HTTP_POOL, map_index_template="shard {{ shard_label }}")
    def ingest_shard(shard: dict, params: dict | None = None) -> dict:
        from newsdrift.airflow import ingest as tasks

        context = get_current_context()
        context["shard_label"] = f"{shard['shard']} ({shard['feeds']} feeds)"  # type: ignore[typeddict-unknown-key]
        return tasks.ingest_shard(
            shard,
            params["feeds_file"],
            params["sample_base_url"],
            force=bool(params["force"]),
            retry=context["ti"].try_number > 1,
        )

    @task(trigger_rule="none_failed")
    def percolate(shards: list[dict] | None) -> dict:
        from newsdrift.airflow import ingest as tasks

        return tasks.percolate(list(shards[:]) if shards is not None else [])  # one XCom request for all

    @task(outlets=[ARTICLES])
    def publish(summary: dict, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        if not summary["indexed"]:
            raise AirflowSkipException("no new article indexed: no asset event")
        outlet_events[ARTICLES].extra = {"indexed": summary["indexed"], "alerts": summary["alerts"]}
        return {k: v for k, v in summary.items() if k != "indexed_ids"}

    publish(percolate(ingest_shard.expand(shard=plan_shards())))


newsdrift_ingest()
