"""Near-duplicate quality on the labelled set at the default settings.

Pairwise decisions go through ``near_duplicate_score``: a shared LSH band key
(the candidate test OpenSearch runs) and a Jaccard estimate >= threshold
(the verification ``Deduplicator`` runs on fetched signatures).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from newsdrift.detection.dedup import DedupSettings, Fingerprint, fingerprint, near_duplicate_score

DATA = Path(__file__).parent / "data" / "dedup"


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, Fingerprint], list[tuple[str, str, int]]]:
    settings = DedupSettings()
    docs = [json.loads(line) for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    fps = {d["id"]: fingerprint(d["text"], settings) for d in docs}
    pairs = [
        (p["a"], p["b"], int(p["label"]))
        for p in map(json.loads, (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    return fps, pairs


def test_labelled_set_has_enough_pairs(labelled: tuple[dict[str, Fingerprint], list[tuple[str, str, int]]]) -> None:
    _, pairs = labelled
    assert sum(1 for *_, y in pairs if y == 1) >= 40
    assert sum(1 for *_, y in pairs if y == 0) >= 80


def test_precision_and_recall_at_defaults(
    labelled: tuple[dict[str, Fingerprint], list[tuple[str, str, int]]],
) -> None:
    fps, pairs = labelled
    settings = DedupSettings()
    tp = fp = fn = 0
    missed, false_hits = [], []
    for a, b, label in pairs:
        predicted = near_duplicate_score(fps[a], fps[b], settings) is not None
        if predicted and label:
            tp += 1
        elif predicted:
            fp += 1
            false_hits.append((a, b))
        elif label:
            fn += 1
            missed.append((a, b))
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    assert precision >= 0.97, f"precision {precision:.3f}; false positives: {false_hits}"
    assert recall >= 0.95, f"recall {recall:.3f}; missed: {missed}"


def test_labelled_set_is_reproducible() -> None:
    """The committed files are exactly what build_set.py produces."""
    spec = importlib.util.spec_from_file_location("dedup_build_set", DATA / "build_set.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        docs, pairs = module.build()
    finally:
        del sys.modules[spec.name]
    committed_docs = [json.loads(line) for line in (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    committed_pairs = [json.loads(line) for line in (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert docs == committed_docs
    assert pairs == committed_pairs
