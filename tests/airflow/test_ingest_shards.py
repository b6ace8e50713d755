"""Shards, not feeds, are what the ingest DAG maps: 1,100 feeds on 11 loopback hosts through ``dag.test()``.

The feeds are served here on 127.0.2.1 ... 127.0.2.11 (one ``ThreadingHTTPServer`` per address, each
address a host): most are an empty channel that answers 304 once polled, ten carry one entry linking to
a page of the sample corpus (served by the sample server). 1,100 is past Airflow's ``max_map_length``
(1,024), which a task per feed could not map.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from opensearchpy import OpenSearch

from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.shards import group_feeds, shard_of
from newsdrift.ops.sample.server import CORPUS_DIR, SampleServer
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import delete_all
from tests.support import airflow_runner as runner

MANIFEST = json.loads((CORPUS_DIR / "manifest.json").read_text(encoding="utf-8"))
HOSTS = 11
FEEDS = 1100
WITH_ENTRY = 10  # feeds 0, 110, 220, ... carry one entry each


# --- the grouping itself (no node, no Airflow) ---------------------------------------------


def test_a_host_stays_in_one_shard_and_keeps_it() -> None:
    feeds = [Feed(url=f"http://h{i % 37}.example/feed/{i}.xml", name=f"f{i}") for i in range(1000)]
    groups = group_feeds(feeds, 8)
    assert 1 <= len(groups) <= 8 and sum(len(g) for g in groups.values()) == 1000
    for number, group in groups.items():
        assert {shard_of(f.url, 8) for f in group} == {number}
    host_shards: dict[str, set[int]] = {}
    for number, group in groups.items():
        for feed in group:
            host_shards.setdefault(urlsplit(feed.url).hostname or "", set()).add(number)
    assert all(len(s) == 1 for s in host_shards.values())  # a host's politeness stays in one task
    assert shard_of("http://H3.example:8080/x", 8) == shard_of("http://h3.example/y", 8)  # host name, not port
    assert group_feeds(reversed(feeds), 8).keys() == groups.keys()  # stable: order does not move feeds


def test_shard_count_is_validated() -> None:
    from newsdrift.errors import ConfigError
    from newsdrift.settings import load_settings

    with pytest.raises(ConfigError, match="NEWSDRIFT_INGEST_SHARDS: Input should be greater than or equal to 1"):
        load_settings(ingest_shards=0)
    with pytest.raises(ValueError, match="ingest_shards"):
        shard_of("http://a.example/", 0)


# --- 1,100 feeds through dag.test() ----------------------------------------------------------


class _FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: list[str] = []

    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        if not (self.path.startswith("/f/") and self.path.endswith(".xml")):
            self.send_error(404)
            return
        i = int(self.path[3:-4])
        etag = f'"feed-{i}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        item = ""
        if i % (FEEDS // WITH_ENTRY) == 0:
            link = self.pages[i // (FEEDS // WITH_ENTRY)]
            item = f"<item><title>Story {i}</title><link>{link}</link></item>"
        body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>f{i}</title>{item}</channel></rss>".encode()
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[SampleServer]:
    server = SampleServer(port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def feed_hosts(corpus_server: SampleServer) -> Iterator[list[str]]:
    blocked = set(MANIFEST["robots_disallowed"]) | set(MANIFEST["dead_links"])
    paths = [p["path"] for p in MANIFEST["pages"] if p["path"] not in blocked and p["on_topic"]]
    paths = [p for p in paths if not any(q["syndication"] for q in MANIFEST["pages"] if q["path"] == p)]
    handler = type("Handler", (_FeedHandler,), {"pages": [corpus_server.url + p for p in paths[:WITH_ENTRY]]})
    servers = [ThreadingHTTPServer((f"127.0.2.{h + 1}", 0), handler) for h in range(HOSTS)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://{s.server_address[0]}:{s.server_address[1]}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return dict(runner.session_airflow(tmp_path_factory.getbasetemp() / "airflow-home")["env"])


@pytest.fixture(scope="module")
def shard_names(opensearch_client: OpenSearch) -> Iterator[IndexNames]:
    names = IndexNames(f"tsh{uuid.uuid4().hex[:10]}")
    yield names
    delete_all(opensearch_client, names)


def test_1100_feeds_in_bounded_shards(
    airflow_env: dict[str, str],
    opensearch_url: str,
    opensearch_client: OpenSearch,
    shard_names: IndexNames,
    feed_hosts: list[str],
    tmp_path: Path,
) -> None:
    feeds = [{"url": f"{feed_hosts[i % HOSTS]}/f/{i}.xml", "name": f"feed {i}"} for i in range(FEEDS)]
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(yaml.safe_dump({"feeds": feeds}), encoding="utf-8")
    env = {
        **airflow_env,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": shard_names.prefix,
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSDRIFT_PER_HOST_DELAY": "0",
        "NEWSDRIFT_INGEST_SHARDS": "4",
    }
    conf = json.dumps({"feeds_file": str(feeds_file)})
    first, second = runner.invoke(env, "run", "newsdrift_ingest", conf, "newsdrift_ingest", conf, timeout=900)
    print(f"\n[airflow] newsdrift_ingest, {FEEDS} feeds on {HOSTS} hosts in 4 shards: {first['seconds']:.1f} s")
    assert first["state"] == "success", first["tasks"]
    assert all(state == "success" for state in first["tasks"].values()), first["tasks"]
    plan = first["xcom"]["plan_shards"]
    assert 1 <= len(plan) <= 4 and sum(s["feeds"] for s in plan) == FEEDS
    assert len(first["tasks"]) == 3 + len(plan)  # plan, one task per shard, percolate, publish
    shards: list[dict[str, Any]] = [first["xcom"][k] for k in first["xcom"] if k.startswith("ingest_shard[")]
    assert sorted(s["feeds"] for s in shards) == sorted(s["feeds"] for s in plan)
    summary = first["xcom"]["percolate"]
    assert summary["feeds_polled"] == FEEDS and summary["feeds_failed"] == 0, summary["errors"]
    assert summary["entries_seen"] == WITH_ENTRY
    opensearch_client.indices.refresh(index=shard_names.articles)
    stored = opensearch_client.count(index=shard_names.articles)["count"]
    assert summary["indexed"] == stored == len(set(summary["indexed_ids"])) > 0
    assert first["asset_events"][0]["extra"]["indexed"] == stored
    # the shards match their batches while indexing them; the percolate task matches any left pending
    pending = opensearch_client.count(index=shard_names.articles, body={"query": {"term": {"alert_state": "pending"}}})[
        "count"
    ]
    assert pending == 0
    # the second run, right after: no feed is due, so no shard is mapped
    assert second["state"] == "success" and second["xcom"]["plan_shards"] == []
    assert second["tasks"]["ingest_shard"] == "skipped"
