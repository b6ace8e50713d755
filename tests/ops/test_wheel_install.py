"""A wheel built from the project, installed in a fresh virtualenv outside the checkout: it ships every data
file of the package (the node POMs, the stopwords, the sample corpus) and runs `newsdrift init`, `run` (the
sample corpus) and `dashboards import` from its package data alone, against the real node and a loopback
saved-objects endpoint."""

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
# What the installed package holds besides code, as the installed code finds it.
INSTALLED_DATA = """
import json
from pathlib import Path

import newsdrift
from newsdrift.ops import node

root = Path(newsdrift.__file__).resolve().parent
data = [p for p in root.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
print(json.dumps({
    "files": sorted(str(p.relative_to(root)) for p in data),
    "poms": {name: str(spec.pom.resolve().relative_to(root)) for name, spec in node.ENGINES.items()},
    "runner_versions": {name: node.runner_version(name) for name in node.ENGINES},
}))
"""


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


def _package_data_files() -> set[str]:
    """Every file of the checkout's newsdrift/ the code may read: all but Python sources and documentation."""
    package = PROJECT_ROOT / "newsdrift"
    return {
        str(p.relative_to(package))
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc", ".md")
    }


def test_wheel_ships_the_package_data(installed, tmp_path):
    from newsdrift.ops import node

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDRIFT_", "PYTHONPATH", "VIRTUAL_ENV"))}
    report = json.loads(_sh([str(installed / "python"), "-c", INSTALLED_DATA], env=env, cwd=tmp_path).stdout)
    shipped = set(report["files"])
    assert {"ops/node_pom.xml", "ops/node_es_pom.xml"} <= shipped
    assert report["poms"] == {"opensearch": "ops/node_pom.xml", "elasticsearch": "ops/node_es_pom.xml"}
    assert report["runner_versions"] == {name: node.runner_version(name) for name in node.ENGINES}
    assert any(name.endswith("stopwords.txt") for name in shipped)
    assert "ops/sample/corpus/manifest.json" in shipped
    missing = sorted(_package_data_files() - shipped)
    assert not missing, f"the wheel lacks {len(missing)} data file(s) of newsdrift/ (pyproject package-data): {missing}"


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
        "NEWSDRIFT_STORE_URL": opensearch_url,
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
