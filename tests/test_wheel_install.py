"""A wheel built from the project, installed in a fresh virtualenv outside the checkout (#14), runs
`newsdrift init`, `run` (the sample corpus) and `dashboards import` from its package data alone: against the
real node and a loopback saved-objects endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsdrift.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
IGNORE = shutil.ignore_patterns(".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", "*.pyc")


def _sh(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh virtualenv holding only the wheel and its pinned dependencies (pip cache)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(PROJECT_ROOT, source, ignore=IGNORE)  # build from a copy: the checkout stays clean
    _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)])
    (wheel,) = (root / "dist").glob("newsdrift-*.whl")
    venv = root / "venv"
    _sh([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _sh([*pip, "-c", str(PROJECT_ROOT / "constraints.txt"), str(wheel)])
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    return venv / "bin"


class _SavedObjects(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _SavedObjects.received.append(body)
        count = body.count(b'"type":')
        data = json.dumps({"success": True, "successCount": count, "successResults": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        return None


def test_wheel_in_a_fresh_venv_runs_init_run_and_dashboards_import(installed, opensearch_url, index_names, tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDRIFT_", "PYTHONPATH", "VIRTUAL_ENV"))} | {
        "NEWSDRIFT_OPENSEARCH_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
        "NEWSDRIFT_SAMPLE_PORT": str(_free_port()),
    }
    where = _sh(
        [str(installed / "python"), "-c", "import newsdrift.settings as c; print(c.data_dir('mappings'))"],
        env=env,
        cwd=workdir,
    )
    assert "/site-packages/newsdrift/_data/mappings" in where.stdout  # not a checkout's folder

    init = json.loads(_sh([str(installed / "newsdrift"), "init", "--json"], env=env, cwd=workdir).stdout)
    assert init["changed"] > 0 and {"created"} == {i["action"] for i in init["items"]}

    run = json.loads(_sh([str(installed / "newsdrift"), "run", "--json"], env=env, cwd=workdir).stdout)
    assert run["indexed"] == 51 and run["feeds_polled"] == 8 and run["alerts"] > 0  # shipped rules and baseline

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SavedObjects)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        imported = _sh([str(installed / "newsdrift"), "dashboards", "import", "--url", url], env=env, cwd=workdir)
    finally:
        server.shutdown()
    # the packaged saved objects went out whole: every object of the checkout's file is in the upload
    objects = (PROJECT_ROOT / "dashboards" / "newsdrift.ndjson").read_text().splitlines()
    (upload,) = _SavedObjects.received
    assert upload.count(b'"type":') >= len(objects) > 0 and b"index-pattern" in upload
    assert "0 failed" in imported.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
