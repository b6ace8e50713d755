"""Term-level features the drift measures share: content terms (stop words out), sparse TF-IDF vector
arithmetic, and the divergence and keyness of term counts against the baseline's."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

_STOP_FILE = Path(__file__).with_name("stopwords.txt")
ENGLISH_STOP_WORDS = frozenset(
    line.strip() for line in _STOP_FILE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
)
# News boilerplate and tokenizer debris ("Meta’s" -> "s") on top of the English list.
STOP_WORDS: frozenset[str] = ENGLISH_STOP_WORDS | {
    "said",
    "says",
    "say",
    "saying",
    "told",
    "tells",
    "according",
    "also",
    "just",
    "like",
    "don",
    "doesn",
    "didn",
    "isn",
    "wasn",
    "won",
    "ll",
    "ve",
    "re",
    "mr",
    "ms",
}


def content_terms(tokens: Iterable[str]) -> list[str]:
    """Tokens that carry meaning: no stop words, no bare numbers, no single letters."""
    return [t for t in tokens if len(t) > 1 and t not in STOP_WORDS and not t.isdigit()]


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two L2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    return sum(w * get(t, 0.0) for t, w in a.items())


def l2_normalised(vec: dict[str, float]) -> dict[str, float]:
    """The vector scaled to unit length ({} for a zero vector)."""
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()} if norm > 0 else {}


def js_divergence(window: Mapping[str, int], baseline: Mapping[str, int], alpha: float = 0.01) -> float:
    """Jensen–Shannon divergence in bits (0..1) of two term-count maps, add-alpha smoothed."""
    vocab = list(window.keys() | baseline.keys())
    if not vocab:
        return 0.0
    p = np.fromiter((window.get(t, 0) for t in vocab), dtype=float, count=len(vocab)) + alpha
    q = np.fromiter((baseline.get(t, 0) for t in vocab), dtype=float, count=len(vocab)) + alpha
    p /= p.sum()
    q /= q.sum()
    m = 0.5 * (p + q)
    return float(max(0.0, 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))))


def keyness(count: int, total: int, base_count: int, base_total: int) -> tuple[float, float]:
    """(G² log-likelihood, log2 ratio) of a term in a target corpus vs a reference corpus."""
    both = count + base_count
    expected = total * both / (total + base_total)
    base_expected = base_total * both / (total + base_total)
    g2 = 0.0
    if count:
        g2 += count * math.log(count / expected)
    if base_count:
        g2 += base_count * math.log(base_count / base_expected)
    ratio = ((count or 0.5) / total) / ((base_count or 0.5) / base_total)
    return 2.0 * g2, math.log2(ratio)
