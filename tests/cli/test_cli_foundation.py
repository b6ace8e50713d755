"""The CLI run as a user runs it: a subprocess against the real node."""

from __future__ import annotations

import json

from tests.support.cli import run_cli


def test_init_twice_reports_no_changes_then_info_lists_indices(opensearch_url, index_names):
    env = {"NEWSDRIFT_STORE_URL": opensearch_url, "NEWSDRIFT_INDEX_PREFIX": index_names.prefix}
    first = run_cli("init", "--json", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["changed"] == 19  # 9 index templates + 1 component, 9 indices
    # the embedded node has no Index State Management plugin: said plainly, maintenance DAG named
    assert report["ism"]["status"] == "absent" and report["ism"]["policy_id"] is None
    assert "opensearch-index-management" in report["ism"]["reason"]
    assert "newsdrift_maintenance" in report["ism"]["reason"]
    second = run_cli("init", env=env)
    assert second.returncode == 0, second.stderr
    assert "no changes" in second.stdout
    assert "ISM policy: not applied (the cluster has no opensearch-index-management plugin" in second.stdout
    info = json.loads(run_cli("info", "--json", env=env).stdout)
    assert info["engine"] == "opensearch" and info["version"].startswith("3.")
    assert "opensearch_version" not in info
    assert f"{index_names.prefix}-articles-000001" in {row["index"] for row in info["indices"]}


def test_command_modules_never_import_the_cli_package():
    """``newsdrift.cli`` imports every command module; none of them imports it back, even inside a function."""
    import ast
    from pathlib import Path

    import newsdrift.cli

    package = Path(newsdrift.cli.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.module == "newsdrift":
                    names = [f"newsdrift.{alias.name}" for alias in node.names]
                elif node.level:
                    names = ["newsdrift.cli" if node.module is None else f"newsdrift.cli.{node.module}"]
            else:
                continue
            offenders += [f"{path.name}:{node.lineno}" for name in names if name == "newsdrift.cli"]
    assert not offenders, offenders


def test_ism_policy_carries_the_settings_limits():
    from newsdrift.settings import load_settings
    from newsdrift.store.ism import policy_body
    from newsdrift.store.names import IndexNames

    settings = load_settings(rollover_max_age_days=7, rollover_max_docs=5000, retention_days=90)
    policy = policy_body(settings, IndexNames("acme"))["policy"]
    hot, delete = policy["states"]
    assert hot["actions"] == [{"rollover": {"min_index_age": "168h", "min_doc_count": 5000}}]
    assert hot["transitions"] == [{"state_name": "delete", "conditions": {"min_index_age": "2160h"}}]
    assert delete["actions"] == [{"delete": {}}]
    assert policy["ism_template"] == [{"index_patterns": ["acme-articles-*"], "priority": 100}]


def test_unreachable_cluster_is_a_message_not_a_traceback():
    result = run_cli("init", env={"NEWSDRIFT_STORE_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported_by_name():
    result = run_cli("init", env={"NEWSDRIFT_STORE_TIMEOUT": "-1"})
    assert result.returncode == 1
    assert "NEWSDRIFT_STORE_TIMEOUT" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_against_running_node(opensearch_url):
    result = run_cli("node", "status", "--json", env={"NEWSDRIFT_STORE_URL": opensearch_url})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["health"] in ("green", "yellow")
