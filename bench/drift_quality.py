"""Drift detection quality: detection delay, false alarms and scoring time, for the defaults and a sweep.

Runs on the committed labelled streams (tests/data/drift) plus extra seeds of
the same generator, so thresholds are not tuned to one random draw:

    PYTHONPATH=. python bench/drift_quality.py [--seeds 8] [--window 1d] [--no-sweep]

Delay is counted in windows from the shift: 2 means the event fired at the end
of the second window that starts at or after the shift. A false alarm is an
event fired before the shift (stream A) or any event at all (stream B). A flap
is a second event for the same statistic (metric and frame) after the shift.
Events fire on calibrated change (newsdrift/score/drift/detect.py); the levels
against the seed (JS divergence, frame shift) are printed for comparison.
bench/drift_generators.py runs the same detector on generators not written here.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from newsdrift.clock import as_utc as utc
from newsdrift.score.drift.events import detect_events
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowRecord, compute_windows
from newsdrift.score.frames import load_frames

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "drift"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_streams", DATA / "generate_streams.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Stream:
    name: str
    articles: list[dict[str, Any]]
    shift_at: datetime | None


def load_streams(extra_seeds: int) -> list[Stream]:
    meta = json.loads((DATA / "streams.json").read_text())
    streams = []
    for key, info in meta["streams"].items():
        with (DATA / info["file"]).open() as fh:
            arts = [json.loads(line) for line in fh]
        shift = utc(info["shift_at"]) if info["shift_at"] else None
        streams.append(Stream(f"{key}:committed", arts, shift))
    gen = _generator()
    shift_at = gen.START + timedelta(days=gen.SHIFT_DAY)
    for i in range(extra_seeds):
        seed = 1000 + 17 * i
        streams.append(Stream(f"a:{seed}", gen.generate("a", True, seed), shift_at))
        streams.append(Stream(f"b:{seed}", gen.generate("b", False, seed + 1), None))
    return streams


@dataclass
class Outcome:
    delays: list[int]  # stream A: windows until the first event after the shift (missing = never)
    misses: int
    false_alarms: int  # events starting before the shift on A, any event on B
    flaps: int  # extra events for the same metric after the shift on A


def evaluate(
    series: dict[str, tuple[Stream, list[WindowRecord]]],
    config: DriftConfig,
    metrics: tuple[str, ...] = ("vocabulary_shift", "frame_shift"),
) -> Outcome:
    out = Outcome([], 0, 0, 0)
    for stream, windows in series.values():
        events = detect_events(windows, config, metrics=metrics)
        if stream.shift_at is None:
            out.false_alarms += len(events)
            continue
        before = [e for e in events if e.fired_window_start < stream.shift_at]
        after = [e for e in events if e.fired_window_start >= stream.shift_at]
        out.false_alarms += len(before)
        stats = {(e.metric, e.frame) for e in after}
        out.flaps += sum(max(0, sum((e.metric, e.frame) == st for e in after) - 1) for st in stats)
        if not after:
            out.misses += 1
            continue
        fired = min(e.fired_window_start for e in after)
        starts = [w.window_start for w in windows if w.window_start >= stream.shift_at]
        out.delays.append(starts.index(fired) + 1)
    return out


def describe(o: Outcome) -> str:
    d = o.delays
    delay = f"delay max {max(d)} mean {statistics.mean(d):.2f}" if d else "delay -"
    return f"{delay:24s} misses {o.misses}  false alarms {o.false_alarms}  flaps {o.flaps}"


def split_values(series: dict[str, tuple[Stream, list[WindowRecord]]], metric: str) -> tuple[list[float], list[float]]:
    """Metric values of windows before/without a shift, and after a shift."""
    normal, shifted = [], []
    for stream, windows in series.values():
        for w in windows:
            after = stream.shift_at is not None and w.window_start >= stream.shift_at
            (shifted if after else normal).append(w.metric(metric))
    return normal, shifted


def spread(normal: list[float], shifted: list[float]) -> str:
    """Mean±std and extremes of both groups, and d' = (shifted mean - normal mean) / normal std."""
    d = (statistics.mean(shifted) - statistics.mean(normal)) / (statistics.pstdev(normal) or 1.0)
    return (
        f"normal {statistics.mean(normal):.3f}±{statistics.pstdev(normal):.3f} (max {max(normal):.3f})  "
        f"shifted {statistics.mean(shifted):.3f}±{statistics.pstdev(shifted):.3f} (min {min(shifted):.3f})  "
        f"d'={d:.1f}"
    )


def timing(scorer: DriftScorer, articles: list[dict[str, Any]]) -> tuple[float, float]:
    texts = [a["text"] for a in articles]
    samples = []
    for text in texts:
        t0 = time.perf_counter()
        scorer.score(text)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.mean(samples), samples[int(0.95 * (len(samples) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="extra generated seeds per stream kind")
    ap.add_argument("--no-sweep", action="store_true")
    args = ap.parse_args(argv)

    frames = load_frames()
    baseline = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    scorer = DriftScorer(baseline, frames, baseline_id="bench")
    streams = load_streams(args.seeds)
    defaults = DriftConfig()

    mean_ms, p95_ms = timing(scorer, streams[0].articles)
    words = statistics.mean(len(a["text"].split()) for a in streams[0].articles)
    print(f"per-article scoring: mean {mean_ms:.3f} ms, p95 {p95_ms:.3f} ms ({words:.0f} words/article)")
    long_text = " ".join(a["text"] for a in streams[0].articles[:8])
    t0 = time.perf_counter()
    for _ in range(20):
        scorer.score(long_text)
    print(f"per-article scoring, {len(long_text.split())}-word article: {(time.perf_counter() - t0) * 50:.3f} ms")

    for a in itertools.chain.from_iterable(s.articles for s in streams):
        a["frame_scores"] = scorer.score(a["text"]).frame_scores

    def windows_for(cfg: DriftConfig, window: str) -> dict[str, tuple[Stream, list[WindowRecord]]]:
        return {s.name: (s, compute_windows(s.articles, scorer, window, cfg)) for s in streams}

    t0 = time.perf_counter()
    series = {w: windows_for(defaults, w) for w in ("1d", "7d")}
    print(f"windows for {len(streams)} streams x 2 sizes: {time.perf_counter() - t0:.1f} s")
    shown = {
        "false_alarm_rate",
        "cusum_k",
        "reference_windows",
        "reference_articles",
        "min_overdispersion",
        "max_step",
        "min_articles",
    }
    print(f"\ndefaults: {defaults.model_dump(include=shown)}")
    for w in ("1d", "7d"):
        committed = {k: v for k, v in series[w].items() if k.endswith("committed")}
        print(f"  {w} committed streams: {describe(evaluate(committed, defaults))}")
        print(f"  {w} all {len(streams)} streams:   {describe(evaluate(series[w], defaults))}")
        for metric in ("vocabulary_shift", "frame_shift"):
            print(f"    {metric:16s} alone: {describe(evaluate(series[w], defaults, (metric,)))}")

    if args.no_sweep:
        return 0
    print("\nlevels against the seed (not used to fire; normal vs shifted windows, d' = gap / normal std)")
    for w in ("1d", "7d"):
        for metric in ("js_divergence", "frame_shift"):
            print(f"  {metric} {w}: {spread(*split_values(series[w], metric))}")

    print(f"\nsweep of the stated false-alarm rate and the CUSUM allowance, {len(streams)} streams, 1d windows")
    for rate in (0.01, 0.002, 0.0005):
        for k in (0.5, 1.0):
            cfg = defaults.model_copy(update={"false_alarm_rate": rate, "cusum_k": k})
            print(f"  rate {rate:<7} k {k:<4} {describe(evaluate(series['1d'], cfg))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
