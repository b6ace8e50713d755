"""Per-article drift scores, window metrics and the event state machine, on small exact inputs."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdrift.records import Article, ScoredArticle
from newsdrift.score.drift.detect import JOINT, detect_changes, observations
from newsdrift.score.drift.documents import event_document, event_from_doc, window_documents, window_from_doc
from newsdrift.score.drift.events import detect_events, event_id
from newsdrift.score.drift.features import js_divergence, keyness
from newsdrift.score.drift.limits import (
    cusum_limit,
    joint_limit,
    joint_tail,
    limits,
    normal_confidence,
    quadratic_form_limit,
    siegmund_arl,
)
from newsdrift.score.drift.reference import share_of
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig, DriftSettings
from newsdrift.score.drift.windows import WindowRecord, WindowSpec, compute_windows
from newsdrift.score.frames import load_frames

ROOT = Path(__file__).resolve().parents[3]
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


def test_window_reads_reuse_the_scored_analysis_with_the_same_results() -> None:
    """A pass scores its articles, then the window update reads them back: the second analysis comes from
    the scorer's memo and equals one computed from scratch."""
    texts = [OPENNESS, SAFETY, BASELINE[1], f"{OPENNESS}\n{SAFETY}"]
    memo = DriftScorer(BASELINE, load_frames())
    fresh = DriftScorer(BASELINE, load_frames())
    assert [memo.score(t) for t in texts] == [fresh.score(t) for t in texts]
    fresh.forget()
    for text in texts:
        again, scratch = memo.analyse(text, remember=False), fresh.analyse(text, remember=False)
        assert (again.terms, again.vector, again.drift) == (scratch.terms, scratch.vector, scratch.drift)
    assert set(memo._memo) == set(texts)
    assert not fresh._memo  # reads (remember=False) are not remembered: they would crowd out the pass's articles
    memo.MEMO_SIZE = 2
    memo.score(SAFETY.upper())
    assert list(memo._memo) == [f"{OPENNESS}\n{SAFETY}", SAFETY.upper()]  # bounded, oldest dropped
    memo.forget()
    assert not memo._memo
    recent = DriftScorer(BASELINE, load_frames(), recent_size=3)
    recent.score(SAFETY)
    assert not recent._memo  # novelty then depends on what came before, not on the text alone


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
        scorer.forget()  # analysed each time, not found in the memo
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
    """A window whose frame 'a' share is 0.5 + shift (the seed baseline has 0.5)."""
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
        frame_profile=shares,
        frame_var={"a": 0.02, "b": 0.02},  # per-article variance of sqrt(share)
        framed_articles=n,
        similarity_var=0.01,
    )


def _wobble(i: int) -> float:
    return 0.02 * ((i * 7) % 5 - 2) / 2  # deterministic day-to-day noise of +-2 pts


def test_cusum_limit_matches_the_stated_false_alarm_rate() -> None:
    for k in (0.5, 1.0):
        h = cusum_limit(10_000, k)
        assert siegmund_arl(h, k) == pytest.approx(10_000, rel=1e-3)
        assert cusum_limit(100_000, k) > h
    assert normal_confidence(1.96) == pytest.approx(0.95, abs=1e-3)
    with pytest.raises(ValueError, match="false_alarm_rate"):
        DriftConfig(false_alarm_rate=0)


def test_level_far_from_the_seed_does_not_fire_but_a_change_does() -> None:
    cfg = DriftConfig()
    # Coverage sits 30 pts away from the seed baseline in frame 'a' and JS 0.55 for 25 days: no event.
    stable = [_record(i, 0.55, 0.3 + _wobble(i)) for i in range(25)]
    assert detect_events(stable, cfg) == []
    # Then frame 'a' falls back by 25 pts: fired within two windows, down, with its size and confidence.
    changed = stable + [_record(25 + i, 0.55, 0.05 + _wobble(i)) for i in range(6)]
    events = detect_events(changed, cfg)
    frame_a = [e for e in events if e.frame == "a"]
    assert len(frame_a) == 1, [(e.frame, e.window_start) for e in events]
    (event,) = frame_a
    assert event.metric == "frame_shift" and event.direction == -1
    assert changed.index(next(w for w in changed if w.window_start == event.fired_window_start)) <= 26
    assert event.reference == pytest.approx(0.8, abs=0.02)
    assert event.ci_low < event.delta < event.ci_high < 0
    assert event.delta == pytest.approx(-0.25, abs=0.05)
    assert event.confidence > 0.99 and event.false_alarm_rate == cfg.false_alarm_rate
    assert event.event_id == event_id("base", "1d", "frame_shift", event.window_start, "a")
    assert [e.event_id for e in detect_events(changed, cfg)] == [e.event_id for e in events]
    assert "frame 'a' fell from 80%" in event.explanation and "title 2" in event.explanation
    assert event.open  # the new regime is not learned yet
    # Once the rolling reference has learned the new level the event closes and nothing else fires.
    settled = changed + [_record(31 + i, 0.55, 0.05 + _wobble(i)) for i in range(20)]
    (closed,) = [e for e in detect_events(settled, cfg) if e.frame == "a"]
    assert not closed.open and closed.event_id == event.event_id


def test_thin_windows_cannot_fire_alone() -> None:
    cfg = DriftConfig(min_articles=5)
    stable = [_record(i, 0.3, _wobble(i)) for i in range(12)]
    odd = [_record(12, 0.3, 0.45, n=2)] + [_record(13 + i, 0.3, _wobble(i)) for i in range(5)]
    assert detect_events(stable + odd, cfg) == []  # one 2-article window far off: a wide interval, no event
    full = stable + [_record(12, 0.3, 0.45), _record(13, 0.3, 0.45)]
    (event,) = [e for e in detect_events(full, cfg) if e.frame == "a"]
    # The same jump in a full window fires on that window (the one-window jump rule).
    assert event.direction == 1 and event.fired_window_start == full[12].window_start
    assert "jump limit" in event.explanation


def _busy(day: int, share: float) -> WindowRecord:
    """A wire-like window: 250 articles on weekdays, 60 at weekends; frame 'a' share ``share``."""
    return _record(day, 0.3, share - 0.5, n=60 if day % 7 >= 5 else 250)


def test_busy_days_that_differ_as_wholes_keep_the_stated_rate() -> None:
    # Wire-like coverage: article sampling alone gives a busy day an interval of about +-1.8 pts on
    # sqrt(share), but whole days differ by ~6 pts (a story breaks, copy is syndicated), and that part
    # does not shrink with the day's article count. The spread between the reference windows, not the
    # bootstrap over articles, must set the interval; then false events stay near the stated rate.
    rng = random.Random(13)
    cfg = DriftConfig()
    watched = fired = 0
    for _ in range(100):
        days = [_busy(i, min(0.95, max(0.05, rng.gauss(0.5, 0.06)))) for i in range(60)]
        fired += len(detect_events(days, cfg))
        watched += sum(p.z is not None for p in detect_changes(days, cfg).points["frame:a"])
    assert watched >= 4_800
    # Stated: 0.002 x ~4,950 windows = ~10 expected (Poisson: P(> 18) < 1 %). A spread of bootstrap times
    # overdispersion against a fixed 10-window reference fires 27 times on these series.
    assert fired <= 18
    # A shift of about four day-to-day standard deviations (0.50 -> 0.75) fires within two windows.
    shifted = days[:40] + [_busy(40 + i, min(0.95, rng.gauss(0.75, 0.06))) for i in range(5)]
    first = min(e.fired_window_start for e in detect_events(shifted, cfg) if e.frame == "a")
    assert first <= shifted[41].window_start


def test_rules_share_the_stated_false_alarm_rate() -> None:
    cfg = DriftConfig()
    (fast, slow), jump = limits(8, cfg)
    tails = 2 * 8
    # per tail: the jump rule's normal tail plus one 1/ARL per CUSUM; summed over the tails = the stated rate
    per_tail = math.erfc(jump / math.sqrt(2)) / 2 + 1 / siegmund_arl(fast, cfg.cusum_k)
    per_tail += 1 / siegmund_arl(slow, cfg.gradual_k or 0)
    # ... plus one chi-square tail per joint span (one test per window, not per statistic)
    joint = len(cfg.joint_windows) * joint_tail(cfg)
    assert tails * per_tail + joint == pytest.approx(cfg.false_alarm_rate, rel=0.01)
    assert joint == pytest.approx(cfg.false_alarm_rate * cfg.joint_share)
    (only,), inf = limits(8, cfg.model_copy(update={"jump_share": 0.0, "gradual_k": None}))
    assert inf == math.inf and only < fast


def test_frame_shares_are_watched_on_the_arcsine_scale() -> None:
    # arcsin(sqrt(share)) stabilises a proportion's variance at both ends (rare and dominant frames alike);
    # the stored per-article variance is of sqrt(share) and is carried over by the delta method.
    record = _record(0, 0.3, 0.25 - 0.5)  # frame 'a' at 25 %, frame_var 0.02 on the square-root scale
    value, n, var = observations(record)["frame:a"]
    assert value == pytest.approx(math.pi / 6) and n == 20
    assert var == pytest.approx(0.02 / (1 - 0.25))
    for share in (0.0, 0.01, 0.25, 0.5, 0.99, 1.0):
        assert share_of(math.asin(math.sqrt(share))) == pytest.approx(share)
    assert share_of(-0.1) == 0.0 and share_of(2.0) == 1.0
    # A frame that nearly vanishes: the event's interval, mapped back to shares, stays inside 0..1.
    cfg = DriftConfig()
    days = [_record(i, 0.3, 0.1 + _wobble(i)) for i in range(20)]
    days += [_record(20 + i, 0.3, -0.49) for i in range(3)]
    (event,) = [e for e in detect_events(days, cfg) if e.frame == "a"]
    assert event.direction == -1 and event.reference == pytest.approx(0.6, abs=0.02)
    assert -event.reference <= event.ci_low < event.delta < event.ci_high <= 1 - event.reference
    assert event.delta == pytest.approx(0.01 - event.reference, abs=0.01)


def test_documents_round_trip(scorer: DriftScorer) -> None:
    day = datetime(2025, 3, 10, 9, tzinfo=UTC)
    items = [(day + timedelta(hours=i), SAFETY if i % 2 else OPENNESS, None, f"a{i}", f"t{i}") for i in range(8)]
    cfg = DriftConfig(min_term_freq=2, min_keyness=0.0)
    (record,) = compute_windows(items, scorer, "1d", cfg)
    assert record.frame_var["safety_misuse"] > 0 and record.similarity_var > 0
    assert record.framed_articles == 8 and sum(record.frame_profile.values()) == pytest.approx(1.0, abs=1e-4)
    docs = window_documents(record, day)
    kinds = [d["kind"] for _, d in docs]
    assert kinds.count("window") == 1 and kinds.count("frame") == 7
    assert kinds.count("term") == len(record.emerging_terms) > 0
    assert len({i for i, _ in docs}) == len(docs)
    back = window_from_doc(docs[0][1])
    record.example_titles = {}
    assert back == record
    series = [_record(i, 0.3, _wobble(i)) for i in range(12)] + [_record(12, 0.3, 0.4), _record(13, 0.3, 0.4)]
    events = detect_events(series, cfg)
    assert events and all(event_from_doc(event_document(e, day)) == e for e in events)


def _frames_window(day: int, shares: dict[str, float], n: int = 20) -> WindowRecord:
    """A window with several frames (shares summing to one) and a constant vocabulary statistic."""
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return WindowRecord(
        "base",
        "1d",
        start,
        start + timedelta(days=1),
        n,
        0.3,
        0.5,
        0.2,
        0.8,
        dict(shares),
        dict.fromkeys(shares, 1 / len(shares)),
        [],
        [f"x{day}"],
        {},
        frame_profile=dict(shares),
        frame_var=dict.fromkeys(shares, 0.02),
        framed_articles=n,
        similarity_var=0.01,
    )


def _day_mix(rng: random.Random, mean: dict[str, float], concentration: float = 400.0) -> dict[str, float]:
    draws = {k: rng.gammavariate(v * concentration, 1.0) for k, v in mean.items()}
    whole = sum(draws.values())
    return {k: v / whole for k, v in draws.items()}


def test_frames_moving_together_fire_the_joint_rule_first() -> None:
    # Four of six frames each move about 2.5 standard errors: no single statistic's rule can fire within
    # two windows (the jump needs > 4, a CUSUM needs more steps), but their summed squares pass the joint
    # limit. Without the joint rules the same series fires later, or not in the five shifted windows.
    rng = random.Random(5)
    even = {f"f{i}": 1 / 6 for i in range(6)}
    moved = dict(even, f0=1 / 6 + 0.075, f1=1 / 6 + 0.075, f2=1 / 6 - 0.075, f3=1 / 6 - 0.075)
    series = [_frames_window(d, _day_mix(rng, even)) for d in range(20)]
    series += [_frames_window(20 + d, _day_mix(rng, moved)) for d in range(5)]
    cfg = DriftConfig()
    events = detect_events(series, cfg)
    first = min(e.fired_window_start for e in events)
    assert first <= series[21].window_start
    joint = [a for a in detect_changes(series, cfg).alarms if a.rule == JOINT]
    assert joint and {a.statistic for a in joint} >= {"frame:f0", "frame:f2"}
    assert all(a.direction == (1 if a.statistic in ("frame:f0", "frame:f1") else -1) for a in joint)
    alone = detect_events(series, cfg.model_copy(update={"joint_share": 0.0}))
    assert not alone or min(e.fired_window_start for e in alone) > first
    text = next(e for e in events if e.frame == "f0").explanation
    assert "Several statistics moved together" in text


def test_one_statistic_alone_cannot_fire_the_joint_rule() -> None:
    # Scores are clipped before they are summed: one frame far out (and its mirror image, which the
    # correlation correction discounts) is the jump rule's business, not the joint rules'.
    rng = random.Random(9)
    even = {"a": 0.5, "b": 0.5}
    series = [_frames_window(d, _day_mix(rng, even)) for d in range(15)]
    series.append(_frames_window(15, {"a": 0.9, "b": 0.1}))
    alarms = detect_changes(series, DriftConfig()).alarms
    assert alarms and all(a.rule != JOINT for a in alarms)


def test_correlated_frames_keep_the_stated_rate() -> None:
    # Frame shares sum to one, so six frames' scores are correlated: summing their squares as if they were
    # independent would fire the joint rules far too often. With the correlation allowed for, the whole
    # detector stays near its stated rate on stable series.
    rng = random.Random(21)
    mean = {"a": 0.4, "b": 0.25, "c": 0.15, "d": 0.1, "e": 0.06, "f": 0.04}
    cfg = DriftConfig(false_alarm_rate=0.01)
    watched = fired = joint = 0
    for _ in range(60):
        days = [_frames_window(d, _day_mix(rng, mean, 150.0), n=rng.randint(10, 40)) for d in range(50)]
        trace = detect_changes(days, cfg)
        fired += len(detect_events(days, cfg, trace=trace))
        joint += sum(a.rule == JOINT for a in trace.alarms)
        watched += sum(p.z is not None for p in trace.points["frame:a"])
    assert watched >= 2_300
    # Stated 0.01 x ~2,400 windows = ~24 expected (Poisson: P(> 40) < 0.2 %).
    assert fired <= 40
    assert joint <= 0.6 * 40


def test_stated_rate_holds_while_the_reference_lags() -> None:
    # A window joins the reference reference_lag windows after it is scored, so consecutive windows share the
    # reference mean's error and their scores are positively correlated. The CUSUMs add scores up: without
    # the long-run standardisation the whole detector fired 61-63 times on these series (2.6 x stated).
    rng = random.Random(11)
    mean = {"a": 0.35, "b": 0.25, "c": 0.15, "d": 0.1, "e": 0.07, "f": 0.05, "g": 0.03}
    cfg = DriftConfig()
    watched = fired = 0
    for _ in range(400):
        days = [_frames_window(d, _day_mix(rng, mean, 30.0), n=rng.randint(5, 300)) for d in range(40)]
        trace = detect_changes(days, cfg)
        fired += len({a.fired for a in trace.alarms})  # windows with an event: the stated rate is per window
        watched += sum(p.z is not None for p in trace.points["frame:a"])
    assert watched >= 11_500
    # Stated 0.002 x ~12,000 windows = ~24 expected (Poisson: P(> 40) < 0.3 %).
    assert fired <= 40


def test_joint_and_jump_shares_must_leave_the_cusum_a_part() -> None:
    with pytest.raises(ValueError, match="jump_share .* joint_share"):
        DriftConfig(jump_share=0.5, joint_share=0.5)
    with pytest.raises(ValueError, match="joint_windows"):
        DriftConfig(joint_windows=(1, 0))


def test_drift_settings_build_the_drift_config() -> None:
    """Every drift setting is the DriftConfig field of its name with the same default; the rest keep theirs."""
    assert DriftSettings().drift_config() == DriftConfig()
    for name, info in DriftSettings.model_fields.items():
        assert info.default == DriftConfig.model_fields[name.removeprefix("drift_")].default, name
    tuned = DriftSettings(drift_windows=("12h",), drift_cusum_k=1.25, drift_gradual_k=None, drift_top_terms=5)
    assert tuned.drift_config() == DriftConfig(windows=("12h",), cusum_k=1.25, gradual_k=None, top_terms=5)
    with pytest.raises(ValueError, match="drift_jump_share .* drift_joint_share"):
        DriftSettings(drift_jump_share=0.7, drift_joint_share=0.3)
    with pytest.raises(ValueError, match="window size"):
        DriftSettings(drift_windows=("1d", "fortnight"))


@pytest.mark.parametrize("eigenvalues", [[1.0] * 8, [3, 1, 1, 1, 1, 1, 0, 0], [5, 1, 1, 0.5, 0.5, 0, 0, 0]])
def test_joint_limit_is_the_quadratic_forms_tail(eigenvalues: list[float]) -> None:
    # The joint limit for correlated scores is the (1 - tail) quantile of sum(lambda_i chi2_1): checked
    # against a Monte Carlo of that sum. Equal eigenvalues give back the plain chi-square limit.
    import numpy as np

    tail = 1e-3
    limit = quadratic_form_limit(eigenvalues, tail)
    draws = (np.random.default_rng(7).standard_normal((400_000, len(eigenvalues))) ** 2) @ np.array(eigenvalues)
    assert limit == pytest.approx(float(np.quantile(draws, 1 - tail)), rel=0.03)
    if len(set(eigenvalues)) == 1:
        assert limit == pytest.approx(joint_limit(tail, len(eigenvalues)), rel=0.005)
    else:  # one dominant direction: a far heavier tail than chi-square with as many degrees of freedom
        assert limit > 1.15 * joint_limit(tail, len(eigenvalues))
