"""The fetch scheduler in a real pass: hosts interleaved, politeness kept.

Six loopback hosts (127.0.0.2-127.0.0.7, distinct hosts on Linux without setup),
one ``ThreadingHTTPServer`` and one feed each, serve generated article pages and
record every request on the server side (host, path, arrival, completion). The
real ``run_once`` indexes them into the test node with a nonzero per-host delay,
a small batch size (one feed per batch: fetched batch by batch, hosts would go one at a time)
and a global limit below hosts x per-host concurrency.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newsdrift.feeds.catalog import Feed
from newsdrift.ops.sample import load_manifest
from newsdrift.records import stable_id
from newsdrift.run.ingest import run_once
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates

DELAY = 0.2
PER_HOST = 2
GLOBAL = 4
HOSTS = [f"127.0.0.{i}" for i in range(2, 8)]
PAGES = {host: 10 for host in HOSTS}
SLOW_HOST = HOSTS[0]  # pages take longer than the delay: per-host concurrency is what limits it
SLOW_SECONDS = 0.45
CRAWL_HOST = HOSTS[-1]  # robots.txt asks for more than the configured delay
CRAWL_DELAY = 0.5
PAGES[CRAWL_HOST] = 4
TOLERANCE = 0.05  # server-side arrival jitter (thread start, accept of a new connection)

BODIES = [p["body"] for p in load_manifest()["pages"]]


@dataclass
class Request:
    host: str
    path: str
    start: float
    end: float = 0.0


@dataclass
class Timeline:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Request] = field(default_factory=list)

    def of(self, host: str) -> list[Request]:
        return sorted((r for r in self.requests if r.host == host), key=lambda r: r.start)

    def render(self, host: str) -> str:
        t0 = min(r.start for r in self.requests)
        return " ".join(f"{r.path}@{r.start - t0:.3f}-{r.end - t0:.3f}" for r in self.of(host))


def article(host: str, i: int, base: str) -> str:
    body = BODIES[(HOSTS.index(host) * 10 + i) % len(BODIES)]
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Report {host} {i}</title>"
        f"<link rel='canonical' href='{base}/a/{i}'></head><body><article><h1>Report {host} number {i}</h1>"
        f"<p>Dispatch {i} from host {host}, filed for the scheduler test.</p>{paras}</article></body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        srv = self.server
        request = Request(srv.host, self.path, time.monotonic())
        with srv.timeline.lock:
            srv.timeline.requests.append(request)
        base = srv.url
        if self.path == "/robots.txt":
            extra = f"Crawl-delay: {CRAWL_DELAY}\n" if srv.host == CRAWL_HOST else ""
            body, ctype = f"User-agent: *\n{extra}Allow: /\n".encode(), "text/plain"
        elif self.path == "/feed.xml":
            items = "".join(
                f"<item><title>Report {i}</title><link>{base}/a/{i}</link><guid>{base}/a/{i}</guid></item>"
                for i in range(PAGES[srv.host])
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>{srv.host}</title>{items}</channel></rss>"
            body, ctype = body.encode(), "application/rss+xml"
        elif self.path.startswith("/a/"):
            if srv.host == SLOW_HOST:
                time.sleep(SLOW_SECONDS)
            body, ctype = article(srv.host, int(self.path[3:]), base).encode(), "text/html; charset=utf-8"
        else:
            body, ctype = b"not found", "text/plain"
        self.send_response(200 if not body.startswith(b"not found") else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        # completion is stamped before any byte goes out: the client cannot start its next
        # request before this one counts as finished
        request.end = time.monotonic()
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, timeline: Timeline) -> None:
        super().__init__((host, 0), _Handler)
        self.host, self.timeline = host, timeline

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server_address[1]}"


@contextmanager
def hosts() -> Iterator[tuple[Timeline, list[_Server]]]:
    timeline = Timeline()
    servers = [_Server(host, timeline) for host in HOSTS]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield timeline, servers
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()


def max_overlap(requests: list[Request]) -> int:
    events = sorted([(r.start, 1) for r in requests] + [(r.end, -1) for r in requests], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_hosts_are_interleaved_within_politeness_and_every_page_is_indexed_once(
    settings, opensearch_client, index_names: IndexNames
) -> None:
    cfg = settings.model_copy(
        update={
            "per_host_delay": DELAY,
            "per_host_concurrency": PER_HOST,
            "fetch_concurrency": GLOBAL,
            "batch_size": 10,  # one feed's entries per batch: a batch-by-batch pass would fetch one host at a time
        }
    )
    apply_templates(opensearch_client, index_names)
    with hosts() as (timeline, servers):
        feeds = [Feed(url=f"{srv.url}/feed.xml", name=srv.host) for srv in servers]
        started = time.monotonic()
        summary = run_once(cfg, opensearch_client, feeds)
        elapsed = time.monotonic() - started
        base = {srv.host: srv.url for srv in servers}
    assert summary.errors == [], summary.errors

    # (a) per host: never more than PER_HOST in flight, starts at least the delay apart
    for host in HOSTS:
        requests = [r for r in timeline.of(host) if r.path != "/feed.xml"]  # polling is not page fetching
        assert max_overlap(requests) <= PER_HOST, timeline.render(host)
        gap = CRAWL_DELAY if host == CRAWL_HOST else DELAY
        starts = [r.start for r in requests]
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        assert min(gaps) >= gap - TOLERANCE, (host, gaps, timeline.render(host))
    # the slow host really had PER_HOST requests in flight at once (the limit, not the delay, bound it)
    assert max_overlap([r for r in timeline.of(SLOW_HOST) if r.path.startswith("/a/")]) == PER_HOST
    # the global limit holds across hosts
    assert max_overlap([r for r in timeline.requests if r.path != "/feed.xml"]) <= GLOBAL

    # (b) robots.txt Crawl-delay: fetched first, and every later start of that host keeps it
    crawl = timeline.of(CRAWL_HOST)
    crawl = [r for r in crawl if r.path != "/feed.xml"]
    assert crawl[0].path == "/robots.txt" and len(crawl) == PAGES[CRAWL_HOST] + 1

    # (c) interleaved: the page-fetching span is far below the sum of the hosts' serial times
    def serial(host: str) -> float:  # the least time one host's pages take on their own, robots.txt included
        n = PAGES[host]
        if host == SLOW_HOST:
            return max(n * DELAY, n / PER_HOST * SLOW_SECONDS)
        return n * (CRAWL_DELAY if host == CRAWL_HOST else DELAY)

    sum_serial = sum(serial(h) for h in HOSTS)
    longest = max(serial(h) for h in HOSTS)
    pages = [r for r in timeline.requests if r.path.startswith("/a/")]
    span = max(r.end for r in pages) - min(r.start for r in pages)
    by_second = defaultdict(set)
    for r in pages:
        by_second[int(r.start - min(p.start for p in pages))].add(r.host)
    assert span < sum_serial / 3, (span, sum_serial, dict(by_second))
    assert span >= longest - DELAY - TOLERANCE  # sanity: the slowest host still sets the pace
    # every host got page requests in the first second, instead of one or two hosts at a time
    assert by_second[0] == set(HOSTS), dict(by_second)
    assert elapsed < sum_serial / 2, (elapsed, sum_serial)

    # (d) every page fetched once and indexed exactly once
    page_hits = Counter((r.host, r.path) for r in pages)
    assert set(page_hits.values()) == {1}
    expected = {stable_id(f"{base[h]}/a/{i}") for h in HOSTS for i in range(PAGES[h])}
    assert summary.indexed == len(expected) == sum(PAGES.values())
    opensearch_client.indices.refresh(index=index_names.articles)
    resp = opensearch_client.search(
        index=index_names.articles, body={"size": 1000, "query": {"match_all": {}}, "_source": False}
    )
    ids = [h["_id"] for h in resp["hits"]["hits"]]
    assert len(ids) == len(set(ids)) and set(ids) == expected
