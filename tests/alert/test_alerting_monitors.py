"""Duplicate bursts, feed health and drift events against the real node: once per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from newsdrift.alert import (
    check_all,
    check_drift_events,
    check_duplicate_bursts,
    check_feed_health,
    parse_rules,
)
from newsdrift.feeds import state as feedstate
from newsdrift.records import stable_id
from newsdrift.store.bulk import bulk_write, write_actions

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

RULES = parse_rules(
    {
        "rules": [
            {"name": "wave", "kind": "duplicate_burst", "min_copies": 3, "within": "2h"},
            {"name": "feed-down", "kind": "feed_health", "consecutive_failures": 3, "silent_intervals": 8},
            {"name": "drift", "kind": "drift", "lookback": "1d"},
            {"name": "frames-only", "kind": "drift", "metrics": ["frame_shift"]},
        ]
    }
)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


def index_docs(client, index: str, docs: list[tuple[str, dict[str, Any]]]) -> None:
    outcomes = bulk_write(client, write_actions(index, docs, op_type="index"), refresh=True)
    assert all(o.ok for o in outcomes), outcomes


def story(cluster: str, n: int, start_minutes_ago: float, step: float = 10) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i in range(n):
        aid = f"{cluster}-{i}"
        out.append(
            (
                aid,
                {
                    "article_id": aid,
                    "title": f"Llama story {cluster}",
                    "text": "x",
                    "source": f"Outlet {i}",
                    "url": f"https://o{i}.example/{cluster}",
                    "published_at": at(start_minutes_ago - i * step),
                    "fetched_at": at(0),
                    "story_cluster_id": cluster,
                    **({"near_duplicate_of": f"{cluster}-0", "duplicate_kind": "near"} if i else {}),
                },
            )
        )
    return out


def test_duplicate_burst_alerts_once_per_story_and_lists_copies(opensearch_client, initialized_names):
    client, names = opensearch_client, initialized_names
    index_docs(client, names.articles, story("hot", 4, 60) + story("slow", 2, 60) + story("old", 5, 600))
    alerts = check_duplicate_bursts(client, names, RULES, NOW)
    assert [(a.rule, a.subject_id) for a in alerts] == [("wave", "hot")]
    alert = alerts[0]
    assert alert.id == stable_id("wave", "hot")
    assert alert.details["article_id"] == "hot-0" and alert.details["copies"] == ["hot-1", "hot-2", "hot-3"]
    assert alert.details["copy_count"] == 3
    assert "4 articles of this story within 2h" in alert.message and "Outlet 3" in alert.message

    assert check_duplicate_bursts(client, names, RULES, NOW) == []
    index_docs(client, names.articles, story("hot", 6, 60)[4:])  # the wave grows
    assert check_duplicate_bursts(client, names, RULES, NOW) == []
    doc = client.get(index=names.alerts, id=alert.id)["_source"]
    assert doc["copy_count"] == 5 and doc["copies"][-2:] == ["hot-4", "hot-5"]


def feed(feed_id: str, **state: Any) -> tuple[str, dict[str, Any]]:
    return feed_id, {
        "feed_id": feed_id,
        "feed_url": f"https://{feed_id}.example/rss",
        "name": feed_id,
        "source": feed_id,
        "enabled": True,
        "poll_interval_seconds": 3600,
        **state,
    }


def test_feed_health_alerts_once_per_episode(opensearch_client, initialized_names):
    client, names = opensearch_client, initialized_names
    index_docs(
        client,
        names.feeds,
        [
            feed(
                "failing",
                consecutive_failures=4,
                health="failing",
                failing_since=at(240),
                last_success_at=at(300),
                last_error="HTTP 503",
            ),
            feed("silent", consecutive_failures=0, health="ok", last_success_at=at(9 * 60)),
            feed("fine", consecutive_failures=1, health="degraded", last_success_at=at(90)),
            feed("paused", consecutive_failures=9, health="disabled", enabled=False, failing_since=at(999)),
        ],
    )
    alerts = check_feed_health(client, names, RULES, NOW)
    by_feed = {a.subject_id: a for a in alerts}
    assert set(by_feed) == {"failing", "silent"}
    assert "4 consecutive failed polls (threshold 3)" in by_feed["failing"].message
    assert "HTTP 503" in by_feed["failing"].message
    assert "no successful poll for 9.0 h (> 8 x poll interval 1h)" in by_feed["silent"].message
    assert check_feed_health(client, names, RULES, NOW) == []

    # recovered, then failing again: a new episode, a new alert
    index_docs(
        client,
        names.feeds,
        [feed("failing", consecutive_failures=3, health="failing", failing_since=at(30), last_success_at=at(40))],
    )
    again = check_feed_health(client, names, RULES, NOW)
    assert [a.subject_id for a in again] == ["failing"] and again[0].id != by_feed["failing"].id


def test_feed_health_sees_the_state_a_poll_just_wrote(opensearch_client, initialized_names):
    """A pass writes feed states without a refresh and checks health moments later: the check must see
    them whether or not the node refreshed in between (periodic refresh off here, so it never does)."""
    client, names = opensearch_client, initialized_names
    client.indices.put_settings(index=names.feeds, body={"index.refresh_interval": "-1"})
    _, first = feed("flaky", consecutive_failures=2, health="degraded", failing_since=at(60))
    index_docs(client, names.feeds, [("flaky", first)])
    assert check_feed_health(client, names, RULES, NOW) == []
    # the third failed poll, stored the way the pipeline stores it (feedstate.save_states: no refresh)
    outcomes = feedstate.save_states(client, names, [{**first, "consecutive_failures": 3, "health": "failing"}])
    assert all(o.ok for o in outcomes), outcomes
    alerts = check_feed_health(client, names, RULES, NOW)
    assert [(a.rule, a.subject_id) for a in alerts] == [("feed-down", "flaky")]
    assert "3 consecutive failed polls (threshold 3)" in alerts[0].message
    assert check_feed_health(client, names, RULES, NOW) == []  # the same streak: once


def drift_event(event_id: str, metric: str, window_start: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    return event_id, {
        "kind": "event",
        "event_id": event_id,
        "baseline_id": "seed-v1",
        "window": "1d",
        "metric": metric,
        "window_start": window_start,
        "window_end": at(0),
        "value": 0.42,
        "threshold": 0.3,
        "consecutive_windows": 2,
        "explanation": f"{metric}: coverage moved towards security framing",
        "example_article_ids": ["ex1"],
        "updated_at": at(5),
        **extra,
    }


def test_drift_events_alert_once_with_the_explanation(opensearch_client, initialized_names):
    client, names = opensearch_client, initialized_names
    index_docs(
        client,
        names.articles,
        [
            (
                "ex1",
                {
                    "article_id": "ex1",
                    "title": "Example framing piece",
                    "source": "Wire",
                    "url": "https://wire.example/ex1",
                },
            )
        ],
    )
    index_docs(
        client,
        names.drift,
        [
            drift_event("e1", "js_divergence", at(2880)),
            drift_event("e2", "frame_shift", at(1440)),
            drift_event("stale", "frame_shift", at(9000), window_end=at(8000), updated_at=at(8000)),
            (
                "w1",
                {
                    "kind": "window",
                    "baseline_id": "seed-v1",
                    "window": "1d",
                    "window_start": at(60),
                    "js_divergence": 0.1,
                },
            ),
        ],
    )
    alerts = check_drift_events(client, names, RULES, NOW)
    got = sorted((a.rule, a.subject_id) for a in alerts)
    assert got == [("drift", "e1"), ("drift", "e2"), ("frames-only", "e2")]
    e1 = next(a for a in alerts if a.subject_id == "e1")
    assert e1.id == stable_id("drift", "e1")
    assert "js_divergence: coverage moved towards security framing" in e1.message
    assert "Example framing piece" in e1.message
    assert check_drift_events(client, names, RULES, NOW) == []


def test_check_all_runs_every_kind_and_is_idempotent(opensearch_client, initialized_names):
    client, names = opensearch_client, initialized_names
    index_docs(client, names.articles, story("hot", 3, 30))
    index_docs(client, names.feeds, [feed("failing", consecutive_failures=5, failing_since=at(100))])
    index_docs(client, names.drift, [drift_event("e9", "frame_shift", at(100))])
    kinds = sorted(a.kind for a in check_all(client, names, RULES, NOW))
    assert kinds == ["drift", "drift", "duplicate_burst", "feed_health"]
    assert check_all(client, names, RULES, NOW) == []
