"""Feed-scale cycles of the ``newsdrift_ingest`` DAG: thousands of feeds on 100+ loopback hosts.

A server process serves ``N`` feeds spread over ``max(100, N // 100)`` loopback addresses
(127.0.1.1, 127.0.1.2, ...; each address is a host with its own port, ``/robots.txt`` and
feeds ``/f/<i>.xml``). Feed ``i`` gains one new entry in cycle ``c`` when
``(i * 7919 + c * 104729) % 100 == 0``: 1 % of the feeds per cycle. Feeds answer
``304 Not Modified`` to a matching ``If-None-Match``; feeds without an entry are tiny (an empty
channel). Each new entry links to a page on the same host: a real page of the trafilatura
evaluation set (``bench/realpages.py`` builds them; copies made distinct so dedup keeps them apart).

Cycle 0 is the first poll (every feed new to newsdrift, 1 % with an entry); cycle 1 is the
steady state measured (1 % new entries, 99 % answer 304). Both cycles run with ``force`` (the
feeds were polled seconds ago and would not be due otherwise).

Modes, each cycle one DAG run in a fresh Airflow home (SQLite metadata DB):

* ``dag-test``: ``dag.test()`` in a child process (``scripts/airflow_local.run_dag``).
* ``scheduler``: a real scheduler with LocalExecutor (``airflow standalone`` under
  ``scripts/airflow_local.py``'s environment, venv ``bin`` first on PATH); the run is triggered
  through the CLI and waited for; task instance states and durations are read from the metadata DB.

Printed per (mode, feeds, cycle): cycle seconds, Airflow task instances, peak RSS of the
process running the tasks (dag-test: the child and its extraction workers), articles indexed.

    python bench/feed_scale.py --feeds 1100 5000 10000 --modes dag-test scheduler [--url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))

FEEDS_PER_HOST = 100
MIN_HOSTS = 100


def hosts_for(n: int) -> int:
    return max(MIN_HOSTS, -(-n // FEEDS_PER_HOST))


def host_address(h: int) -> str:
    return f"127.0.{1 + h // 250}.{1 + h % 250}"


def new_in(i: int, cycle: int) -> bool:
    """Feed ``i`` gets a new entry in ``cycle`` (1 % of the feeds per cycle)."""
    return (i * 7919 + cycle * 104729) % 100 == 0


def _feed_xml(base: str, i: int, cycle: int) -> bytes:
    items = []
    for c in range(cycle + 1):
        if new_in(i, c):
            link = f"{base}/p/{i}-{c}.html"
            items.append(f"<item><title>Feed {i} story {c}</title><link>{escape(link)}</link></item>")
    head = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>feed {i}</title>"
    return (head + "".join(items) + "</channel></rss>").encode()


def _serve(n: int, cycle: Any, ready: Any) -> None:
    """The feed and page servers (one process; pages built here so the measured process never holds them)."""
    from realpages import CACHE_DIR, DEFAULT_ARCHIVE, build_site

    hosts = hosts_for(n)
    page_ids = [(i, c) for c in range(2) for i in range(n) if new_in(i, c)]
    bodies, _ = build_site(len(page_ids), DEFAULT_ARCHIVE, CACHE_DIR)
    body_of = {f"{i}-{c}": bodies[k] for k, (i, c) in enumerate(page_ids)}
    bases = []
    for h in range(hosts):

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                address, port = self.server.server_address[:2]
                base = f"http://{address}:{port}"
                if self.path == "/robots.txt":
                    self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                elif self.path.startswith("/f/") and self.path.endswith(".xml"):
                    i, c = int(self.path[3:-4]), cycle.value
                    etag = f'"{i}-{sum(new_in(i, k) for k in range(c + 1))}"'
                    if self.headers.get("If-None-Match") == etag:
                        self._send(304, b"", "application/rss+xml", etag)
                    else:
                        self._send(200, _feed_xml(base, i, c), "application/rss+xml", etag)
                elif self.path.startswith("/p/") and self.path[3:-5] in body_of:
                    self._send(200, body_of[self.path[3:-5]], "text/html")
                else:
                    self.send_error(404)

        server = ThreadingHTTPServer((host_address(h), 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bases.append(f"http://{host_address(h)}:{server.server_address[1]}")
    ready.put(bases)
    threading.Event().wait()


def feed_list(bases: list[str], n: int) -> list[dict[str, Any]]:
    return [{"url": f"{bases[i % len(bases)]}/f/{i}.xml", "name": f"feed {i}", "source": "bench"} for i in range(n)]


# --- one cycle through dag.test() (child process) --------------------------------------------------


def dag_test_child(home: str, conf: str) -> None:
    import airflow_local

    airflow_local.apply_airflow_environment(Path(home))
    airflow_local.prepare_airflow_db()
    run = airflow_local.run_dag("newsdrift_ingest", json.loads(conf))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        "@@RESULT@@ "
        + json.dumps(
            {
                "state": run["state"],
                "seconds": run["seconds"],
                "task_instances": len(run["tasks"]),
                "task_states": _count(run["tasks"].values()),
                "summary": _summary(run["xcom"]),
                "peak_rss_mb": round(own, 1),
                "peak_rss_children_mb": round(workers, 1),
            },
            default=str,
        )
    )


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


def _summary(xcom: dict[str, Any]) -> dict[str, Any]:
    for key in ("summarize", "percolate", "publish"):
        if isinstance(xcom.get(key), dict):
            return {k: v for k, v in xcom[key].items() if k not in ("indexed_ids", "errors", "feeds_failed")}
    return {}


def run_dag_test(env: dict[str, str], home: Path, conf: dict[str, Any], timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--dag-test-child", str(home), json.dumps(conf)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout) + _text(exc.stderr)
        lines = out.splitlines()
        first_error = next((line for line in lines if "too large" in line), "") or next(
            (line for line in lines if "rror" in line), ""
        )
        return {"state": f"timeout after {timeout:g} s", "error": first_error[-400:], "wall_s": round(timeout, 1)}
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@RESULT@@ ")]
    if not lines:
        tail = (proc.stdout[-3000:] + proc.stderr[-3000:]).strip()
        return {"state": f"crashed (exit {proc.returncode})", "error": tail[-1500:], "wall_s": round(wall, 1)}
    return {**json.loads(lines[-1][11:]), "wall_s": round(wall, 1)}


def _group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group (scheduler, api-server, workers, tasks)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of /proc/PID/stat: the process group
                continue
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss in pages
        except (OSError, ValueError, IndexError):
            continue
    return total / 2**20


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


# --- one cycle under a real scheduler ----------------------------------------------------------------


def run_scheduler(env: dict[str, str], home: Path, conf: dict[str, Any], timeout: float) -> dict[str, Any]:
    """``airflow standalone`` (scheduler, dag-processor, triggerer, api-server; LocalExecutor), one triggered run."""
    import sqlite3

    import airflow_local

    bin_dir = str(Path(sys.executable).parent)
    env = {**env, **airflow_local.airflow_environment(home)}  # this home, this checkout's dags, no examples
    env.update({"PATH": bin_dir + os.pathsep + env.get("PATH", ""), "AIRFLOW__CORE__EXECUTOR": "LocalExecutor"})
    env["NEWSDRIFT_INGEST_SCHEDULE"] = ""  # the triggered run only, no scheduled one next to it
    env["AIRFLOW__CORE__PARALLELISM"] = "8"  # LocalExecutor worker processes (default 32 on a 2-core machine)
    port = _free_port()  # the api-server's (tasks reach the Execution API there); other Airflows may run here
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(_free_port())
    env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(_free_port())
    airflow = os.path.join(bin_dir, "airflow")
    prep = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "airflow_local.py"), "prepare", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if prep.returncode != 0:
        return {"state": "prepare failed", "error": (prep.stdout + prep.stderr)[-1500:]}
    log = open(home / "standalone.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [airflow, "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        db = home / "airflow.db"

        def query(sql: str, *args: Any) -> list[Any]:
            with sqlite3.connect(db, timeout=30) as con:
                return con.execute(sql, args).fetchall()

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the DAG is parsed and serialized
            try:
                if query("select 1 from serialized_dag where dag_id = 'newsdrift_ingest'"):
                    break
            except sqlite3.Error:
                pass
            time.sleep(2)
        else:
            return {"state": "dag never parsed", "error": (home / "standalone.log").read_text()[-1500:]}
        subprocess.run([airflow, "dags", "unpause", "newsdrift_ingest"], env=env, capture_output=True, check=False)
        run_id = f"bench_{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        trig = subprocess.run(
            [airflow, "dags", "trigger", "newsdrift_ingest", "--run-id", run_id, "--conf", json.dumps(conf)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if trig.returncode != 0:
            return {"state": "trigger failed", "error": (trig.stdout + trig.stderr)[-1500:]}
        state, peak_mb = "queued", 0.0
        while time.perf_counter() - started < timeout:
            rows = query("select state, start_date, end_date from dag_run where run_id = ?", run_id)
            state = rows[0][0] if rows else "missing"
            if state in ("success", "failed"):
                break
            peak_mb = max(peak_mb, _group_rss_mb(proc.pid))
            time.sleep(2)
        seconds = time.perf_counter() - started
        tis = query("select task_id, map_index, state, try_number from task_instance where run_id = ?", run_id)
        xcom = {}
        for task_id, value in query(
            "select task_id, value from xcom where run_id = ? and key = 'return_value' and map_index = -1", run_id
        ):
            try:
                xcom[task_id] = json.loads(value)
            except (TypeError, ValueError):
                pass
        return {
            "state": state,
            "seconds": round(seconds, 1),
            "task_instances": len(tis),
            "task_states": _count(t[2] for t in tis),
            "retried": sorted(f"{t[0]}[{t[1]}]" for t in tis if (t[3] or 0) > 1),
            "summary": _summary(xcom),
            "peak_rss_mb": round(peak_mb, 1),  # all Airflow processes together, sampled every 2 s
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(5)
        try:  # scheduler, api-server, workers: the whole session started above
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()


# --- driver ---------------------------------------------------------------------------------------


def run_size(n: int, modes: list[str], url: str, timeout: float) -> list[dict[str, Any]]:
    import yaml

    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import delete_all

    rows = []
    context = multiprocessing.get_context("fork")
    for mode in modes:
        cycle = context.Value("i", 0)
        ready = context.Queue()
        server = context.Process(target=_serve, args=(n, cycle, ready), daemon=True)
        server.start()
        bases = ready.get(timeout=120)
        work = Path(tempfile.mkdtemp(prefix=f"feedscale-{n}-"))
        prefix = f"feedscale{uuid.uuid4().hex[:8]}"
        feeds_file = work / "feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": feed_list(bases, n)}), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSDRIFT_"))}
        env.update(
            {
                "NEWSDRIFT_STORE_URL": url,
                "NEWSDRIFT_INDEX_PREFIX": prefix,
                "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
                "NEWSDRIFT_HOME": str(work / "home"),
                "PYTHONPATH": str(ROOT),
            }
        )
        conf = {"feeds_file": str(feeds_file), "force": True}
        try:
            for c in range(2):
                cycle.value = c
                home = work / f"airflow-{c}"
                home.mkdir()
                runner = run_dag_test if mode == "dag-test" else run_scheduler
                result = runner(env, home, conf, timeout)
                rows.append(
                    {
                        "mode": mode,
                        "feeds": n,
                        "hosts": len(bases),
                        "cycle": "first" if c == 0 else "steady",
                        "expected_new": sum(new_in(i, c) for i in range(n)),
                        **result,
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        finally:
            server.terminate()
            server.join(10)
            from newsdrift.settings import load_settings

            delete_all(connect(load_settings(store_url=url)), IndexNames(prefix))
            shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks stop the servers and Airflow
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, nargs="+", default=[1100, 5000, 10000])
    parser.add_argument("--modes", nargs="+", choices=["dag-test", "scheduler"], default=["dag-test", "scheduler"])
    parser.add_argument("--url", default="http://127.0.0.1:9251", help="OpenSearch URL")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one cycle may take")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    parser.add_argument("--dag-test-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dag_test_child:
        dag_test_child(*args.dag_test_child)
        return
    rows = [row for n in args.feeds for row in run_size(n, args.modes, args.url, args.timeout)]
    if args.json:
        print(json.dumps(rows))
        return
    print(
        f"{'mode':>9} {'feeds':>6} {'hosts':>5} {'cycle':>6} {'state':>8} {'cycle s':>8} {'TIs':>5} "
        f"{'peak MB':>8} {'indexed':>7} {'expected':>8}"
    )
    for r in rows:
        indexed = r.get("summary", {}).get("indexed", "-")
        peak = r.get("peak_rss_mb")
        if peak is not None and r.get("peak_rss_children_mb"):
            peak = f"{peak:.0f}+{r['peak_rss_children_mb']:.0f}"
        print(
            f"{r['mode']:>9} {r['feeds']:>6} {r['hosts']:>5} {r['cycle']:>6} {str(r['state'])[:8]:>8} "
            f"{r.get('seconds', '-'):>8} {r.get('task_instances', '-'):>5} {str(peak):>8} {indexed:>7} "
            f"{r['expected_new']:>8}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
