"""`newsdrift run` and `newsdrift watch` as a user runs them: subprocesses, real node, sample corpus."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(opensearch_url: str, prefix: str, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": prefix,
        "NEWSDRIFT_SAMPLE_PORT": str(free_port()),
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
    }


def test_run_json_with_no_feeds_ingests_the_sample_corpus(opensearch_url, index_names, tmp_path):
    env = cli_env(opensearch_url, index_names.prefix, tmp_path)
    first = subprocess.run(
        [sys.executable, "-m", "newsdrift", "run", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    keys = {
        "feeds_polled",
        "feeds_failed",
        "entries_seen",
        "articles_new",
        "articles_known",
        "extraction_failed",
        "off_topic",
        "indexed",
        "errors",
    }
    assert keys <= set(summary)
    assert summary["feeds_polled"] == 8 and summary["indexed"] == 51 and summary["feeds_failed"] == 1
    assert summary["indexed_from_feed"] == 1 and summary["dead_links"] == 1  # robots.txt page; the 404
    assert all(set(e) == {"where", "reason"} for e in summary["errors"])

    again = subprocess.run(
        [sys.executable, "-m", "newsdrift", "run", "--all", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["indexed"] == 0


def test_run_exits_non_zero_when_the_cluster_is_down(tmp_path):
    env = {**os.environ, "NEWSDRIFT_STORE_URL": "http://127.0.0.1:9", "NEWSDRIFT_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "newsdrift", "run", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr


def test_watch_stops_cleanly_on_ctrl_c(opensearch_url, index_names, tmp_path):
    env = cli_env(opensearch_url, index_names.prefix, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdrift", "watch", "--interval", "1s", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_line = proc.stdout.readline()  # the first pass has finished
    assert json.loads(first_line)["feeds_polled"] == 8
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
