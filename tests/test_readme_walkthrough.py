"""The README's "Watch your own feeds" section, run word for word against the loopback sample server.

Its bash blocks are concatenated and run from the checkout, as a reader would paste them. ``~/watch`` lands in
a temporary HOME, and ``newsdrift node start`` finds the suite's OpenSearch node already running (the test
node's home and port are passed as ``NEWSDRIFT_HOME`` / ``NEWSDRIFT_OPENSEARCH_PORT``), so the walkthrough
runs on the real embedded node without starting a second one.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from newsdrift.settings import PROJECT_ROOT
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import delete_all

pytestmark = pytest.mark.node

README = PROJECT_ROOT / "README.md"
SECTION = "## Watch your own feeds"
PREFIX = "watch"  # the README's NEWSDRIFT_INDEX_PREFIX


def walkthrough_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return re.findall(r"```bash\n(.*?)```", text[start : end if end > 0 else None], re.S)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_walkthrough_has_every_step():
    script = "\n".join(walkthrough_blocks())
    for step in ("newsdrift feeds add", "newsdrift feeds import", "config/topic.yaml", "config/frames.yaml"):
        assert step in script
    for step in ("newsdrift baseline load", "config/alerts.yaml", "newsdrift alerts sync", "newsdrift run"):
        assert step in script


def test_the_walkthrough_works_word_for_word(tmp_path: Path, opensearch_client: OpenSearch, opensearch_url: str):
    from tests.conftest import TEST_HOME, TEST_PORT

    busy = [port for port in (8765, 8766) if not port_is_free(port)]
    assert not busy, f"the walkthrough serves on 127.0.0.1:{busy}, which something else holds"
    names = IndexNames(PREFIX)
    delete_all(opensearch_client, names)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSDRIFT_")},
        "HOME": str(home),
        "NEWSDRIFT_HOME": str(TEST_HOME),
        "NEWSDRIFT_OPENSEARCH_PORT": str(TEST_PORT),
    }
    script = "\n".join(
        [
            "set -euo pipefail",
            "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
            *walkthrough_blocks(),
            # what a reader checks next: the second pass indexed nothing, the alerts reached the channel
            "newsdrift run --all --json > second-run.json",
            "newsdrift alerts list --json > alerts.json",
            "newsdrift feeds status --json > feeds.json",
            "sleep 1; cp received.log sample.log " + str(tmp_path),
            "cp second-run.json alerts.json feeds.json " + str(tmp_path),
        ]
    )
    try:
        done = subprocess.run(
            ["bash", "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"the walkthrough failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        assert (home / "watch" / "drift.html").read_text().lower().startswith("<!doctype html>")
        indexed = opensearch_client.count(index=names.articles)["count"]
        assert indexed >= 30, f"the first run indexed {indexed} articles"
        second = json.loads((tmp_path / "second-run.json").read_text())
        assert second["indexed"] == 0 and second["feeds_polled"] == 6
        feeds = {f["name"]: f for f in json.loads((tmp_path / "feeds.json").read_text())}
        assert len(feeds) == 6 and feeds["Daily Compute Policy"]["health"] != "healthy"
        alerts = json.loads((tmp_path / "alerts.json").read_text())
        assert alerts, "the first run raised no alert"
        received = (tmp_path / "received.log").read_text()
        assert received.count('"title"') >= 2, "the channel received no alert beyond the test message"
    finally:
        delete_all(opensearch_client, names)
