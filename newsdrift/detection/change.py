"""Sequential change detection over a window series: reference period, standard errors, two-sided CUSUM.

Drift *levels* are measured against the seed baseline, but a seed of a few essays differs from any
real coverage, so a fixed threshold on the level fires at once and never releases. Events fire on
*change* instead:

* Each statistic (every frame's mean per-article share, on the square-root scale, and the mean article
  similarity to the baseline) has a reference: the first ``reference_windows`` windows (and at least
  ``reference_articles`` articles) after the baseline is loaded, and again after every event (a rolling
  reference: the new regime becomes the norm).
* A window's spread under no change comes from the articles: the per-article variance of the
  statistic (a bootstrap over the window's articles, pooled over the reference windows), scaled by
  ``1/n + 1/N_ref`` so a window of three articles has a wide interval, and inflated by the
  day-to-day overdispersion seen between the reference windows (at least ``min_overdispersion``).
  The distance is mapped through Student's t with the reference's degrees of freedom and clipped to
  ``max_step``.
* A two-sided CUSUM on the standardised values fires when it crosses ``h``; ``h`` is solved from the
  configured false-alarm rate (Siegmund's ARL approximation, Bonferroni over the statistics), so the
  rate is stated, not tuned. A window with fewer than ``min_articles`` articles cannot fire alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scipy.special import ndtri as _ndtri
from scipy.stats import t as _t

if TYPE_CHECKING:
    from newsdrift.detection.drift import DriftConfig, WindowRecord

VOCABULARY = "vocabulary_shift"
FRAME = "frame_shift"
_SIEGMUND = 1.166  # edge correction of the Brownian approximation for normal increments


def siegmund_arl(h: float, k: float) -> float:
    """In-control average run length of a one-sided CUSUM with allowance k and limit h (N(0,1) steps)."""
    b = 2.0 * k * (h + _SIEGMUND)
    return (math.exp(b) - b - 1.0) / (2.0 * k * k)


def cusum_limit(arl: float, k: float) -> float:
    """The limit h whose in-control run length is ``arl`` windows (bisection on siegmund_arl)."""
    lo, hi = 0.0, 200.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if siegmund_arl(mid, k) < arl:
            lo = mid
        else:
            hi = mid
    return round(hi, 4)


def normal_confidence(z: float) -> float:
    """Two-sided confidence that a standardised change of ``z`` is not noise: 1 - p."""
    return 1.0 - math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(slots=True)
class Reference:
    """A statistic's no-change model learned from reference windows."""

    mean: float
    article_var: float  # per-article variance (window variance = article_var / n)
    overdispersion: float  # >= 1: extra day-to-day spread beyond article sampling
    articles: int
    windows: int

    def standardise(self, value: float, n: int) -> float:
        """A window's distance from the reference in standard errors, as a normal score.

        The spread comes from ``windows - 1`` degrees of freedom, so the distance is Student-t, not
        normal; mapping it through the t distribution keeps the stated false-alarm rate honest when
        the reference is short."""
        t = (value - self.mean) / self.se(n)
        return float(_ndtri(_t.cdf(t, max(self.windows - 1, 1))))

    def se(self, n: int) -> float:
        """Standard error of a window of n articles minus the reference mean."""
        return math.sqrt(self.overdispersion * self.article_var * (1.0 / max(n, 1) + 1.0 / max(self.articles, 1)))


@dataclass(slots=True)
class Point:
    """One window of one statistic as the detector saw it."""

    index: int  # position in the series
    value: float
    n: int
    z: float | None = None  # None while learning the reference
    upper: float = 0.0  # CUSUM statistics after this window
    lower: float = 0.0


@dataclass(slots=True)
class Alarm:
    """A CUSUM crossing: which statistic, which way, over which windows."""

    statistic: str  # VOCABULARY or "frame:<name>"
    direction: int  # +1 up, -1 down
    run_start: int  # first window of the CUSUM run that crossed
    fired: int  # window where it crossed
    settled: int | None  # window where the new reference was learned (the event closes); None = still open
    reference: Reference
    cusum: float
    limit: float
    run_mean: float
    run_articles: int

    @property
    def delta(self) -> float:
        return self.run_mean - self.reference.mean

    @property
    def se(self) -> float:
        return self.reference.se(self.run_articles)

    @property
    def z(self) -> float:
        return self.delta / self.se if self.se > 0 else 0.0

    def in_units(self) -> tuple[float, float, float, float, float]:
        """(reference, run value, change, 95% low, 95% high) in the statistic's own units: frame
        shares are watched as square roots and squared back here."""
        lo, hi = self.run_mean - 1.96 * self.se, self.run_mean + 1.96 * self.se
        if not self.statistic.startswith("frame:"):
            return (
                self.reference.mean,
                self.run_mean,
                self.delta,
                self.delta - 1.96 * self.se,
                self.delta + 1.96 * self.se,
            )
        ref, run = self.reference.mean**2, self.run_mean**2
        return ref, run, run - ref, max(lo, 0.0) ** 2 - ref, max(hi, 0.0) ** 2 - ref


@dataclass(slots=True)
class Trace:
    """Everything the detector decided over one series."""

    limit: float
    k: float
    statistics: list[str]
    points: dict[str, list[Point]] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)

    def max_z(self, index: int) -> tuple[str, float] | None:
        """The statistic with the largest |z| at a window, or None while every statistic is learning."""
        best: tuple[str, float] | None = None
        for name, pts in self.points.items():
            for p in pts:
                if p.index == index and p.z is not None and (best is None or abs(p.z) > abs(best[1])):
                    best = (name, p.z)
        return best


def observations(w: WindowRecord) -> dict[str, tuple[float, int, float]]:
    """(value, articles, per-article variance) of every statistic in a window."""
    obs = {VOCABULARY: (w.mean_baseline_similarity, w.article_count, w.similarity_var)}
    for f in sorted(w.frame_profile):
        # Mean per-article shares, watched on the square-root scale (variance-stabilising for proportions),
        # over the articles that carry a frame.
        obs[f"frame:{f}"] = (math.sqrt(max(w.frame_profile[f], 0.0)), w.framed_articles, w.frame_var.get(f, 0.0))
    return obs


def learn(points: Sequence[tuple[float, int, float]], floor: float, min_over: float = 1.0) -> Reference:
    """Reference from (value, n, per-article variance) of the reference windows."""
    total = sum(n for _, n, _ in points)
    mean = sum(x * n for x, n, _ in points) / total
    dof = sum(n - 1 for _, n, _ in points)
    within = sum((n - 1) * v for _, n, v in points) / dof if dof > 0 else 0.0
    between = sum(n * (x - mean) ** 2 for x, n, _ in points) / max(len(points) - 1, 1)
    var = max(within, floor) if within > 0 else max(between, floor)
    # Chi-square of the reference windows against their own mean: > 1 when days differ more than
    # article sampling explains (topics come in bursts).
    over = between / var if var > 0 else 1.0
    return Reference(mean, var, max(min_over, over), total, len(points))


class _Detector:
    """Learning, then watching, one statistic."""

    def __init__(self, name: str, config: DriftConfig, limit: float) -> None:
        self.name, self.config, self.limit = name, config, limit
        self.learning: list[tuple[float, int, float]] = []
        self.reference: Reference | None = None
        self.upper = self.lower = 0.0
        self.up_start = self.down_start = -1
        self.run: list[tuple[float, int]] = []
        self.open: Alarm | None = None
        self.points: list[Point] = []
        self.alarms: list[Alarm] = []

    def step(self, index: int, value: float, n: int, var: float) -> None:
        cfg = self.config
        point = Point(index, value, n)
        self.points.append(point)
        if self.reference is None:
            self.learning.append((value, n, var))
            total = sum(m for _, m, _ in self.learning)
            if len(self.learning) >= cfg.reference_windows and total >= cfg.reference_articles:
                self.reference = learn(self.learning, cfg.min_article_var, cfg.min_overdispersion)
                self.learning = []
                if self.open is not None:
                    self.open.settled = index
                    self.open = None
            return
        ref = self.reference
        z = ref.standardise(value, n)
        cap = min(cfg.max_step, self.limit) if n < cfg.min_articles else cfg.max_step
        z = max(-cap, min(cap, z))  # robust: one odd (or thin) window cannot fire on its own
        point.z = z
        if self.upper == 0.0:
            self.up_start = index
        if self.lower == 0.0:
            self.down_start = index
        self.upper = max(0.0, self.upper + z - cfg.cusum_k)
        self.lower = max(0.0, self.lower - z - cfg.cusum_k)
        point.upper, point.lower = self.upper, self.lower
        if self.upper <= self.limit and self.lower <= self.limit:
            return
        up = self.upper > self.limit
        start = self.up_start if up else self.down_start
        run = [(p.value, p.n) for p in self.points if start <= p.index <= index and p.z is not None]
        articles = sum(m for _, m in run)
        alarm = Alarm(
            statistic=self.name,
            direction=1 if up else -1,
            run_start=start,
            fired=index,
            settled=None,
            reference=ref,
            cusum=round(self.upper if up else self.lower, 4),
            limit=self.limit,
            run_mean=sum(x * m for x, m in run) / max(articles, 1),
            run_articles=articles,
        )
        self.alarms.append(alarm)
        self.open = alarm
        # Rolling reference: the new regime is learned from the next windows, then watched.
        self.reference = None
        self.upper = self.lower = 0.0


def detect_changes(series: Sequence[WindowRecord], config: DriftConfig) -> Trace:
    """Run one detector per statistic over a window series (one baseline, one size, oldest first)."""
    names = sorted({name for w in series for name in observations(w)})
    if VOCABULARY in names:  # vocabulary first, then frames alphabetically
        names.remove(VOCABULARY)
        names.insert(0, VOCABULARY)
    # Bonferroni: the configured rate is for all statistics and both directions together.
    arl = 2 * max(len(names), 1) / config.false_alarm_rate
    limit = cusum_limit(arl, config.cusum_k)
    detectors = {name: _Detector(name, config, limit) for name in names}
    for i, w in enumerate(series):
        for name, (value, n, var) in observations(w).items():
            if n > 0:
                detectors[name].step(i, value, n, var)
    trace = Trace(limit, config.cusum_k, names)
    for name, det in detectors.items():
        trace.points[name] = det.points
        trace.alarms.extend(det.alarms)
    trace.alarms.sort(key=lambda a: (a.fired, a.statistic))
    return trace
