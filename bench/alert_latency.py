"""Alert latency: an article appears in a feed -> its alert arrives at a webhook.

Starts a recording webhook receiver and the sample server on a temporary corpus
with one RSS feed, runs ``newsdrift watch --interval 2s --all`` as a subprocess
(own index prefix, feeds and rules files via the environment), appends
``--articles`` articles to the feed every ``--every`` seconds, and records for
each: when it was published, when the feed was first fetched with it, and when
its alert reached the webhook. Prints the median and the worst case.

    python bench/alert_latency.py [--articles 20] [--every 3] [--url http://127.0.0.1:9251]

"from publish" includes waiting for the next pass (up to the watch interval);
"from fetch" is the pipeline + alerting part.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdrift.alert import parse_rules, sync_rules  # noqa: E402
from newsdrift.alert.receivers import WebhookReceiver  # noqa: E402
from newsdrift.settings import load_settings  # noqa: E402
from newsdrift.store.client import make_client  # noqa: E402
from newsdrift.store.names import IndexNames  # noqa: E402
from newsdrift.store.templates import apply_templates, delete_all  # noqa: E402

PARAGRAPHS = [
    "Meta said on Tuesday that the newest Llama model would be published with open weights under its community "
    "licence, a decision that researchers welcomed and that critics said would make safeguards easier to strip.",
    "Independent labs told reporters they planned to run their own safety evaluations within days, arguing that "
    "open weights let outsiders reproduce results that closed vendors only describe in marketing material.",
    "Officials in Brussels and Washington are weighing whether model weights should fall under export controls, "
    "and several lawmakers cited the release as evidence that voluntary commitments are not enough.",
    "Start-ups said self-hosting the model could cut their inference bills sharply, while cloud providers moved "
    "to add it to their catalogues before the end of the week.",
]
RULES = {
    "channels": {"bench": {"url_env": "NEWSDRIFT_CHANNEL_BENCH"}},
    "rules": [{"name": "bench-llama", "channels": ["bench"], "match": {"all": ["Llama"], "any": ["bench item"]}}],
}


VOCABULARY = sorted({w.strip(".,").lower() for p in PARAGRAPHS for w in p.split() if w.strip(".,").isalpha()})


def body_paragraphs(k: int, run_seed: str) -> list[str]:
    """One on-topic lead plus random word sequences: distinct articles, not near-duplicates of each other
    (dedup compares word 3-shingles; identical bodies would be folded into one alert as copies)."""
    rng = random.Random(f"{run_seed}-{k}")
    paragraphs = [PARAGRAPHS[0]]  # on-topic for the topic scorer (Llama, open weights, AI context)
    for _ in range(5):
        sentences = [" ".join(rng.choice(VOCABULARY) for _ in range(14)).capitalize() + "." for _ in range(3)]
        paragraphs.append(" ".join(sentences))
    return paragraphs


def page(k: int, title: str, run_seed: str) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in body_paragraphs(k, run_seed))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<link rel='canonical' href='{{base_url}}/bench/item-{k}.html'></head><body><article>"
        f"<h1>{title}</h1><p>By Bench Desk</p>\n{body}\n</article></body></html>"
    )


def rss(items: list[tuple[int, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{{base_url}}/bench/item-{k}.html</link>"
        f"<guid isPermaLink='false'>bench-{k}</guid><pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{PARAGRAPHS[0]}</description></item>"
        for k, title, when in reversed(items)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>Bench Wire</title>"
        f"<link>{{base_url}}/bench/</link><description>bench</description>{entries}</channel></rss>"
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def diagnose(client: Any, names: IndexNames, items: list[int]) -> dict[str, Any]:
    """For each article without an alert at the webhook: was it indexed, and what became of its alert?"""
    out: dict[str, Any] = {}
    client.indices.refresh(index=f"{names.articles},{names.alerts}")
    for k in items:
        hits = client.search(
            index=names.articles, body={"size": 1, "query": {"match_phrase": {"title": f"bench item {k}"}}}
        )["hits"]["hits"]
        if not hits:
            out[str(k)] = "not indexed"
            continue
        doc = hits[0]["_source"]
        alerts = client.search(
            index=names.alerts,
            body={
                "size": 5,
                "query": {
                    "bool": {
                        "should": [{"term": {"article_id": doc["article_id"]}}, {"term": {"copies": doc["article_id"]}}]
                    }
                },
            },
        )["hits"]["hits"]
        out[str(k)] = {
            "off_topic": doc.get("off_topic"),
            "topic_relevance": doc.get("topic_relevance"),
            "near_duplicate_of": doc.get("near_duplicate_of"),
            "alerts": [
                {
                    "lead": a["_source"].get("article_id") == doc["article_id"],
                    "delivery_state": a["_source"].get("delivery_state"),
                    "deliveries": a["_source"].get("deliveries"),
                }
                for a in alerts
            ],
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("NEWSDRIFT_STORE_URL", "http://127.0.0.1:9251"))
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between new articles")
    parser.add_argument("--interval", default="2s", help="`newsdrift watch --interval`")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds to wait after the last article")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices")
    args = parser.parse_args()

    from newsdrift.ops.sample.server import SampleServer

    names = IndexNames(f"bench-alert-{uuid.uuid4().hex[:8]}")
    client = make_client(load_settings(store_url=args.url, store_timeout=60))
    apply_templates(client, names)
    ruleset = parse_rules(RULES)
    sync_rules(client, names, ruleset)

    work = Path(tempfile.mkdtemp(prefix="newsdrift-alert-bench-"))
    corpus = work / "corpus" / "bench"
    corpus.mkdir(parents=True)
    items: list[tuple[int, str, datetime]] = []
    (corpus / "rss.xml").write_text(rss(items), encoding="utf-8")

    hook = WebhookReceiver().start()
    server = SampleServer(corpus_dir=work / "corpus").start()
    feeds = work / "feeds.yaml"
    feeds.write_text(
        json.dumps(
            {
                "feeds": [
                    {
                        "name": "bench",
                        "url": f"{server.url}/bench/rss.xml",
                        "source": "Bench Wire",
                        "poll_interval": "1m",
                    }
                ]
            }
        )
    )
    rules_file = work / "alerts.yaml"
    rules_file.write_text(json.dumps(RULES))
    env = {
        **os.environ,
        "NEWSDRIFT_STORE_URL": args.url,
        "NEWSDRIFT_INDEX_PREFIX": names.prefix,
        "NEWSDRIFT_FEEDS_FILE": str(feeds),
        "NEWSDRIFT_ALERT_RULES_FILE": str(rules_file),
        "NEWSDRIFT_CHANNEL_BENCH": hook.apprise_url("bench"),
        "NEWSDRIFT_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSDRIFT_PER_HOST_DELAY": "0",
        "NEWSDRIFT_HOME": str(work / "home"),
    }
    env.pop("NEWSDRIFT_CONFIG", None)
    watch = subprocess.Popen(
        [sys.executable, "-m", "newsdrift", "watch", "--interval", args.interval, "--all", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    passes: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=lambda: passes.extend(json.loads(line) for line in watch.stdout if line.startswith("{")), daemon=True
    )  # type: ignore[union-attr]
    reader.start()

    published: dict[int, float] = {}
    try:
        for k in range(args.articles):
            title = f"Llama bench item {k}: Meta ships new weights"
            (corpus / f"item-{k}.html").write_text(page(k, title, names.prefix), encoding="utf-8")
            items.append((k, title, datetime.now(UTC)))
            (corpus / "rss.xml").write_text(rss(items), encoding="utf-8")
            published[k] = time.time()
            time.sleep(args.every)
        hook.wait_for(args.articles, timeout=args.timeout)
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watch.kill()
        stderr = watch.stderr.read() if watch.stderr else ""  # type: ignore[union-attr]
        server_requests = [r for r in server.requests if r.path.split("?")[0] == "/bench/rss.xml"]
        server.stop()
        hook.stop()
        try:
            missing = diagnose(
                client,
                names,
                [k for k in published if not any(f"bench item {k}:" in r.json.get("title", "") for r in hook.requests)],
            )
        except Exception as exc:  # diagnostics are best effort; cleanup must still happen
            missing = {"diagnostics_failed": f"{type(exc).__name__}: {exc}"}
        finally:
            if not args.keep:
                delete_all(client, names)

    received: dict[int, float] = {}
    for request in hook.requests:
        title = request.json.get("title", "")
        for k in published:
            if f"bench item {k}:" in title:
                received.setdefault(k, request.received_at)
    fetched = {k: next((r.time for r in server_requests if r.time >= t), None) for k, t in published.items()}
    from_publish = [received[k] - published[k] for k in received]
    from_fetch = [received[k] - fetched[k] for k in received if fetched[k] is not None]
    mode = "newsdrift watch --all (alerting inside the pipeline)"
    result = {
        "mode": mode,
        "articles": args.articles,
        "alerts_received": len(received),
        "indexed_by_watch": sum(int(p.get("indexed", 0)) for p in passes),
        "watch_passes": len(passes),
        "feed_fetches": len(server_requests),
    }
    for label, values in (("from_publish_s", from_publish), ("from_fetch_s", from_fetch)):
        if values:
            result[label] = {
                "median": round(statistics.median(values), 2),
                "p95": round(pct(values, 0.95), 2),
                "worst": round(max(values), 2),
            }
    if missing:
        result["missing"] = missing
    crashed = watch.returncode not in (0, -signal.SIGINT, 130)
    result["watch_exit_code"] = watch.returncode
    print(json.dumps(result, indent=2))
    if crashed:
        print(
            f"\n`newsdrift watch` exited with code {watch.returncode}; last lines of its stderr:\n{stderr[-1500:]}",
            file=sys.stderr,
        )
    if not received:
        reason = "`newsdrift watch` failed (above)" if crashed else "see `missing` above"
        print(f"\nno alert reached the webhook: {reason}; no latency figure is reported.", file=sys.stderr)
        return 1
    return 0 if len(received) == args.articles else 1


if __name__ == "__main__":
    sys.exit(main())
