"""A local Airflow for ``scripts/run_ingest_dag.py`` (``make demo``) and the tests: SQLite metadata DB
under an Airflow home, this checkout's ``dags/``, one ``dag.test()`` run at a time.

Airflow reads its configuration when first imported, so ``apply_airflow_environment`` must run before
anything imports ``airflow`` (every Airflow import here is inside a function). Importable as
``airflow_local`` with ``scripts/`` on ``sys.path`` (the case for the scripts in this folder).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from newsdrift.airflow.common import HTTP_POOL

HTTP_POOL_SLOTS = 4


def default_airflow_home() -> Path:
    """``NEWSDRIFT_AIRFLOW_HOME``, else ``<NEWSDRIFT_HOME>/airflow`` (``~/.newsdrift/airflow``)."""
    from newsdrift.settings import get_settings

    settings = get_settings()
    return settings.airflow_home or settings.home / "airflow"


def airflow_environment(home: Path, dags_folder: Path | None = None) -> dict[str, str]:
    """Environment for a local Airflow: SQLite metadata DB under ``home``, this checkout's ``dags/``.

    Airflow reads its configuration when first imported, so these must be in
    ``os.environ`` before ``import airflow`` (or be the environment of a subprocess).
    """
    from newsdrift.settings import PROJECT_ROOT

    home = Path(home).expanduser().resolve()
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder or PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


def apply_airflow_environment(home: Path | None = None) -> dict[str, str]:
    """Put ``airflow_environment`` into ``os.environ``; refuses once airflow is imported with another home."""
    env = airflow_environment(home or default_airflow_home())
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise RuntimeError("airflow was imported before its environment was set; run in a fresh process")
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env


def prepare_airflow_db(pool_slots: int = HTTP_POOL_SLOTS) -> dict[str, Any]:
    """Migrate the metadata DB when it is behind (or new) and create the ``newsdrift_http`` pool."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    started = time.monotonic()
    migrated = False
    try:
        db.check_migrations(timeout=0)
    except TimeoutError:
        db.upgradedb()
        migrated = True
    migrate_seconds = time.monotonic() - started
    Pool.create_or_update_pool(HTTP_POOL, pool_slots, "newsdrift: concurrent feed/page HTTP tasks", False)
    return {"migrated": migrated, "migrate_seconds": round(migrate_seconds, 3)}


def load_dag(dag_id: str) -> Any:
    """The DAG ``dag_id`` from a DagBag of the configured dags folder (import errors raise)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise LookupError(f"no DAG {dag_id!r} in {bag.dag_folder}")
    return bag.dags[dag_id]


def run_dag(dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``dag.test()`` run; its state, the state of every task instance and the XComs of unmapped tasks."""
    from airflow.models.asset import AssetEvent
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag(dag_id)
    started = time.monotonic()
    run = dag.test(run_conf=conf or {})
    seconds = time.monotonic() - started
    with create_session() as session:
        tis = run.get_task_instances(session=session)
        states = {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state) for ti in tis}
        labels = {f"{ti.task_id}[{ti.map_index}]": ti.rendered_map_index for ti in tis if ti.map_index >= 0}
        durations = {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): round(ti.duration, 3)
            for ti in tis
            if ti.duration is not None
        }
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=dag_id, key="return_value")).all()
        xcoms: dict[str, Any] = {}
        for row in rows:
            key = row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"
            xcoms[key] = XComModel.deserialize_value(row)
        events = session.scalars(
            select(AssetEvent).where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run.run_id)
        ).all()
        asset_events = [{"uri": e.asset.uri, "extra": e.extra} for e in events]
    return {
        "dag_id": dag_id,
        "run_id": run.run_id,
        "state": str(run.state),
        "seconds": round(seconds, 3),
        "tasks": states,
        "task_seconds": durations,
        "map_labels": labels,
        "xcom": xcoms,
        "asset_events": asset_events,
    }


def run_ingest_dag_once(home: Path | None = None, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """Set up a local Airflow (SQLite) under ``home``, migrate if needed, run ``newsdrift_ingest`` once.

    With no feed configured and no ``sample_base_url``, the sample corpus server is started for the
    run on loopback, on NEWSDRIFT_SAMPLE_PORT (fixed, so article URLs, hence ids, stay the same from
    one run to the next; a busy port fails with a message naming the setting), and its feeds are
    polled. Returns the run summary and timings.
    """
    from newsdrift.feeds.catalog import enabled_feeds, load_feeds
    from newsdrift.settings import get_settings

    env = apply_airflow_environment(home)
    conf = dict(conf or {})
    timings = prepare_airflow_db()
    server = None
    try:
        settings = get_settings()
        feeds_path = Path(conf["feeds_file"]) if conf.get("feeds_file") else settings.feeds_path
        if not enabled_feeds(load_feeds(feeds_path)) and not conf.get("sample_base_url"):
            from newsdrift.ops import demo

            server = demo.start_sample_server(settings.sample_port)
            conf["sample_base_url"] = server.url
        result = run_dag("newsdrift_ingest", conf)
    finally:
        if server is not None:
            server.stop()
    summary = result["xcom"].get("percolate") or {}
    summary = {k: v for k, v in summary.items() if k != "indexed_ids"}
    return {
        "airflow_home": env["AIRFLOW_HOME"],
        "run_id": result["run_id"],
        "state": result["state"],
        "dag_run_seconds": result["seconds"],
        **timings,
        "tasks": result["tasks"],
        "summary": summary,
        "asset_events": result["asset_events"],
    }


# --- a local Airflow with a real scheduler (``make airflow``) -------------------------------------


def ensure_opensearch_connection(url: str | None = None) -> dict[str, Any]:
    """Create the ``opensearch_default`` connection for the cluster the settings name (the embedded node's
    URL by default), unless it exists: the tasks read OpenSearch from it (``settings_from_airflow``)."""
    import json
    from urllib.parse import urlsplit

    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from newsdrift.airflow.connection import OPENSEARCH_CONN_ID
    from newsdrift.settings import get_settings
    from newsdrift.store.client import resolve_url

    settings = get_settings()
    url = url or resolve_url(settings)
    with create_session() as session:
        if session.scalar(select(Connection).where(Connection.conn_id == OPENSEARCH_CONN_ID)) is not None:
            return {"connection": OPENSEARCH_CONN_ID, "created": False}
        parts = urlsplit(url)
        extra = {"scheme": parts.scheme, "verify_certs": settings.store_verify_certs}
        password = settings.store_password.get_secret_value() if settings.store_password else None
        session.add(
            Connection(
                conn_id=OPENSEARCH_CONN_ID,
                conn_type="opensearch",
                host=parts.hostname,
                port=parts.port,
                login=settings.store_user,
                password=password,
                extra=json.dumps(extra),
            )
        )
    return {"connection": OPENSEARCH_CONN_ID, "created": True, "url": url}


def standalone_environment(home: Path | None = None, executor: str = "LocalExecutor") -> dict[str, str]:
    """The environment ``airflow standalone`` needs: the local Airflow settings, a real executor, and this
    venv's ``bin`` first on PATH (standalone spawns ``airflow scheduler`` etc. from PATH)."""
    env = {**os.environ, **airflow_environment(home or default_airflow_home())}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["AIRFLOW__CORE__EXECUTOR"] = executor
    # LocalExecutor starts this many worker processes up front (Airflow's default 32, ~130 MB each)
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "8")
    return env


def main(argv: list[str] | None = None) -> int:
    """``prepare``: migrate, pool, connection. ``standalone``: prepare, then ``airflow standalone``
    (scheduler, dag-processor, triggerer, api-server with LocalExecutor) in the foreground."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["prepare", "standalone"])
    parser.add_argument("--home", type=Path, default=None, help="AIRFLOW_HOME (default: NEWSDRIFT_AIRFLOW_HOME)")
    parser.add_argument("--pool-slots", type=int, default=HTTP_POOL_SLOTS, help="slots of the newsdrift_http pool")
    args = parser.parse_args(argv)
    env = apply_airflow_environment(args.home)
    result = {"airflow_home": env["AIRFLOW_HOME"], **prepare_airflow_db(args.pool_slots)}
    result.update(ensure_opensearch_connection())
    print(json.dumps(result), flush=True)
    if args.command == "standalone":
        env = standalone_environment(Path(env["AIRFLOW_HOME"]))
        airflow = str(Path(sys.executable).parent / "airflow")
        os.execvpe(airflow, [airflow, "standalone"], env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
