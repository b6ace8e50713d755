"""robots.txt: protego's RFC 9309 matching (wildcards, longest match) and the per-host cache with a TTL,
against loopback pages and the real node."""

from __future__ import annotations

import asyncio

from newsdrift.fetch.fetcher import PoliteFetcher
from newsdrift.fetch.robots import policy_from_response
from newsdrift.fetch.robots_store import RobotsStore
from newsdrift.records import Failure, FeedEntry, FetchedPage, stable_id
from newsdrift.store.client import make_client
from newsdrift.store.templates import apply_templates
from tests.support.loopback import Route, RouteServer

UA = "newsdrift/0.1 (+https://example.invalid)"
ROBOTS = """User-agent: *
Disallow: /*.pdf$
Disallow: /news/
Allow: /news/*/public
Allow: /news/open
Crawl-delay: 0.2
"""
PAGE = "<html><head><title>t</title></head><body><p>" + "word " * 200 + "</p></body></html>"


def test_wildcards_and_the_longest_match_decide():
    policy = policy_from_response("https://x.example", 200, ROBOTS.encode())
    allowed = {
        "/paper.pdf": False,  # "*" and "$": a .pdf anywhere, at the end of the path
        "/paper.pdf?download=1": True,  # "$" anchors: the query makes the path not end in .pdf
        "/news/2026/story": False,
        "/news/2026/public": True,  # longer Allow beats the shorter Disallow (urllib: first match, refused)
        "/news/open-letter": True,
        "/about": True,
    }
    for path, expected in allowed.items():
        assert policy.allows("https://x.example" + path, UA) is expected, path
    assert policy.crawl_delay(UA) == 0.2  # fractional Crawl-delay kept


def _entry(url: str) -> FeedEntry:
    return FeedEntry(feed_url="http://127.0.0.1/feed", feed_name="F", source="s", link=url)


async def _fetch_all(settings, store, urls):
    async with PoliteFetcher(settings, robots_store=store) as fetcher:
        results = await fetcher.fetch_all([_entry(u) for u in urls])
        return results, fetcher.robots_fetched


def test_robots_txt_is_cached_per_host_in_opensearch_until_its_ttl(settings, index_names):
    client = make_client(settings)
    apply_templates(client, index_names)
    routes = {
        "/robots.txt": Route(200, ROBOTS, "text/plain"),
        "/news/a": Route(200, PAGE),
        "/news/x/public": Route(200, PAGE),
        "/doc.pdf": Route(200, PAGE),
    }
    with RouteServer(routes) as srv:
        urls = [srv.url("/news/a"), srv.url("/news/x/public"), srv.url("/doc.pdf")]
        store = RobotsStore(client, index_names, ttl_seconds=3600)
        first, fetched_first = asyncio.run(_fetch_all(settings, store, urls))
        second, fetched_second = asyncio.run(_fetch_all(settings, store, urls))
        assert srv.hits["/robots.txt"] == 1  # the second pass used the stored copy
        assert (fetched_first, fetched_second) == (1, 0)
        for results in (first, second):
            assert isinstance(results[0], Failure) and results[0].reason == "robots.txt disallows"
            assert isinstance(results[1], FetchedPage)
            assert isinstance(results[2], Failure) and results[2].reason == "robots.txt disallows"
        assert srv.hits["/news/a"] == 0 and srv.hits["/news/x/public"] == 2
        stored = client.get(index=index_names.hosts, id=stable_id(srv.base))
        assert stored["_source"]["robots_status"] == 200 and "Disallow: /news/" in stored["_source"]["robots_txt"]

        # an expired entry is fetched again (TTL 0 turns the cache off entirely)
        expired = RobotsStore(client, index_names, ttl_seconds=0)
        _, fetched_third = asyncio.run(_fetch_all(settings, expired, urls[1:2]))
        assert fetched_third == 1 and srv.hits["/robots.txt"] == 2


def test_an_unreachable_robots_txt_is_not_cached(settings, index_names):
    client = make_client(settings)
    apply_templates(client, index_names)
    with RouteServer({"/robots.txt": Route(503, "busy"), "/a": Route(200, PAGE)}) as srv:
        store = RobotsStore(client, index_names, ttl_seconds=3600)
        for _ in range(2):
            (result,), fetched = asyncio.run(_fetch_all(settings, store, [srv.url("/a")]))
            assert isinstance(result, Failure) and "robots.txt unreachable" in result.reason and fetched == 1
        assert srv.hits["/robots.txt"] == 2 and srv.hits["/a"] == 0
