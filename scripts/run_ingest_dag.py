"""Run the ``newsdrift_ingest`` DAG once through Airflow (``dag.test()``) and print the run summary.

    python scripts/run_ingest_dag.py [--airflow-home DIR] [--feeds FILE] [--sample-url URL] [--force] [--json]

Airflow lives under ``--airflow-home`` (default NEWSDRIFT_AIRFLOW_HOME, else
``$NEWSDRIFT_HOME/airflow``, i.e. ~/.newsdrift/airflow) with a
SQLite metadata DB, migrated on first use; the DAGs are this checkout's ``dags/``. OpenSearch is the
Airflow connection ``opensearch_default`` if defined (AIRFLOW_CONN_OPENSEARCH_DEFAULT), else the
NEWSDRIFT_* settings (NEWSDRIFT_STORE_URL or the embedded node). With no feed configured, the
offline sample corpus is served on loopback for the run and its feeds are polled.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the newsdrift_ingest DAG once (dag.test) and print a summary.")
    parser.add_argument(
        "--airflow-home",
        type=Path,
        default=None,
        help="default: NEWSDRIFT_AIRFLOW_HOME, else $NEWSDRIFT_HOME/airflow (~/.newsdrift/airflow)",
    )
    parser.add_argument("--feeds", type=Path, default=None, help="feed list YAML (default: settings)")
    parser.add_argument("--sample-url", default=None, help="an already running sample corpus server")
    parser.add_argument("--force", action="store_true", help="poll every enabled feed, not only the due ones")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--verbose", action="store_true", help="keep Airflow's INFO logs")
    return parser.parse_args(argv)


def print_summary(result: dict) -> None:
    summary = result["summary"]
    print(
        f"newsdrift_ingest {result['run_id']}: {result['state']} in {result['dag_run_seconds']:.1f} s "
        f"(AIRFLOW_HOME {result['airflow_home']}; db {'migrated' if result['migrated'] else 'up to date'}, "
        f"{result['migrate_seconds']:.1f} s)"
    )
    for key in (
        "shards",
        "feeds_polled",
        "feeds_not_modified",
        "feeds_failed",
        "entries_seen",
        "articles_new",
        "indexed",
        "articles_known",
        "fetch_failed",
        "extraction_failed",
        "off_topic",
        "index_failed",
        "exact_duplicates",
        "near_duplicates",
        "drift_windows",
        "drift_events",
        "alerts",
    ):
        print(f"  {key.replace('_', ' '):<18} {summary.get(key)}")
    for error in summary.get("errors", []):
        print(f"  problem: {error['where']}: {error['reason']}")
    print(f"  asset events       {[e['uri'] for e in result['asset_events']]}")


def _runs_on_sample_corpus() -> bool:
    """No feeds configured: the ingest DAG polls the sample corpus."""
    from newsdrift.ops.demo import configured_feeds
    from newsdrift.settings import load_settings

    path = load_settings().feeds_path
    return not path.exists() or not configured_feeds(path)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.verbose:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    if not args.feeds and _runs_on_sample_corpus():
        from newsdrift.ops.demo import DEMO_DRIFT_FALSE_ALARM_RATE

        # one article a day is too thin for the default rate to see the corpus's framing shift (newsdrift.ops.demo)
        os.environ.setdefault("NEWSDRIFT_DRIFT_FALSE_ALARM_RATE", str(DEMO_DRIFT_FALSE_ALARM_RATE))
    import airflow_local  # scripts/airflow_local.py: sets the Airflow environment before airflow is imported

    conf: dict = {"force": args.force}
    if args.feeds:
        conf["feeds_file"] = str(args.feeds.resolve())
    if args.sample_url:
        conf["sample_base_url"] = args.sample_url
    started = time.monotonic()
    result = airflow_local.run_ingest_dag_once(args.airflow_home, conf)
    result["total_seconds"] = round(time.monotonic() - started, 2)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_summary(result)
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
