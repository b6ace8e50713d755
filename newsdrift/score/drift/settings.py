"""Drift configuration: every detector and window setting (``DriftConfig``), and the part users tune through
the application settings (``DriftSettings``). Imports nothing of newsdrift, so the settings can derive from it."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_WINDOW_RE = re.compile(r"^(\d+)([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def window_size(name: str) -> timedelta:
    """The length of a window size such as "12h", "1d", "7d" or "1w"."""
    match = _WINDOW_RE.match(name)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"window size must look like 12h, 1d, 7d or 1w, got {name!r}")
    return int(match.group(1)) * _UNIT[match.group(2)]


def _check_shares(jump_share: float, joint_share: float, prefix: str = "") -> None:
    if jump_share + joint_share >= 1:
        raise ValueError(
            f"{prefix}jump_share ({jump_share}) + {prefix}joint_share ({joint_share}) must stay below 1: "
            "the CUSUMs need a part of the false-alarm rate"
        )


class DriftConfig(BaseModel):
    """Drift thresholds and window settings; defaults come from bench/drift_quality.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: tuple[str, ...] = ("1d", "7d")
    """Tumbling window sizes: <n>h, <n>d or <n>w; weeks start on Monday 00:00 UTC."""
    false_alarm_rate: float = Field(default=0.002, gt=0, lt=0.5)
    """Expected false events per window, all statistics and both directions together (the CUSUM limit
    is solved from it: 0.002 is one false event in 500 windows of stable coverage, if the reference holds)."""
    cusum_k: float = Field(default=1.5, gt=0, le=5)
    """CUSUM allowance in standard errors, sized for abrupt shifts: a shift of about 3 standard errors fires
    within two windows (changes smaller than about k per window are left to ``gradual_k``)."""
    reference_windows: int = Field(default=10, ge=3, le=365)
    """Windows learned as the no-change reference after a baseline is loaded and after every event ..."""
    reference_articles: int = Field(default=10, ge=1)
    """... and at least this many articles in them (sparse streams learn over more windows)."""
    reference_lag: int = Field(default=2, ge=0, le=365)
    """While nothing fires, a watched window joins the reference this many windows later (self-starting;
    the lag keeps the start of a slow change out of the reference it is measured against) ..."""
    reference_max_windows: int = Field(default=56, ge=3, le=3650)
    """... until the reference holds this many windows; then the oldest leaves (a rolling reference)."""
    gradual_k: float | None = Field(default=0.75, gt=0, le=5)
    """Allowance of a second CUSUM for slow changes (small steps that ``cusum_k`` lets go add up here);
    None: one CUSUM only. The CUSUMs share the CUSUM part of the false-alarm rate."""
    jump_share: float = Field(default=0.2, ge=0, lt=1)
    """Share of the false-alarm rate given to the one-window jump rule (a window whose |z| alone passes its
    limit fires at once); the rest goes to the CUSUM. 0 turns the jump rule off: on bursty coverage (rare
    frames near 0 on most days, far above on a few) it fires beyond its share (bench/drift_calibration.py)."""
    joint_share: float = Field(default=0.3, ge=0, lt=1)
    """Share of the false-alarm rate given to the joint rules, one per span (the summed squared scores of all
    watched statistics over each span of ``joint_windows``, against limits that allow for their correlation):
    several frames moving a little together fire sooner than any one of them alone. 0 turns them off."""
    joint_windows: tuple[int, ...] = (1, 2, 3, 5)
    """Spans (in windows) of the joint rules; they split ``joint_share`` evenly."""
    min_overdispersion: float = Field(default=1.25, ge=1, le=100)
    """Floor of a window's variance as a multiple of its article-sampling variance: news days differ more
    than article sampling explains, and a few reference windows can hide that by chance."""
    max_step: float = Field(default=3.5, gt=0, le=100)
    """A window's standardised value is clipped to +-max_step (a robust CUSUM: one odd day cannot fire alone)."""
    min_article_var: float = Field(default=0.002, ge=0, le=1)
    """Floor of a statistic's per-article variance (a frame unseen in the reference must not give z = inf)."""
    bootstrap: int = Field(default=200, ge=20, le=5000)
    """Bootstrap resamples of a window's articles for the per-article variance of its frame shares."""
    min_articles: int = Field(default=5, ge=1)
    """A window with fewer articles cannot fire an event on its own (its CUSUM step is capped below the limit)."""
    js_smoothing: float = Field(default=0.1, gt=0)
    """Additive smoothing per term for the JS divergence distributions (damps one-off words)."""
    top_terms: int = Field(default=20, ge=0)
    """Emerging terms kept per window."""
    min_term_freq: int = Field(default=5, ge=1)
    """An emerging term occurs at least this often in the window ..."""
    min_term_docs: int = Field(default=2, ge=1)
    """... in at least this many articles ..."""
    min_keyness: float = Field(default=3.84, ge=0)
    """... with G² at least this (3.84 = p < 0.05; a small baseline gives G² little power) ..."""
    min_log_ratio: float = Field(default=1.0, gt=0)
    """... and at least 2**min_log_ratio times its relative frequency in the baseline."""
    examples_per_window: int = Field(default=3, ge=0)
    """Most novel articles remembered per window, for event explanations."""
    explain_lookback: int = Field(default=7, ge=0)
    """Event explanations prefer terms not already emerging in this many windows before the run."""

    @field_validator("windows")
    @classmethod
    def _windows_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            window_size(name)
        return value

    @field_validator("joint_windows")
    @classmethod
    def _spans_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(span < 1 or span > 60 for span in value):
            raise ValueError(f"joint_windows are spans of 1 to 60 windows, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _shares_fit(self) -> DriftConfig:
        _check_shares(self.jump_share, self.joint_share)
        return self


class DriftSettings(BaseModel):
    """Drift events and windows: the ``DriftConfig`` fields worth tuning per deployment, as ``drift_<field>``.

    The statistical internals (reference lag, joint spans, overdispersion floor, step clip, variance floor,
    bootstrap size, JS smoothing) keep the defaults bench/drift_quality.py calibrated them to."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    drift_windows: tuple[str, ...] = ("1d", "7d")
    """Tumbling window sizes drift is measured over: <n>h, <n>d or <n>w (weeks start on Monday 00:00 UTC)."""
    drift_false_alarm_rate: float = Field(default=0.002, gt=0, lt=0.5)
    """Expected false drift events per window over all statistics (the CUSUM, jump and joint limits come from it)."""
    drift_reference_windows: int = Field(default=10, ge=3, le=365)
    """Windows learned as the no-change reference after a baseline is loaded and after every event."""
    drift_reference_articles: int = Field(default=10, ge=1)
    """Articles the reference windows hold at least (sparse streams learn over more windows)."""
    drift_reference_max_windows: int = Field(default=56, ge=3, le=3650)
    """Windows the rolling reference grows to while nothing fires; then the oldest leaves."""
    drift_cusum_k: float = Field(default=1.5, gt=0, le=5)
    """CUSUM allowance in standard errors per window."""
    drift_gradual_k: float | None = Field(default=0.75, gt=0, le=5)
    """Allowance of a second CUSUM that adds up the small steps of a slow change; None: one CUSUM only."""
    drift_jump_share: float = Field(default=0.2, ge=0, le=0.7)
    """Share of the stated rate for the one-window jump rule; 0 turns it off (bursty coverage, where rare
    frames spike on single days, fires it beyond its share: bench/drift_calibration.py)."""
    drift_joint_share: float = Field(default=0.3, ge=0, lt=1)
    """Share of the stated rate for the joint rules (several frames moving a little together); 0 turns them
    off. With ``drift_jump_share`` it stays below 1: the CUSUMs need the rest."""
    drift_min_articles: int = Field(default=5, ge=1)
    """A window with fewer articles cannot fire an event on its own."""
    drift_top_terms: int = Field(default=20, ge=0)
    """Emerging terms kept per window."""
    drift_min_term_freq: int = Field(default=5, ge=1)
    """An emerging term occurs at least this often in the window ..."""
    drift_min_term_docs: int = Field(default=2, ge=1)
    """... in at least this many articles ..."""
    drift_min_keyness: float = Field(default=3.84, ge=0)
    """... with G² at least this (3.84 = p < 0.05) ..."""
    drift_min_log_ratio: float = Field(default=1.0, gt=0)
    """... and at least 2**drift_min_log_ratio times its relative frequency in the baseline."""
    drift_examples_per_window: int = Field(default=3, ge=0)
    """Most novel articles remembered per window, for event explanations."""
    drift_explain_lookback: int = Field(default=7, ge=0)
    """Event explanations prefer terms not already emerging in this many windows before the event."""

    @field_validator("drift_windows")
    @classmethod
    def _drift_windows_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            window_size(name)
        return value

    @model_validator(mode="after")
    def _drift_shares_fit(self) -> DriftSettings:
        _check_shares(self.drift_jump_share, self.drift_joint_share, "drift_")
        return self

    def drift_config(self) -> DriftConfig:
        """The DriftConfig these settings give; the fields they leave out keep their defaults."""
        return DriftConfig(
            windows=self.drift_windows,
            false_alarm_rate=self.drift_false_alarm_rate,
            reference_windows=self.drift_reference_windows,
            reference_articles=self.drift_reference_articles,
            reference_max_windows=self.drift_reference_max_windows,
            cusum_k=self.drift_cusum_k,
            gradual_k=self.drift_gradual_k,
            jump_share=self.drift_jump_share,
            joint_share=self.drift_joint_share,
            min_articles=self.drift_min_articles,
            top_terms=self.drift_top_terms,
            min_term_freq=self.drift_min_term_freq,
            min_term_docs=self.drift_min_term_docs,
            min_keyness=self.drift_min_keyness,
            min_log_ratio=self.drift_min_log_ratio,
            examples_per_window=self.drift_examples_per_window,
            explain_lookback=self.drift_explain_lookback,
        )
