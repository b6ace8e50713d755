"""`newsdrift run` end to end: the sample corpus on loopback into the real node.

Every failure mode is injected on one feed or page; the test checks the
recorded reason and that everything else still lands.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from newsdrift.ops.demo import sample_feeds
from newsdrift.ops.sample import load_manifest
from newsdrift.records import stable_id
from newsdrift.run.ingest import run_once
from newsdrift.store.client import make_client
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates

MANIFEST = load_manifest()
BROKEN_FEEDS = {f["path"] for f in MANIFEST["feeds"] if not f["recoverable"]}
# a plain on-topic page listed by a single feed, not syndicated: the fault target
TARGET = next(
    p
    for p in MANIFEST["pages"]
    if p["on_topic"]
    and not p["story"]
    and len(p["feed"]) == 1
    and p["charset"] == "utf-8"
    and p["path"] not in MANIFEST["robots_disallowed"]
)


# pages robots.txt disallows, indexed from their feed entry's text instead
FROM_FEED = len(MANIFEST["robots_disallowed"])


def expected_pages() -> list[dict]:
    return [
        p for p in MANIFEST["pages"] if p["path"] not in MANIFEST["robots_disallowed"] and set(p["feed"]) - BROKEN_FEEDS
    ]


def run(settings, server, **kwargs):
    client = make_client(settings)
    apply_templates(client, IndexNames(settings.index_prefix))
    return run_once(settings, client, sample_feeds(server.url), **kwargs)


def indexed_docs(client, names: IndexNames) -> dict[str, dict]:
    client.indices.refresh(index=names.articles)
    resp = client.search(index=names.articles, body={"size": 1000, "query": {"match_all": {}}})
    return {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}


def reasons(summary) -> dict[str, str]:
    return {e.where: e.reason for e in summary.errors}


def test_end_to_end_indexes_exactly_the_expected_set(settings, sample_server, opensearch_client, index_names):
    summary = run(settings, sample_server)
    base = sample_server.url
    docs = indexed_docs(opensearch_client, index_names)
    expected = {stable_id(base + p["canonical_path"]): p for p in expected_pages()}

    # the page robots.txt disallows is indexed from its feed entry's text, and says so
    from_feed = {
        stable_id(base + p["canonical_path"]): p
        for p in MANIFEST["pages"]
        if p["path"] in MANIFEST["robots_disallowed"]
    }
    assert set(docs) == set(expected) | set(from_feed)
    assert summary.indexed == len(expected) + len(from_feed) and summary.index_failed == 0
    assert summary.indexed_from_feed == len(from_feed) == 1
    for doc_id in from_feed:
        assert docs[doc_id]["text_source"] == "feed" and docs[doc_id]["text_source_reason"] == "robots.txt disallows"
    assert {d["text_source"] for i, d in docs.items() if i not in from_feed} == {"page"}
    for doc_id, page in expected.items():
        doc = docs[doc_id]
        assert doc["canonical_url"] == base + page["canonical_path"]
        assert doc["off_topic"] is (not page["on_topic"]), page["path"]
        assert doc["published_at"][:10] == page["published"][:10], page["path"]
    assert summary.off_topic == sum(1 for p in expected.values() if not p["on_topic"])

    # the same article under tracking-parameter URLs is one document
    tracked = {u.split("?", 1)[0] for u in MANIFEST["tracking_param_urls"]}
    assert len(tracked) == 1 and stable_id(base + tracked.pop()) in docs
    # legacy charset decoded: the characters survive into the index
    legacy = next(p for p in expected.values() if p["charset"] != "utf-8" and any(ord(c) > 127 for c in p["body"]))
    special = {c for c in legacy["body"] if ord(c) > 127}
    assert special <= set(docs[stable_id(base + legacy["canonical_path"])]["text"])
    # dates that only sit in page metadata
    for p in (p for p in expected.values() if p["date_only_in_metadata"]):
        assert docs[stable_id(base + p["canonical_path"])]["date_source"] == "page"

    errors = reasons(summary)
    assert errors[f"page:{base}{MANIFEST['robots_disallowed'][0]}"] == "robots.txt disallows"
    assert errors[f"page:{base}{MANIFEST['dead_links'][0]}"] == "HTTP 404"
    broken = next(iter(BROKEN_FEEDS))
    assert errors[f"feed:{base}{broken}"].startswith("not a feed")
    assert summary.feeds_failed == 1

    # the syndicated story: one representative, the copies point at it
    story = next(p["story"] for p in expected.values() if p["story"])
    copies = [docs[stable_id(base + p["canonical_path"])] for p in expected.values() if p["story"] == story]
    assert len({c["story_cluster_id"] for c in copies}) == 1
    reps = [c for c in copies if not c.get("near_duplicate_of") and not c.get("duplicate_of")]
    assert len(reps) == 1 and reps[0]["cluster_size"] == len(copies)
    assert summary.exact_duplicates + summary.near_duplicates == len(copies) - 1


def test_second_run_sends_validators_and_indexes_nothing(settings, sample_server, opensearch_client, index_names):
    first = run(settings, sample_server)
    count = opensearch_client.count(index=index_names.articles)["count"]
    sample_server.clear_requests()
    second = run(settings, sample_server, force=True)

    assert second.indexed == 0 and second.entries_seen == 0
    healthy = [f for f in MANIFEST["feeds"] if f["path"] not in BROKEN_FEEDS]
    assert second.feeds_not_modified == len(healthy)
    for feed in healthy:
        (req,) = sample_server.requests_for(feed["path"])
        assert "if-none-match" in req.headers or "if-modified-since" in req.headers
    assert not [r for r in sample_server.requests if r.path.endswith(".html")]  # no page fetched again
    assert opensearch_client.count(index=index_names.articles)["count"] == count == first.indexed


@pytest.mark.parametrize(
    ("kind", "params", "overrides", "reason_part"),
    [
        ("status", {"code": 500}, {}, "HTTP 500"),
        ("slow", {"before_headers": 3.0}, {"http_timeout": 1.0}, "timeout"),
        ("oversized", {"size": 3_000_000}, {"max_page_bytes": 1_000_000}, "exceeds 1000000 bytes"),
        ("content_type", {"value": "application/pdf"}, {}, "application/pdf"),
    ],
)
def test_page_failure_is_recorded_and_the_rest_lands(
    settings, sample_server, opensearch_client, index_names, kind, params, overrides, reason_part
):
    sample_server.set_fault(TARGET["path"], kind, **params)
    summary = run(settings.model_copy(update=overrides), sample_server)
    reason = reasons(summary)[f"page:{sample_server.url}{TARGET['path']}"]
    assert reason_part.lower() in reason.lower()
    docs = indexed_docs(opensearch_client, index_names)
    assert len(docs) == len(expected_pages()) - 1 + FROM_FEED
    assert stable_id(sample_server.url + TARGET["canonical_path"]) not in docs


def test_failing_feed_is_recorded_and_other_feeds_land(settings, sample_server, opensearch_client, index_names):
    feed = next(f for f in MANIFEST["feeds"] if f["path"] not in BROKEN_FEEDS and f["format"] == "atom1.0")
    sample_server.set_fault(feed["path"], "status", code=500)
    summary = run(settings.model_copy(update={"feed_retries": 1}), sample_server)
    assert "HTTP 500" in reasons(summary)[f"feed:{sample_server.url}{feed['path']}"]
    only_here = [p for p in expected_pages() if set(p["feed"]) - BROKEN_FEEDS == {feed["path"]}]
    assert only_here, "the faulted feed should own some pages"
    docs = indexed_docs(opensearch_client, index_names)
    feed_only_here = [
        p
        for p in MANIFEST["pages"]
        if p["path"] in MANIFEST["robots_disallowed"] and set(p["feed"]) - BROKEN_FEEDS == {feed["path"]}
    ]
    assert len(docs) == len(expected_pages()) - len(only_here) + FROM_FEED - len(feed_only_here)
    state = opensearch_client.get(index=index_names.feeds, id=stable_id(sample_server.url + feed["path"]))["_source"]
    assert state["consecutive_failures"] == 1 and "HTTP 500" in state["last_error"]


def test_retry_after_is_honoured(settings, sample_server, opensearch_client, index_names):
    feed = next(f for f in MANIFEST["feeds"] if f["path"] not in BROKEN_FEEDS)
    sample_server.set_fault(feed["path"], "retry_after", code=429, seconds=1, times=1)
    summary = run(settings, sample_server)
    assert f"feed:{sample_server.url}{feed['path']}" not in reasons(summary)
    first, second = sample_server.requests_for(feed["path"])[:2]
    assert second.time - first.time >= 0.95
    assert len(indexed_docs(opensearch_client, index_names)) == len(expected_pages()) + FROM_FEED


def test_cluster_down_stops_the_run_with_a_clear_error(settings, sample_server):
    from newsdrift.errors import ClusterUnavailable
    from newsdrift.settings import load_settings
    from newsdrift.store.client import connect

    dead = load_settings(store_url="http://127.0.0.1:9", allow_private_networks=True)
    started = time.monotonic()
    with pytest.raises(ClusterUnavailable, match="unreachable"):
        connect(dead)
    assert time.monotonic() - started < 15


def test_feed_counts_are_kept_in_feed_state(settings, sample_server, opensearch_client, index_names):
    summary = run(settings, sample_server)
    opensearch_client.indices.refresh(index=index_names.feeds)
    states = opensearch_client.search(index=index_names.feeds, body={"size": 100})["hits"]["hits"]
    by_url = {s["_source"]["feed_url"]: s["_source"] for s in states}
    assert len(by_url) == len(MANIFEST["feeds"])
    assert sum(s["entries_seen"] for s in by_url.values()) == summary.entries_seen
    assert sum(s.get("articles_indexed", 0) for s in by_url.values()) == summary.indexed
    ok = [s for s in by_url.values() if s["health"] == "ok"]
    assert all(s.get("etag") or s.get("last_modified") for s in ok)
    assert Counter(s["health"] for s in by_url.values())["degraded"] == len(BROKEN_FEEDS)


def test_transient_page_failure_is_retried_on_the_next_pass(settings, sample_server, opensearch_client, index_names):
    target_id = stable_id(sample_server.url + TARGET["canonical_path"])
    sample_server.set_fault(TARGET["path"], "status", code=503)
    first = run(settings, sample_server)
    assert "HTTP 503" in reasons(first)[f"page:{sample_server.url}{TARGET['path']}"]
    assert target_id not in indexed_docs(opensearch_client, index_names)

    # the feed's validators were held back, so the next poll gets the entries again, not a 304
    sample_server.clear_faults()
    second = run(settings, sample_server, force=True)
    assert second.indexed == 1
    assert target_id in indexed_docs(opensearch_client, index_names)
    (feed_path,) = TARGET["feed"]
    assert sample_server.requests_for(feed_path)[-1].path == feed_path
    assert second.feeds_not_modified == len([f for f in MANIFEST["feeds"] if f["path"] not in BROKEN_FEEDS]) - 1


def test_redirect_to_a_private_address_is_refused_and_the_rest_lands(
    settings, sample_server, opensearch_client, index_names
):
    # loopback is allowed for the sample server only; everything else private stays refused
    guarded = settings.model_copy(update={"allow_private_networks": False, "allowed_networks": ["127.0.0.0/8"]})
    sample_server.set_fault(TARGET["path"], "redirect", location="http://10.0.0.1/internal/admin")
    summary = run(guarded, sample_server)
    reason = reasons(summary)[f"page:{sample_server.url}{TARGET['path']}"]
    assert "10.0.0.1" in reason and "refused" in reason
    docs = indexed_docs(opensearch_client, index_names)
    assert len(docs) == len(expected_pages()) - 1 + FROM_FEED
    assert stable_id(sample_server.url + TARGET["canonical_path"]) not in docs


def test_drift_is_analysed_in_the_extraction_workers_and_windows_match_a_full_read(
    settings, sample_server, opensearch_client, index_names
):
    """A process-pool pass: every article's drift analysis is made next to extraction (none in the indexing
    process), the indexed drift fields are what the scorer gives the stored text, and the windows the pass
    filled batch by batch are what reading the node back gives."""
    from newsdrift.run.extraction import PROCESS_POOL_MIN_ENTRIES
    from newsdrift.score.drift.store import open_drift_store
    from newsdrift.score.stages import DriftScoring, default_scorers

    names = IndexNames(settings.index_prefix)
    apply_templates(opensearch_client, names)
    stages = default_scorers(settings, opensearch_client, names, alerts=False)
    drift = next(s for s in stages if isinstance(s, DriftScoring))
    summary = run(settings, sample_server, scorers=stages)
    assert summary.indexed >= PROCESS_POOL_MIN_ENTRIES and summary.drift_windows > 0
    assert drift.analysed_here == 0

    store = open_drift_store(settings, opensearch_client, names)
    assert store is not None and store.scorer is not drift.scorer
    fresh = store.scorer  # nothing remembered: analyses every text here
    for doc in indexed_docs(opensearch_client, index_names).values():
        expected = fresh.score(doc["text"])
        assert (doc["baseline_similarity"], doc["novelty"]) == (expected.similarity, expected.novelty)
        assert doc["frame_scores"] == expected.frame_scores and doc["frames"] == expected.frames

    def drift_docs() -> dict[str, dict]:
        opensearch_client.indices.refresh(index=names.drift)
        hits = opensearch_client.search(index=names.drift, body={"size": 10_000})["hits"]["hits"]
        return {h["_id"]: {k: v for k, v in h["_source"].items() if k != "updated_at"} for h in hits}

    from_pass = drift_docs()
    drift.store.backfill()  # every window again, read from the node
    assert drift_docs() == from_pass
