"""Near-duplicate verification on exact shingles: two distinct articles that share a site template, a wire
service's stock phrases or a long quote can reach the MinHash threshold, so candidates are confirmed here."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from newsdrift.score.dedup.minhash import shingles, signature_text
from newsdrift.score.dedup.settings import DedupConfig


def shingle_hashes(text: str, config: DedupConfig) -> frozenset[int]:
    """Stable 64-bit hashes of the body shingles (the text the MinHash signature is computed on)."""
    body = signature_text(text, config.min_line_words)
    return frozenset(
        int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "big")
        for s in shingles(body, config.shingle_size)
    )


class ShingleFrequency:
    """Document frequencies of shingles over a sample of documents (bounded: rare shingles are pruned)."""

    def __init__(self, max_entries: int = 2_000_000) -> None:
        self.df: Counter[int] = Counter()
        self.documents = 0
        self.max_entries = max_entries
        self._seen: set[str] = set()

    def add(self, key: str, hashes: Iterable[int]) -> None:
        """Count one document's shingles once (a document already counted under ``key`` is skipped)."""
        if key in self._seen:
            return
        self._seen.add(key)
        self.documents += 1
        self.df.update(set(hashes))
        if len(self.df) > self.max_entries:  # keep what down-weights: shingles seen more than once
            self.df = Counter({h: c for h, c in self.df.items() if c > 1})

    def weight(self, h: int) -> float:
        """``1 / (df - 1)`` for a shingle in ``df`` documents of the sample: a shingle only the pair shares weighs
        1, one in every article of a site's template almost nothing."""
        return 1.0 / max(1, self.df.get(h, 0) - 1)


def weighted_overlap(a: frozenset[int], b: frozenset[int], freq: ShingleFrequency | None) -> tuple[float, float]:
    """(weighted Jaccard, weighted containment of the smaller set in the larger) of two shingle sets.

    Containment, not Jaccard, decides: a 50 % trim is contained whole, and a copy wrapped in another site's
    boilerplate still contains the story."""
    if not a or not b:
        return 0.0, 0.0
    weight = freq.weight if freq is not None else (lambda h: 1.0)
    wa = {h: weight(h) for h in a}
    wb = {h: wa[h] if h in wa else weight(h) for h in b}
    shared = sum(wa[h] for h in a & b)
    total_a, total_b = sum(wa.values()), sum(wb.values())
    union = total_a + total_b - shared
    smaller = min(total_a, total_b)
    return (shared / union if union else 0.0), (shared / smaller if smaller else 0.0)


def is_copy(
    a: frozenset[int], b: frozenset[int], freq: ShingleFrequency | None, threshold: float
) -> tuple[bool, float]:
    """(verdict, weighted containment) of a candidate pair."""
    _, containment = weighted_overlap(a, b, freq)
    return containment >= threshold, containment
