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

from newsdrift.score.dedup.minhash import Fingerprint, fingerprint, near_duplicate_score, pair_past_estimate
from newsdrift.score.dedup.settings import DedupConfig, DedupSettings
from newsdrift.score.dedup.verify import ShingleFrequency, is_copy, shingle_hashes

DATA = Path(__file__).parents[2] / "data" / "dedup"


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, Fingerprint], list[tuple[str, str, int]]]:
    settings = DedupConfig()
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
    settings = DedupConfig()
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


def test_exact_shingle_verification_keeps_the_labelled_copies_and_drops_template_pairs() -> None:
    """The pipeline's rule: estimate, then weighted containment with document frequencies over the set."""
    settings = DedupConfig()
    docs = {
        d["id"]: d["text"] for d in map(json.loads, (DATA / "documents.jsonl").read_text(encoding="utf-8").splitlines())
    }
    pairs = [
        (p["a"], p["b"], int(p["label"]))
        for p in map(json.loads, (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    fps = {k: fingerprint(v, settings) for k, v in docs.items()}
    hashes = {k: shingle_hashes(v, settings) for k, v in docs.items()}
    freq = ShingleFrequency()
    for key, found in hashes.items():
        freq.add(key, found)
    gate = settings.model_copy(update={"threshold": settings.gate})
    outcomes = [
        (
            near_duplicate_score(fps[a], fps[b], gate) is not None  # a shared band, then the estimate past the gate
            and is_copy(hashes[a], hashes[b], freq, settings.verify_threshold)[0],
            label,
        )
        for a, b, label in pairs
    ]
    tp = sum(p and y for p, y in outcomes)
    fp = sum(p and not y for p, y in outcomes)
    fn = sum(y and not p for p, y in outcomes)
    assert tp / (tp + fp) >= 0.98 and tp / (tp + fn) >= 0.95, (tp, fp, fn)
    print(f"labelled pairs: tp {tp} fp {fp} fn {fn}")
    # Short articles of one site around a long template: unweighted containment calls distinct stories copies;
    # weighted by document frequency over the site's articles, the template counts for almost nothing.
    stories = sorted({k.split(":")[0]: k for k in docs}.values())
    template_words = docs[stories.pop()].split()[:150]  # another story's prose as the site's chrome
    template = "\n".join(" ".join(template_words[i : i + 15]) for i in range(0, 150, 15))
    stories = stories[:12]
    site = [template + "\n" + " ".join(docs[k].split()[:60]) for k in stories]
    site_hashes = [shingle_hashes(t, settings) for t in site]
    site_freq = ShingleFrequency()
    for i, found in enumerate(site_hashes):
        site_freq.add(str(i), found)
    distinct = [(i, j) for i in range(len(site)) for j in range(i)]
    unweighted = [is_copy(site_hashes[i], site_hashes[j], None, settings.verify_threshold)[0] for i, j in distinct]
    weighted = [is_copy(site_hashes[i], site_hashes[j], site_freq, settings.verify_threshold)[0] for i, j in distinct]
    assert sum(unweighted) > len(distinct) // 2 and not any(weighted), (sum(unweighted), sum(weighted))


def test_batch_pairs_found_through_bands_are_the_pairs_of_the_labelled_set(
    labelled: tuple[dict[str, Fingerprint], list[tuple[str, str, int]]],
) -> None:
    """Whether a batch holds a pair that needs verifying, found through shared bands, agrees with
    the pairwise decision on every labelled pair, alone and in batches of other documents."""
    fps, pairs = labelled
    settings = DedupConfig()
    for a, b, _ in pairs:
        assert pair_past_estimate([fps[a], fps[b]], settings.threshold) == (
            near_duplicate_score(fps[a], fps[b], settings) is not None
        ), (a, b)
    docs = sorted(fps)
    for start in range(0, len(docs), 7):
        batch = [fps[d] for d in docs[start : start + 7]]
        expected = any(near_duplicate_score(x, y, settings) is not None for i, x in enumerate(batch) for y in batch[:i])
        assert pair_past_estimate(batch, settings.threshold) == expected
    assert not pair_past_estimate([], settings.threshold)


def test_dedup_settings_have_the_config_defaults_and_bounds() -> None:
    """Each ``dedup_<field>`` setting has its ``DedupConfig`` field's default and bounds and a description,
    and untouched settings give the default config."""
    from newsdrift.settings import Settings

    for name, setting in DedupSettings.model_fields.items():
        field = DedupConfig.model_fields[name.removeprefix("dedup_")]
        assert (setting.annotation, setting.default, setting.metadata) == (
            field.annotation,
            field.default,
            field.metadata,
        ), name
        assert setting.description, name
    assert DedupSettings().dedup_config() == DedupConfig()
    assert Settings().dedup_config() == DedupConfig()


def test_tuned_dedup_settings_reach_the_config() -> None:
    """Tuned settings pass their values on; the fingerprint shape keeps its default."""
    config = DedupSettings(dedup_threshold=0.3, dedup_verify_threshold=0, dedup_df_sample=0).dedup_config()
    assert (config.threshold, config.verify_threshold, config.df_sample) == (0.3, 0, 0)
    assert config.model_copy(update={"threshold": 0.25, "verify_threshold": 0.38, "df_sample": 300}) == DedupConfig()
