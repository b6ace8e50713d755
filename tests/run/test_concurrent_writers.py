"""Two writers at once: copies of the same stories reach two concurrent passes at the same moment.

Twelve stories (bodies of the sample corpus) are served on loopback in two copies each: copy A
listed by ``/a.xml``, copy B by ``/b.xml`` under other URLs (for even stories a near copy with an
extra wire paragraph, for odd ones the same text). Two processes each run the pipeline's pass
(``newsdrift.run.ingest.run_once``, alerting on) over one of the feeds, released together by one
barrier, into the same indices of the real node; the server holds the last page of each feed until
both writers asked for it, so both score their batch before either is searchable (without the claims
of ``newsdrift.score.dedup.claims`` every story splits in two). Every story must end as one cluster with one
representative, and one alert.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.ops.sample.server import CORPUS_DIR
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import delete_all

MANIFEST = json.loads((CORPUS_DIR / "manifest.json").read_text(encoding="utf-8"))
STORIES = 12
RULES = """
channels:
  desk:
    url_env: NEWSDRIFT_TEST_CHANNEL_THAT_IS_NOT_SET
defaults:
  channels: [desk]
rules:
  - name: every-story
    match:
      query: {exists: {field: title}}
      include_off_topic: true
"""


def _stories() -> list[dict[str, Any]]:
    seen, out = set(), []
    for page in MANIFEST["pages"]:
        if page["story"] or page["syndication"] or page["word_count"] < 200 or page["title"] in seen:
            continue
        seen.add(page["title"])
        out.append(page)
    return out[:STORIES]


def _page(story: dict[str, Any], copy: str, k: int) -> bytes:
    paragraphs = story["body"].split("\n")
    if copy == "b" and k % 2 == 0:
        paragraphs.append(f"This report was distributed by a wire service to its partner sites, item {k}.")
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        f"<html><head><title>{escape(story['title'])}</title>"
        f"<meta property='article:published_time' content='{story['published']}'></head>"
        f"<body><article><h1>{escape(story['title'])}</h1>{body}</article></body></html>"
    )
    return html.encode()


@pytest.fixture(scope="module")
def story_server() -> Iterator[str]:
    stories = _stories()
    assert len(stories) == STORIES

    # the last page of each feed is held until both writers asked for theirs: their batches are then
    # scored and indexed at the same moment, each before the other's copies are searchable
    last = threading.Barrier(2, timeout=60)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802
            base = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
            if self.path in ("/a.xml", "/b.xml"):
                copy = self.path[1]
                items = "".join(
                    f"<item><title>{escape(s['title'])}</title><link>{base}/{copy}/{k}.html</link></item>"
                    for k, s in enumerate(stories)
                )
                data = f"<?xml version='1.0'?><rss version='2.0'><channel><title>{copy}</title>{items}</channel></rss>"
                body, ctype = data.encode(), "application/rss+xml"
            elif self.path.startswith(("/a/", "/b/")) and self.path.endswith(".html"):
                k = int(self.path[3:-5])
                if k == STORIES - 1:
                    last.wait()
                body, ctype = _page(stories[k], self.path[1], k), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _one_pass(url: str, prefix: str, rules: str, feed_url: str, start: Any, out: Any) -> None:
    """A whole pass in its own process, released by ``start`` together with the other writer."""
    from newsdrift.feeds.catalog import Feed
    from newsdrift.run.ingest import run_once
    from newsdrift.settings import load_settings
    from newsdrift.store.client import connect

    settings = load_settings(
        store_url=url,
        index_prefix=prefix,
        allow_private_networks=True,
        per_host_delay=0,
        alert_rules_file=Path(rules),
        topic_threshold=0,
    )
    client = connect(settings)
    client.info()
    start.wait(120)  # both writers connected and imported: released together
    summary = run_once(settings, client, [Feed(url=feed_url, name=feed_url[-5:])])
    out.put(summary.to_json())


@pytest.fixture
def concurrent_names(opensearch_client: OpenSearch) -> Iterator[IndexNames]:
    names = IndexNames(f"tcw{uuid.uuid4().hex[:10]}")
    yield names
    delete_all(opensearch_client, names)


def test_two_concurrent_passes_make_one_cluster_and_one_alert_per_story(
    opensearch_url: str, opensearch_client: OpenSearch, concurrent_names: IndexNames, story_server: str, tmp_path: Path
) -> None:
    from newsdrift.store.templates import apply_templates

    apply_templates(opensearch_client, concurrent_names)
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES, encoding="utf-8")
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(
            target=_one_pass,
            args=(opensearch_url, concurrent_names.prefix, str(rules), f"{story_server}/{c}.xml", start, out),
        )
        for c in ("a", "b")
    ]
    for p in procs:
        p.start()
    summaries = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert [s["indexed"] for s in summaries] == [STORIES, STORIES], summaries

    opensearch_client.indices.refresh(index=concurrent_names.articles)
    hits = opensearch_client.search(index=concurrent_names.articles, body={"size": 100, "query": {"match_all": {}}})
    docs = [{"_id": h["_id"], **h["_source"]} for h in hits["hits"]["hits"]]
    assert len(docs) == 2 * STORIES
    clusters: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        clusters.setdefault(doc["story_cluster_id"], []).append(doc)
    assert len(clusters) == STORIES, sorted((d["title"], d["story_cluster_id"]) for d in docs)
    for cluster_id, members in clusters.items():
        assert len({m["title"] for m in members}) == 1 and len(members) == 2
        assert cluster_id in {m["_id"] for m in members}  # the founder is one of the copies
        reps = [m for m in members if not m.get("near_duplicate_of")]
        assert len(reps) == 1, members  # one representative, the other copy points at it
        copy = next(m for m in members if m.get("near_duplicate_of"))
        assert copy["near_duplicate_of"] == reps[0]["_id"] and copy["duplicate_kind"] in ("exact", "near")

    opensearch_client.indices.refresh(index=concurrent_names.alerts)
    alerts = opensearch_client.search(
        index=concurrent_names.alerts, body={"size": 100, "query": {"term": {"rule_name": "every-story"}}}
    )["hits"]["hits"]
    assert len(alerts) == STORIES, [a["_source"].get("story_cluster_id") for a in alerts]
    for alert in alerts:
        src = alert["_source"]
        members = {m["_id"] for m in clusters[src["story_cluster_id"]]}
        assert {src["article_id"], *src.get("copies", [])} == members  # the other writer's copy was folded in
    assert sum(s["alerts"] for s in summaries) >= STORIES


def test_claims_older_than_a_day_are_pruned(opensearch_client: OpenSearch, concurrent_names: IndexNames) -> None:
    from datetime import UTC, datetime, timedelta

    from newsdrift.score.dedup.claims import prune_claims
    from newsdrift.store.templates import apply_templates

    apply_templates(opensearch_client, concurrent_names)
    now = datetime.now(UTC)
    for key, age in (("b1_old", timedelta(days=2)), ("b1_new", timedelta(hours=1))):
        opensearch_client.index(
            index=concurrent_names.claims,
            id=key,
            body={"article_id": "a", "cluster_id": "a", "created_at": (now - age).isoformat()},
            refresh=True,
        )
    assert prune_claims(opensearch_client, concurrent_names.claims) == 1
    assert opensearch_client.exists(index=concurrent_names.claims, id="b1_new")
    assert not opensearch_client.exists(index=concurrent_names.claims, id="b1_old")


def test_writers_that_each_won_some_keys_of_a_story_agree_on_its_founder(
    opensearch_client: OpenSearch, concurrent_names: IndexNames
) -> None:
    """Crossed claims: writer A took the first key two copies share, writer B a later one.

    The holder of the first shared key founds the cluster, whichever side reads the claims.
    """
    from datetime import UTC, datetime

    from newsdrift.records import Article, ScoredArticle
    from newsdrift.score.dedup.claims import claim_clusters, claim_keys
    from newsdrift.score.dedup.minhash import fingerprint
    from newsdrift.score.dedup.settings import DedupConfig
    from newsdrift.store.templates import apply_templates

    apply_templates(opensearch_client, concurrent_names)
    body = _stories()[0]["body"]
    settings = DedupConfig()
    fps = {
        "a": fingerprint(body, settings),
        "b": fingerprint(body + "\nA wire service contributed to this story.", settings),
    }
    shared = [k for k in claim_keys(fps["a"]) if k in set(claim_keys(fps["b"]))]
    assert len(shared) >= 2, "the copies must share at least two keys"
    first = shared[0]
    now = datetime.now(UTC).isoformat()
    # writer B's bulk ran first for every key of b but the first shared one, which A's bulk had taken
    for position, key in enumerate(claim_keys(fps["b"])):
        if key == first:
            continue
        source = {"article_id": "b", "cluster_id": "b", "content_sha1": fps["b"].content_sha1, "created_at": now}
        if position == 0:
            source["minhash"] = fps["b"].minhash
        opensearch_client.create(index=concurrent_names.claims, id=key, body=source)

    def founder(aid: str) -> list[tuple[ScoredArticle, object]]:
        url = f"http://x.example/{aid}"
        article = Article(
            id=aid,
            url=url,
            canonical_url=url,
            source="x",
            feed_url="f",
            title="t",
            text=body,
            authors=[],
            published_at=None,
            fetched_at=datetime.now(UTC),
            language="en",
            site_name=None,
            word_count=1,
            content_sha1=fps[aid].content_sha1,
        )
        return [(ScoredArticle(article=article), fps[aid])]

    # A reads the claims: it won the first shared key, so it founds the cluster although b holds the rest
    assert claim_clusters(opensearch_client, concurrent_names.claims, founder("a"), settings.threshold) == {}
    # B reads them (its own keys are its own): it lost the first shared key to a, so it joins a
    joined = claim_clusters(opensearch_client, concurrent_names.claims, founder("b"), settings.threshold)
    assert set(joined) == {"b"} and joined["b"].cluster_id == "a" and joined["b"].article_id == "a"
    # read by id: claim fields are not searchable (only created_at is, for pruning)
    docs = opensearch_client.mget(index=concurrent_names.claims, body={"ids": claim_keys(fps["b"])})["docs"]
    held_by_b = [d["_source"] for d in docs if d.get("found") and d["_source"]["article_id"] == "b"]
    assert held_by_b and {s["cluster_id"] for s in held_by_b} == {"a"}  # b's keys moved to a's cluster
