"""Story clustering on real labelled headlines, beside an online TF-IDF anchor on the same rows.

    .venv/bin/python bench/stories.py [--csv PATH] [--split all|tune|holdout] [--json] [--sweep]

Rows (default ``../shared/data/news-stories.csv.gz``, read in place) are fed in time order (``TIMESTAMP``,
then ``ID``) with ``PUBLISHER`` as the outlet and ``TITLE`` as the text; the final assignment after the last
row is scored against ``STORY`` (each article's story followed through the clusterer's merges): B-cubed
precision, recall and F1, the adjusted Rand index, stories found against labelled ones, and milliseconds per
article. ``--sweep`` moves the join threshold of both methods (ours with merges at join + ``MERGE_GAP``).

Splits are by story: a story is in ``tune`` when the first byte of sha1(STORY) is even, else ``holdout``. Each
half holds whole stories over the same hours, so concurrent stories still compete for each headline. The
thresholds of both methods (``StorySettings`` defaults, ``ANCHOR_THRESHOLD``) were chosen on ``tune``;
``holdout`` is the figure to report.

Anchor: single-pass online clustering by TF-IDF cosine (lowercase words without stopwords, document
frequencies counted as rows arrive) to the centroid of each story updated within 72 hours.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsdrift.score.stories.clustering import StoryArticle, StoryClusterer  # noqa: E402
from newsdrift.score.stories.features import STOPWORDS  # noqa: E402
from newsdrift.score.stories.settings import StorySettings  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "news-stories.csv.gz"
ANCHOR_THRESHOLD = 0.1
WINDOW = timedelta(hours=72)
# The sweep moves the merge threshold with the join threshold, at the gap of the tuned defaults.
MERGE_GAP = 0.05
SWEEP = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Row:
    id: str
    outlet: str
    published_at: datetime
    title: str
    story: str


def split_of(story: str) -> str:
    return "tune" if hashlib.sha1(story.encode()).digest()[0] % 2 == 0 else "holdout"


def load(path: Path, split: str) -> list[Row]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = [
            Row(
                r["ID"], r["PUBLISHER"], datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, UTC), r["TITLE"], r["STORY"]
            )
            for r in csv.DictReader(handle)
        ]
    rows = [row for row in rows if split == "all" or split_of(row.story) == split]
    return sorted(rows, key=lambda row: (row.published_at, int(row.id)))


def run_clusterer(rows: Sequence[Row], settings: StorySettings) -> list[str]:
    clusterer = StoryClusterer(settings)
    for row in rows:
        clusterer.add(StoryArticle(row.id, row.outlet, row.published_at, row.title))
    return [clusterer.resolve(clusterer.story_of(row.id) or "") for row in rows]


def run_anchor(rows: Sequence[Row], threshold: float) -> list[str]:
    df: Counter[str] = Counter()
    centroids: list[dict[str, float]] = []
    last: list[datetime] = []
    labels: list[str] = []
    for seen, row in enumerate(rows, start=1):
        tf = Counter(w for w in _WORD.findall(row.title.lower()) if w not in STOPWORDS)
        df.update(tf.keys())
        vec = {t: c * (math.log((seen + 1) / (df[t] + 1)) + 1.0) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vec = {t: v / norm for t, v in vec.items()}
        best, best_sim = -1, threshold
        for k, centroid in enumerate(centroids):
            if row.published_at - last[k] > WINDOW:
                continue
            dot = sum(v * centroid.get(t, 0.0) for t, v in vec.items())
            if dot <= 0.0:
                continue
            sim = dot / (math.sqrt(sum(v * v for v in centroid.values())) or 1.0)
            if sim >= best_sim and (best < 0 or sim > best_sim):
                best, best_sim = k, sim
        if best < 0:
            centroids.append(dict(vec))
            last.append(row.published_at)
            best = len(centroids) - 1
        else:
            for t, v in vec.items():
                centroids[best][t] = centroids[best].get(t, 0.0) + v
            last[best] = row.published_at
        labels.append(str(best))
    return labels


def bcubed(found: Sequence[str], gold: Sequence[str]) -> tuple[float, float]:
    pair = Counter(zip(found, gold, strict=True))
    sizes_found, sizes_gold = Counter(found), Counter(gold)
    precision = sum(pair[(f, g)] / sizes_found[f] for f, g in zip(found, gold, strict=True)) / len(gold)
    recall = sum(pair[(f, g)] / sizes_gold[g] for f, g in zip(found, gold, strict=True)) / len(gold)
    return precision, recall


def adjusted_rand(found: Sequence[str], gold: Sequence[str]) -> float:
    def pairs(n: int) -> float:
        return n * (n - 1) / 2

    index = sum(pairs(n) for n in Counter(zip(found, gold, strict=True)).values())
    rows = sum(pairs(n) for n in Counter(found).values())
    cols = sum(pairs(n) for n in Counter(gold).values())
    expected = rows * cols / pairs(len(gold))
    top = (rows + cols) / 2
    return 1.0 if top == expected else (index - expected) / (top - expected)


def evaluate(rows: Sequence[Row], method: Callable[[Sequence[Row]], list[str]], split: str) -> dict[str, object]:
    started = time.perf_counter()
    found = method(rows)
    elapsed = time.perf_counter() - started
    gold = [row.story for row in rows]
    precision, recall = bcubed(found, gold)
    return {
        "bcubed_precision": round(precision, 4),
        "bcubed_recall": round(recall, 4),
        "bcubed_f1": round(2 * precision * recall / (precision + recall), 4),
        "ari": round(adjusted_rand(found, gold), 4),
        "stories": len(set(found)),
        "gold_stories": len(set(gold)),
        "ms_per_article": round(1000 * elapsed / len(rows), 3),
        "split": split,
    }


def _line(name: str, r: dict[str, object]) -> str:
    return (
        f"{name:<8} P {r['bcubed_precision']:.3f}  R {r['bcubed_recall']:.3f}  F1 {r['bcubed_f1']:.3f}  "
        f"ARI {r['ari']:.3f}  stories {r['stories']}/{r['gold_stories']}  {r['ms_per_article']:.2f} ms/article"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--split", choices=("all", "tune", "holdout"), default="holdout")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--sweep", action="store_true", help="precision/recall over join thresholds (merge = join + MERGE_GAP)"
    )
    args = parser.parse_args(argv)
    rows = load(args.csv, args.split)
    settings = StorySettings()
    if args.sweep:
        print(f"split {args.split}, {len(rows)} rows")
        for threshold in SWEEP:
            swept = settings.model_copy(
                update={"story_threshold": threshold, "story_merge_threshold": threshold + MERGE_GAP}
            )
            ours = evaluate(rows, partial(run_clusterer, settings=swept), args.split)
            anchor = evaluate(rows, partial(run_anchor, threshold=threshold), args.split)
            print(
                f"threshold {threshold:.2f}  stories P {ours['bcubed_precision']:.3f} R {ours['bcubed_recall']:.3f} "
                f"F1 {ours['bcubed_f1']:.3f}  |  anchor P {anchor['bcubed_precision']:.3f} "
                f"R {anchor['bcubed_recall']:.3f} F1 {anchor['bcubed_f1']:.3f}"
            )
        return 0
    result = evaluate(rows, lambda r: run_clusterer(r, settings), args.split)
    anchor = evaluate(rows, lambda r: run_anchor(r, ANCHOR_THRESHOLD), args.split)
    result["anchor"] = anchor
    if args.json:
        print(json.dumps(result))
    else:
        print(f"split {args.split}, {len(rows)} rows")
        print(_line("stories", result))
        print(_line("anchor", anchor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
