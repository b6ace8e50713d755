"""Does the drift detector keep its stated false-alarm rate? Measured on stable series, next to the stated rate.

    PYTHONPATH=. python bench/drift_calibration.py [--series 1000] [--days 40] [--rates 0.0005 0.002 0.01] [--json F]

Stable coverage of seven frames (mean shares 35 % down to 3 %), where whole days differ: each day's mix is a
Dirichlet draw around the means (the lower the concentration, the burstier the days), and each of the day's
articles has its own frame shares, a Dirichlet draw around the day's mix (an article is mostly about one or
two frames). A window's statistics are computed from its articles as the pipeline does (mean share, per-article
variance of the square root of the share). Four regimes:

* ``thin``: 3-10 articles a day, calm days;
* ``daily``: 8-16 articles a day (a small daily news stream);
* ``moderate``: 5-300 articles a day;
* ``bursty``: 20-60 articles a day on days that differ a lot (a rare frame is near 0 on most days and far
  above its mean on a few).

Nothing changes, so every window with an event is a false alarm.

The stated rate is per window for the whole detector (every statistic, both directions, every rule), so the
figure is windows with at least one event over watched windows (after the reference is learned). These
series are generated here; ``bench/drift_generators.py`` reports false events on held-out streams of other
generators and of real text, which are fewer windows (about 1,000) than a rate of 0.002 needs to be measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsdrift.score.drift.detect import detect_changes  # noqa: E402
from newsdrift.score.drift.settings import DriftConfig  # noqa: E402
from newsdrift.score.drift.windows import WindowRecord  # noqa: E402

MEANS = {"a": 0.35, "b": 0.25, "c": 0.15, "d": 0.1, "e": 0.07, "f": 0.05, "g": 0.03}
FRAMES = tuple(MEANS)
MEAN_SHARES = np.array(list(MEANS.values()))
ARTICLE_CONCENTRATION = 3.0  # an article's shares around its day's mix: mostly one or two frames
START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Regime:
    name: str
    articles: tuple[int, int]  # per day, inclusive
    concentration: float  # of the Dirichlet day mix: lower = burstier days


REGIMES = (
    Regime("thin", (3, 10), 100.0),
    Regime("daily", (8, 16), 30.0),
    Regime("moderate", (5, 300), 30.0),
    Regime("bursty", (20, 60), 10.0),
)


def day_mix(rng: np.random.Generator, concentration: float) -> np.ndarray:
    return rng.dirichlet(MEAN_SHARES * concentration)


def window(day: int, shares: np.ndarray) -> WindowRecord:
    """A daily window from its articles' frame shares (one row per article)."""
    start = START + timedelta(days=day)
    n = len(shares)
    profile = dict(zip(FRAMES, shares.mean(axis=0).tolist(), strict=True))
    spread = np.sqrt(shares).var(axis=0, ddof=1) if n > 1 else np.zeros(len(FRAMES))
    return WindowRecord(
        baseline_id="calibration",
        window="1d",
        window_start=start,
        window_end=start + timedelta(days=1),
        article_count=n,
        js_divergence=0.3,
        centroid_shift=0.5,
        mean_baseline_similarity=0.2,
        mean_novelty=0.8,
        frame_shares=profile,
        baseline_shares=dict.fromkeys(FRAMES, 1 / len(FRAMES)),
        example_article_ids=[f"d{day}"],
        frame_profile=profile,
        frame_var=dict(zip(FRAMES, spread.tolist(), strict=True)),
        framed_articles=n,
        similarity_var=0.01,
    )


def series(rng: np.random.Generator, regime: Regime, days: int) -> list[WindowRecord]:
    lo, hi = regime.articles
    out = []
    for d in range(days):
        mix = np.maximum(day_mix(rng, regime.concentration), 1e-6)
        out.append(window(d, rng.dirichlet(mix * ARTICLE_CONCENTRATION, size=int(rng.integers(lo, hi + 1)))))
    return out


def measure(regime: Regime, rate: float, count: int, days: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    cfg = DriftConfig(false_alarm_rate=rate)
    watched = fired = 0
    rules: Counter[str] = Counter()
    for _ in range(count):
        trace = detect_changes(series(rng, regime, days), cfg)
        fired += len({a.fired for a in trace.alarms})
        rules.update(a.rule for a in trace.alarms)
        watched += sum(p.z is not None for p in trace.points["frame:a"])
    return {"watched": watched, "fired": fired, "measured": fired / max(watched, 1), "rules": dict(rules)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000, help="stable series per regime and rate")
    ap.add_argument("--days", type=int, default=40, help="daily windows per series (the first 10 are the reference)")
    ap.add_argument("--rates", type=float, nargs="+", default=[0.0005, 0.002, 0.01], help="stated rates to check")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    print(f"{args.series} stable series of {args.days} daily windows per regime and rate; seven frames\n")
    print(f"{'regime':9s} {'stated':>8s} {'watched':>8s} {'fired':>6s} {'measured':>9s} {'ratio':>6s}  by rule")
    out: dict[str, dict[str, object]] = {}
    for regime in REGIMES:
        for rate in args.rates:
            t0 = time.perf_counter()
            got = measure(regime, rate, args.series, args.days, args.seed)
            ratio = float(got["measured"]) / rate  # type: ignore[arg-type]
            print(
                f"{regime.name:9s} {rate:8.4f} {got['watched']:8d} {got['fired']:6d} {got['measured']:9.4f} "
                f"{ratio:6.2f}  {got['rules']}  ({time.perf_counter() - t0:.0f} s)"
            )
            out[f"{regime.name}/{rate}"] = {**got, "stated": rate, "ratio": ratio}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
