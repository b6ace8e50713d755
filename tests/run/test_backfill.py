"""`newsdrift backfill`: a loopback site's sitemaps (found in robots.txt) or a URL list, --since, through
the same pipeline into the real node; a second run adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.loopback import Route, RouteServer

TOPICS = ["open weights", "model licence", "export controls", "safety testing", "inference cost", "fine-tuning"]


def article(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    paras = "".join(
        f"<p>Story {i} paragraph {j}: regulators, researchers and companies argued about {topic} for open "
        f"models such as Llama again this week, with new figures on adoption and risk in part {j}.</p>"
        for j in range(8)
    )
    return (
        f"<html lang='en'><head><title>Archive story {i}</title></head><body><article><h1>Archive story {i} on "
        f"{topic}</h1>{paras}</article></body></html>"
    )


def _cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "newsdrift", "backfill", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backfill_from_sitemaps_with_since_then_idempotent(opensearch_url, index_names, tmp_path):
    routes = {f"/news/{i}.html": Route(200, article(i)) for i in range(6)}
    with RouteServer(routes) as srv:
        srv.routes["/robots.txt"] = Route(
            200, f"User-agent: *\nDisallow: /news/5.html\nSitemap: {srv.url('/sitemap-index.xml')}\n", "text/plain"
        )
        srv.routes["/sitemap-index.xml"] = Route(
            200,
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{srv.url('/sitemap-2025.xml')}</loc><lastmod>2025-12-31</lastmod></sitemap>"
            f"<sitemap><loc>{srv.url('/sitemap-2026.xml')}</loc><lastmod>2026-09-30</lastmod></sitemap>"
            "</sitemapindex>",
            "application/xml",
        )
        srv.routes["/sitemap-2025.xml"] = Route(200, "never read", "application/xml")
        urls = "".join(
            f"<url><loc>{srv.url(f'/news/{i}.html')}</loc><lastmod>2026-0{8 if i < 2 else 9}-1{i}</lastmod></url>"
            for i in range(6)
        )
        srv.routes["/sitemap-2026.xml"] = Route(
            200,
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
            "application/xml",
        )
        env = {
            **os.environ,
            "NEWSDRIFT_STORE_URL": opensearch_url,
            "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
            "NEWSDRIFT_HOME": str(tmp_path / "home"),
            "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
            "NEWSDRIFT_PER_HOST_DELAY": "0.05",
        }
        first = _cli(env, srv.url("/"), "--since", "2026-09-01", "--source", "Loopback Archive")
        assert first.returncode == 0, first.stderr
        data = json.loads(first.stdout)
        assert data["sitemaps"] == [srv.url("/sitemap-index.xml"), srv.url("/sitemap-2026.xml")]
        assert srv.hits["/sitemap-2025.xml"] == 0  # its lastmod is before --since
        assert data["skipped_old"] == 3  # the old child sitemap and the two August pages
        assert data["urls"] == 4 and data["indexed"] == 3  # /news/5.html: robots.txt disallows
        assert {e["reason"] for e in data["errors"]} == {"robots.txt disallows"}
        assert srv.hits["/news/0.html"] == 0 and srv.hits["/news/5.html"] == 0

        again = _cli(env, srv.url("/sitemap-2026.xml"), "--since", "2026-09-01")
        assert again.returncode == 0, again.stderr
        repeat = json.loads(again.stdout)
        assert repeat["indexed"] == 0 and repeat["articles_known"] == 3 and repeat["dead_links_skipped"] == 1
        assert srv.hits["/news/2.html"] == 1  # known articles are not fetched again

        listing = tmp_path / "urls.txt"
        listing.write_text(f"# two older stories\n{srv.url('/news/0.html')}\n{srv.url('/news/1.html')}\n")
        from_list = _cli(env, "--urls", str(listing))
        assert from_list.returncode == 0, from_list.stderr
        assert json.loads(from_list.stdout)["indexed"] == 2

    from opensearchpy import OpenSearch

    client = OpenSearch(opensearch_url)
    client.indices.refresh(index=index_names.articles)
    hits = client.search(index=index_names.articles, body={"size": 10, "_source": ["source", "tags", "url"]})
    docs = [h["_source"] for h in hits["hits"]["hits"]]
    assert len(docs) == 5 and all("backfill" in d["tags"] for d in docs)
    assert {d["source"] for d in docs} == {"Loopback Archive", "127.0.0.1"}
