"""Ingestion of real pages: the trafilatura evaluation set served from 20+ loopback hosts into the real node.

Each loopback address (127.0.0.2, 127.0.0.3, ...) gets its own ``ThreadingHTTPServer`` (all
in one separate process, so serving does not compete with the measured pass for the GIL),
with ``/robots.txt``, an RSS feed ``/feed.xml`` listing that host's pages (``pubDate`` on
most entries, missing on every fifth) and the pages themselves, served with their real bytes
and ``Content-Type: text/html`` (the charset is the page's own declaration).

600 pages are 600 files of the set (20 hosts). Larger sizes reuse the files under more URLs
and hosts (30 pages per host); every copy after the first is made distinct so that duplicate
detection does not fold it: letters of the text between tags are shifted by the copy number
(``a`` -> ``b`` ...; other scripts by a code point within their block) and a unique paragraph
is added; the copy is re-encoded in the page's own charset (character references where it
cannot encode).

The pass is ``newsdrift.run.ingest.run_once`` with default politeness (``per_host_delay`` and
concurrency at their defaults; ``allow_private_networks=True`` for loopback) into a fresh
index prefix, deleted afterwards. In the same run, plain extraction: ``trafilatura.extract``
over the same bytes in a ``ProcessPoolExecutor`` with ``os.cpu_count()`` workers.

Worker utilisation = time spent inside the extraction worker function (timed by a wrapper
around ``newsdrift.run.ingest.extract_and_score_text``, which calls it unchanged) / (workers x
pass time). The pass's own ``stage_seconds`` (busy time per stage) are printed as the stage split.
Each size runs in its own subprocess so peak RSS is per size; the pages are built and
served in a separate process and plain trafilatura runs in another, so peak RSS is the pipeline's own.

    python bench/realpages.py --sizes 600 3000 [--url http://127.0.0.1:9251] [--archive PATH] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from extraction_realpages import CACHE_DIR, DEFAULT_ARCHIVE, load_pages, unpack  # noqa: E402

PAGES_PER_HOST = 30
MIN_HOSTS = 20
_TEXT_RE = re.compile(r">([^<]+)<")


def _shift(char: str, k: int) -> str:
    if "a" <= char <= "z":
        return chr((ord(char) - 97 + k) % 26 + 97)
    if "A" <= char <= "Z":
        return chr((ord(char) - 65 + k) % 26 + 65)
    if char.isalpha() and ord(char) > 127:
        moved = chr(ord(char) ^ (k & 3))  # stays inside its block of four code points
        return moved if moved.isalpha() else char
    return char


def distinct_copy(raw: bytes, copy: int) -> bytes:
    """Copy number ``copy`` of a page (0 = the real bytes): text letters shifted, a unique paragraph added."""
    if copy == 0:
        return raw
    from newsdrift.fetch.charset import decode_page

    decoded = decode_page(raw, "text/html")
    html = _TEXT_RE.sub(lambda m: ">" + "".join(_shift(c, copy) for c in m.group(1)) + "<", decoded.text)
    digest = hashlib.sha1(f"{copy}:{raw[:200]!r}".encode()).hexdigest()
    note = f"<p>Copy {copy} of this page, reference {digest}, for the real-page ingestion benchmark.</p>"
    at = html.lower().rfind("</body>")
    html = html[:at] + note + html[at:] if at >= 0 else html + note
    return html.encode(decoded.encoding, errors="xmlcharrefreplace")


def build_site(n: int, archive: Path, cache: Path) -> tuple[list[bytes], int]:
    """``n`` page bodies and the number of hosts serving them."""
    base = sorted(load_pages(unpack(archive, cache)), key=lambda p: hashlib.sha1(p.filename.encode()).hexdigest())
    bodies = [distinct_copy(base[i % len(base)].raw, i // len(base)) for i in range(n)]
    return bodies, max(MIN_HOSTS, -(-n // PAGES_PER_HOST))


def _feed(host: str, indexes: list[int]) -> bytes:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    items = []
    for i in indexes:
        link = f"{host}/p/{i}.html"
        date = "" if i % 5 == 4 else f"<pubDate>{format_datetime(start + timedelta(minutes=7 * i))}</pubDate>"
        items.append(
            f"<item><title>Page {i}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>{date}</item>"
        )
    head = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{escape(host)}</title>"
    return (head + "".join(items) + "</channel></rss>").encode()


def _serve(n: int, archive: Path, cache: Path, ready: Any) -> None:
    # the pages are built here, in the server process, so the measured process never holds them
    bodies, hosts = build_site(n, archive, cache)
    servers = []
    for h in range(hosts):
        address = f"127.0.0.{h + 2}"
        mine = list(range(h, len(bodies), hosts))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            own = mine

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802
                host = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
                if self.path == "/robots.txt":
                    body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
                elif self.path == "/feed.xml":
                    body, ctype = _feed(host, self.own), "application/rss+xml"
                elif self.path.startswith("/p/") and self.path.endswith(".html"):
                    body, ctype = bodies[int(self.path[3:-5])], "text/html"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer((address, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(f"http://{address}:{server.server_address[1]}/feed.xml")
    ready.put(servers)
    threading.Event().wait()


# --- worker utilisation: a wrapper around the pipeline's worker function --------------------

BUSY: Any = None  # multiprocessing.Value("d"), created before the pool forks its workers
_REAL_WORKER: Any = None


def timed_worker(page: Any, settings: Any) -> Any:
    started = time.perf_counter()
    try:
        return _REAL_WORKER(page, settings)
    finally:
        with BUSY.get_lock():
            BUSY.value += time.perf_counter() - started


def _plain(raw: bytes) -> int:
    import trafilatura

    return len(trafilatura.extract(raw) or "")


def _plain_timing(n: int, archive: Path, cache: Path, workers: int, result: Any) -> None:
    """Plain trafilatura over the same pages on ``workers`` processes, in a process of its own."""
    import trafilatura  # noqa: F401  (imported once, before the workers fork)

    bodies, _ = build_site(n, archive, cache)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_plain, bodies[:workers]))  # workers started and warm
        before = _own_cpu_s(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        list(pool.map(_plain, bodies, chunksize=4))
        elapsed = time.perf_counter() - started
    # the pool's workers are reaped on leaving the block; the two warm-up pages are in the figure too
    result.put((elapsed, _own_cpu_s(resource.RUSAGE_CHILDREN) - before))


def _node_cpu_s(client: Any) -> float:
    """CPU seconds the OpenSearch node's JVM has used (the node runs on the same cores)."""
    stats = client.nodes.stats(metric="process")
    return sum(n["process"]["cpu"]["total_in_millis"] for n in stats["nodes"].values()) / 1000


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_one(n: int, url: str, archive: Path, cache: Path) -> dict[str, Any]:
    global BUSY, _REAL_WORKER
    from newsdrift.feeds.catalog import Feed
    from newsdrift.run import ingest as pipeline
    from newsdrift.score.stages import default_scorers
    from newsdrift.settings import load_settings
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates, delete_all

    hosts = max(MIN_HOSTS, -(-n // PAGES_PER_HOST))
    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    server = context.Process(target=_serve, args=(n, archive, cache, ready), daemon=True)
    server.start()
    feed_urls = ready.get(timeout=60)
    prefix = f"realpages{uuid.uuid4().hex[:8]}"
    settings = load_settings(store_url=url, index_prefix=prefix, allow_private_networks=True)
    client = connect(settings)
    names = IndexNames(prefix)
    apply_templates(client, names)
    feeds = [Feed(url=u, name=f"host{i}") for i, u in enumerate(feed_urls)]
    BUSY = multiprocessing.Value("d", 0.0)
    _REAL_WORKER = getattr(pipeline, "extract_and_score_text", None)
    if _REAL_WORKER is not None:
        pipeline.extract_and_score_text = timed_worker  # type: ignore[assignment]
    try:
        scorers = default_scorers(settings, client, names, alerts=True)
        cpu_before = (_own_cpu_s(resource.RUSAGE_SELF), _own_cpu_s(resource.RUSAGE_CHILDREN))
        node_before, server_before = _node_cpu_s(client), _proc_cpu_s(server.pid)
        started = time.perf_counter()
        summary = pipeline.run_once(settings, client, feeds, scorers=scorers)
        pass_s = time.perf_counter() - started
        # the extraction pool is shut down (and its workers reaped) when run_once returns
        cpu = {
            "pipeline": _own_cpu_s(resource.RUSAGE_SELF) - cpu_before[0],
            "workers": _own_cpu_s(resource.RUSAGE_CHILDREN) - cpu_before[1],
            "opensearch": _node_cpu_s(client) - node_before,
            "page_server": _proc_cpu_s(server.pid) - server_before,
        }
        # the pipeline's own process: the pages are served and timed plain in other processes
        peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        workers = os.cpu_count() or 1
        result = context.Queue()
        plain = context.Process(target=_plain_timing, args=(n, archive, cache, workers, result))
        plain.start()
        plain_s, plain_cpu_s = result.get(timeout=1800)
        plain.join(60)
        busy = BUSY.value if _REAL_WORKER is not None else None
        return {
            "pages": n,
            "hosts": hosts,
            "indexed": summary.indexed,
            "fetch_failed": summary.fetch_failed,
            "extraction_failed": summary.extraction_failed,
            "duplicates": summary.exact_duplicates,
            "pass_s": round(pass_s, 2),
            "plain_s": round(plain_s, 2),
            "plain_workers": workers,
            "ratio": round(pass_s / plain_s, 2),
            "articles_per_s": round(summary.indexed / pass_s, 1),
            "extract_workers": settings.extract_workers,
            "worker_busy_s": None if busy is None else round(busy, 2),
            "worker_utilisation": None if busy is None else round(busy / (settings.extract_workers * pass_s), 3),
            "peak_rss_mb": peak_rss_mb,
            "stage_seconds": summary.to_json()["stage_seconds"],
            "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
            "plain_cpu_s": round(plain_cpu_s, 2),
        }
    finally:
        delete_all(client, names)
        server.terminate()
        server.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 3000])
    parser.add_argument("--url", default="http://127.0.0.1:9251", help="OpenSearch URL")
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="trafilatura-eval.tar.gz")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="where to unpack it")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.url, args.archive, args.cache)))
        return
    unpack(args.archive, args.cache)
    rows = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--url", args.url]
        cmd += ["--archive", str(args.archive), "--cache", str(args.cache)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows))
        return
    print(
        f"{'pages':>6} {'hosts':>5} {'indexed':>7} {'pass s':>7} {'plain s':>7} {'ratio':>6} "
        f"{'art/s':>6} {'util':>6} {'peak MB':>8}"
    )
    for r in rows:
        util = "n/a" if r["worker_utilisation"] is None else f"{r['worker_utilisation']:.0%}"
        print(
            f"{r['pages']:>6} {r['hosts']:>5} {r['indexed']:>7} {r['pass_s']:>7} {r['plain_s']:>7} {r['ratio']:>6} "
            f"{r['articles_per_s']:>6} {util:>6} {r['peak_rss_mb']:>8}"
        )
    for r in rows:
        stages = sorted(r["stage_seconds"].items(), key=lambda kv: -kv[1])
        print(f"{r['pages']} pages, busy seconds per stage (they overlap; the pass took {r['pass_s']} s):")
        print("  " + ", ".join(f"{stage} {seconds}" for stage, seconds in stages))
        cpu = r["cpu_s"]
        print(
            f"{r['pages']} pages, CPU seconds during the pass: "
            + ", ".join(f"{k} {v}" for k, v in cpu.items())
            + f"; total {sum(cpu.values()):.1f} against plain trafilatura's {r['plain_cpu_s']}"
            + f" ({sum(cpu.values()) / r['plain_cpu_s']:.2f}x)"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
