"""Per-article drift scores, window metrics and the event state machine, on small exact inputs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdrift.detection.drift import (
    DriftConfig,
    DriftScorer,
    WindowRecord,
    WindowSpec,
    compute_windows,
    detect_events,
    event_document,
    event_from_doc,
    event_id,
    js_divergence,
    keyness,
    window_documents,
    window_from_doc,
)
from newsdrift.detection.frames import load_frames
from newsdrift.records import Article, ScoredArticle

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
SAFETY = (
    "Security researchers warned that criminals misused the open model to write malware, plan cyberattacks "
    "and generate deepfake disinformation. Jailbreak prompts strip the guardrails; officials fear bioweapons."
)
OPENNESS = (
    "Zuckerberg said open source AI is the path forward. Meta released Llama model weights openly so "
    "developers can customise the models, with transparency and cost efficiency versus closed vendors."
)


@pytest.fixture(scope="module")
def scorer() -> DriftScorer:
    return DriftScorer(BASELINE, load_frames(), baseline_id="seed-v1")


def test_similarity_orders_on_topic_above_off_frame(scorer: DriftScorer) -> None:
    own = scorer.score(BASELINE[0])
    openness = scorer.score(OPENNESS)
    safety = scorer.score(SAFETY)
    assert own.similarity > openness.similarity > safety.similarity > 0
    assert own.novelty < 0.35 < openness.novelty < safety.novelty <= 1.0
    assert safety.frames[0] == "safety_misuse"
    assert "openness_transparency" in openness.frames
    assert scorer.score("") == (0.0, 1.0, [], dict.fromkeys(scorer.frames.names, 0.0))


def test_scores_are_deterministic_and_batch_matches_single(scorer: DriftScorer) -> None:
    texts = [OPENNESS, SAFETY, BASELINE[1]]
    assert scorer.score_batch(texts) == [scorer.score(t) for t in texts]
    fresh = DriftScorer(BASELINE, load_frames(), baseline_id="seed-v1")
    assert fresh.score(SAFETY) == scorer.score(SAFETY)


def test_recent_memory_lowers_novelty_of_repeats() -> None:
    scorer = DriftScorer(BASELINE, load_frames(), recent_size=5)
    first = scorer.score(SAFETY)
    again = scorer.score(SAFETY)
    assert first.novelty > 0.5
    assert again.novelty == pytest.approx(0.0, abs=1e-6)
    assert again.similarity == first.similarity


def test_apply_fills_scored_article(scorer: DriftScorer) -> None:
    now = datetime(2025, 3, 10, tzinfo=UTC)
    article = Article("id1", "u", "u", "src", "f", "t", SAFETY, [], now, now, "en", None, 30, "sha")
    scored = scorer.apply(ScoredArticle(article))
    doc = scored.to_document()
    assert doc["baseline_id"] == "seed-v1"
    assert doc["frames"][0] == "safety_misuse"
    assert 0 < doc["baseline_similarity"] < 1 and 0 < doc["novelty"] <= 1
    assert set(doc["frame_scores"]) == set(scorer.frames.names)


def test_scoring_is_fast(scorer: DriftScorer) -> None:
    text = " ".join([OPENNESS, SAFETY] * 20)  # ~1200 words, a long article
    scorer.score(text)
    runs = 50
    start = time.perf_counter()
    for _ in range(runs):
        scorer.score(text)
    per_article_ms = (time.perf_counter() - start) / runs * 1000
    assert per_article_ms < 5.0, per_article_ms


def test_js_divergence_and_keyness_bounds() -> None:
    assert js_divergence({"a": 5, "b": 5}, {"a": 5, "b": 5}) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence({"a": 10}, {"b": 10}, alpha=1e-9) == pytest.approx(1.0, abs=1e-6)
    g2, ratio = keyness(50, 1000, 1, 1000)
    assert g2 > 50 and ratio == pytest.approx(5.64, abs=0.01)
    g2, ratio = keyness(10, 1000, 10, 1000)
    assert g2 == pytest.approx(0.0, abs=1e-9) and ratio == pytest.approx(0.0)


def test_window_alignment() -> None:
    week = WindowSpec.parse("7d")
    assert week.start_of(datetime(2025, 3, 13, 15, tzinfo=UTC)) == datetime(2025, 3, 10, tzinfo=UTC)  # Monday
    assert WindowSpec.parse("1d").start_of("2025-03-13T23:59:59-01:00") == datetime(2025, 3, 14, tzinfo=UTC)
    assert WindowSpec.parse("6h").start_of(datetime(2025, 3, 13, 13, tzinfo=UTC)) == datetime(
        2025, 3, 13, 12, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        WindowSpec.parse("0d")
    with pytest.raises(ValueError):
        DriftConfig(windows=("1d", "fortnight"))


def test_compute_windows_groups_and_measures(scorer: DriftScorer) -> None:
    day = datetime(2025, 3, 10, 9, tzinfo=UTC)
    items = [(day + timedelta(hours=i), OPENNESS, None, f"o{i}", f"open {i}") for i in range(6)]
    items += [(day + timedelta(days=1, hours=i), SAFETY, None, f"s{i}", f"safety {i}") for i in range(6)]
    cfg = DriftConfig(min_term_freq=3, min_keyness=0.0)
    first, second = compute_windows(reversed(items), scorer, "1d", cfg)
    assert (first.article_count, second.article_count) == (6, 6)
    assert first.window_start == datetime(2025, 3, 10, tzinfo=UTC)
    assert second.js_divergence > first.js_divergence
    assert second.centroid_shift > first.centroid_shift
    assert second.frame_shift > first.frame_shift
    assert second.share_delta("safety_misuse") > 0.5
    assert sum(second.frame_shares.values()) == pytest.approx(1.0)
    terms = [t.term for t in second.emerging_terms]
    assert "malware" in terms and all(t.log_ratio >= cfg.min_log_ratio for t in second.emerging_terms)
    assert len(second.example_article_ids) == 3 and second.example_titles[second.example_article_ids[0]]
    (week,) = compute_windows(items, scorer, "7d", cfg)
    assert week.article_count == 12


def _record(day: int, js: float, shift: float, n: int = 20) -> WindowRecord:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day)
    shares = {"a": 0.5 + shift, "b": 0.5 - shift}
    return WindowRecord(
        "base",
        "1d",
        start,
        start + timedelta(days=1),
        n,
        js,
        0.5,
        0.2,
        0.8,
        shares,
        {"a": 0.5, "b": 0.5},
        [],
        [f"x{day}"],
        {f"x{day}": f"title {day}"},
    )


def test_hysteresis_fires_once_per_episode_and_rearms_after_release() -> None:
    cfg = DriftConfig(js_threshold=0.5, js_release=0.4, consecutive=2)
    js = [0.3, 0.6, 0.3, 0.6, 0.6, 0.45, 0.7, 0.45, 0.35, 0.6, 0.6, 0.6]
    windows = [_record(i, v, 0.0) for i, v in enumerate(js)]
    events = detect_events(windows, cfg, metrics=("js_divergence",))
    assert [(e.window_start.day, e.fired_window_start.day) for e in events] == [(4, 5), (10, 11)]
    first, second = events
    assert not first.open and first.consecutive_windows == 5 and first.peak == 0.7
    assert first.window_end == windows[7].window_end  # still open through 0.45 (above release)
    assert second.open and second.consecutive_windows == 3
    assert first.event_id == event_id("base", "1d", "js_divergence", windows[3].window_start)
    assert detect_events(windows, cfg, metrics=("js_divergence",))[0].event_id == first.event_id
    assert first.example_article_ids == ["x3", "x4"]
    assert "title 3" in first.explanation and "0.500" in first.explanation


def test_thin_windows_are_passed_over_and_frame_shift_explains_frames() -> None:
    cfg = DriftConfig(frame_shift_threshold=0.2, frame_shift_release=0.1, consecutive=2, min_articles=5)
    windows = [_record(0, 0.1, 0.3), _record(1, 0.1, 0.0, n=2), _record(2, 0.1, 0.3), _record(3, 0.1, 0.0)]
    (event,) = detect_events(windows, cfg, metrics=("frame_shift",))
    assert event.window_start == windows[0].window_start and event.fired_window_start == windows[2].window_start
    assert "Frames that grew: a 50% → 80% (+30 pts)" in event.explanation
    assert "Frames that shrank: b 50% → 20% (-30 pts)" in event.explanation
    assert detect_events(windows, cfg.model_copy(update={"min_articles": 1}), metrics=("frame_shift",)) == []


def test_documents_round_trip(scorer: DriftScorer) -> None:
    day = datetime(2025, 3, 10, 9, tzinfo=UTC)
    items = [(day + timedelta(hours=i), SAFETY if i % 2 else OPENNESS, None, f"a{i}", f"t{i}") for i in range(8)]
    cfg = DriftConfig(
        min_term_freq=2, min_keyness=0.0, consecutive=1, frame_shift_threshold=0.05, frame_shift_release=0.01
    )
    (record,) = compute_windows(items, scorer, "1d", cfg)
    docs = window_documents(record, day)
    kinds = [d["kind"] for _, d in docs]
    assert kinds.count("window") == 1 and kinds.count("frame") == 7
    assert kinds.count("term") == len(record.emerging_terms) > 0
    assert len({i for i, _ in docs}) == len(docs)
    back = window_from_doc(docs[0][1])
    record.example_titles = {}
    assert back == record
    (event,) = detect_events([record], cfg, metrics=("frame_shift",))
    assert event_from_doc(event_document(event, day)) == event
