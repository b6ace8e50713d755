"""Adaptive poll intervals: the rule itself, then real polls of loopback feeds stored in the real node."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opensearchpy import OpenSearch

from newsdrift.errors import ConfigError
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.schedule import WEEK, PollBounds, next_poll, parse_max_age, parse_ttl
from newsdrift.records import RunSummary
from newsdrift.settings import Settings, load_settings
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BOUNDS = PollBounds(min_seconds=300, max_seconds=86400)


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


# --- the rule ------------------------------------------------------------------------------


def test_interval_follows_the_publishing_rate() -> None:
    def plan(published: list[datetime]) -> Any:
        return next_poll(900, None, ok=True, modified=True, published=published, now=NOW, failures=0, bounds=BOUNDS)

    hourly = plan([ago(hours=h) for h in range(48)])  # 48 entries in the last week
    assert hourly.reason == "rate" and hourly.seconds == pytest.approx(WEEK / 48, abs=0.1)
    busy = plan([ago(minutes=m) for m in range(0, 2000, 2)])  # 1,000 a week: about every 10 minutes
    assert busy.seconds == pytest.approx(604.8) and busy.entries_per_week == 1000
    busier = plan([ago(minutes=m) for m in range(10000)])  # 10,000 a week: clamped to the minimum
    assert busier.seconds == 300
    weekly = plan([ago(days=3), ago(days=10), ago(days=17)])  # once a week: capped at the maximum
    assert weekly.seconds == 86400 and weekly.entries_per_week == 1
    quiet = plan([ago(days=40)])  # nothing in the last week
    assert quiet.seconds == 86400 and quiet.reason == "no-recent-entries"
    # a 304 tells nothing new: the rate measured at the last 200 stands
    again = next_poll(
        900, {"entries_per_week": 48.0}, ok=True, modified=False, published=[], now=NOW, failures=0, bounds=BOUNDS
    )
    assert again.seconds == hourly.seconds and again.reason == "rate"
    # a feed never read with dates keeps its configured interval; adaptive off: always the configured one
    assert next_poll(900, None, ok=True, modified=False, published=[], now=NOW, failures=0).seconds == 900
    fixed = PollBounds(300, 86400, adaptive=False)
    assert next_poll(900, None, ok=True, modified=True, published=[], now=NOW, failures=0, bounds=fixed).seconds == 900


def test_server_hints_and_failures_push_the_next_poll_out() -> None:
    rate = [ago(hours=h) for h in range(168)]  # one an hour: every 3,600 s
    base = {"ok": True, "modified": True, "published": rate, "now": NOW, "failures": 0, "bounds": BOUNDS}
    assert next_poll(900, None, **base).seconds == pytest.approx(3600)
    assert next_poll(900, None, **{**base, "ttl_seconds": 7200}).reason == "ttl"
    assert next_poll(900, None, **{**base, "ttl_seconds": 7200}).seconds == 7200
    assert next_poll(900, None, **{**base, "ttl_seconds": 60}).seconds == pytest.approx(3600)  # a bound, not a target
    assert next_poll(900, None, **{**base, "max_age_seconds": 10800}).reason == "max-age"
    failing = {**base, "ok": False, "modified": False, "published": []}
    waits = [next_poll(900, {"entries_per_week": 168.0}, **{**failing, "failures": n}).seconds for n in range(1, 8)]
    assert waits[:5] == [3600, 7200, 14400, 28800, 57600] and waits[5:] == [86400, 86400]
    told = next_poll(900, None, **{**failing, "failures": 1, "retry_after": 200000})
    assert told.reason == "retry-after" and told.seconds == 200000  # the server's word, beyond the maximum


def test_header_parsing_and_bounds_validation() -> None:
    assert parse_max_age("public, max-age=600") == 600 and parse_max_age("no-cache, max-age=600") is None
    assert parse_max_age(None) is None and parse_max_age("max-age=abc") is None
    assert parse_ttl("60") == 3600 and parse_ttl("") is None and parse_ttl(None) is None
    with pytest.raises(ConfigError, match="NEWSDRIFT_POLL_MAX_INTERVAL: .*at least poll_min_interval"):
        load_settings(poll_min_interval=3600, poll_max_interval=600)


# --- real polls on loopback -----------------------------------------------------------------


class _Feeds(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        now = datetime.now(UTC)
        headers: dict[str, str] = {}
        extra = ""
        if self.path == "/weekly.xml":
            dates = [now - timedelta(days=3 + 7 * k) for k in range(5)]
        elif self.path == "/hourly.xml":
            dates = [now - timedelta(hours=k) for k in range(30)]
        elif self.path == "/ttl.xml":
            dates, extra = [now - timedelta(minutes=k) for k in range(200)], "<ttl>180</ttl>"
        elif self.path == "/cached.xml":
            dates, headers = [now - timedelta(minutes=k) for k in range(200)], {"Cache-Control": "max-age=5400"}
        elif self.path == "/broken.xml":
            self._send(500, b"down", {})
            return
        elif self.path == "/busy.xml":
            self._send(503, b"busy", {"Retry-After": "7200"})
            return
        else:
            self._send(404, b"", {})
            return
        host = f"http://127.0.0.1:{self.server.server_address[1]}"
        items = "".join(
            f"<item><title>t{k}</title><link>{host}{self.path}/{k}</link><pubDate>{format_datetime(d)}</pubDate></item>"
            for k, d in enumerate(dates)
        )
        body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{extra}{items}</channel></rss>"
        self._send(200, body.encode(), {"Content-Type": "application/rss+xml", **headers})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def feed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _poll(settings: Settings, client: OpenSearch, names: IndexNames, feeds: list[Feed]) -> dict[str, dict]:
    from newsdrift.feeds.poller import poll_feeds
    from newsdrift.feeds.state import load_states

    asyncio.run(poll_feeds(settings, client, names, feeds, RunSummary(), force=True))
    client.indices.refresh(index=names.feeds)
    return {f.url.rsplit("/", 1)[-1]: s for f in feeds if (s := load_states(client, names, [f]).get(f.id))}


def test_polls_store_adaptive_next_poll_times(
    settings: Settings, opensearch_client: OpenSearch, index_names: IndexNames, feed_server: str
) -> None:
    settings = settings.model_copy(
        update={"allow_private_networks": True, "feed_retries": 0, "poll_min_interval": 600, "poll_max_interval": 43200}
    )
    apply_templates(opensearch_client, index_names)
    paths = ["weekly.xml", "hourly.xml", "ttl.xml", "cached.xml", "broken.xml", "busy.xml"]
    feeds = [Feed(url=f"{feed_server}/{p}", name=p) for p in paths]
    first = _poll(settings, opensearch_client, index_names, feeds)

    def wait(state: dict) -> float:
        return (
            datetime.fromisoformat(state["next_poll_at"]) - datetime.fromisoformat(state["last_polled_at"])
        ).total_seconds()

    assert first["weekly.xml"]["next_poll_reason"] == "rate" and wait(first["weekly.xml"]) == 43200  # capped
    assert first["hourly.xml"]["entries_per_week"] == 30 and wait(first["hourly.xml"]) == pytest.approx(
        WEEK / 30, abs=1
    )
    assert first["ttl.xml"]["next_poll_reason"] == "ttl" and wait(first["ttl.xml"]) == 10800
    assert first["cached.xml"]["next_poll_reason"] == "max-age" and wait(first["cached.xml"]) == 5400
    assert first["busy.xml"]["next_poll_reason"] == "retry-after" and wait(first["busy.xml"]) == 7200
    assert first["broken.xml"]["consecutive_failures"] == 1
    # the failing feed backs off: each failure doubles its wait (from the configured 900 s), up to the maximum
    waits = [wait(first["broken.xml"])]
    for _ in range(3):
        waits.append(wait(_poll(settings, opensearch_client, index_names, feeds[4:5])["broken.xml"]))
    assert waits == [900, 1800, 3600, 7200]
