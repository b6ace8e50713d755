"""The offline sample corpus and its loopback server: serving, validators, faults, manifest ground truth."""

from __future__ import annotations

import gzip
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from email.utils import formatdate, parsedate_to_datetime
from html import escape, unescape
from typing import Any
from urllib.robotparser import RobotFileParser

import feedparser
import httpx
import pytest

from newsdrift.ops.sample import CORPUS_DIR, SampleServer, load_manifest
from newsdrift.ops.sample.build_corpus import existing_files, render_files

FEED = "/openledger/rss.xml"
MANIFEST = load_manifest()
PAGES: list[dict[str, Any]] = MANIFEST["pages"]
FEEDS: dict[str, dict[str, Any]] = {f["path"]: f for f in MANIFEST["feeds"]}


def page(page_id: str) -> dict[str, Any]:
    return next(p for p in PAGES if p["id"] == page_id)


@pytest.fixture(scope="module")
def server() -> Iterator[SampleServer]:
    with SampleServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _reset(server: SampleServer) -> Iterator[None]:
    server.clear_faults()
    server.clear_requests()
    yield
    server.clear_faults()


@pytest.fixture
def client(server: SampleServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def parse_feed(client: httpx.Client, path: str) -> Any:
    resp = client.get(path)
    assert resp.status_code == 200
    return feedparser.parse(resp.content, response_headers={"content-type": resp.headers["content-type"]})


# --------------------------------------------------------------------------- serving


def test_feed_is_served_with_base_url_substituted(server: SampleServer, client: httpx.Client) -> None:
    resp = client.get(FEED)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert "{base_url}" not in resp.text
    assert f"<link>{server.url}/openledger/" in resp.text
    parsed = feedparser.parse(resp.content)
    assert not parsed.bozo
    assert len(parsed.entries) == len(FEEDS[FEED]["entries"])
    assert all(e.link.startswith(server.url + "/openledger/") for e in parsed.entries)


def test_placeholder_is_substituted_in_pages_too(server: SampleServer, client: httpx.Client) -> None:
    p = page("ol-llama5-hands-on")
    html = client.get(p["path"]).text
    assert "{base_url}" not in html
    assert f'<link rel="canonical" href="{server.url}{p["canonical_path"]}">' in html


@pytest.mark.parametrize(
    "path",
    [
        FEED,
        "/byteline/ai/ten-thousand-forks-in-two-weeks/",
        "/robots.txt",
        page("ntr-nordic-defence-sovereign-ai")["path"],
    ],
)
def test_validators_and_304_on_revalidation(client: httpx.Client, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{20}(-gzip)?"', etag)
    parsedate_to_datetime(last_modified)

    by_etag = client.get(path, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag

    by_date = client.get(path, headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304

    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    # If-None-Match wins over a matching If-Modified-Since
    both = client.get(path, headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified})
    assert both.status_code == 200
    assert client.get(path, headers={"If-Modified-Since": formatdate(86400, usegmt=True)}).status_code == 200


def test_etag_matches_across_encodings(client: httpx.Client) -> None:
    plain = client.get(FEED, headers={"Accept-Encoding": "identity"})
    zipped = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["etag"] != plain.headers["etag"]
    # a client that stored the gzip variant's tag can revalidate without gzip, and the other way round
    assert (
        client.get(FEED, headers={"If-None-Match": zipped.headers["etag"], "Accept-Encoding": "identity"}).status_code
        == 304
    )
    assert client.get(FEED, headers={"If-None-Match": f"W/{plain.headers['etag']}"}).status_code == 304


def test_gzip_only_when_accepted(client: httpx.Client) -> None:
    with client.stream("GET", FEED, headers={"Accept-Encoding": "gzip"}) as resp:
        raw = b"".join(resp.iter_raw())
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.headers["vary"] == "Accept-Encoding"
    assert int(resp.headers["content-length"]) == len(raw)
    plain = client.get(FEED, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content
    assert client.get(FEED, headers={"Accept-Encoding": "gzip;q=0"}).headers.get("content-encoding") is None


def test_head_has_headers_but_no_body(client: httpx.Client) -> None:
    get = client.get(FEED, headers={"Accept-Encoding": "identity"})
    head = client.head(FEED, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


@pytest.mark.parametrize(
    "path",
    ["/nope.html", "/_headers.json", "/%2e%2e/%2e%2e/etc/passwd", "/byteline/..%2f..%2fetc/passwd", "/robots.txt/"],
)
def test_unknown_hidden_and_escaping_paths_are_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_content_types_follow_the_manifest(client: httpx.Client) -> None:
    for feed in MANIFEST["feeds"]:
        assert client.get(feed["path"]).headers["content-type"] == feed["content_type"]
    for p in PAGES:
        assert client.head(p["path"]).headers["content-type"] == p["content_type"]
    assert client.get("/robots.txt").headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/manifest.json").json()["schema_version"] == MANIFEST["schema_version"]


def test_requests_are_recorded(server: SampleServer, client: httpx.Client) -> None:
    before = time.time()
    client.get(FEED + "?utm_source=test", headers={"User-Agent": "newsdrift-test/1", "X-Trace": "abc"})
    client.head("/robots.txt")
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", FEED + "?utm_source=test"),
        ("HEAD", "/robots.txt"),
    ]
    record = server.requests[0]
    assert record.headers["user-agent"] == "newsdrift-test/1"
    assert record.headers["x-trace"] == "abc"
    assert before <= record.time <= time.time()
    assert len(server.requests_for(FEED)) == 1
    assert server.requests_for(FEED + "?utm_source=other") == []


def test_legacy_charset_page_decodes_with_its_declared_charset(client: httpx.Client) -> None:
    legacy = [p for p in PAGES if p["charset"] != "utf-8"]
    assert legacy
    for p in legacy:
        resp = client.get(p["path"])
        charset = p["charset"]
        assert resp.headers["content-type"] == f"text/html; charset={charset}"
        with pytest.raises(UnicodeDecodeError):
            resp.content.decode("utf-8")
        html = resp.content.decode(charset)
        assert f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' in html
        assert resp.text == html  # httpx honours the header
        for para in p["body"].split("\n"):
            assert escape(para, quote=False) in html
    text = "\n".join(p["body"] for p in legacy)
    for ch in "éüöø£€“”‘’–":
        assert ch in text, ch


# --------------------------------------------------------------------------- faults


def test_status_fault_and_clear(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "status", code=503)
    assert client.get(FEED).status_code == 503
    assert client.get(FEED + "?any=query").status_code == 503  # a bare path matches every query
    server.clear_faults()
    assert client.get(FEED).status_code == 200


def test_times_limits_a_fault_to_the_first_requests(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "status", code=500, times=2)
    assert [client.get(FEED).status_code for _ in range(4)] == [500, 500, 200, 200]
    assert server.faults()[FEED]["hits"] == 2


def test_fault_on_a_query_matches_only_that_query(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED + "?utm_source=rss", "status", code=410)
    assert client.get(FEED + "?utm_source=rss").status_code == 410
    assert client.get(FEED).status_code == 200


def test_retry_after_fault(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "retry_after", seconds=3, times=2)
    first, second, third = (client.get(FEED) for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert second.status_code == 429
    assert third.status_code == 200 and "retry-after" not in third.headers

    server.set_fault(FEED, "retry_after", code=503, seconds=120, http_date=True)
    resp = client.get(FEED)
    assert resp.status_code == 503
    wait = parsedate_to_datetime(resp.headers["retry-after"]).timestamp() - time.time()
    assert 100 < wait <= 121


def test_slow_fault_delays_the_body_after_the_headers(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "slow", delay=1.0)
    start = time.monotonic()
    with client.stream("GET", FEED) as resp:
        headers_at = time.monotonic() - start
        resp.read()
    body_at = time.monotonic() - start
    assert resp.status_code == 200
    assert headers_at < 0.5
    assert body_at >= 1.0
    with pytest.raises(httpx.ReadTimeout):
        client.get(FEED, timeout=httpx.Timeout(5, read=0.3))


def test_slow_fault_before_headers(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "slow", before_headers=1.0, times=1)
    with pytest.raises(httpx.ReadTimeout):
        client.get(FEED, timeout=httpx.Timeout(5, read=0.3))
    assert client.get(FEED).status_code == 200


def test_slow_fault_trickles_the_body(server: SampleServer, client: httpx.Client) -> None:
    expected = client.get(FEED, headers={"Accept-Encoding": "identity"}).content
    server.set_fault(FEED, "slow", chunk_size=len(expected) // 4 + 1, interval=0.2)
    start = time.monotonic()
    with client.stream("GET", FEED, headers={"Accept-Encoding": "identity"}) as resp:
        chunks = list(resp.iter_raw())
    assert time.monotonic() - start >= 0.5  # three 0.2 s gaps between four chunks
    assert len(chunks) >= 4
    assert b"".join(chunks) == expected


def test_oversized_fault_streams_the_declared_size(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault("/big.html", "oversized")  # default 20 MiB
    with client.stream("GET", "/big.html") as resp:
        assert resp.headers["content-length"] == str(20 * 1024 * 1024)
        total = sum(len(chunk) for chunk in resp.iter_raw())
    assert total == 20 * 1024 * 1024


def test_oversized_fault_without_length_and_early_abort(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault("/big.html", "oversized", size=50 * 1024 * 1024, declare_length=False)
    with client.stream("GET", "/big.html") as resp:
        assert "content-length" not in resp.headers
        assert resp.headers["transfer-encoding"] == "chunked"
        seen = 0
        for chunk in resp.iter_raw():
            seen += len(chunk)
            if seen > 1024 * 1024:
                break  # a guarded client gives up; the server must shrug that off
    assert client.get(FEED).status_code == 200


@pytest.mark.parametrize("location", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/secret"])
def test_redirect_fault(server: SampleServer, client: httpx.Client, location: str) -> None:
    server.set_fault(FEED, "redirect", location=location)
    resp = client.get(FEED)
    assert resp.status_code == 302
    assert resp.headers["location"] == location


def test_redirect_fault_substitutes_base_url(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault("/moved", "redirect", location="{base_url}/robots.txt", code=301)
    resp = client.get("/moved", follow_redirects=True)
    assert [r.status_code for r in resp.history] == [301]
    assert resp.url == httpx.URL(server.url + "/robots.txt")


def test_content_type_fault(server: SampleServer, client: httpx.Client) -> None:
    normal = client.get(FEED).content
    server.set_fault(FEED, "content_type", value="application/pdf")
    resp = client.get(FEED)
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content == normal


def test_body_fault(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "body", body="<rss><channel><item><title>cut off")
    resp = client.get(FEED)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert resp.content == b"<rss><channel><item><title>cut off"
    assert feedparser.parse(resp.content).bozo
    server.set_fault(FEED, "body", body=b"\x00\x01", content_type="application/octet-stream", status=500)
    resp = client.get(FEED)
    assert (resp.status_code, resp.headers["content-type"], resp.content) == (
        500,
        "application/octet-stream",
        b"\x00\x01",
    )


def test_disconnect_fault(server: SampleServer, client: httpx.Client) -> None:
    server.set_fault(FEED, "disconnect", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(FEED)
    assert client.get(FEED).status_code == 200


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("teapot", {}),
        ("redirect", {}),
        ("status", {"colour": "red"}),
        ("status", {"times": 0}),
        ("retry_after", {"code": 500}),
        ("content_type", {}),
    ],
)
def test_invalid_faults_are_rejected(server: SampleServer, kind: str, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        server.set_fault(FEED, kind, **params)


def test_faults_over_http(server: SampleServer, client: httpx.Client) -> None:
    resp = client.post("/_faults", json={"path": FEED, "kind": "status", "params": {"code": 502, "times": 1}})
    assert resp.status_code == 200
    assert client.get("/_faults").json()[FEED]["kind"] == "status"
    assert client.get(FEED).status_code == 502
    assert client.post("/_faults", json={"path": FEED, "kind": "nope"}).status_code == 400
    client.post("/_faults", json={"path": FEED, "kind": "status", "params": {"code": 503}})
    assert client.delete("/_faults").status_code == 200
    assert client.get(FEED).status_code == 200
    assert all(not r.path.startswith("/_faults") for r in server.requests)  # control traffic is not logged


def test_stop_is_prompt_with_a_slow_response_in_flight() -> None:
    srv = SampleServer().start()
    port = int(srv.url.rsplit(":", 1)[1])
    srv.set_fault(FEED, "slow", delay=30)
    with httpx.Client(base_url=srv.url, timeout=60) as c, c.stream("GET", FEED) as resp:
        assert resp.status_code == 200
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 3
        with pytest.raises(httpx.HTTPError):
            resp.read()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    srv.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = srv.url


# --------------------------------------------------------------------------- manifest vs files


def test_corpus_is_what_the_generator_produces() -> None:
    assert existing_files(CORPUS_DIR) == render_files(), "run: python -m newsdrift.ops.sample.build_corpus"


def test_manifest_pages_exist_and_are_well_formed(server: SampleServer, client: httpx.Client) -> None:
    required = {
        "path",
        "outlet",
        "feed",
        "title",
        "canonical_path",
        "published",
        "on_topic",
        "story",
        "charset",
        "date_only_in_metadata",
        "body",
    }
    assert len(PAGES) >= 45
    assert len({p["path"] for p in PAGES}) == len(PAGES)
    assert len({p["outlet"] for p in PAGES}) >= 5
    for p in PAGES:
        assert required <= p.keys(), p["path"]
        assert server.resolve(p["path"]) is not None, p["path"]
        resp = client.get(p["path"])
        assert resp.status_code == 200
        html = resp.text
        assert f">{escape(p['title'], quote=False)}</h1>" in html
        for para in p["body"].split("\n"):
            assert f"<p>{escape(para, quote=False)}</p>" in html, (p["path"], para[:60])
        assert 250 <= len(p["body"].split()) <= 900, p["path"]
        assert date(2026, 8, 1) <= datetime.fromisoformat(p["published"]).date() <= date(2026, 9, 30)
        assert f'<link rel="canonical" href="{server.url}{p["canonical_path"]}">' in html


def test_every_page_is_listed_in_its_feeds(server: SampleServer, client: httpx.Client) -> None:
    listed: dict[str, set[str]] = {}
    for path, feed in FEEDS.items():
        parsed = parse_feed(client, path)
        links = [e.link.removeprefix(server.url) for e in parsed.entries]
        assert links == [e["link"] for e in feed["entries"]], path
        assert [e.title for e in parsed.entries] == [e["title"] for e in feed["entries"]], path
        for entry in feed["entries"]:
            if entry["page"]:
                listed.setdefault(entry["page"], set()).add(path)
    for p in PAGES:
        assert p["feed"], f"{p['path']} is in no feed"
        assert listed[p["path"]] == set(p["feed"])


def test_feed_formats_and_malformed_feeds(client: httpx.Client) -> None:
    versions = {path: parse_feed(client, path).version for path, f in FEEDS.items() if not f["bozo"]}
    assert {"rss20", "atom10", "rss10"} <= set(versions.values())
    recoverable = [p for p, f in FEEDS.items() if f["bozo"] and f["recoverable"]]
    unrecoverable = [p for p, f in FEEDS.items() if f["bozo"] and not f["recoverable"]]
    assert recoverable and unrecoverable
    for path in recoverable:
        parsed = parse_feed(client, path)
        assert parsed.bozo
        assert len(parsed.entries) == len(FEEDS[path]["entries"]) > 0
    for path in unrecoverable:
        resp = client.get(path)
        assert resp.headers["content-type"].startswith("application/rss+xml")
        assert resp.text.lstrip().lower().startswith("<!doctype html")
        parsed = feedparser.parse(resp.content)
        assert parsed.bozo and not parsed.entries
    for path, feed in FEEDS.items():
        if not feed["bozo"]:
            assert not parse_feed(client, path).bozo, path


def test_feed_entries_mostly_dated_a_few_not(client: httpx.Client) -> None:
    dated = undated = 0
    for path, feed in FEEDS.items():
        for parsed, expected in zip(parse_feed(client, path).entries, feed["entries"], strict=True):
            has_date = bool(parsed.get("published_parsed") or parsed.get("updated_parsed"))
            assert has_date == expected["has_date"], (path, expected["link"])
            dated += has_date
            undated += not has_date
            assert parsed.get("summary")
    assert undated >= 3 and dated > 5 * undated


def test_syndicated_story() -> None:
    assert len(MANIFEST["stories"]) == 1
    story = MANIFEST["stories"][0]
    members = [p for p in PAGES if p["story"] == story["id"]]
    copies = [p for p in members if p["syndication"] == "copy"]
    original = next(p for p in members if p["syndication"] == "original")
    assert {p["path"] for p in copies} == set(story["copies"]) and original["path"] == story["original"]
    assert len(copies) >= 4
    assert len({p["outlet"] for p in copies} - {original["outlet"]}) >= 4
    assert len({p["title"] for p in members}) == len(members)
    assert {"trimmed", "reordered", "light_edits"} <= {p["syndication_variant"] for p in copies}
    source = original["body"].split("\n")
    for copy in copies:
        paras = copy["body"].split("\n")
        shared = len(set(paras) & set(source)) / len(source)
        match copy["syndication_variant"]:
            case "trimmed":
                assert len(paras) < len(source) and paras == source[: len(paras)]
            case "reordered":
                assert sorted(paras) == sorted(source) and paras != source
            case "light_edits":
                assert len(paras) == len(source) and 0.3 < shared < 1
            case "verbatim":
                assert paras == source


def test_off_topic_articles_are_in_feeds() -> None:
    off = [p for p in PAGES if not p["on_topic"]]
    assert len(off) >= 3
    assert all(p["feed"] and p["frame"] is None for p in off)


def test_tracking_parameter_urls_serve_the_canonical_page(server: SampleServer, client: httpx.Client) -> None:
    urls = MANIFEST["tracking_param_urls"]
    assert len(urls) >= 2
    clean = {u.split("?", 1)[0] for u in urls}
    assert len(clean) == 1
    (path,) = clean
    target = next(p for p in PAGES if p["path"] == path)
    assert target["canonical_path"] == path
    assert any("utm_source=rss&utm_medium=feed" in u for u in urls) and any("utm_campaign=" in u for u in urls)
    feed_links = {e["link"] for f in FEEDS.values() for e in f["entries"]}
    for url in urls:
        assert url in feed_links
        resp = client.get(url)
        assert resp.status_code == 200
        assert f'<link rel="canonical" href="{server.url}{path}">' in resp.text
        assert resp.content == client.get(path).content


def test_dead_links_are_404_and_listed_in_a_feed(client: httpx.Client) -> None:
    assert MANIFEST["dead_links"]
    feed_links = {e["link"] for f in FEEDS.values() for e in f["entries"] if e["page"] is None}
    for link in MANIFEST["dead_links"]:
        assert link in feed_links
        assert client.get(link).status_code == 404


def test_robots_txt_disallows_a_path_a_feed_links_to(server: SampleServer, client: httpx.Client) -> None:
    robots = RobotFileParser()
    robots.parse(client.get("/robots.txt").text.splitlines())
    disallowed = MANIFEST["robots_disallowed"]
    assert disallowed
    feed_links = {e["link"] for f in FEEDS.values() for e in f["entries"]}
    for path in disallowed:
        assert path in feed_links
        assert not robots.can_fetch("newsdrift/0.1", server.url + path)
        assert client.get(path).status_code == 200  # exists: only robots rules keep a crawler out
    for p in PAGES:
        if p["path"] not in disallowed:
            assert robots.can_fetch("newsdrift/0.1", server.url + p["path"]), p["path"]


def _visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", html)
    return unescape(re.sub(r"(?s)<[^>]+>", " ", html))


def test_date_only_in_metadata_pages(client: httpx.Client) -> None:
    pages = [p for p in PAGES if p["date_only_in_metadata"]]
    assert len(pages) >= 2
    for p in pages:
        published = datetime.fromisoformat(p["published"])
        html = client.get(p["path"]).text
        text = _visible_text(html)
        month, day, year = published.strftime("%B"), published.day, published.year
        for shown in (f"{month} {day}", f"{published:%b} {day}", f"{day} {month}", published.date().isoformat()):
            assert shown not in text, (p["path"], shown)
        assert not re.search(r"\b\d{1,2}[./]\d{1,2}[./]20\d\d\b", text)
        assert published.date().isoformat() in html  # ...but it is in the metadata
        assert f"/{year}/" not in p["path"]
        entries = [e for f in FEEDS.values() for e in f["entries"] if e["page"] == p["path"]]
        assert entries and not any(e["has_date"] for e in entries)


def test_framing_shifts_from_openness_to_security() -> None:
    pivot = date.fromisoformat(MANIFEST["framing_shift"]["pivot"])
    early_frames = set(MANIFEST["framing_shift"]["dominant_before"])
    late_frames = set(MANIFEST["framing_shift"]["dominant_after"])
    on_topic = [p for p in PAGES if p["on_topic"] and p["syndication"] != "copy"]
    before = Counter(p["frame"] for p in on_topic if datetime.fromisoformat(p["published"]).date() < pivot)
    after = Counter(p["frame"] for p in on_topic if datetime.fromisoformat(p["published"]).date() >= pivot)
    assert sum(before.values()) >= 15 and sum(after.values()) >= 15
    assert sum(before[f] for f in early_frames) / sum(before.values()) >= 0.7
    assert sum(after[f] for f in late_frames) / sum(after.values()) >= 0.7
    assert sum(before[f] for f in late_frames) >= 1 and sum(after[f] for f in early_frames) >= 1  # not a clean cut


def test_non_syndicated_articles_are_distinct() -> None:
    bodies = [set(p["body"].lower().split()) for p in PAGES if p["story"] is None]
    for i, a in enumerate(bodies):
        for b in bodies[i + 1 :]:
            assert len(a & b) / len(a | b) < 0.5
