"""A statistic's no-change reference, learned from reference windows: what each watched window is measured
against."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import ndtri as _ndtri
from scipy.special import stdtr as _stdtr

Observation = tuple[float, int, float]  # (value, articles, per-article variance)


@dataclass(slots=True)
class Reference:
    """A statistic's no-change model learned from reference windows (random effects: between + sampling)."""

    mean: float
    article_var: float  # per-article variance: a window's sampling variance is article_var / n
    between_var: float  # window-to-window variance beyond article sampling (does not shrink with n)
    mean_var: float  # variance of the reference mean itself
    articles: int
    windows: int
    min_overdispersion: float = 1.0

    def window_var(self, n: int, windows: int = 1) -> float:
        """Variance of the mean of ``windows`` windows holding n articles in all, under no change."""
        sampling = self.article_var / max(n, 1)
        return max(self.between_var / max(windows, 1) + sampling, self.min_overdispersion * sampling)

    def se(self, n: int, windows: int = 1) -> float:
        """Standard error of (windows holding n articles) minus the reference mean."""
        return math.sqrt(self.window_var(n, windows) + self.mean_var)

    def standardise(self, value: float, n: int) -> float:
        """A window's distance from the reference in standard errors, as a normal score.

        The spread comes from ``windows - 1`` degrees of freedom, so the distance is Student-t, not
        normal; mapping it through the t distribution keeps the stated false-alarm rate honest when
        the reference is short."""
        t = (value - self.mean) / self.se(n)
        return float(_ndtri(_stdtr(max(self.windows - 1, 1), t)))


def share_of(angle: float) -> float:
    """Inverse of the arcsine-square-root scale: the frame share at ``angle`` (clamped to 0..pi/2)."""
    return math.sin(min(max(angle, 0.0), math.pi / 2)) ** 2


def learn(points: Sequence[Observation], floor: float, min_over: float = 1.0) -> Reference:
    """Reference from (value, n, per-article variance) of the reference windows.

    The per-article variance is pooled within windows; the between-window variance is what the spread of
    the window values shows beyond their sampling variance (method of moments, at least 0)."""
    count = len(points)
    total = sum(n for _, n, _ in points)
    dof = sum(n - 1 for _, n, _ in points)
    within = sum((n - 1) * v for _, n, v in points) / dof if dof > 0 else 0.0
    plain = sum(x for x, _, _ in points) / count
    spread = sum((x - plain) ** 2 for x, _, _ in points) / max(count - 1, 1)
    inverse = [1.0 / max(n, 1) for _, n, _ in points]
    if within > 0:
        article_var = max(within, floor)
        between = max(0.0, spread - article_var * sum(inverse) / count)
    else:  # no within-window spread to pool (one-article windows): all of it counts as sampling
        article_var = max(sum(n * (x - plain) ** 2 for x, n, _ in points) / max(count - 1, 1), floor)
        between = 0.0
    # Precision-weighted mean: a busy day counts more, but only as far as the between part allows.
    weights = [1.0 / max(between + article_var * i, min_over * article_var * i) for i in inverse]
    whole = sum(weights)
    mean = sum(w * x for w, (x, _, _) in zip(weights, points, strict=True)) / whole
    return Reference(mean, article_var, between, 1.0 / whole, total, count, min_over)
