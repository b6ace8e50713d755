"""Runs the Airflow side of the DAG tests in a fresh interpreter and prints one JSON result line.

Airflow reads its configuration when first imported, so the tests run this script as a
subprocess with AIRFLOW_HOME / AIRFLOW__CORE__DAGS_FOLDER / NEWSDRIFT_* in its environment
and assert on the printed result (and on OpenSearch). Commands:

    parse FILE                   time one DAG file's import in this fresh interpreter
    prepare                      migrate the metadata DB if needed, create the newsdrift_http pool
    dagbag                       DagBag of the dags folder: ids, errors, schedules, task attributes
    settings                     the OpenSearch settings the tasks would use (connection or NEWSDRIFT_*)
    run DAG_ID [CONF] [DAG_ID [CONF]] ...   dag.test() runs, one after the other
    call JSON                    task functions called directly: [["module.name", kwargs], ...], the
                                 module under newsdrift.airflow (e.g. "ingest.poll_one_feed")

Only the standard library is imported at module level so ``parse`` measures the DAG file alone. The
subprocess side uses the local Airflow runner of ``make demo``, ``scripts/airflow_local.py``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

MARKER = "@@NEWSDRIFT-RESULT@@ "
# what a DAG file must not pull in at parse time (the tasks import them when they run)
HEAVY_MODULES = (
    "newsdrift",
    "extractors",
    "opensearchpy",
    "trafilatura",
    "feedparser",
    "sklearn",
    "datasketch",
    "numpy",
    "lxml",
    "apprise",
)
# except the settings object (with its section modules, ``*.settings``) that DAG files read their schedules and
# param defaults from, and the package inits on the way (tests/test_architecture.py keeps those import-free)
PARSE_TIME_ALLOWED = ("newsdrift", "newsdrift.settings", "newsdrift.errors", "newsdrift.airflow.callbacks")


def _allowed_at_parse_time(name: str) -> bool:
    return name in PARSE_TIME_ALLOWED or name.endswith(".settings") or hasattr(sys.modules.get(name), "__path__")


RUNNER = Path(__file__).resolve()
PROJECT_ROOT = RUNNER.parents[2]
DAGS_FOLDER = PROJECT_ROOT / "dags"
SCRIPTS = PROJECT_ROOT / "scripts"
_SESSION: dict[str, Any] = {}


# --- used by the test modules (in the pytest process; airflow is never imported there) ---------


def base_environment(home: Path) -> dict[str, str]:
    """This process' environment without AIRFLOW_* / NEWSDRIFT_* variables, plus a local SQLite Airflow."""
    home = home.resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSDRIFT_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "NEWSDRIFT_HOME": str(home / "newsdrift-home"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


def session_airflow(home: Path) -> dict[str, Any]:
    """Create and migrate (``airflow db migrate``) one metadata DB for the whole pytest session."""
    if "env" not in _SESSION:
        home.mkdir(parents=True, exist_ok=True)
        env = base_environment(home)
        airflow_cli = Path(sys.executable).parent / "airflow"
        started = time.perf_counter()
        proc = subprocess.run(
            [str(airflow_cli), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        print(f"\n[airflow] db migrate (SQLite, {home}): {seconds:.2f} s")
        _SESSION.update(env=env, migrate_seconds=seconds, home=home)
    return _SESSION


def invoke(env: dict[str, str], *args: str, timeout: float = 600) -> Any:
    """Run this script with ``args`` in a fresh interpreter; the parsed result (raises with the output)."""
    proc = subprocess.run(
        [sys.executable, str(RUNNER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=PROJECT_ROOT,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"airflow_runner {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
        )
    return json.loads(lines[-1][len(MARKER) :])


# --- the subprocess side ---------------------------------------------------------------


def airflow_local() -> ModuleType:
    """``scripts/airflow_local.py``, imported with ``scripts/`` on ``sys.path`` (it is not a package module)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module("airflow_local")


def emit(result: Any) -> None:
    sys.stdout.write(MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def parse(path: str) -> dict[str, Any]:
    """Seconds to import airflow.sdk, then to run the DAG file; which heavy modules it pulled in."""
    import importlib.util

    started = time.perf_counter()
    import airflow.sdk  # noqa: F401 - what every DAG file pays once per parsing process

    sdk_loaded = time.perf_counter()
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    done = time.perf_counter()
    added = set(sys.modules) - before
    heavy = sorted(
        m
        for m in added
        if not _allowed_at_parse_time(m) and any(m == h or m.startswith(h + ".") for h in HEAVY_MODULES)
    )
    return {
        "file": Path(path).name,
        "sdk_import_seconds": round(sdk_loaded - started, 4),
        "file_seconds": round(done - sdk_loaded, 4),
        "total_seconds": round(done - started, 4),
        "heavy_modules": heavy,
    }


def _asset_uris(condition: Any) -> list[str]:
    """URIs of the assets in a schedule condition (an Asset, or AssetAny/AssetAll of them)."""
    if condition is None:
        return []
    if hasattr(condition, "uri"):
        return [condition.uri]
    return [uri for part in getattr(condition, "objects", []) for uri in _asset_uris(part)]


def dagbag() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.encoders import coerce_to_core_timetable

    started = time.perf_counter()
    bag = DagBag(known_pools={"default_pool", "newsdrift_http"})
    seconds = time.perf_counter() - started
    dags = {}
    for dag in bag.dags.values():
        timetable = coerce_to_core_timetable(dag.timetable)
        dags[dag.dag_id] = {
            "fileloc": Path(dag.fileloc).name,
            "timetable": type(dag.timetable).__name__,
            "summary": timetable.summary,
            "description": getattr(timetable, "description", None),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tags": sorted(dag.tags),
            "params": sorted(dag.params.keys()),
            "assets": _asset_uris(getattr(dag.timetable, "asset_condition", None)),
            "tasks": {
                t.task_id: {
                    "type": type(t).__name__,
                    "mapped": type(t).__name__.endswith("MappedOperator"),
                    "retries": t.retries,
                    "retry_delay": t.retry_delay.total_seconds(),
                    "retry_exponential_backoff": t.retry_exponential_backoff,
                    "max_retry_delay": t.max_retry_delay.total_seconds() if t.max_retry_delay else None,
                    "pool": t.pool,
                    "trigger_rule": str(t.trigger_rule.value if hasattr(t.trigger_rule, "value") else t.trigger_rule),
                    "outlets": [o.uri for o in t.outlets],
                    "upstream": sorted(t.upstream_task_ids),
                    "on_failure_callback": [
                        f"{c.__module__}.{c.__qualname__}"
                        for c in (
                            t.on_failure_callback
                            if isinstance(t.on_failure_callback, list)
                            else [t.on_failure_callback]
                            if t.on_failure_callback
                            else []
                        )
                    ],
                }
                for t in dag.tasks
            },
        }
    return {
        "dag_ids": sorted(bag.dag_ids),
        "import_errors": bag.import_errors,
        "warnings": {k: list(v) for k, v in bag.captured_warnings.items()},
        "bag_seconds": round(seconds, 4),
        "file_seconds": {Path(s.file).name: s.duration.total_seconds() for s in bag.dagbag_stats},
        "dags": dags,
    }


def settings() -> dict[str, Any]:
    from newsdrift.airflow.connection import settings_from_airflow

    s = settings_from_airflow()
    return {
        "store_url": s.store_url,
        "user": s.store_user,
        "password": s.store_password.get_secret_value() if s.store_password else None,
        "verify_certs": s.store_verify_certs,
        "timeout": s.store_timeout,
        "prefix": s.index_prefix,
    }


def run(args: list[str]) -> list[dict[str, Any]]:
    local = airflow_local()
    local.prepare_airflow_db()  # a no-op check once migrated; creates the newsdrift_http pool
    results = []
    while args:
        dag_id = args.pop(0)
        conf = json.loads(args.pop(0)) if args and args[0].startswith("{") else {}
        results.append(local.run_dag(dag_id, conf))
    return results


def call(spec: str) -> list[Any]:
    results = []
    for name, kwargs in json.loads(spec):
        module, _, function = name.rpartition(".")
        results.append(getattr(importlib.import_module(f"newsdrift.airflow.{module}"), function)(**kwargs))
    return results


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "parse":
        emit(parse(args[0]))
    elif command == "prepare":
        emit(airflow_local().prepare_airflow_db())
    elif command == "dagbag":
        emit(dagbag())
    elif command == "settings":
        emit(settings())
    elif command == "run":
        emit(run(list(args)))
    elif command == "call":
        emit(call(args[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
