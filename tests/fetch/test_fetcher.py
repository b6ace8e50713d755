"""PoliteFetcher against real loopback HTTP servers (no mocks).

A small threaded ``http.server`` is used here because these tests need what a
corpus server does not record: in-flight request counts across several hosts
(127.0.0.1-127.0.0.4 are distinct hosts on Linux loopback) and exact request
start times. The SSRF guard runs with ``allow_private_networks=False`` and an
explicit allow-list of 127.0.0.0/8, so the loopback servers are reachable
while 10.x targets are refused before any connection is attempted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from newsdrift.fetch.fetcher import PoliteFetcher
from newsdrift.fetch.netguard import NetGuard
from newsdrift.records import Failure, FeedEntry, FetchedPage
from newsdrift.settings import load_settings

ARTICLE = (
    "<!DOCTYPE html><html lang='en'><head><title>Story</title></head><body><article><h1>Story</h1>"
    + "<p>Open weights and closed models were debated again this week by many people.</p>" * 20
    + "</article></body></html>"
).encode()


@dataclass
class Hit:
    host: str
    path: str
    headers: dict[str, str]
    start: float
    end: float = 0.0


@dataclass
class Tracker:
    """Shared by all servers of a test: request log and in-flight high-water mark."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def timeline(self) -> list[str]:
        t0 = min((h.start for h in self.hits), default=0.0)
        return [
            f"{h.host}{h.path} {h.start - t0:.3f}-{h.end - t0:.3f}" for h in sorted(self.hits, key=lambda h: h.start)
        ]

    def paths(self, host: str | None = None) -> list[str]:
        return [h.path for h in self.hits if host is None or h.host == host]


Route = Callable[[BaseHTTPRequestHandler], None]


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    delay: float = 0.0,
    length: bool = True,
) -> None:
    if delay:
        time.sleep(delay)
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    if length:
        handler.send_header("Content-Length", str(len(body)))
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    # Leave the in-flight count before any byte goes out: once the client has
    # the headers (enough for an error status) it may start its next request
    # before this thread runs again.
    finish(handler)
    handler.end_headers()
    handler.wfile.write(body)


def finish(handler: BaseHTTPRequestHandler) -> None:
    hit: Hit | None = getattr(handler, "hit", None)
    if hit is None or hit.end:
        return
    tracker = handler.server.tracker  # type: ignore[attr-defined]
    with tracker.lock:
        hit.end = time.monotonic()
        tracker.in_flight -= 1


def page(body: bytes = ARTICLE, ctype: str = "text/html; charset=utf-8", **kw: Any) -> Route:
    return lambda h: send(h, 200, body, {"Content-Type": ctype}, **kw)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, b"", {"Location": location})


def status(code: int, headers: dict[str, str] | None = None) -> Route:
    return lambda h: send(h, code, b"", headers)


def robots(text: str) -> Route:
    return lambda h: send(h, 200, text.encode(), {"Content-Type": "text/plain"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    hit: Hit | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        tracker = self.server.tracker
        hit = self.hit = Hit(self.server.host, urlsplit(self.path).path, dict(self.headers.items()), time.monotonic())
        with tracker.lock:
            tracker.in_flight += 1
            tracker.max_in_flight = max(tracker.max_in_flight, tracker.in_flight)
            tracker.hits.append(hit)
        try:
            route = self.server.routes.get(hit.path)
            if route is None:
                send(self, 404, b"not found", {"Content-Type": "text/plain"})
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout and size-cap tests)
        finally:
            finish(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, routes: dict[str, Route], tracker: Tracker) -> None:
        super().__init__((host, 0), _Handler)
        self.host, self.routes, self.tracker = host, routes, tracker

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def servers(*route_tables: dict[str, Route]) -> Iterator[tuple[Tracker, list[_Server]]]:
    """One server per routing table, on 127.0.0.1, 127.0.0.2, ... (distinct hosts)."""
    tracker = Tracker()
    started = [_Server(f"127.0.0.{i + 1}", routes, tracker) for i, routes in enumerate(route_tables)]
    for srv in started:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield tracker, started
    finally:
        for srv in started:
            srv.shutdown()
            srv.server_close()


def settings(**overrides: Any) -> Any:
    values = {
        "allow_private_networks": False,
        "per_host_delay": 0.0,
        "http_timeout": 5.0,
        "user_agent": "newsdrift-test/1.0 (+https://example.invalid/bot)",
        **overrides,
    }
    return load_settings(**values)


def entry(url: str) -> FeedEntry:
    return FeedEntry(feed_url="http://feed.invalid/rss", feed_name="Test", source="Test", link=url)


def fetch(cfg: Any, *urls: str, resolver: Any = None) -> list[FetchedPage | Failure]:
    guard = NetGuard.from_settings(cfg, allowed_networks=["127.0.0.0/8"], resolver=resolver)

    async def run() -> list[FetchedPage | Failure]:
        async with PoliteFetcher(cfg, guard=guard) as fetcher:
            return await fetcher.fetch_all([entry(u) for u in urls])

    return asyncio.run(run())


def reason(result: FetchedPage | Failure) -> str:
    assert isinstance(result, Failure), f"expected a Failure, got a page from {result.final_url}"
    return result.reason


# --- robots.txt ------------------------------------------------------------------


def test_robots_disallow_is_respected_and_fetched_once() -> None:
    routes = {
        "/robots.txt": robots("User-agent: *\nDisallow: /private/\n"),
        "/news/a": page(),
        "/news/b": page(),
        "/private/c": page(),
    }
    with servers(routes) as (tracker, [srv]):
        a, b, c = fetch(settings(), f"{srv.url}/news/a", f"{srv.url}/news/b", f"{srv.url}/private/c")
    assert isinstance(a, FetchedPage) and isinstance(b, FetchedPage)
    assert reason(c) == "robots.txt disallows"
    assert c.where == f"page:{srv.url}/private/c"
    assert tracker.paths().count("/robots.txt") == 1
    assert "/private/c" not in tracker.paths()


def test_robots_rules_for_our_user_agent_token() -> None:
    routes = {
        "/robots.txt": robots("User-agent: newsdrift-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n"),
        "/a": page(),
    }
    with servers(routes) as (tracker, [srv]):
        [result] = fetch(settings(), f"{srv.url}/a")
    assert reason(result) == "robots.txt disallows"
    assert "/a" not in tracker.paths()


def test_robots_404_allows_everything_and_5xx_disallows_the_host() -> None:
    with servers({"/a": page()}, {"/robots.txt": status(503), "/a": page()}) as (tracker, [open_srv, down_srv]):
        ok, refused = fetch(settings(), f"{open_srv.url}/a", f"{down_srv.url}/a")
    assert isinstance(ok, FetchedPage)
    assert reason(refused) == "robots.txt unreachable (HTTP 503); host disallowed for this run"
    assert tracker.paths(down_srv.host) == ["/robots.txt"]


# --- pacing and concurrency -----------------------------------------------------


def test_per_host_delay_spaces_request_starts() -> None:
    routes = {f"/p{i}": page() for i in range(4)}
    with servers(routes) as (tracker, [srv]):
        results = fetch(settings(per_host_delay=0.3, per_host_concurrency=4), *(f"{srv.url}/p{i}" for i in range(4)))
    assert all(isinstance(r, FetchedPage) for r in results)
    starts = sorted(h.start for h in tracker.hits)  # robots.txt + 4 pages, one host
    assert len(starts) == 5
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # Gaps are measured where the server sees requests arrive: a new connection
    # (thread start, accept) can delay one arrival by tens of ms under load.
    assert min(gaps) >= 0.22, gaps
    assert starts[-1] - starts[0] >= 4 * 0.3 - 0.05, gaps


def test_global_concurrency_is_bounded_across_hosts() -> None:
    slow = page(delay=0.25)
    tables = [{f"/s{i}": slow for i in range(3)} for _ in range(4)]
    with servers(*tables) as (tracker, srvs):
        urls = [f"{s.url}/s{i}" for s in srvs for i in range(3)]
        started = time.monotonic()
        results = fetch(settings(fetch_concurrency=2, per_host_concurrency=2), *urls)
        elapsed = time.monotonic() - started
    assert all(isinstance(r, FetchedPage) for r in results)
    assert tracker.max_in_flight == 2, tracker.timeline()
    assert elapsed >= 12 * 0.25 / 2 * 0.9  # 12 slow pages, 2 at a time


def test_per_host_concurrency_is_bounded() -> None:
    routes = {f"/s{i}": page(delay=0.2) for i in range(4)}
    with servers(routes) as (tracker, [srv]):
        results = fetch(settings(fetch_concurrency=8, per_host_concurrency=1), *(f"{srv.url}/s{i}" for i in range(4)))
    assert all(isinstance(r, FetchedPage) for r in results)
    assert tracker.max_in_flight == 1, tracker.timeline()


# --- responses ------------------------------------------------------------------


def test_user_agent_accept_and_final_url_after_redirects() -> None:
    routes = {"/old": redirect("/moved", 301), "/moved": redirect("/new", 307), "/new": page()}
    with servers(routes) as (tracker, [srv]):
        [result] = fetch(settings(), f"{srv.url}/old")
    assert isinstance(result, FetchedPage)
    assert result.requested_url == f"{srv.url}/old"
    assert result.final_url == f"{srv.url}/new"
    assert result.status == 200 and "Open weights" in result.html
    seen = [h for h in tracker.hits if h.path != "/robots.txt"]
    assert [h.path for h in seen] == ["/old", "/moved", "/new"]
    assert all(h.headers["User-Agent"] == "newsdrift-test/1.0 (+https://example.invalid/bot)" for h in seen)
    assert seen[0].headers["Accept"].startswith("text/html")


def test_http_errors_and_redirect_loops() -> None:
    routes = {"/gone": status(404), "/loop": redirect("/loop"), "/broken": status(500)}
    with servers(routes) as (_tracker, [srv]):
        gone, loop, broken = fetch(settings(max_redirects=3), *(f"{srv.url}{p}" for p in routes))
    assert reason(gone) == "HTTP 404"
    assert reason(loop) == "too many redirects (more than 3)"
    assert reason(broken) == "HTTP 500"


def test_retry_after_on_a_page_holds_back_the_host() -> None:
    routes = {"/busy": status(429, {"Retry-After": "1"}), "/next": page()}
    with servers(routes) as (tracker, [srv]):
        cfg = settings()
        guard = NetGuard.from_settings(cfg, allowed_networks=["127.0.0.0/8"])

        async def run() -> list[FetchedPage | Failure]:
            async with PoliteFetcher(cfg, guard=guard) as fetcher:
                busy = await fetcher.fetch(entry(f"{srv.url}/busy"))
                return [busy, await fetcher.fetch(entry(f"{srv.url}/next"))]

        busy, after = asyncio.run(run())
    assert reason(busy) == "HTTP 429 (Retry-After 1s)"
    assert isinstance(after, FetchedPage)
    starts = {h.path: h.start for h in tracker.hits}
    assert starts["/next"] - starts["/busy"] >= 0.95


def test_non_html_content_type_is_refused() -> None:
    routes = {"/paper.pdf": page(b"%PDF-1.7 ...", "application/pdf"), "/data": page(b"{}", "application/json")}
    with servers(routes) as (_tracker, [srv]):
        pdf, data = fetch(settings(), f"{srv.url}/paper.pdf", f"{srv.url}/data")
    assert reason(pdf) == "content type application/pdf is not HTML"
    assert reason(data) == "content type application/json is not HTML"


def test_xhtml_and_untyped_html_are_accepted() -> None:
    routes = {"/x": page(ctype="application/xhtml+xml"), "/untyped": lambda h: send(h, 200, ARTICLE)}
    with servers(routes) as (_tracker, [srv]):
        xhtml, untyped = fetch(settings(), f"{srv.url}/x", f"{srv.url}/untyped")
    assert isinstance(xhtml, FetchedPage) and isinstance(untyped, FetchedPage)
    assert untyped.content_type == "text/html"


def test_oversized_bodies_are_cut_off() -> None:
    big = b"<html><body>" + b"<p>padding</p>" * 2000 + b"</body></html>"  # ~28 kB
    routes = {"/declared": page(big), "/streamed": page(big, length=False)}
    with servers(routes) as (_tracker, [srv]):
        declared, streamed = fetch(settings(max_page_bytes=10_000), f"{srv.url}/declared", f"{srv.url}/streamed")
    assert reason(declared).startswith("body exceeds 10000 bytes")
    assert reason(streamed) == "body exceeds 10000 bytes"


def test_timeout_has_a_clear_reason() -> None:
    with servers({"/slow": page(delay=2.0)}) as (_tracker, [srv]):
        started = time.monotonic()
        [result] = fetch(settings(http_timeout=0.5), f"{srv.url}/slow")
        elapsed = time.monotonic() - started
    assert reason(result) == "timeout after 0.5s"
    assert elapsed < 1.9


def test_windows_1252_page_is_decoded_right() -> None:
    text = "Café prices rose to £4 – “open” models, says Zoë’s report. " * 10
    legacy = f"<html><head><title>t</title></head><body><p>{text}</p></body></html>".encode("cp1252")
    meta_only = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><p>'
        + text.encode("cp1252")
        + b"</p></body></html>"
    )
    routes = {
        "/http-charset": page(legacy, "text/html; charset=windows-1252"),
        "/latin1-label": page(legacy, "text/html; charset=ISO-8859-1"),  # browsers read this as windows-1252
        "/meta-charset": page(meta_only, "text/html"),
        "/undeclared": page(legacy, "text/html"),
    }
    with servers(routes) as (_tracker, [srv]):
        results = fetch(settings(), *(f"{srv.url}{path}" for path in routes))
    for result in results:
        assert isinstance(result, FetchedPage), result
        assert "Café prices rose to £4 – “open” models, says Zoë’s report." in result.html, result.final_url


def test_utf8_page_behind_a_latin1_server_default() -> None:
    body = "<html><body><p>Zürich’s “open” model — déjà vu</p></body></html>".encode()
    with servers({"/u": page(body, "text/html; charset=iso-8859-1")}) as (_tracker, [srv]):
        [result] = fetch(settings(), f"{srv.url}/u")
    assert isinstance(result, FetchedPage)
    assert "Zürich’s “open” model — déjà vu" in result.html


# --- SSRF -----------------------------------------------------------------------


def test_redirect_to_private_address_is_refused_before_connecting() -> None:
    routes = {
        "/to-ip": redirect("http://10.0.0.1/admin"),
        "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-name": redirect("http://intranet.test/secret"),
        "/to-file": redirect("file:///etc/passwd"),
    }

    async def resolver(host: str, port: int) -> list[str]:
        return {"intranet.test": ["10.20.30.40"]}[host]

    with servers(routes) as (tracker, [srv]):
        results = fetch(settings(), *(f"{srv.url}{p}" for p in routes), resolver=resolver)
    assert [reason(r) for r in results] == [
        "redirect to private address 10.0.0.1 refused",
        "redirect to link-local address 169.254.169.254 refused",
        "redirect to intranet.test (resolves to private address 10.20.30.40) refused",
        "redirect to unsupported scheme 'file' refused",
    ]
    assert sorted(tracker.paths()) == sorted(["/robots.txt", *routes])


def test_loopback_is_refused_without_the_allow_list() -> None:
    with servers({"/a": page()}) as (tracker, [srv]):
        cfg = settings()

        async def run() -> FetchedPage | Failure:
            async with PoliteFetcher(cfg) as fetcher:  # guard from settings only
                return await fetcher.fetch(entry(f"{srv.url}/a"))

        result = asyncio.run(run())
    assert reason(result) == "loopback address 127.0.0.1 refused"
    assert tracker.hits == []
