"""Per-article dedup time with 1,000 and with 100,000 articles indexed, and their ratio.

Synthetic corpus: Zipf-like word streams drawn from the labelled set's vocabulary,
one long boilerplate line per outlet (60 outlets, so same-outlet articles
share shingles the way real ones do) and ~10% near-copies of earlier articles.
Documents carry only the fields dedup reads, text included for the exact-shingle
verification (fingerprints precomputed in a process pool), so the 100k load stays
within a few minutes on 2 cores.
Timed: ``Deduplicator.score`` on the same 500 query articles (batches of 50,
30% near-copies of articles in the first 1,000) at both sizes, rounds
alternating between the two indices.

Also checked at the large size, with the candidate limit squeezed to 3 so
boilerplate noise crowds the hits: how many copies still land in their origin's
cluster with the shipped ranking (number of shared bands) and with a
constant-score ``terms`` query on ``lsh_bands``.

    python bench/dedup_scale.py --url http://127.0.0.1:9271
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import bulk

from newsdrift.records import Article, ScoredArticle, stable_id
from newsdrift.score.dedup.deduplicator import Deduplicator
from newsdrift.score.dedup.minhash import Fingerprint, fingerprint
from newsdrift.score.dedup.settings import DedupConfig
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates, delete_all

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedup" / "documents.jsonl"
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
COPY_RATE = 0.10
OUTLETS = 60
QUERY_BASE = 10_000_000  # query article numbers, disjoint from the corpus

_VOCAB: list[str] = []
_WEIGHTS: list[int] = []
_SETTINGS = DedupConfig()


def _init_worker() -> None:
    counts = Counter(
        w for line in DATA.read_text(encoding="utf-8").splitlines() for w in json.loads(line)["text"].split()
    )
    _VOCAB[:] = list(counts)
    _WEIGHTS[:] = list(counts.values())


def _is_copy(n: int) -> bool:
    return n > 0 and random.Random(n * 31 + 1).random() < COPY_RATE


def _outlet_line(outlet: int) -> str:
    rng = random.Random(f"outlet:{outlet}")
    return " ".join(rng.choices(_VOCAB, _WEIGHTS, k=24))


def _original_text(n: int) -> tuple[list[str], int]:
    rng = random.Random(n)
    paragraphs = [" ".join(rng.choices(_VOCAB, _WEIGHTS, k=rng.randint(30, 80))) for _ in range(rng.randint(3, 9))]
    return paragraphs, rng.randrange(OUTLETS)


def _copy_text(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Syndicated copy: maybe a paragraph dropped, ~4% of words swapped."""
    out = list(paragraphs)
    if len(out) >= 4 and rng.random() < 0.5:
        del out[rng.randrange(1, len(out))]
    swapped = []
    for p in out:
        words = p.split()
        for _ in range(max(1, len(words) // 25)):
            words[rng.randrange(len(words))] = rng.choice(_VOCAB)
        swapped.append(" ".join(words))
    return swapped


def _published(n: int) -> datetime:
    return DAY0 + timedelta(minutes=random.Random(f"date:{n}").randrange(365 * 24 * 60))


def _origin_of(n: int, pool_size: int) -> int:
    """An earlier non-copy article for copy n (below pool_size)."""
    j = random.Random(n * 17 + 3).randrange(pool_size)
    while _is_copy(j):
        j -= 1
    return j


def corpus_doc(n: int) -> dict[str, Any]:
    return synthetic(n, _origin_of(n, n) if _is_copy(n) else None)


def synthetic(n: int, copy_of: int | None) -> dict[str, Any]:
    """Article number n as a minimal indexed document (text kept under "_text")."""
    if copy_of is None:
        paragraphs, outlet = _original_text(n)
    else:
        paragraphs = _copy_text(_original_text(copy_of)[0], random.Random(n))
        outlet = random.Random(n).randrange(OUTLETS)
    text = "\n".join([*paragraphs, _outlet_line(outlet)])
    if n >= QUERY_BASE:  # queries arrive after everything indexed
        published = DAY0 + timedelta(days=400, minutes=n - QUERY_BASE)
    elif copy_of is None:  # spread over a year so index order is not date order
        published = _published(n)
    else:  # a copy follows its origin within three days
        published = _published(copy_of) + timedelta(minutes=random.Random(f"lag:{n}").randrange(1, 3 * 24 * 60))
    fp = fingerprint(text, _SETTINGS)
    doc_id = f"a{n}"
    doc: dict[str, Any] = {
        "article_id": doc_id,
        "source": f"outlet-{outlet}",
        "published_at": published.isoformat(),
        "content_sha1": fp.content_sha1,
        "minhash": fp.minhash,
        "lsh_bands": fp.lsh_bands,
        "story_cluster_id": doc_id,
        "cluster_size": 1,
        "_text": text,
        "_origin": None if copy_of is None else f"a{copy_of}",
    }
    if copy_of is not None:
        # Copies are always later than their origin, so the origin represents the cluster.
        doc.update(story_cluster_id=f"a{copy_of}", near_duplicate_of=f"a{copy_of}", duplicate_kind="near")
    return doc


def _query(n: int) -> dict[str, Any]:
    rng = random.Random(f"query:{n}")
    copy_of = _origin_of(n, 1000) if rng.random() < 0.3 else None
    return synthetic(n, copy_of)


def actions(index: str, docs: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        # the text too: candidates past the MinHash estimate are verified on their exact shingles, read
        # from the index (without it no copy could be confirmed)
        doc["text"] = doc.pop("_text")
        doc.pop("_origin")
        yield {"_op_type": "index", "_index": index, "_id": doc["article_id"], "_source": doc}


def load(client: OpenSearch, pool: Any, index: str, start: int, stop: int) -> tuple[float, float]:
    """Bulk-load articles [start, stop) with refresh off; returns (bulk seconds, refresh+merge seconds)."""
    t0 = time.perf_counter()
    client.indices.put_settings(index=index, body={"index": {"refresh_interval": "-1"}})
    docs = pool.imap(corpus_doc, range(start, stop), chunksize=250)
    _, errors = bulk(client, actions(index, docs), chunk_size=1000, request_timeout=120, raise_on_error=False)
    if errors:
        raise RuntimeError(f"{len(errors)} bulk errors, first: {errors[0]}")
    t1 = time.perf_counter()
    client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s"}})
    client.indices.refresh(index=index)
    # Background merges would otherwise land in the timed rounds.
    client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=600)
    return t1 - t0, time.perf_counter() - t1


class TermsQueryDeduplicator(Deduplicator):
    """The alternative ranking: one constant-score ``terms`` query, ties broken by date."""

    def _candidate_query(self, fp: Fingerprint, own_id: str) -> dict[str, Any]:
        query = super()._candidate_query(fp, own_id)
        should = query["query"]["bool"]["should"]
        query["query"]["bool"]["should"] = [*should[:2], {"terms": {"lsh_bands": fp.lsh_bands}}]
        return query


def to_scored(doc: dict[str, Any]) -> ScoredArticle:
    url = f"https://bench.example/{doc['article_id']}"
    art = Article(
        id=stable_id(url),
        url=url,
        canonical_url=url,
        source=doc["source"],
        feed_url="",
        title="",
        text=doc["_text"],
        authors=[],
        published_at=datetime.fromisoformat(doc["published_at"]),
        fetched_at=DAY0,
        language="en",
        site_name=None,
        word_count=len(doc["_text"].split()),
        content_sha1="",
    )
    return ScoredArticle(article=art)


@dataclass
class Round:
    ms_per_article: float
    candidates: int = 0
    saturated: int = 0
    copies_found: int = 0  # copy queries placed in their origin's cluster
    false_flags: int = 0  # original queries marked as duplicates


def run_round(dedup: Deduplicator, queries: list[dict[str, Any]], batch: int) -> Round:
    """One pass over the queries in batches."""
    records = [to_scored(q) for q in queries]  # fresh records: scoring fills them in place
    r = Round(0.0)
    elapsed = 0.0
    for i in range(0, len(records), batch):
        t0 = time.perf_counter()
        result = dedup.score(records[i : i + batch])
        elapsed += time.perf_counter() - t0
        r.candidates += result.candidates
        r.saturated += result.saturated
    r.ms_per_article = elapsed / len(records) * 1000
    for q, rec in zip(queries, records, strict=True):
        if q["_origin"]:
            r.copies_found += rec.story_cluster_id == q["_origin"]
        else:
            r.false_flags += rec.duplicate_kind is not None
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:9271")
    parser.add_argument("--prefix", default=f"dedupbench{os.getpid()}", help="all indices start with this")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    client = OpenSearch(hosts=[args.url], timeout=120)
    settings = DedupConfig()
    sizes = (args.small, args.large)
    # One index per size (the small one is the first `small` articles of the
    # large one) so rounds can alternate: a shared, busy 2-core machine then
    # slows both sides alike instead of skewing the ratio.
    names = {size: IndexNames(f"{args.prefix}-{size}") for size in sizes}
    print(f"settings: {settings.model_dump()}")
    try:
        with Pool(2, initializer=_init_worker) as pool:
            queries = pool.map(_query, range(QUERY_BASE, QUERY_BASE + args.queries))
            for size in sizes:
                apply_templates(client, names[size])
                index = names[size].articles_index(1)
                bulk_s, merge_s = load(client, pool, index, 0, size)
                print(
                    f"loaded {client.count(index=index)['count']:>7} articles into {index}: "
                    f"bulk {bulk_s:.1f}s, refresh+forcemerge {merge_s:.1f}s"
                )
        dedups = {size: Deduplicator(client, names[size].articles, names[size].baseline, settings) for size in sizes}
        for size in sizes:
            run_round(dedups[size], queries[: args.batch], args.batch)  # warm-up
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(args.rounds):
            for size in sizes:
                timings[size].append(run_round(dedups[size], queries, args.batch).ms_per_article)
        copies = sum(1 for q in queries if q["_origin"])
        for size in sizes:
            r = run_round(dedups[size], queries, args.batch)  # counts are the same every round
            t = timings[size]
            print(
                f"{size:>7} indexed: median {statistics.median(t):.2f} ms/article, best {min(t):.2f} "
                f"(rounds: {', '.join(f'{x:.2f}' for x in t)}); {r.candidates / len(queries):.2f} candidates/article, "
                f"{r.saturated} saturated; copies found {r.copies_found}/{copies}, "
                f"false flags {r.false_flags}/{len(queries) - copies}"
            )
        squeezed = settings.model_copy(update={"candidate_limit": 3})
        large_names = names[args.large]
        for label, cls in (("shared-band ranking", Deduplicator), ("constant-score terms", TermsQueryDeduplicator)):
            r = run_round(cls(client, large_names.articles, None, squeezed), queries, args.batch)
            print(
                f"candidate_limit=3 at {args.large:,}, {label}: copies found {r.copies_found}/{copies}, "
                f"{r.saturated} saturated, false flags {r.false_flags}"
            )
        small, large = (statistics.median(timings[s]) for s in sizes)
        best_ratio = min(timings[args.large]) / min(timings[args.small])
        print(
            f"\nper-article dedup time (batches of {args.batch}): {small:.2f} ms at {args.small:,} indexed, "
            f"{large:.2f} ms at {args.large:,} indexed; ratio {large / small:.2f}x median, "
            f"{best_ratio:.2f}x best-of-{args.rounds} (target <= 1.5x)"
        )
    finally:
        for n in names.values():
            delete_all(client, n)


if __name__ == "__main__":
    main()
