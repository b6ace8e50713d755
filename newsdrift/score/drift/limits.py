"""The rules' limits, solved from the stated false-alarm rate: CUSUM limits from Siegmund's run-length
approximation, the jump limit from the normal tail, joint limits from chi-square and quadratic-form tails."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.special import chdtri as _chdtri
from scipy.special import ndtr as _ndtr
from scipy.special import ndtri as _ndtri

from newsdrift.score.drift.settings import DriftConfig

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


def jump_limit(tail: float) -> float:
    """The one-sided normal score exceeded with probability ``tail`` (the jump rule's limit)."""
    return round(float(-_ndtri(tail)), 4)


def allowances(config: DriftConfig) -> tuple[float, ...]:
    """The CUSUM allowances: ``cusum_k`` (sized for abrupt shifts) and, if set, ``gradual_k`` (a lower
    allowance that adds up the small steps of a slow change)."""
    return (config.cusum_k,) + ((config.gradual_k,) if config.gradual_k else ())


def joint_tail(config: DriftConfig) -> float:
    """Tail probability per window of each joint rule (one per span in ``joint_windows``); 0 = off."""
    spans = len(set(config.joint_windows))
    return config.false_alarm_rate * config.joint_share / spans if spans else 0.0


def _form_tail(lam: Sequence[float], q: float) -> float:
    """P(sum(lambda_i chi2_1) > q) for q above the mean: the saddlepoint approximation (Barndorff-Nielsen's
    r*, as Kuonen 1999 applies it to quadratic forms), accurate far into the tail."""
    hi, lo = 1.0 / (2.0 * max(lam)), 0.0
    for _ in range(56):  # the saddlepoint: K'(t) = q, K the cumulant generating function
        t = (lo + hi) / 2
        if sum(x / (1.0 - 2.0 * x * t) for x in lam) < q:
            lo = t
        else:
            hi = t
    t = (lo + hi) / 2
    k = -0.5 * sum(math.log(1.0 - 2.0 * x * t) for x in lam)
    k2 = sum(2.0 * x * x / (1.0 - 2.0 * x * t) ** 2 for x in lam)
    w, u = math.sqrt(max(2.0 * (t * q - k), 1e-300)), t * math.sqrt(k2)
    return float(_ndtr(-(w + math.log(u / w) / w)))


def quadratic_form_limit(eigenvalues: Sequence[float], tail: float) -> float:
    """The value that sum(lambda_i chi2_1) exceeds with probability ``tail``."""
    lam = [float(x) for x in eigenvalues if x > 1e-9]
    lo, hi = sum(lam), sum(lam) + 400.0 * max(lam)
    for _ in range(36):
        mid = (lo + hi) / 2
        if _form_tail(lam, mid) > tail:
            lo = mid
        else:
            hi = mid
    return round(hi, 4)


def joint_limit(tail: float, statistics: int) -> float:
    """The chi-square value with ``statistics`` degrees of freedom exceeded with probability ``tail``."""
    return float(_chdtri(statistics, tail)) if tail > 0 else math.inf


def limits(statistics: int, config: DriftConfig) -> tuple[tuple[float, ...], float]:
    """(CUSUM limit per allowance, jump limit) that together keep their part of ``config.false_alarm_rate``
    over all statistics and both directions (Bonferroni: each rule gets its share, divided over the tails);
    the joint rules hold the rest (``joint_tail``)."""
    tails = 2 * max(statistics, 1)
    jump_rate = config.false_alarm_rate * config.jump_share
    ks = allowances(config)
    cusum_rate = config.false_alarm_rate * (1 - config.jump_share - config.joint_share) / len(ks)
    jump = jump_limit(jump_rate / tails) if jump_rate > 0 else math.inf
    return tuple(cusum_limit(tails / cusum_rate, k) for k in ks), jump


def normal_confidence(z: float) -> float:
    """Two-sided confidence that a standardised change of ``z`` is not noise: 1 - p."""
    return 1.0 - math.erfc(abs(z) / math.sqrt(2.0))
