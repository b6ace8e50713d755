"""poll_feed against the sample corpus server (real loopback HTTP, faults injected server-side).

The SSRF guard runs with ``allow_private_networks=False`` plus an explicit
allow-list of 127.0.0.0/8, so the loopback server is reachable and a redirect
to 10.0.0.1 is still refused (before any connection is made).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.poll import FeedPollResult, poll_feed
from newsdrift.fetch.http import make_client
from newsdrift.fetch.netguard import NetGuard
from newsdrift.ops.sample.server import CORPUS_DIR, SampleServer
from newsdrift.settings import load_settings

MANIFEST = json.loads((CORPUS_DIR / "manifest.json").read_text(encoding="utf-8"))
FEEDS = {f["path"]: f for f in MANIFEST["feeds"]}
PAGES = {p["path"]: p for p in MANIFEST["pages"]}
ATOM = "/meridian/atom.xml"


@pytest.fixture(scope="module")
def server() -> Iterator[SampleServer]:
    with SampleServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server: SampleServer) -> None:
    server.clear_faults()
    server.clear_requests()


def settings(**overrides: Any) -> Any:
    values = {"allow_private_networks": False, "http_timeout": 5.0, "feed_retries": 2, **overrides}
    return load_settings(**values)


def poll(
    server: SampleServer,
    path: str,
    state: dict[str, Any] | None = None,
    *,
    cfg: Any = None,
    allowed: tuple[str, ...] = ("127.0.0.0/8",),
    backoff_base: float = 0.05,
    **feed_fields: Any,
) -> FeedPollResult:
    cfg = cfg or settings()
    guard = NetGuard.from_settings(cfg, allowed_networks=allowed)
    feed = Feed(url=server.url + path, name=feed_fields.pop("name", "Test feed"), **feed_fields)

    async def run() -> FeedPollResult:
        async with make_client(cfg, guard) as client:
            return await poll_feed(client, feed, state, cfg, guard=guard, backoff_base=backoff_base)

    return asyncio.run(run())


# --- formats ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, f in FEEDS.items() if f["recoverable"]])
def test_corpus_feeds_parse(server: SampleServer, path: str) -> None:
    """RSS 2.0, RSS 1.0 (RDF) and Atom, plus one malformed feed whose entries feedparser recovers."""
    spec = FEEDS[path]
    result = poll(server, path, name="Corpus", source="Corpus outlet", tags=["sample"])
    assert result.outcome == "ok", result.error
    assert result.http_status == 200 and result.error is None
    assert [e.link for e in result.entries] == [server.url + e["link"] for e in spec["entries"]]
    for entry, expected in zip(result.entries, spec["entries"], strict=True):
        assert entry.feed_url == server.url + path
        assert (entry.feed_name, entry.source, entry.tags) == ("Corpus", "Corpus outlet", ["sample"])
        assert entry.title == expected["title"]
        assert entry.entry_id
        page = PAGES.get(expected["page"])
        if expected["has_date"]:
            assert entry.published_at is not None and entry.published_at.tzinfo is UTC
            if page is not None:
                assert entry.published_at == datetime.fromisoformat(page["published"])
        else:
            assert entry.published_at is None
        if page is not None:
            assert entry.authors and entry.authors[0] in page["author"]
    if spec["bozo"]:
        assert len(result.warnings) == 1
        assert result.warnings[0].startswith("malformed feed (XML syntax error at line ")
        assert result.warnings[0].endswith(f"{len(spec['entries'])} entries recovered")
    else:
        assert result.warnings == []


def test_feed_versions(server: SampleServer) -> None:
    versions = {
        path: poll(server, path).feed_version for path in ("/openledger/rss.xml", "/policywire/index.rdf", ATOM)
    }
    assert versions == {"/openledger/rss.xml": "rss20", "/policywire/index.rdf": "rss10", ATOM: "atom10"}


def test_unrecoverable_feed_is_a_recorded_failure(server: SampleServer) -> None:
    [path] = [p for p, f in FEEDS.items() if not f["recoverable"]]  # an HTML error page served as RSS
    result = poll(server, path)
    assert result.outcome == "failed"
    assert result.error is not None and result.error.startswith("not a feed: XML syntax error at line ")
    assert result.entries == [] and result.etag is None
    assert result.failure is not None and result.failure.where == f"feed:{server.url}{path}"


def test_invalid_xml_and_non_feed_bodies(server: SampleServer) -> None:
    server.set_fault(
        "/broken.xml",
        "body",
        body="<?xml version='1.0'?>\n<rss>\n<channel><title>x</titl",
        content_type="application/rss+xml",
    )
    server.set_fault("/empty.xml", "body", body="   ", content_type="application/rss+xml")
    server.set_fault("/json.xml", "body", body='{"items": []}', content_type="application/json")
    broken, empty, not_xml = (poll(server, p) for p in ("/broken.xml", "/empty.xml", "/json.xml"))
    assert broken.outcome == "failed" and broken.error.startswith("not a feed: XML syntax error at line 3")
    assert empty.error == "not a feed: empty response body"
    assert not_xml.outcome == "failed" and not_xml.error.startswith("not a feed: ")


def test_rss_091_with_relative_links(server: SampleServer) -> None:
    body = (
        '<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title><link>/old/</link>'
        "<item><title>First &amp; best</title><link>/old/first.html</link><description>&lt;b&gt;Bold&lt;/b&gt; "
        "summary</description></item><item><title>No link</title></item></channel></rss>"
    )
    server.set_fault("/old/rss091.xml", "body", body=body, content_type="text/xml")
    result = poll(server, "/old/rss091.xml")
    assert result.outcome == "ok" and result.feed_version == "rss091u"
    [entry] = result.entries
    assert entry.link == f"{server.url}/old/first.html"
    assert (entry.title, entry.summary) == ("First & best", "Bold summary")
    assert result.warnings == ["1 entries without an http(s) link skipped"]


# --- conditional GET ------------------------------------------------------------


def test_revalidation_gets_304_with_stored_validators(server: SampleServer) -> None:
    first = poll(server, ATOM)
    assert first.outcome == "ok" and first.etag and first.last_modified
    second = poll(server, ATOM, {"etag": first.etag, "last_modified": first.last_modified})
    assert second.outcome == "not_modified" and second.http_status == 304
    assert second.entries == [] and second.error is None
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    first_request, second_request = server.requests_for(ATOM)
    assert "if-none-match" not in first_request.headers
    assert second_request.headers["if-none-match"] == first.etag
    assert second_request.headers["if-modified-since"] == first.last_modified


def test_ignore_cache_sends_no_validators(server: SampleServer) -> None:
    first = poll(server, ATOM)
    again = poll(server, ATOM, {"etag": first.etag, "last_modified": first.last_modified}, ignore_cache=True)
    assert again.outcome == "ok" and len(again.entries) == len(FEEDS[ATOM]["entries"])
    last = server.requests_for(ATOM)[-1]
    assert "if-none-match" not in last.headers and "if-modified-since" not in last.headers


def test_gzip_is_requested_and_decoded(server: SampleServer) -> None:
    result = poll(server, "/byteline/atom.xml")
    assert result.outcome == "ok"
    assert "gzip" in server.requests_for("/byteline/atom.xml")[0].headers["accept-encoding"]
    assert result.etag is not None and result.etag.endswith('-gzip"')  # the gzip variant was served


# --- retries ---------------------------------------------------------------------


@pytest.mark.parametrize("http_date", [False, True])
def test_429_retry_after_is_honoured(server: SampleServer, http_date: bool) -> None:
    server.set_fault(ATOM, "retry_after", code=429, seconds=2 if http_date else 1, http_date=http_date, times=1)
    result = poll(server, ATOM, backoff_base=0.0)
    assert result.outcome == "ok" and result.attempts == 2
    assert result.retry_after is not None and 0 < result.retry_after <= 2
    first, second = server.requests_for(ATOM)
    # an HTTP date has one-second resolution: "2 s from now" may mean a little over 1 s
    assert second.time - first.time >= (0.95 if not http_date else 0.9)


def test_503_retry_after_then_success(server: SampleServer) -> None:
    server.set_fault(ATOM, "retry_after", code=503, seconds=1, times=2)
    result = poll(server, ATOM, cfg=settings(feed_retries=2))
    assert result.outcome == "ok" and result.attempts == 3
    times = [r.time for r in server.requests_for(ATOM)]
    assert times[1] - times[0] >= 0.95 and times[2] - times[1] >= 0.95


def test_retry_after_beyond_the_cap_is_not_waited_for(server: SampleServer) -> None:
    server.set_fault(ATOM, "retry_after", code=429, seconds=120)
    result = poll(server, ATOM, cfg=settings(retry_after_cap=5))
    assert result.outcome == "failed" and result.attempts == 1
    assert result.retry_after == 120
    assert result.error == "HTTP 429 (Retry-After 120s exceeds the 5s cap; not retrying now)"


def test_server_errors_back_off_then_give_up(server: SampleServer) -> None:
    server.set_fault(ATOM, "status", code=502)
    result = poll(server, ATOM, cfg=settings(feed_retries=2), backoff_base=0.2)
    assert result.outcome == "failed" and result.attempts == 3
    assert result.error == "HTTP 502 (after 3 attempts)"
    times = [r.time for r in server.requests_for(ATOM)]
    assert times[1] - times[0] >= 0.19 and times[2] - times[1] >= 0.39  # 0.2 s, then 0.4 s


def test_client_errors_are_not_retried(server: SampleServer) -> None:
    result = poll(server, "/no/such/feed.xml")
    assert (result.outcome, result.error, result.attempts, result.http_status) == ("failed", "HTTP 404", 1, 404)


# --- limits -----------------------------------------------------------------------


def test_timeout(server: SampleServer) -> None:
    server.set_fault(ATOM, "slow", before_headers=3)
    result = poll(server, ATOM, cfg=settings(http_timeout=0.5, feed_retries=0))
    assert result.outcome == "failed" and result.error == "timeout after 0.5s"
    assert result.elapsed < 2


def test_trickling_body_hits_the_hard_deadline(server: SampleServer) -> None:
    server.set_fault(ATOM, "slow", chunk_size=64, interval=0.2)  # each read is quick, the whole is not
    result = poll(server, ATOM, cfg=settings(http_timeout=1.0, feed_retries=0))
    assert result.error == "timeout after 1s"


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_feed_is_aborted(server: SampleServer, declare_length: bool) -> None:
    server.set_fault(
        ATOM, "oversized", size=2_000_000, content_type="application/atom+xml", declare_length=declare_length
    )
    result = poll(server, ATOM, cfg=settings(max_feed_bytes=100_000))
    assert result.outcome == "failed" and result.attempts == 1
    assert result.error is not None and result.error.startswith("body exceeds 100000 bytes")


def test_redirects_are_followed_and_bounded(server: SampleServer) -> None:
    server.set_fault("/moved.xml", "redirect", location="{base_url}" + ATOM, code=301)
    server.set_fault("/loop.xml", "redirect", location="/loop.xml")
    moved = poll(server, "/moved.xml")
    assert moved.outcome == "ok" and moved.final_url == server.url + ATOM
    loop = poll(server, "/loop.xml", cfg=settings(max_redirects=2, feed_retries=0))
    assert loop.error == "too many redirects (more than 2)"
    assert len(server.requests_for("/loop.xml")) == 3


# --- SSRF guard -------------------------------------------------------------------


def test_redirect_to_private_address_is_refused(server: SampleServer) -> None:
    server.set_fault("/evil.xml", "redirect", location="http://10.0.0.1/feed.xml")
    result = poll(server, "/evil.xml")
    assert result.outcome == "failed" and result.attempts == 1
    assert result.error == "redirect to private address 10.0.0.1 refused"


def test_loopback_feed_refused_without_allow_list(server: SampleServer) -> None:
    result = poll(server, ATOM, allowed=())
    assert result.error == "loopback address 127.0.0.1 refused"
    assert server.requests == []
