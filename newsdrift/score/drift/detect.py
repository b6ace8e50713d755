"""Change detection over a window series: events fire on calibrated change of each statistic against its
own reference, not on the level against the seed baseline."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri as _ndtri

from newsdrift.score.drift.limits import allowances, joint_limit, joint_tail, limits, quadratic_form_limit
from newsdrift.score.drift.reference import Observation, Reference, learn, share_of
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowRecord

VOCABULARY = "vocabulary_shift"
FRAME = "frame_shift"
CUSUM = "cusum"
JUMP = "jump"
JOINT = "joint"
_MOVED = 0.05  # a statistic counts as moved in a joint alarm at two-sided 5 %, Bonferroni over the statistics
_MAX_ROOT = 0.999  # a frame holding every article: keeps the delta-method factor finite


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
    """A CUSUM crossing or a one-window jump: which statistic, which way, over which windows."""

    statistic: str  # VOCABULARY or "frame:<name>"
    direction: int  # +1 up, -1 down
    run_start: int  # first window of the CUSUM run that crossed (the jump's own window for a jump)
    fired: int  # window where it crossed
    settled: int | None  # window where the new reference was learned (the event closes); None = still open
    reference: Reference
    cusum: float  # the CUSUM (or, for a jump, |z|) that crossed
    limit: float
    run_mean: float
    run_articles: int
    run_windows: int = 1
    rule: str = CUSUM  # CUSUM, JUMP or JOINT

    @property
    def delta(self) -> float:
        return self.run_mean - self.reference.mean

    @property
    def se(self) -> float:
        return self.reference.se(self.run_articles, self.run_windows)

    @property
    def z(self) -> float:
        return self.delta / self.se if self.se > 0 else 0.0

    def in_units(self) -> tuple[float, float, float, float, float]:
        """(reference, run value, change, 95% low, 95% high) in the statistic's own units: frame
        shares are watched as arcsin(sqrt(share)) and mapped back here."""
        lo, hi = self.run_mean - 1.96 * self.se, self.run_mean + 1.96 * self.se
        if not self.statistic.startswith("frame:"):
            return (
                self.reference.mean,
                self.run_mean,
                self.delta,
                self.delta - 1.96 * self.se,
                self.delta + 1.96 * self.se,
            )
        ref, run = share_of(self.reference.mean), share_of(self.run_mean)
        return ref, run, run - ref, share_of(lo) - ref, share_of(hi) - ref


@dataclass(slots=True)
class Trace:
    """Everything the detector decided over one series."""

    limit: float
    k: float
    statistics: list[str]
    points: dict[str, list[Point]] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    jump_limit: float = math.inf

    def max_z(self, index: int) -> tuple[str, float] | None:
        """The statistic with the largest |z| at a window, or None while every statistic is learning."""
        best: tuple[str, float] | None = None
        for name, pts in self.points.items():
            for p in pts:
                if p.index == index and p.z is not None and (best is None or abs(p.z) > abs(best[1])):
                    best = (name, p.z)
        return best


def observations(w: WindowRecord) -> dict[str, Observation]:
    """(value, articles, per-article variance) of every statistic in a window."""
    obs = {VOCABULARY: (w.mean_baseline_similarity, w.article_count, w.similarity_var)}
    for f in sorted(w.frame_profile):
        # Mean per-article shares over the articles that carry a frame, watched as arcsin(sqrt(share)): the
        # angular transform stabilises a proportion's variance at both ends, so a rare frame's skewed
        # day-to-day values and a common frame's are on one footing. The stored per-article variance is
        # of sqrt(share) (see WindowAccumulator.frame_profile); the delta method carries it over:
        # d/dx arcsin(x) = 1 / sqrt(1 - x^2).
        root = min(math.sqrt(max(w.frame_profile[f], 0.0)), _MAX_ROOT)
        var = w.frame_var.get(f, 0.0) / (1.0 - root * root)
        obs[f"frame:{f}"] = (math.asin(root), w.framed_articles, var)
    return obs


class _Cusum:
    """A two-sided CUSUM with one allowance and its limit."""

    def __init__(self, k: float, limit: float) -> None:
        self.k, self.limit = k, limit
        self.upper = self.lower = 0.0
        self.up_start = self.down_start = -1

    def step(self, index: int, z: float) -> tuple[int, int, float] | None:
        """Add a window; (direction, run start, CUSUM) if it crossed the limit."""
        if self.upper == 0.0:
            self.up_start = index
        if self.lower == 0.0:
            self.down_start = index
        self.upper = max(0.0, self.upper + z - self.k)
        self.lower = max(0.0, self.lower - z - self.k)
        if self.upper > self.limit:
            return 1, self.up_start, self.upper
        if self.lower > self.limit:
            return -1, self.down_start, self.lower
        return None

    def reset(self) -> None:
        self.upper = self.lower = 0.0


class _Detector:
    """Learning, then watching, one statistic."""

    def __init__(self, name: str, config: DriftConfig, limits: tuple[float, ...], jump: float) -> None:
        self.name, self.config, self.jump = name, config, jump
        self.cusums = [_Cusum(k, h) for k, h in zip(allowances(config), limits, strict=True)]
        self.history: list[Observation] = []  # the reference windows (learning, then growing)
        self.history_at: list[int] = []  # their positions in the series
        self.pending: deque[tuple[int, Observation]] = deque()  # watched windows not yet old enough to join it
        self.reference: Reference | None = None
        self.open: Alarm | None = None
        self.points: list[Point] = []
        self.alarms: list[Alarm] = []

    def _learn(self) -> Reference:
        cfg = self.config
        return learn(self.history, cfg.min_article_var, cfg.min_overdispersion)

    def step(self, index: int, value: float, n: int, var: float) -> None:
        cfg = self.config
        point = Point(index, value, n)
        self.points.append(point)
        if self.reference is None:
            self.history.append((value, n, var))
            self.history_at.append(index)
            total = sum(m for _, m, _ in self.history)
            if len(self.history) >= cfg.reference_windows and total >= cfg.reference_articles:
                self.reference = self._learn()
                if self.open is not None:
                    self.open.settled = index
                    self.open = None
            return
        ref = self.reference
        raw = ref.standardise(value, n)
        point.z = raw
        thin = n < cfg.min_articles
        crossings = []
        # A window is scored against a reference that has not yet taken in the reference_lag windows before
        # it, so its score shares the reference mean's error with theirs (correlation rho, the mean's share
        # of the score's variance). Later windows cancel it (the reference then holds this window), so a
        # sum of scores has variance 1 + 2 lag rho per window, not 1: the CUSUMs add the long-run standardised
        # score, which keeps their stated rate (without it they fired 2-3 times as often on stable series).
        rho = ref.mean_var / ref.se(n) ** 2
        longrun = raw / math.sqrt(1.0 + 2.0 * cfg.reference_lag * rho)
        for c in self.cusums:
            cap = min(cfg.max_step, c.limit) if thin else cfg.max_step
            # robust: one odd (or thin) window cannot carry the CUSUM alone
            crossed = c.step(index, max(-cap, min(cap, longrun)))
            if crossed is not None:
                crossings.append((crossed, c.limit))
        point.upper, point.lower = self.cusums[0].upper, self.cusums[0].lower
        if not thin and abs(raw) >= self.jump:
            self.fire(index, index, raw > 0, JUMP, abs(raw), self.jump)
        elif crossings:
            (direction, start, size), limit = min(crossings, key=lambda c: -c[0][1])  # the shortest run
            self.fire(index, start, direction > 0, CUSUM, size, limit)
        else:
            self._grow(index, (value, n, var))

    def residuals(self) -> dict[int, float]:
        """Each reference window's standardised distance from the reference mean, by position."""
        ref = self.reference
        assert ref is not None
        return {
            at: (x - ref.mean) / math.sqrt(ref.window_var(n))
            for at, (x, n, _) in zip(self.history_at, self.history, strict=True)
        }

    def watched(self, index: int) -> Point | None:
        """This statistic's point at ``index`` if it was watched there and did not fire."""
        if self.reference is None or not self.points or self.points[-1].index != index:
            return None
        point = self.points[-1]
        return point if point.z is not None else None

    def fire(self, index: int, start: int, up: bool, rule: str, size: float, limit: float) -> None:
        """Record an alarm over windows ``start..index`` and start learning the new regime."""
        ref = self.reference
        assert ref is not None
        run = [(p.value, p.n) for p in self.points if start <= p.index <= index and p.z is not None]
        articles = sum(m for _, m in run)
        alarm = Alarm(
            statistic=self.name,
            direction=1 if up else -1,
            run_start=start,
            fired=index,
            settled=None,
            reference=ref,
            cusum=round(size, 4),
            limit=limit,
            run_mean=sum(x * m for x, m in run) / max(articles, 1),
            run_articles=articles,
            run_windows=len(run),
            rule=rule,
        )
        self.alarms.append(alarm)
        self.open = alarm
        # Rolling reference: the new regime is learned from the next windows, then watched.
        self.reference = None
        self.history, self.history_at, self.pending = [], [], deque()
        for c in self.cusums:
            c.reset()

    def _grow(self, index: int, obs: Observation) -> None:
        """Self-starting: a quiet window joins the reference once ``reference_lag`` more have passed."""
        cfg = self.config
        self.pending.append((index, obs))
        if len(self.pending) <= cfg.reference_lag:
            return
        at, old = self.pending.popleft()
        self.history.append(old)
        self.history_at.append(at)
        if len(self.history) > cfg.reference_max_windows:
            del self.history[0], self.history_at[0]
        self.reference = self._learn()


def _correlation(a: Sequence[float], b: Sequence[float]) -> float:
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else 0.0


class _Joint:
    """The joint rules: the summed squared scores of every watched statistic over the last window, and over
    the last few windows (``joint_windows``: a slow change that no one window shows adds up)."""

    def __init__(self, config: DriftConfig) -> None:
        self.config, self.spans = config, sorted(set(config.joint_windows))
        self.tail = joint_tail(config)
        self.recent: dict[str, list[Point]] = {}  # each statistic's consecutive watched points, newest last
        self.limits: dict[int, float] = {}

    def limit(self, statistics: int) -> float:
        if statistics not in self.limits:
            self.limits[statistics] = joint_limit(self.tail, statistics)
        return self.limits[statistics]

    def correlated_limit(self, names: list[str], detectors: dict[str, _Detector]) -> float:
        """The limit of the summed squared scores of ``names``, allowing for the statistics' correlation (frame
        shares sum to one, so they move against each other, and whole days move several at once).

        A sum of m correlated squared unit scores is distributed as sum(lambda_i chi2_1), lambda the
        eigenvalues of their correlation matrix R, estimated from the reference windows; its upper tail comes
        from a saddlepoint approximation (``quadratic_form_limit``). Matching only the mean and variance
        (Satterthwaite) understates the far tail when one eigenvalue dominates, as on busy days that move
        several frames at once."""
        m = len(names)
        res = [detectors[n].residuals() for n in names]
        corr = np.eye(m)
        noise = signal = 0.0
        for i in range(m):
            for j in range(i + 1, m):
                common = sorted(res[i].keys() & res[j].keys())
                if len(common) >= 4:
                    r = _correlation([res[i][t] for t in common], [res[j][t] for t in common])
                    corr[i, j] = corr[j, i] = r
                    noise += (1 - r * r) ** 2 / (len(common) - 1)
                    signal += r * r
        # A few dozen windows spread a sample correlation matrix's eigenvalues far wider than the truth's
        # (too high a limit, no power): shrink toward the identity by the share of the correlations that
        # their sampling noise explains (Schafer & Strimmer 2005).
        shrink = min(1.0, noise / signal) if signal > 0 else 1.0
        corr = (1 - shrink) * corr + shrink * np.eye(m)
        eigen = np.clip(np.linalg.eigvalsh(corr), 0.0, None)
        eigen *= m / eigen.sum()
        return quadratic_form_limit(eigen.tolist(), self.tail)

    def step(self, index: int, detectors: dict[str, _Detector]) -> None:
        longest = self.spans[-1] if self.spans else 0
        recent: dict[str, list[Point]] = {}
        for name, det in detectors.items():
            point = det.watched(index)
            if point is None:
                continue
            run = self.recent.get(name, [])
            run = run[-(longest - 1) :] if run and run[-1].index == index - 1 and longest > 1 else []
            recent[name] = [*run, point]
        self.recent = recent
        if self.tail <= 0 or len(recent) < 2:
            return
        for span in self.spans:
            scores = {
                name: z for name, run in recent.items() if (z := self._score(detectors[name], run, span)) is not None
            }
            crossed = self._crossed(scores, detectors)
            if crossed is not None:
                self._fire(index, index - span + 1, scores, detectors, *crossed)
                return

    def _score(self, det: _Detector, run: list[Point], span: int) -> float | None:
        """The statistic's scores over the last ``span`` windows, summed and rescaled to unit variance."""
        cfg, ref = self.config, det.reference
        assert ref is not None
        if len(run) < span or sum(p.n for p in run[-span:]) < cfg.min_articles:
            return None
        points = run[-span:]
        cap = cfg.max_step
        total = sum(max(-cap, min(cap, p.z or 0.0)) for p in points)
        # The windows are measured against the same reference mean, whose error they share: each pair's
        # covariance is that error's variance over their standard errors.
        inverse = [1.0 / ref.se(p.n) for p in points]
        var = span + ref.mean_var * (sum(inverse) ** 2 - sum(x * x for x in inverse))
        return total / math.sqrt(var)

    def _crossed(self, scores: dict[str, float], detectors: dict[str, _Detector]) -> tuple[float, float] | None:
        """(summed squares, limit) if the scores' summed squares pass their limit, else None."""
        if len(scores) < 2:
            return None
        q = sum(z * z for z in scores.values())
        if q <= self.limit(len(scores)):  # correlation only raises the limit: no need to estimate it
            return None
        limit = self.correlated_limit(sorted(scores), detectors)
        return (q, limit) if q > limit else None

    def _fire(
        self,
        index: int,
        start: int,
        scores: dict[str, float],
        detectors: dict[str, _Detector],
        total: float,
        limit: float,
    ) -> None:
        bar = float(-_ndtri(_MOVED / (2 * len(scores))))
        moved = [name for name, z in scores.items() if abs(z) >= bar]
        for name in moved or [max(scores, key=lambda n: abs(scores[n]))]:
            detectors[name].fire(index, start, scores[name] > 0, JOINT, total, limit)
            self.recent.pop(name, None)


def detect_changes(series: Sequence[WindowRecord], config: DriftConfig) -> Trace:
    """Run one detector per statistic over a window series (one baseline, one size, oldest first), and the
    joint rules over all of them.

    Drift *levels* are measured against the seed baseline, but a seed of a few essays differs from any
    real coverage, so a fixed threshold on the level fires at once and never releases. Events fire on
    *change* instead:

    * Each statistic (every frame's mean per-article share, on the arcsine-square-root scale, and the mean article
      similarity to the baseline) has a reference: at first the ``reference_windows`` windows (and at least
      ``reference_articles`` articles) after the baseline is loaded, and again after every event (the new
      regime becomes the norm). While nothing fires the reference keeps growing (self-starting): a watched
      window joins it ``reference_lag`` windows later, up to ``reference_max_windows`` (then the oldest
      leaves), so the estimates sharpen instead of being fixed by ten windows forever.
    * A window's spread under no change has two parts (a random-effects model): article sampling, the
      per-article variance (a bootstrap over the window's articles, pooled over the reference) over n, so a
      window of three articles has a wide interval; and the window-to-window variance that sampling does not
      explain, estimated from the spread *between* the reference windows. News days differ as wholes (a story
      breaks, an outlet runs a series, wire copy is syndicated), so the articles of one window are correlated;
      a bootstrap over articles alone makes a busy window's interval far too narrow. The between part does
      not shrink with n. The total is at least ``min_overdispersion`` times the sampling part, and the
      reference mean's own uncertainty is added.
    * The distance is Student-t (the spread comes from the reference windows) mapped to a normal score.
      Two rules watch it, and the configured false-alarm rate is split between them and Bonferroni-divided
      over every statistic and both directions, so the whole detector keeps the stated rate:
      a one-window jump (``|z|`` past the limit solved from ``jump_share`` of the rate) fires at once; a
      two-sided CUSUM on z clipped to ``max_step`` (allowance ``cusum_k``, limit ``h`` from Siegmund's ARL
      approximation) catches smaller, sustained or gradual moves. Windows scored against a reference that lags
      them by ``reference_lag`` windows share its mean's error, so the CUSUM adds z over its long-run standard
      deviation, not z. A window with fewer than ``min_articles`` articles cannot fire alone.
    * Coverage rarely moves one frame at a time: when one frame grows, others shrink. The joint rules pool the
      evidence of all watched statistics: the sum of their squared scores over the last window, and over each
      longer span of ``joint_windows``, against the tail of that sum under no change given the statistics'
      correlation (one test per window and span, so their ``joint_share`` of the rate is not divided over
      statistics). Scores are clipped to ``max_step`` first, so one statistic alone cannot fire a joint rule;
      the statistics that moved (two-sided 5 %, Bonferroni over the statistics; at least the one that moved
      most) get an event each.
    """
    names = sorted({name for w in series for name in observations(w)})
    if VOCABULARY in names:  # vocabulary first, then frames alphabetically
        names.remove(VOCABULARY)
        names.insert(0, VOCABULARY)
    cusum_limits, jump = limits(len(names), config)
    detectors = {name: _Detector(name, config, cusum_limits, jump) for name in names}
    joint = _Joint(config)
    for i, w in enumerate(series):
        for name, (value, n, var) in observations(w).items():
            if n > 0:
                detectors[name].step(i, value, n, var)
        joint.step(i, detectors)
    trace = Trace(cusum_limits[0], config.cusum_k, names, jump_limit=jump)
    for name, det in detectors.items():
        trace.points[name] = det.points
        trace.alarms.extend(det.alarms)
    trace.alarms.sort(key=lambda a: (a.fired, a.statistic))
    return trace
