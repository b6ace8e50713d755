"""Drift events: the detector's alarms as events with deterministic ids and a readable explanation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsdrift.clock import iso
from newsdrift.records import stable_id
from newsdrift.score.drift.detect import FRAME, JOINT, JUMP, VOCABULARY, Alarm, Trace, detect_changes
from newsdrift.score.drift.limits import normal_confidence
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowRecord

METRICS: tuple[str, ...] = ("vocabulary_shift", "frame_shift")
"""Event metrics: a change in the mean article similarity to the baseline, a change in one frame's share."""


@dataclass(slots=True)
class DriftEvent:
    """A calibrated change in one statistic: the vocabulary (mean similarity to the baseline) or one frame's share.

    ``window_start`` is the first window of the CUSUM run that crossed the limit, or the window itself for
    a one-window jump (part of the id); ``fired_window_start`` the window where it crossed; ``window_end``
    the end of the episode so far.
    The event stays open until the detector has learned the new regime as its reference.
    ``value`` is the statistic's mean over the run, ``reference`` its no-change mean, ``delta`` the
    difference with a 95% interval (``ci_low``..``ci_high``) and ``confidence`` = 1 - p of that change;
    ``threshold`` is the limit of the rule that fired (a CUSUM's, the jump rule's on |z|, or a joint rule's
    chi-square limit) and ``peak`` what crossed it; the stated ``false_alarm_rate`` gives every limit.
    """

    event_id: str
    baseline_id: str
    window: str
    metric: str
    window_start: datetime
    window_end: datetime
    fired_window_start: datetime
    value: float
    peak: float  # what crossed the limit: a CUSUM, |z|, or a joint rule's summed squares
    threshold: float
    release: float
    consecutive_windows: int
    open: bool
    explanation: str
    example_article_ids: list[str]
    frame_shares: dict[str, dict[str, float]]  # frame -> {share, baseline_share, delta} over the triggering run
    emerging_terms: list[dict[str, Any]]
    frame: str = ""
    direction: int = 1
    reference: float = 0.0
    delta: float = 0.0
    ci_low: float = 0.0
    ci_high: float = 0.0
    confidence: float = 0.0
    false_alarm_rate: float = 0.0
    reference_windows: int = 0


def event_id(baseline_id: str, window: str, metric: str, first_window_start: datetime, frame: str = "") -> str:
    """Deterministic: the same run of windows always gives the same event id."""
    parts = [baseline_id, window, metric, *([frame] if frame else []), iso(first_window_start)]
    return stable_id("drift-event", *parts)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _run_summary(
    run: Sequence[WindowRecord], before: Sequence[WindowRecord]
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]], list[str]]:
    """Run-averaged frame shares, pooled emerging terms and example article ids."""
    frames = sorted(set().union(*(w.frame_shares.keys() | w.baseline_shares.keys() for w in run)))
    shares: dict[str, dict[str, float]] = {}
    for f in frames:
        share = sum(w.frame_shares.get(f, 0.0) for w in run) / len(run)
        base = run[-1].baseline_shares.get(f, 0.0)
        shares[f] = {"share": round(share, 4), "baseline_share": round(base, 4), "delta": round(share - base, 4)}
    pooled: dict[str, dict[str, Any]] = {}
    for w in run:
        for t in w.emerging_terms:
            slot = pooled.setdefault(
                t.term, {"term": t.term, "count": 0, "keyness": 0.0, "log_ratio": 0.0, "windows": 0}
            )
            slot["count"] += t.count
            slot["keyness"] += t.keyness
            slot["log_ratio"] += t.log_ratio
            slot["windows"] += 1
    # Against a small baseline the stream's everyday words are always "emerging";
    # what tells the story is the terms that were not emerging just before the run.
    usual = {t.term for w in before for t in w.emerging_terms}
    ranked = sorted(pooled.values(), key=lambda s: (s["term"] in usual, -s["keyness"], s["term"]))
    terms = ranked[:10]
    for slot in terms:
        slot["new"] = slot["term"] not in usual
        slot["keyness"] = round(slot["keyness"], 2)
        slot["log_ratio"] = round(slot["log_ratio"] / slot["windows"], 2)
    # Round-robin over the run's windows so the examples span the run.
    examples: list[str] = []
    for i in range(max((len(w.example_article_ids) for w in run), default=0)):
        for w in run:
            if i < len(w.example_article_ids) and w.example_article_ids[i] not in examples:
                examples.append(w.example_article_ids[i])
    return shares, terms, examples[:3]


def explain(
    alarm: Alarm,
    run: Sequence[WindowRecord],
    shares: Mapping[str, Mapping[str, float]],
    terms: Sequence[Mapping[str, Any]],
    examples: Sequence[str],
    titles: Mapping[str, str],
    config: DriftConfig,
) -> str:
    """A readable account of what changed during the triggering run."""
    first, last = run[0], run[-1]
    ref = alarm.reference
    moved = "rose" if alarm.direction > 0 else "fell"
    articles = sum(w.article_count for w in run)
    ref_value, run_value, delta, low, high = alarm.in_units()
    if alarm.statistic.startswith("frame:"):
        what = f"The mean per-article share of frame {alarm.statistic.removeprefix('frame:')!r}"
        fmt = _pct
        change = f"{100 * delta:+.1f} pts (95% interval {100 * low:+.1f} to {100 * high:+.1f})"
    else:
        what = "The mean article similarity to the baseline (vocabulary)"
        fmt = "{:.3f}".format
        change = f"{delta:+.3f} (95% interval {low:+.3f} to {high:+.3f})"
    lines = [
        f"Change vs the reference period on {first.window} windows of baseline {first.baseline_id!r}: {what} {moved} "
        f"from {fmt(ref_value)} (reference: {ref.windows} windows, {ref.articles} articles) to {fmt(run_value)} "
        f"over {first.window_start:%Y-%m-%d %H:%M} to {last.window_end:%Y-%m-%d %H:%M} UTC "
        f"({len(run)} windows, {articles} articles): {change}, confidence {100 * normal_confidence(alarm.z):.1f}%.",
        (
            f"One window moved {alarm.cusum:.2f} standard errors, past the one-window jump limit {alarm.limit:.2f}, "
            if alarm.rule == JUMP
            else f"Several statistics moved together: their summed squared scores {alarm.cusum:.1f} passed the "
            f"joint limit {alarm.limit:.1f} (chi-square over {alarm.fired - alarm.run_start + 1} window(s)), "
            if alarm.rule == JOINT
            else f"CUSUM {alarm.cusum:.2f} crossed its limit {alarm.limit:.2f} (allowance {config.cusum_k} "
            f"standard errors{'' if not config.gradual_k else f', or {config.gradual_k} for slow changes'}), "
        )
        + f"set for at most {config.false_alarm_rate:g} false events per window over all statistics.",
    ]
    grew = sorted((f for f, s in shares.items() if s["delta"] >= 0.02), key=lambda f: -shares[f]["delta"])[:3]
    shrank = sorted((f for f, s in shares.items() if s["delta"] <= -0.02), key=lambda f: shares[f]["delta"])[:3]

    def fmt_share(f: str) -> str:
        s = shares[f]
        return f"{f} {_pct(s['baseline_share'])} → {_pct(s['share'])} ({100 * s['delta']:+.0f} pts)"

    lines.append(
        "Frame levels vs the seed baseline over the run: grew "
        + ("; ".join(map(fmt_share, grew)) if grew else "none")
        + "; shrank "
        + ("; ".join(map(fmt_share, shrank)) if shrank else "none")
        + "."
    )
    if terms:
        lines.append(
            "Top emerging terms: "
            + ", ".join(
                f"{t['term']} (G² {t['keyness']:.1f}, log ratio {t['log_ratio']:+.1f}"
                f"{'' if t.get('new', True) else ', already emerging before'})"
                for t in terms[:5]
            )
            + "."
        )
    else:
        lines.append("Top emerging terms: none passed the keyness filters.")
    if examples:
        lines.append(
            "Example articles: " + "; ".join(f"{a} “{titles[a]}”" if titles.get(a) else a for a in examples) + "."
        )
    return "\n".join(lines)


def detect_events(
    windows: Sequence[WindowRecord],
    config: DriftConfig | None = None,
    titles: Mapping[str, str] | None = None,
    metrics: Sequence[str] = METRICS,
    trace: Trace | None = None,
) -> list[DriftEvent]:
    """Calibrated change events over one baseline's window series of one size (see ``detect_changes``).

    The levels against the seed never fire by themselves: each statistic is compared with its own
    reference period, so a baseline unlike all coverage raises nothing while coverage is stable.
    """
    config = config or DriftConfig()
    series = sorted(windows, key=lambda w: w.window_start)
    if len({(w.baseline_id, w.window) for w in series}) > 1:
        raise ValueError("detect_events takes the windows of one baseline and one window size")
    known = dict(titles or {})
    for w in series:
        for a, t in w.example_titles.items():
            known.setdefault(a, t)
    trace = trace or detect_changes(series, config)
    events: list[DriftEvent] = []
    for alarm in trace.alarms:
        metric = FRAME if alarm.statistic.startswith("frame:") else VOCABULARY
        if metric not in metrics:
            continue
        frame = alarm.statistic.removeprefix("frame:") if metric == FRAME else ""
        run = list(series[alarm.run_start : alarm.fired + 1])
        last = alarm.settled if alarm.settled is not None else len(series) - 1
        before = series[max(0, alarm.run_start - config.explain_lookback) : alarm.run_start]
        shares, terms, examples = _run_summary(run, before)
        first, fired = run[0], series[alarm.fired]
        ref_value, run_value, delta, low, high = alarm.in_units()
        events.append(
            DriftEvent(
                event_id=event_id(first.baseline_id, first.window, metric, first.window_start, frame),
                baseline_id=first.baseline_id,
                window=first.window,
                metric=metric,
                window_start=first.window_start,
                window_end=series[last].window_end,
                fired_window_start=fired.window_start,
                value=round(run_value, 6),
                peak=alarm.cusum,
                threshold=alarm.limit,
                release=0.0,
                consecutive_windows=last - alarm.run_start + 1,
                open=alarm.settled is None,
                explanation=explain(alarm, run, shares, terms, examples, known, config),
                example_article_ids=examples,
                frame_shares=shares,
                emerging_terms=terms,
                frame=frame,
                direction=alarm.direction,
                reference=round(ref_value, 6),
                delta=round(delta, 6),
                ci_low=round(low, 6),
                ci_high=round(high, 6),
                confidence=round(normal_confidence(alarm.z), 6),
                false_alarm_rate=config.false_alarm_rate,
                reference_windows=alarm.reference.windows,
            )
        )
    events.sort(key=lambda e: (e.window_start, e.metric, e.frame))
    return events
