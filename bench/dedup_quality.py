"""Sweep dedup settings on the labelled set and print precision/recall per setting.

Decision per pair = the one ``Deduplicator`` makes: a shared LSH band key
(candidate) and a Jaccard estimate >= threshold (``near_duplicate_score``).

    python bench/dedup_quality.py            # per-configuration summary + defaults
    python bench/dedup_quality.py --full     # every (config, threshold) row

How the defaults were picked from this output: among configurations that meet
the target, prefer (1) an LSH S-curve midpoint below the threshold, as the
brief asks, (2) the widest range of passing thresholds (robust to a corpus
unlike ours), (3) no hard negative sharing a band (``neg-cand``: every such
pair is a candidate fetched and verified per query, so it grows with the
index), then (4) fewer permutations (stored per document). Three rows per
band keep candidate noise low at 100k documents while 64 bands still catch
pairs near the threshold; the threshold sits between the highest hard-negative
and the lowest positive exact Jaccard for that shingle size.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from newsdrift.score.dedup.minhash import (
    Fingerprint,
    fingerprint,
    near_duplicate_score,
    shingles,
    signature_text,
)
from newsdrift.score.dedup.settings import DedupConfig

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedup"
SHINGLE_SIZES = (2, 3, 4, 5)
MIN_LINE_WORDS = (0, 5, 8, 10)
# (num_perm, bands): rows = num_perm / bands (4, 2, 3, 4, 2, 3, 4, 2)
LSH_SHAPES = ((64, 16), (64, 32), (96, 32), (128, 32), (128, 64), (192, 64), (256, 64), (256, 128))
THRESHOLDS = tuple(round(0.10 + 0.05 * i, 2) for i in range(13))  # 0.10 .. 0.70
TARGET_P, TARGET_R = 0.97, 0.95


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def meets_target(self) -> bool:
        return self.precision >= TARGET_P and self.recall >= TARGET_R


def load_set() -> tuple[dict[str, str], list[tuple[str, str, int]]]:
    docs = {}
    for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs[row["id"]] = row["text"]
    pairs = [
        (r["a"], r["b"], int(r["label"]))
        for r in map(json.loads, (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    return docs, pairs


def evaluate(settings: DedupConfig, fps: dict[str, Fingerprint], pairs: list[tuple[str, str, int]]) -> Score:
    tp = fp = fn = 0
    for a, b, label in pairs:
        predicted = near_duplicate_score(fps[a], fps[b], settings) is not None
        tp += predicted and label == 1
        fp += predicted and label == 0
        fn += (not predicted) and label == 1
    return Score(tp, fp, fn)


def candidate_rate(settings: DedupConfig, fps: dict[str, Fingerprint], pairs: list[tuple[str, str, int]]) -> float:
    """Share of hard negatives that share a band key: what each query would fetch and verify, per
    same-topic article in the index, so it predicts candidate load as the index grows."""
    neg = [(a, b) for a, b, y in pairs if y == 0]
    hits = sum(1 for a, b in neg if set(fps[a].lsh_bands) & set(fps[b].lsh_bands))
    return hits / len(neg)


def true_jaccard_margins(
    docs: dict[str, str], pairs: list[tuple[str, str, int]], k: int, min_line_words: int
) -> tuple[float, float]:
    """(lowest positive, highest negative) exact shingle Jaccard: the gap thresholds must fall in."""
    sh = {i: shingles(signature_text(t, min_line_words), k) for i, t in docs.items()}

    def jac(a: str, b: str) -> float:
        return len(sh[a] & sh[b]) / len(sh[a] | sh[b])

    pos = [jac(a, b) for a, b, y in pairs if y == 1]
    neg = [jac(a, b) for a, b, y in pairs if y == 0]
    return min(pos), max(neg)


def sweep(full: bool) -> None:
    docs, pairs = load_set()
    npos = sum(y for *_, y in pairs)
    print(f"labelled set: {len(docs)} documents, {npos} positive pairs, {len(pairs) - npos} hard negatives")
    print(f"target: precision >= {TARGET_P}, recall >= {TARGET_R}\n")
    for mlw in MIN_LINE_WORDS:
        for k in SHINGLE_SIZES:
            lo, hi = true_jaccard_margins(docs, pairs, k, mlw)
            print(f"min_line_words={mlw:>2} k={k}: exact Jaccard  min positive {lo:.3f}  max negative {hi:.3f}")
    print()
    cols = f"{'mlw':>3} {'k':>2} {'perm':>4} {'bands':>5} {'rows':>4} {'s-curve':>7}"
    if full:
        print(f"{cols} {'thr':>5} {'P':>6} {'R':>6} {'F1':>6} tp/fp/fn")
    else:
        print(f"{cols} {'neg-cand':>8}  thresholds meeting target")
    for mlw in MIN_LINE_WORDS:
        for k in SHINGLE_SIZES:
            for num_perm, bands in LSH_SHAPES:
                base = DedupConfig(min_line_words=mlw, shingle_size=k, num_perm=num_perm, bands=bands)
                fps = {i: fingerprint(t, base) for i, t in docs.items()}
                row = f"{mlw:>3} {k:>2} {num_perm:>4} {bands:>5} {base.rows:>4} {base.lsh_threshold:>7.3f}"
                ok = []
                for thr in THRESHOLDS:
                    s = evaluate(base.model_copy(update={"threshold": thr}), fps, pairs)
                    if s.meets_target:
                        ok.append(thr)
                    if full:
                        print(
                            f"{row} {thr:>5.2f} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.tp}/{s.fp}/{s.fn}"
                        )
                if not full:
                    span = f"{min(ok):.2f}..{max(ok):.2f} ({len(ok)} of {len(THRESHOLDS)})" if ok else "none"
                    print(f"{row} {candidate_rate(base, fps, pairs):>8.3f}  {span}")
    d = DedupConfig()
    fps = {i: fingerprint(t, d) for i, t in docs.items()}
    print(f"\ndefaults: {d.model_dump()} (rows={d.rows}, s-curve {d.lsh_threshold:.3f})")
    for thr in THRESHOLDS:
        s = evaluate(d.model_copy(update={"threshold": thr}), fps, pairs)
        mark = "  <- default" if thr == d.threshold else ""
        print(
            f"  threshold {thr:.2f}: precision={s.precision:.3f} recall={s.recall:.3f} F1={s.f1:.3f} "
            f"tp/fp/fn={s.tp}/{s.fp}/{s.fn}{mark}"
        )
    print(f"  negative candidate rate {candidate_rate(d, fps, pairs):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="print every (config, threshold) row")
    sweep(parser.parse_args().full)


if __name__ == "__main__":
    main()
