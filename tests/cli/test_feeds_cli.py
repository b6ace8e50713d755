"""`newsdrift feeds add | import | export` through the real CLI, with loopback sites and the real node."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from newsdrift.feeds.catalog import load_feeds
from tests.support.loopback import Route, RouteServer, rss

ARTICLE = (
    "<html><head><title>A</title></head><body><article>"
    + "<p>Open weights matter. </p>" * 120
    + "</article></body></html>"
)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsdrift", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "1",
        **extra,
    }


def test_feeds_add_discovers_the_feeds_a_page_announces_and_run_polls_them(opensearch_url, index_names, tmp_path):
    page = (
        "<html><head><title>Loopback News</title>"
        '<link rel="alternate" type="application/rss+xml" title="Main" href="/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/atom-missing.xml">'
        "</head><body><p>Welcome</p></body></html>"
    )
    with RouteServer({"/": Route(200, page), "/story": Route(200, ARTICLE)}) as srv:
        srv.routes["/rss.xml"] = Route(
            200, rss([{"title": "Story", "link": srv.url("/story")}], title="Loopback Main"), "application/rss+xml"
        )
        feeds_file = tmp_path / "feeds.yaml"
        feeds_file.write_text("# my feeds\n# keep this comment\n\ndefaults:\n  poll_interval: 30m\n\nfeeds: []\n")
        env = _env(tmp_path)
        added = _cli("feeds", "add", srv.url("/"), "--tag", "loop", "--feeds", str(feeds_file), "--json", env=env)
        assert added.returncode == 0, added.stderr
        data = json.loads(added.stdout)
        assert data["added"] == [{"name": "Loopback Main", "url": srv.url("/rss.xml"), "tags": ["loop"]}]
        assert srv.hits["/atom-missing.xml"] == 1  # a candidate that is no feed is checked and left out
        text = feeds_file.read_text()
        assert text.startswith("# my feeds\n# keep this comment\n")
        (feed,) = load_feeds(feeds_file)
        assert feed.url == srv.url("/rss.xml") and feed.poll_interval == 1800 and feed.tags == ["loop"]

        again = _cli("feeds", "add", srv.url("/rss.xml"), "--feeds", str(feeds_file), "--json", env=env)
        assert again.returncode == 0 and json.loads(again.stdout)["skipped"][0]["reason"] == "already in the feeds file"

        # the added feed works: a pass polls it and indexes its article
        run_env = {**env, "NEWSDRIFT_STORE_URL": opensearch_url, "NEWSDRIFT_INDEX_PREFIX": index_names.prefix}
        run = _cli("run", "--feeds", str(feeds_file), "--json", env=run_env)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["indexed"] == 1

        none = _cli("feeds", "add", srv.url("/story"), "--feeds", str(feeds_file), env=env)
        assert none.returncode == 1 and "no feed found" in none.stderr


def test_opml_import_then_export_round_trips(tmp_path):
    opml = tmp_path / "reader.opml"
    opml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="AI" title="AI">
    <outline type="rss" text="Policy Wire" title="Policy Wire" xmlUrl="https://policy.example/rss.xml" htmlUrl="https://policy.example/"/>
    <outline type="rss" text="Byteline AI" xmlUrl="https://byteline.example/ai/atom.xml" category="models,/open"/>
  </outline>
  <outline type="rss" text="Daily Compute" xmlUrl="https://dailycompute.example/feed.xml"/>
</body></opml>
"""
    )
    feeds_file = tmp_path / "feeds.yaml"
    env = _env(tmp_path)
    imported = _cli("feeds", "import", str(opml), "--feeds", str(feeds_file), "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    assert len(json.loads(imported.stdout)["added"]) == 3
    feeds = {f.name: f for f in load_feeds(feeds_file)}
    assert feeds["Policy Wire"].tags == ["AI"] and feeds["Byteline AI"].tags == ["AI", "models", "open"]
    assert feeds["Daily Compute"].url == "https://dailycompute.example/feed.xml"

    exported = tmp_path / "out.opml"
    out = _cli("feeds", "export", "--opml", "-o", str(exported), "--feeds", str(feeds_file), env=env)
    assert out.returncode == 0, out.stderr
    # the export imports into an empty file as the same feeds: names, URLs and tags survive
    second = tmp_path / "second.yaml"
    back = _cli("feeds", "import", str(exported), "--feeds", str(second), "--json", env=env)
    assert back.returncode == 0, back.stderr
    as_tuples = {(f.name, f.url, tuple(f.tags)) for f in load_feeds(second)}
    assert as_tuples == {(f.name, f.url, tuple(f.tags)) for f in feeds.values()}
    # importing the same file again adds nothing
    again = _cli("feeds", "import", str(exported), "--feeds", str(second), "--json", env=env)
    assert json.loads(again.stdout)["added"] == [] and len(json.loads(again.stdout)["skipped"]) == 3

    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline")
    bad = _cli("feeds", "import", str(broken), "--feeds", str(second), env=env)
    assert bad.returncode == 1 and "not valid OPML" in bad.stderr and "Traceback" not in bad.stderr
