"""DriftStore against a real OpenSearch node: affected windows only, deterministic ids, idempotent re-runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.clock import as_utc as utc
from newsdrift.records import Article, ScoredArticle
from newsdrift.score.drift.documents import window_doc_id
from newsdrift.score.drift.events import detect_events, event_id
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.store import DriftStore, PassWindows
from newsdrift.score.drift.windows import WindowArticle, compute_windows
from newsdrift.score.frames import load_frames
from newsdrift.store.names import IndexNames

ROOT = Path(__file__).resolve().parents[3]
SHIFT = datetime(2025, 3, 10, tzinfo=UTC)
FIRST = [SHIFT + timedelta(days=d) for d in range(-14, 0)]  # Feb 24 .. Mar 9: a 10-window reference, then more
SECOND = [SHIFT + timedelta(days=d) for d in range(0, 4)]  # Mar 10 (the shift) .. Mar 13


@pytest.fixture(scope="module")
def scorer() -> DriftScorer:
    baseline = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    return DriftScorer(baseline, load_frames(), baseline_id="seed-v1")


def _stream_days(days: list[datetime]) -> list[dict[str, Any]]:
    wanted = {d.date() for d in days}
    with (ROOT / "tests" / "data" / "drift" / "stream_a.jsonl").open(encoding="utf-8") as fh:
        return [a for a in map(json.loads, fh) if utc(a["published_at"]).date() in wanted]


def _document(scorer: DriftScorer, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    published = utc(item["published_at"])
    article = Article(
        id=item["article_id"],
        url=f"https://news.example/{item['article_id']}",
        canonical_url=f"https://news.example/{item['article_id']}",
        source="example",
        feed_url="https://news.example/rss",
        title=item["title"],
        text=item["text"],
        authors=[],
        published_at=published,
        fetched_at=published,
        language="en",
        site_name="Example",
        word_count=len(item["text"].split()),
        content_sha1=item["article_id"],
    )
    doc = scorer.apply(ScoredArticle(article)).to_document()
    doc.update(extra)
    return doc


def _index(client: OpenSearch, alias: str, docs: list[dict[str, Any]]) -> None:
    body: list[dict[str, Any]] = []
    for doc in docs:
        body += [{"index": {"_index": alias, "_id": doc["article_id"]}}, doc]
    resp = client.bulk(body=body, refresh=True)
    assert not resp["errors"], [i for i in resp["items"] if i["index"].get("error")][:2]


def _drift_docs(client: OpenSearch, index: str, baseline_id: str) -> dict[str, dict[str, Any]]:
    client.indices.refresh(index=index)
    resp = client.search(index=index, body={"size": 10_000, "query": {"term": {"baseline_id": baseline_id}}})
    return {h["_id"]: {k: v for k, v in h["_source"].items() if k != "updated_at"} for h in resp["hits"]["hits"]}


def _kinds(docs: dict[str, dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for doc in docs.values():
        out[doc["kind"]] = out.get(doc["kind"], 0) + 1
    return out


def test_drift_store_recomputes_affected_windows_idempotently(
    opensearch_client: OpenSearch, initialized_names: IndexNames, scorer: DriftScorer
) -> None:
    client, names = opensearch_client, initialized_names
    config = DriftConfig()
    first = _stream_days(FIRST)
    second = _stream_days(SECOND)
    # A reprint and an off-topic piece on Mar 6 must not count.
    extras = [
        _document(
            scorer, {**first[20], "article_id": "dup-1"}, duplicate_of=first[20]["article_id"], duplicate_kind="exact"
        ),
        _document(scorer, {**first[21], "article_id": "off-1"}, off_topic=True),
    ]
    _index(client, names.articles, [_document(scorer, a) for a in first] + extras)
    # Another baseline's doc in the same window must survive every recomputation.
    foreign_id = window_doc_id("other-baseline", "1d", SHIFT, "term", "model")
    client.index(
        index=names.drift,
        id=foreign_id,
        refresh=True,
        body={
            "kind": "term",
            "baseline_id": "other-baseline",
            "window": "1d",
            "window_start": SHIFT.isoformat(),
            "term": "model",
            "rank": 1,
        },
    )

    store = DriftStore(client, names.drift, names.articles, scorer, config, page_size=7)  # small pages: search_after
    result = store.update(utc(a["published_at"]) for a in first)
    assert not result.failures
    weeks = [SHIFT - timedelta(days=14), SHIFT - timedelta(days=7)]
    assert sorted(result.windows) == sorted([("1d", d) for d in FIRST] + [("7d", w) for w in weeks])
    assert result.events == []  # stable coverage only

    docs = _drift_docs(client, names.drift, "seed-v1")
    kinds = _kinds(docs)
    assert kinds["window"] == 16 and kinds["frame"] == 16 * 7 and "event" not in kinds
    # the stored windows are exactly what the pure function computes over the same articles
    expected = {
        (w.window, w.window_start): w for size in ("1d", "7d") for w in compute_windows(first, scorer, size, config)
    }
    for (size, start), record in expected.items():
        stored = docs[window_doc_id("seed-v1", size, start)]
        assert stored["article_count"] == record.article_count
        assert stored["js_divergence"] == pytest.approx(record.js_divergence, abs=1e-6)
        assert stored["centroid_shift"] == pytest.approx(record.centroid_shift, abs=1e-6)
        assert [t["term"] for t in stored["emerging_terms"]] == [t.term for t in record.emerging_terms]
        assert stored["stats"]["frame_var"] == pytest.approx(record.frame_var)
        terms = [
            d for d in docs.values() if d["kind"] == "term" and d["window"] == size and utc(d["window_start"]) == start
        ]
        assert sorted(t["rank"] for t in terms) == list(range(1, len(record.emerging_terms) + 1))

    # Re-running changes nothing: same ids, same contents.
    again = store.update(utc(a["published_at"]) for a in first)
    assert again.docs_deleted == 0 and not again.failures
    assert _drift_docs(client, names.drift, "seed-v1") == docs

    # New articles for Mar 10-13: only those days and their week are recomputed; the event appears.
    _index(client, names.articles, [_document(scorer, a) for a in second])
    result = store.update(utc(a["published_at"]) for a in second)
    assert sorted(result.windows) == sorted([("1d", d) for d in SECOND] + [("7d", SHIFT)])
    docs = _drift_docs(client, names.drift, "seed-v1")
    events = {i: d for i, d in docs.items() if d["kind"] == "event"}
    assert set(events) == set(result.events)
    # exactly the events the pure functions give over the same articles (the stored series is replayed)
    pure = detect_events(compute_windows(first + second, scorer, "1d", config), config)
    assert set(events) == {e.event_id for e in pure}
    moved = sorted((d["metric"], d.get("frame") or "") for d in events.values())
    assert ("frame_shift", "safety_misuse") in moved and len(moved) == len(set(moved))
    for doc_id, doc in events.items():
        assert doc["window"] == "1d" and utc(doc["window_start"]) >= SHIFT - timedelta(days=3)
        start = utc(doc["window_start"])
        assert doc_id == doc["event_id"] == event_id("seed-v1", "1d", doc["metric"], start, doc.get("frame") or "")
        assert len(doc["example_article_ids"]) == 3
        titles = {a["article_id"]: a["title"] for a in first + second}
        assert all(titles[a] in doc["explanation"] for a in doc["example_article_ids"])
        assert 0.5 < doc["stats"]["confidence"] <= 1 and doc["stats"]["false_alarm_rate"] == config.false_alarm_rate
    safety = next(d for d in events.values() if d.get("frame") == "safety_misuse")
    assert safety["stats"]["direction"] == 1 and safety["stats"]["delta"] > 0.1
    assert "frame 'safety_misuse' rose" in safety["explanation"]
    assert _kinds(docs)["window"] == 21

    # ... and re-running makes no second event.
    store.update(utc(a["published_at"]) for a in second)
    assert _drift_docs(client, names.drift, "seed-v1") == docs
    stored_events = store.load_events("1d")
    assert {e.event_id for e in stored_events} == set(events)
    assert all(e.open for e in stored_events)  # the new regime is not learned yet

    # Articles withdrawn from Mar 13: its window docs go, the week is recomputed with fewer articles.
    last_day = SECOND[-1]
    client.delete_by_query(
        index=names.articles,
        refresh=True,
        body={
            "query": {
                "range": {
                    "published_at": {"gte": last_day.isoformat(), "lt": (last_day + timedelta(days=1)).isoformat()}
                }
            }
        },
    )
    result = store.update([last_day])
    assert result.windows_removed == [("1d", last_day)] and result.docs_deleted > 0
    after = _drift_docs(client, names.drift, "seed-v1")
    assert not [d for d in after.values() if d["window"] == "1d" and utc(d["window_start"]) == last_day]
    week = after[window_doc_id("seed-v1", "7d", SHIFT)]
    assert week["article_count"] == docs[window_doc_id("seed-v1", "7d", SHIFT)]["article_count"] - len(
        [a for a in second if utc(a["published_at"]).date() == last_day.date()]
    )

    foreign = client.get(index=names.drift, id=foreign_id)
    assert foreign["_version"] == 1 and foreign["_source"]["baseline_id"] == "other-baseline"


def test_backfill_and_load_windows(
    opensearch_client: OpenSearch, initialized_names: IndexNames, scorer: DriftScorer
) -> None:
    client, names = opensearch_client, initialized_names
    articles = _stream_days(FIRST + SECOND)  # Feb 24 .. Mar 13
    _index(client, names.articles, [_document(scorer, a) for a in articles])
    store = DriftStore(client, names.drift, names.articles, scorer, DriftConfig(windows=("1d",)))
    result = store.backfill()
    assert [start for _, start in result.windows] == FIRST + SECOND
    loaded = store.load_windows("1d", since=SHIFT)
    assert [w.window_start for w in loaded] == SECOND
    assert loaded[0].article_count == len([a for a in articles if utc(a["published_at"]).date() == SHIFT.date()])
    assert ("frame_shift", "safety_misuse") in {(e.metric, e.frame) for e in store.load_events("1d")}


def test_a_pass_seeded_update_writes_what_a_full_read_writes(
    opensearch_client: OpenSearch, initialized_names: IndexNames, scorer: DriftScorer
) -> None:
    """The pipeline's windows, filled as batches are indexed, end where reading the node gives: earlier passes'
    articles are added, and a window holding an article the node now leaves out (demoted to a near copy after
    the pass counted it) is read whole."""
    client, names = opensearch_client, initialized_names
    config = DriftConfig()
    articles = _stream_days(FIRST)
    earlier = [a for a in articles if utc(a["published_at"]) < FIRST[5]]
    this_pass = [a for a in articles if utc(a["published_at"]) >= FIRST[5]]
    late = this_pass.pop(next(i for i, a in enumerate(this_pass) if utc(a["published_at"]).date() == FIRST[8].date()))
    demoted = next(a for a in this_pass if utc(a["published_at"]).date() == FIRST[10].date())
    docs = [_document(scorer, a) for a in earlier + this_pass + [late]]
    for doc in docs:
        if doc["article_id"] == demoted["article_id"]:
            doc.update(near_duplicate_of=this_pass[0]["article_id"], duplicate_kind="near")
    _index(client, names.articles, docs)
    store = DriftStore(client, names.drift, names.articles, scorer, config, page_size=7)

    seeded = PassWindows(scorer, config)
    for a in this_pass:  # `late` came from an earlier pass into a window this pass touched
        published = utc(a["published_at"])
        seeded.add(
            WindowArticle(published, a["text"], scorer.score(a["text"]).frame_scores, a["article_id"], a["title"])
        )
    dates = [utc(a["published_at"]) for a in this_pass]
    result = store.update(dates, seeded=seeded)
    assert not result.failures and result.windows
    from_pass = _drift_docs(client, names.drift, "seed-v1")

    store.update(dates)  # the same windows from a full read of the node
    assert _drift_docs(client, names.drift, "seed-v1") == from_pass
    day = from_pass[window_doc_id("seed-v1", "1d", FIRST[10])]
    assert day["article_count"] == len([a for a in this_pass if utc(a["published_at"]).date() == FIRST[10].date()]) - 1
    week = from_pass[window_doc_id("seed-v1", "7d", FIRST[7])]
    assert week["article_count"] == len([a for a in articles if FIRST[7] <= utc(a["published_at"])]) - 1
