"""`newsdrift run` exit status when no feed could be polled: the real CLI, loopback feeds, real node."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.loopback import Route, RouteServer, rss


def _env(opensearch_url: str, prefix: str, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": prefix,
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDRIFT_HTTP_TIMEOUT": "2",
        "NEWSDRIFT_FEED_RETRIES": "0",
    }


def _run(feeds, env, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsdrift", "run", "--all", "--feeds", str(feeds), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_exits_2_when_every_feed_failed_and_json_is_unchanged(opensearch_url, index_names, tmp_path):
    routes = {
        "/gone.xml": Route(410, "gone"),
        "/broken.xml": Route(200, "<rss><channel><title>x</wrong></channel></rss>", "application/xml"),
    }
    with RouteServer(routes) as srv:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"feeds:\n  - {{url: '{srv.url('/gone.xml')}', name: Gone, source: gone}}\n"
            f"  - {{url: '{srv.url('/broken.xml')}', name: Broken, source: broken}}\n"
        )
        env = _env(opensearch_url, index_names.prefix, tmp_path)
        as_json = _run(feeds, env, "--json")
        table = _run(feeds, env)
    assert as_json.returncode == 2, as_json.stderr
    summary = json.loads(as_json.stdout)  # the same one object as on success
    assert summary["feeds_polled"] == 2 and summary["feeds_failed"] == 2
    assert {e["where"] for e in summary["errors"]} >= {f"feed:{srv.url('/gone.xml')}", f"feed:{srv.url('/broken.xml')}"}
    assert "Traceback" not in as_json.stderr and as_json.stderr.strip() == ""
    assert table.returncode == 2
    assert "every feed failed (2 of 2)" in table.stderr


def test_run_exits_0_when_one_feed_of_two_was_polled(opensearch_url, index_names, tmp_path):
    routes = {
        "/gone.xml": Route(404, "missing"),
        "/ok.xml": Route(200, rss([], title="Empty but fine"), "application/rss+xml"),
    }
    with RouteServer(routes) as srv:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            f"feeds:\n  - {{url: '{srv.url('/gone.xml')}', name: Gone, source: gone}}\n"
            f"  - {{url: '{srv.url('/ok.xml')}', name: Fine, source: fine}}\n"
        )
        result = _run(feeds, _env(opensearch_url, index_names.prefix, tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["feeds_polled"] == 2 and summary["feeds_failed"] == 1
