"""Templates, bulk outcomes and stable ids against the real node."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from newsdrift.errors import ClusterUnavailable
from newsdrift.records import stable_id
from newsdrift.settings import load_settings
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.client import connect
from newsdrift.store.templates import MAPPINGS_DIR, apply_templates


def test_templates_apply_then_nothing_changes(opensearch_client, index_names):
    first = apply_templates(opensearch_client, index_names)
    assert {c.action for c in first} == {"created"}
    assert {c.name for c in first if c.kind == "index"} == {
        f"{index_names.prefix}-{f}"
        for f in ("articles", "baseline", "alert-rules", "alerts", "feeds", "drift", "hosts", "links", "claims")
    }
    second = apply_templates(opensearch_client, index_names)
    assert [c.action for c in second] == ["unchanged"] * len(second)
    assert all(c.kind in ("component", "index") for c in second)

    alias = opensearch_client.indices.get_alias(name=index_names.articles)
    assert alias == {index_names.articles_index(1): {"aliases": {index_names.articles: {"is_write_index": True}}}}
    mapping = opensearch_client.indices.get_mapping(index=index_names.articles_index(1))
    props = mapping[index_names.articles_index(1)]["mappings"]
    assert props["dynamic"] == "strict"
    assert props["properties"]["text"]["analyzer"] == "newsdrift_english"
    assert props["properties"]["title"]["fields"]["raw"]["type"] == "keyword"
    rules = opensearch_client.indices.get_mapping(index=index_names.alert_rules)[index_names.alert_rules]
    assert rules["mappings"]["properties"]["query"]["type"] == "percolator"


def test_template_upgrade_is_reported_with_versions(opensearch_client, index_names, tmp_path: Path):
    apply_templates(opensearch_client, index_names)
    edited = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, edited)
    feeds = json.loads((edited / "feeds.json").read_text())
    before = feeds["version"]
    feeds["version"] = before + 1
    feeds["template"]["mappings"]["properties"]["owner"] = {"type": "keyword"}
    (edited / "feeds.json").write_text(json.dumps(feeds))

    changes = apply_templates(opensearch_client, index_names, mappings_dir=edited)
    updated = [c for c in changes if c.action == "updated" and c.kind in ("component", "index")]
    assert [(c.name, c.previous_version, c.version) for c in updated] == [
        (f"{index_names.prefix}-feeds", before, before + 1)
    ]
    # the index created under the old template takes the new field too (it is dynamic: strict)
    assert [(c.name, c.kind) for c in changes if c.kind == "mapping"] == [(index_names.feeds, "mapping")]
    opensearch_client.index(index=index_names.feeds, id="x", body={"feed_id": "x", "owner": "desk"}, refresh=True)
    assert opensearch_client.get(index=index_names.feeds, id="x")["_source"]["owner"] == "desk"


def _claim_twice(client, claims_index: str) -> None:
    """Two copies of one story claim in turn on ``claims_index``: the second joins the first's cluster."""
    from datetime import UTC, datetime

    from newsdrift.records import Article, ScoredArticle
    from newsdrift.score.dedup.claims import claim_clusters, claim_keys, prune_claims
    from newsdrift.score.dedup.minhash import fingerprint
    from newsdrift.score.dedup.settings import DedupConfig

    body = "\n".join(f"Paragraph {i} of the story says the open model weights were released today." for i in range(8))
    now = datetime.now(UTC)
    threshold = DedupConfig().threshold

    def founder(aid: str, text: str):
        fp = fingerprint(text, DedupConfig())
        url = f"https://example.org/{aid}"
        article = Article(aid, url, url, "s", "f", "t", text, [], now, now, "en", None, 80, fp.content_sha1)
        return [(ScoredArticle(article=article), fp)]

    assert claim_clusters(client, claims_index, founder("a", body), threshold) == {}
    joined = claim_clusters(client, claims_index, founder("b", body), threshold)
    assert joined["b"].cluster_id == "a" and joined["b"].exact
    key = claim_keys(founder("a", body)[0][1])[0]
    assert client.get(index=claims_index, id=key)["_source"]["article_id"] == "a"  # kept in _source
    client.indices.refresh(index=claims_index)
    assert prune_claims(client, claims_index, older_than_hours=0) == 65  # created_at stays searchable


def test_claim_fields_are_stored_not_indexed_and_claims_work(opensearch_client, initialized_names):
    """Claims are read by id; only created_at is searched (pruning), so the rest is not indexed: less node work
    per claim. Both engines accept the mapping."""
    claims = initialized_names.claims
    props = opensearch_client.indices.get_mapping(index=claims)[claims]["mappings"]["properties"]
    for name in ("article_id", "cluster_id", "content_sha1", "minhash"):
        assert (props[name].get("index"), props[name].get("doc_values")) == (False, False), name
    assert props["created_at"] == {"type": "date"}
    _claim_twice(opensearch_client, claims)


def test_claims_index_made_by_template_v1_keeps_working_after_the_upgrade(
    opensearch_client, index_names, tmp_path: Path
):
    """v2 only stops indexing fields (not an additive change: an existing index keeps its mapping until it is
    recreated); the upgrade reports the version, changes no existing mapping, and claiming goes on."""
    old = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, old)
    claims = json.loads((old / "claims.json").read_text())
    assert claims["version"] == 2
    claims["version"] = 1
    for name in ("article_id", "cluster_id", "content_sha1"):
        claims["template"]["mappings"]["properties"][name] = {"type": "keyword"}  # as v1 had them
    (old / "claims.json").write_text(json.dumps(claims))
    apply_templates(opensearch_client, index_names, mappings_dir=old)

    changes = apply_templates(opensearch_client, index_names)
    updated = [(c.name, c.previous_version, c.version) for c in changes if c.action == "updated"]
    assert updated == [(f"{index_names.prefix}-claims", 1, 2)]
    assert not [c for c in changes if c.kind == "mapping"]
    mapping = opensearch_client.indices.get_mapping(index=index_names.claims)[index_names.claims]["mappings"]
    assert mapping["properties"]["article_id"] == {"type": "keyword"}  # the old index as it was
    _claim_twice(opensearch_client, index_names.claims)


def test_bulk_reports_rejected_document_and_lands_the_rest(opensearch_client, initialized_names):
    good = [(stable_id(f"https://example.org/{i}"), {"title": f"t{i}", "word_count": i}) for i in range(3)]
    bad_type = (stable_id("https://example.org/bad"), {"title": "bad", "word_count": "many"})
    bad_field = (stable_id("https://example.org/unknown"), {"title": "x", "no_such_field": 1})
    outcomes = bulk_write(
        opensearch_client,
        write_actions(initialized_names.articles, [good[0], bad_type, good[1], bad_field, good[2]]),
        refresh="wait_for",
    )
    assert [o.status for o in outcomes] == ["created", "failed", "created", "failed", "created"]
    assert "word_count" in outcomes[1].reason and "mapper_parsing_exception" in outcomes[1].reason
    assert "no_such_field" in outcomes[3].reason
    count = opensearch_client.count(index=initialized_names.articles)["count"]
    assert count == 3


def test_same_article_twice_makes_one_document(opensearch_client, initialized_names):
    doc_id = stable_id("https://example.org/story")
    for _ in range(2):
        outcomes = bulk_write(
            opensearch_client,
            write_actions(initialized_names.articles, [(doc_id, {"title": "story"})]),
            refresh="wait_for",
        )
    assert [o.status for o in outcomes] == ["exists"]
    assert opensearch_client.count(index=initialized_names.articles)["count"] == 1
    assert stable_id("https://example.org/story") == doc_id  # deterministic across calls


def test_unreachable_cluster_gives_clear_error_quickly():
    # a port nothing listens on (bound then released)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = load_settings(store_url=f"http://127.0.0.1:{port}", store_retries=5)
    started = time.monotonic()
    with pytest.raises(ClusterUnavailable) as info:
        connect(settings)
    assert time.monotonic() - started < 15
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "unreachable" in message
    assert "NEWSDRIFT_STORE_URL" in message


def test_credentials_never_appear_in_errors():
    settings = load_settings(store_url="http://user:hunter2@127.0.0.1:9")
    with pytest.raises(ClusterUnavailable) as info:
        connect(settings, check_timeout=1)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("setting", "host", "expected"),
    [
        ("auto", "127.0.0.1", False),
        ("auto", "::1", False),
        ("auto", "localhost", False),
        ("auto", "10.0.0.7", True),
        ("auto", "search.example.org", True),
        ("on", "127.0.0.1", True),
        ("off", "search.example.org", False),
    ],
)
def test_request_compression_follows_the_setting_and_where_the_node_is(setting, host, expected):
    from newsdrift.store.client import wants_compression

    assert wants_compression(setting, host) is expected


@pytest.mark.parametrize("compress", ["on", "off"])
def test_compressed_and_plain_requests_both_reach_the_node(opensearch_url, initialized_names, compress):
    from newsdrift.store.client import make_client

    client = make_client(load_settings(store_url=opensearch_url, store_compress=compress))
    connection = client.transport.connection_pool.connections[0]
    assert connection.http_compress is (compress == "on")
    outcomes = bulk_write(
        client, write_actions(initialized_names.feeds, [(f"gz-{compress}", {"feed_url": "http://example.org/feed"})])
    )
    assert [o.status for o in outcomes] == ["created"]
