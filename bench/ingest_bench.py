"""Ingestion benchmark: N articles from a loopback server into the real node.

Prints articles/second, the ratio of the whole pipeline's time to plain
trafilatura extraction of the same pages (measured in the same process), and
peak RSS. Each size runs in its own subprocess so peak RSS is per size.

    python bench/ingest_bench.py --sizes 500 2000 [--url http://127.0.0.1:9251] [--stages all|scoring|none]
    python bench/ingest_bench.py --sizes 500 --overhead-rounds 4   # scoring overhead, none/scoring alternated
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sentence_bank() -> list[str]:
    """Sentences of the sample corpus (about 1,400): varied vocabulary, like a real news stream."""
    import re

    from newsdrift.ops.sample import load_manifest

    bank = []
    for page in load_manifest()["pages"]:
        bank += [x for x in re.split(r"(?<=[.!?])\s+", page["body"].replace("\n", " ")) if len(x.split()) >= 6]
    return bank


SENTENCES = _sentence_bank()

NAV = "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(30))
RELATED = "".join(
    f"<li><a href='/related/{i}'>Related headline number {i} about technology</a></li>" for i in range(12)
)


def article_html(i: int, base: str) -> str:
    rng = random.Random(i)
    paras = []
    for _ in range(rng.randint(6, 10)):
        picked = rng.sample(SENTENCES, 4)
        paras.append(f"<p>{' '.join(picked)} (Report {i}, paragraph {len(paras) + 1}.)</p>")
    published = (datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=i)).isoformat()
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Open model report {i} | Bench Times</title>
<link rel="canonical" href="{base}/a/{i}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="Reporter {i % 7}"></head>
<body><div class="cookie">We use cookies. <button>Accept</button></div>
<nav><ul>{NAV}</ul></nav><div class="ad">Advertisement</div>
<article><h1>Open model report {i}: what the Llama release means</h1>
<p class="byline">By Reporter {i % 7}</p>{"".join(paras)}</article>
<aside><h3>Related</h3><ul>{RELATED}</ul></aside>
<section class="comments"><h3>Comments</h3><p>Great article!</p><p>I disagree.</p></section>
<footer>Copyright Bench Times. All rights reserved.</footer></body></html>"""


class BenchServer:
    """Serves /feed.xml with N items and /a/<i> pages, generated on the fly, from a separate
    process so that serving does not compete with the measured pipeline for the GIL."""

    def __init__(self, n: int) -> None:
        import multiprocessing

        ready = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_serve, args=(n, ready), daemon=True)
        self.process.start()
        self.port = ready.get(timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _serve(n: int, ready: object) -> None:
    server = _InProcessServer(n)
    ready.put(server.port)  # type: ignore[attr-defined]
    server.thread.join()


class _InProcessServer:
    def __init__(self, n: int) -> None:
        self.n = n
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like any real news site

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802
                base = f"http://127.0.0.1:{outer.port}"
                if self.path == "/robots.txt":
                    body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
                elif self.path == "/feed.xml":
                    items = "".join(
                        f"<item><title>Open model report {i}</title><link>{base}/a/{i}</link>"
                        f"<guid>{base}/a/{i}</guid></item>"
                        for i in range(outer.n)
                    )
                    head = "<?xml version='1.0'?><rss version='2.0'><channel><title>Bench</title>"
                    rss = f"{head}{items}</channel></rss>"
                    body, ctype = rss.encode(), "application/rss+xml"
                elif self.path.startswith("/a/"):
                    body, ctype = article_html(int(self.path[3:]), base).encode(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()


def run_one(n: int, url: str, stages: str) -> dict:
    import httpx
    import trafilatura

    from newsdrift.feeds.catalog import Feed
    from newsdrift.run.ingest import run_once
    from newsdrift.score.stages import default_scorers
    from newsdrift.settings import load_settings
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates, delete_all

    server = BenchServer(n)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        store_url=url,
        index_prefix=prefix,
        allow_private_networks=True,
        per_host_delay=0.0,
        per_host_concurrency=8,
        fetch_concurrency=8,
        batch_size=100,
    )
    client = connect(settings)
    names = IndexNames(prefix)
    apply_templates(client, names)
    feed = Feed(url=f"http://127.0.0.1:{server.port}/feed.xml", name="bench")
    try:
        # What extraction loads in every configuration (trafilatura; the MinHash fingerprint, so datasketch and
        # scipy): imported before the clock in all of them. Built scorers import it too, so otherwise it would
        # fall inside the timed pass of --stages none only, 0.4-0.6 s of its ~4 s.
        import extractors.article  # noqa: F401
        import newsdrift.score.dedup.minhash  # noqa: F401

        # topic relevance and fingerprints are computed next to extraction in every configuration
        started = time.perf_counter()
        scorers = [] if stages == "none" else default_scorers(settings, client, names, alerts=stages == "all")
        setup_s = time.perf_counter() - started
        if stages == "scoring-noverify":
            from newsdrift.score.dedup.settings import DedupConfig
            from newsdrift.score.stages import DedupScorer

            for stage in scorers:
                if isinstance(stage, DedupScorer):
                    stage.dedup.config = DedupConfig(verify_threshold=0)
        started = time.perf_counter()
        summary = run_once(settings, client, [feed], scorers=scorers)
        pipeline_s = time.perf_counter() - started
        # plain extraction of the same pages in the same process
        pages = [httpx.get(f"http://127.0.0.1:{server.port}/a/{i}").text for i in range(n)]
        started = time.perf_counter()
        for html in pages:
            trafilatura.bare_extraction(html, with_metadata=True)
        plain_s = time.perf_counter() - started
        del pages
        return {
            "articles": n,
            "indexed": summary.indexed,
            "errors": len(summary.errors),
            "pipeline_s": round(pipeline_s, 2),
            "setup_s": round(setup_s, 2),  # building the stages (imports, baseline), once per process
            "plain_extraction_s": round(plain_s, 2),
            "ratio": round(pipeline_s / plain_s, 2),
            "articles_per_s": round(summary.indexed / pipeline_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        delete_all(client, names)
        server.stop()


def overhead_rounds(n: int, rounds: int, child: Callable[[int, str], dict]) -> None:
    """The scoring overhead (dedup + drift over the same pass without them), alternated round by round:
    on a shared machine only figures taken side by side compare."""
    import os
    import statistics

    warm = child(n, "scoring")  # the node's JIT and caches: the first pass after a start is far slower
    print(f"warm-up pass (not counted): {warm['pipeline_s']} s")
    print(f"{'round':>5} {'none s':>7} {'load':>5} {'scoring s':>9} {'load':>5} {'overhead':>8}")
    overheads = []
    for r in range(1, rounds + 1):
        load_none = os.getloadavg()[0]
        none = child(n, "none")
        load_scoring = os.getloadavg()[0]
        scoring = child(n, "scoring")
        overheads.append(scoring["pipeline_s"] / none["pipeline_s"] - 1)
        print(
            f"{r:>5} {none['pipeline_s']:>7} {load_none:>5.2f} {scoring['pipeline_s']:>9} {load_scoring:>5.2f} "
            f"{overheads[-1]:>+8.0%}",
            flush=True,
        )
    print(
        f"scoring overhead at {n} articles over {rounds} rounds: median {statistics.median(overheads):+.0%}, "
        f"range {min(overheads):+.0%} to {max(overheads):+.0%} (target +25%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--url", default="http://127.0.0.1:9251", help="OpenSearch URL")
    parser.add_argument(
        "--stages",
        choices=["all", "scoring", "scoring-noverify", "none"],
        default="all",
        help="all: dedup+drift+alerting; scoring: dedup+drift; scoring-noverify: the same without the "
        "exact-shingle verification of near-duplicate candidates; none: extraction, topic, indexing",
    )
    parser.add_argument(
        "--overhead-rounds",
        type=int,
        default=0,
        metavar="N",
        help="instead: N rounds of --stages none then --stages scoring at the first size, side by side on one "
        "node, each with the 1-minute load average; prints each round's scoring overhead and the median",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.url, args.stages)))
        return

    def child(n: int, stages: str) -> dict:
        cmd = [sys.executable, __file__, "--child", str(n), "--url", args.url, "--stages", stages]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    if args.overhead_rounds:
        overhead_rounds(args.sizes[0], args.overhead_rounds, child)
        return
    rows = [child(n, args.stages) for n in args.sizes]
    print(f"{'articles':>8} {'indexed':>7} {'pipeline s':>10} {'plain s':>8} {'ratio':>6} {'art/s':>7} {'peak MB':>8}")
    for r in rows:
        print(
            f"{r['articles']:>8} {r['indexed']:>7} {r['pipeline_s']:>10} {r['plain_extraction_s']:>8} "
            f"{r['ratio']:>6} {r['articles_per_s']:>7} {r['peak_rss_mb']:>8}"
        )
    if len(rows) >= 2:
        print(
            f"peak RSS ratio {rows[-1]['articles']}/{rows[0]['articles']} articles: "
            f"{rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f}"
        )
    if args.stages == "all":
        # the first size again without stages: what scoring (dedup + drift) and alerting each add
        n = args.sizes[0]
        none, noverify, scoring = child(n, "none"), child(n, "scoring-noverify"), child(n, "scoring")
        print(
            f"at {n} articles: {none['pipeline_s']} s without detection, {noverify['pipeline_s']} s with dedup+drift "
            f"without candidate verification (+{noverify['pipeline_s'] / none['pipeline_s'] - 1:.0%}), "
            f"{scoring['pipeline_s']} s with it "
            f"(scoring overhead +{scoring['pipeline_s'] / none['pipeline_s'] - 1:.0%}), {rows[0]['pipeline_s']} s "
            f"with alerting too (+{rows[0]['pipeline_s'] / scoring['pipeline_s'] - 1:.0%} more)"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
