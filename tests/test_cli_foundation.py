"""The CLI run as a user runs it: a subprocess against the real node."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsdrift.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_init_twice_reports_no_changes_then_info_lists_indices(opensearch_url, index_names):
    env = {"NEWSDRIFT_OPENSEARCH_URL": opensearch_url, "NEWSDRIFT_INDEX_PREFIX": index_names.prefix}
    first = run_cli("init", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["changed"] == 17  # 8 index templates + 1 component, 8 indices (#14: hosts, links)
    second = run_cli("init", env=env)
    assert second.returncode == 0, second.stderr
    assert "no changes" in second.stdout
    info = json.loads(run_cli("info", "--json", env=env).stdout)
    assert info["opensearch_version"].startswith("3.")
    assert f"{index_names.prefix}-articles-000001" in {row["index"] for row in info["indices"]}


def test_unreachable_cluster_is_a_message_not_a_traceback():
    result = run_cli("init", env={"NEWSDRIFT_OPENSEARCH_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported_by_name():
    result = run_cli("init", env={"NEWSDRIFT_OPENSEARCH_TIMEOUT": "-1"})
    assert result.returncode == 1
    assert "NEWSDRIFT_OPENSEARCH_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_against_running_node(opensearch_url):
    result = run_cli("opensearch", "status", "--json", env={"NEWSDRIFT_OPENSEARCH_URL": opensearch_url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["health"] in ("green", "yellow")
