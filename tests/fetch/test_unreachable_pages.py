"""Pages that cannot be had: indexed from the feed's own text, marked as such; links that failed for
good are remembered and left alone for days; transient failures are retried next pass. Loopback feed and
pages, real node."""

from __future__ import annotations

from datetime import datetime, timedelta

from newsdrift.clock import utcnow
from newsdrift.feeds.catalog import Feed
from newsdrift.fetch.links import link_id
from newsdrift.run.ingest import run_once
from newsdrift.store.client import make_client
from newsdrift.store.templates import apply_templates
from tests.support.loopback import Route, RouteServer, rss

SUMMARY = (
    "Meta released the weights of its Llama model under an open licence on Tuesday, and regulators in Brussels "
    "said they would study whether the open-weight release falls under the AI Act's rules for systemic risk."
)
FULL = " ".join([SUMMARY] * 4)
SHELL = "<html><head><title>App</title></head><body><div id='root'></div><script src='/app.js'></script></body></html>"
ARTICLE = (
    "<html><head><title>Open models and the law</title></head><body><article><h1>Open models and the law</h1>"
    + "".join(f"<p>{SUMMARY} Paragraph {i} adds more detail about the open model debate.</p>" for i in range(6))
    + "</article></body></html>"
)


def _feed_items(srv: RouteServer) -> list[dict[str, str]]:
    return [
        {"title": "Bot wall story", "link": srv.url("/walled"), "description": SUMMARY},
        {"title": "App-rendered story", "link": srv.url("/app"), "description": "Short teaser.", "content": FULL},
        {"title": "Walled, no text", "link": srv.url("/walled-bare"), "description": "Teaser only."},
        {"title": "Gone story", "link": srv.url("/gone"), "description": SUMMARY},
        {"title": "Busy story", "link": srv.url("/busy"), "description": "Teaser only."},
        {"title": "Fine story", "link": srv.url("/fine"), "description": SUMMARY},
    ]


def _docs(client, names) -> dict[str, dict]:
    client.indices.refresh(index=names.articles)
    hits = client.search(index=names.articles, body={"size": 100})["hits"]["hits"]
    return {h["_source"]["url"].rsplit("/", 1)[-1]: h["_source"] for h in hits}


def test_unreadable_pages_come_from_the_feed_and_dead_links_rest_for_days(settings, index_names):
    client = make_client(settings)
    apply_templates(client, index_names)
    routes = {
        "/robots.txt": Route(200, "User-agent: *\nAllow: /\n", "text/plain"),
        "/walled": Route(403, "<html><body>Are you a robot?</body></html>"),
        "/walled-bare": Route(403, "<html><body>Are you a robot?</body></html>"),
        "/app": Route(200, SHELL),
        "/gone": Route(404, "not here"),
        "/busy": Route(503, "try later"),
        "/fine": Route(200, ARTICLE),
    }
    with RouteServer(routes) as srv:
        srv.routes["/feed.xml"] = Route(200, rss(_feed_items(srv)), "application/rss+xml")
        feeds = [Feed(url=srv.url("/feed.xml"), name="Loopback", source="loop")]
        first = run_once(settings, client, feeds, force=True)

        docs = _docs(client, index_names)
        assert set(docs) == {"walled", "app", "fine"}
        assert first.indexed == 3 and first.indexed_from_feed == 2
        assert docs["walled"]["text_source"] == "feed" and docs["walled"]["text_source_reason"] == "HTTP 403"
        assert docs["walled"]["text"] == SUMMARY and docs["walled"]["title"] == "Bot wall story"
        assert docs["app"]["text_source"] == "feed" and docs["app"]["text"] == FULL  # content:encoded wins
        assert docs["app"]["text_source_reason"] == "no article text found"  # a JavaScript shell
        assert docs["fine"]["text_source"] == "page" and "text_source_reason" not in docs["fine"]
        # the 404 and the bare 403 are remembered with their reason; the 503 is not (it is retried)
        assert first.dead_links == 2
        client.indices.refresh(index=index_names.links)
        gone = client.get(index=index_names.links, id=link_id(srv.url("/gone")))["_source"]
        assert gone["reason"] == "HTTP 404" and gone["failures"] == 1
        retry_in = datetime.fromisoformat(gone["retry_at"]) - datetime.fromisoformat(gone["last_failed_at"])
        assert retry_in == timedelta(days=1)
        bare = client.get(index=index_names.links, id=link_id(srv.url("/walled-bare")))["_source"]
        assert bare["reason"] == "HTTP 403"
        assert not client.exists(index=index_names.links, id=link_id(srv.url("/busy")))

        # next pass: the dead links are not fetched again, the transient one is
        second = run_once(settings, client, feeds, force=True)
        assert srv.hits["/gone"] == 1 and srv.hits["/walled-bare"] == 1 and srv.hits["/busy"] == 2
        assert second.dead_links_skipped == 2 and second.indexed == 0 and second.dead_links == 0
        assert not [e for e in second.errors if "/gone" in e.where]  # the same error is not repeated

        # once its backoff is over, the link is tried again; failing again doubles the wait
        past = (utcnow() - timedelta(minutes=1)).isoformat()
        client.update(index=index_names.links, id=link_id(srv.url("/gone")), body={"doc": {"retry_at": past}})
        client.indices.refresh(index=index_names.links)
        third = run_once(settings, client, feeds, force=True)
        assert srv.hits["/gone"] == 2 and third.dead_links_skipped == 1
        gone = client.get(index=index_names.links, id=link_id(srv.url("/gone")))["_source"]
        retry_in = datetime.fromisoformat(gone["retry_at"]) - datetime.fromisoformat(gone["last_failed_at"])
        assert gone["failures"] == 2 and retry_in == timedelta(days=2)
