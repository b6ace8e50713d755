"""Detection quality on the labelled streams in tests/data/drift (see generate_streams.py there).

Stream A turns from openness/innovation coverage to security-and-misuse coverage
at a known date: with the default thresholds an event must fire within two
windows of the shift and never before it. Stream B has no shift: no event.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from newsdrift.clock import as_utc as utc
from newsdrift.detection.drift import DriftConfig, DriftScorer, compute_windows, detect_events
from newsdrift.detection.frames import load_frames

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "drift"


@cache
def scorer() -> DriftScorer:
    baseline = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    return DriftScorer(baseline, load_frames(), baseline_id="seed-v1")


@cache
def stream(name: str) -> tuple[list[dict[str, Any]], datetime | None]:
    meta = json.loads((DATA / "streams.json").read_text(encoding="utf-8"))["streams"][name]
    with (DATA / meta["file"]).open(encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh]
    for a in articles:  # as the pipeline would have indexed them
        a["frame_scores"] = scorer().score(a["text"]).frame_scores
    return articles, (utc(meta["shift_at"]) if meta["shift_at"] else None)


def test_streams_are_labelled_as_documented() -> None:
    a, shift = stream("a")
    b, none = stream("b")
    assert shift is not None and none is None
    assert {x["regime"] for x in a if utc(x["published_at"]) < shift} == {"normal"}
    assert {x["regime"] for x in a if utc(x["published_at"]) >= shift} == {"shifted"}
    assert {x["regime"] for x in b} == {"normal"}
    assert len(a) > 500 and len(b) > 500


@pytest.mark.parametrize("window", ["1d", "7d"])
def test_stream_a_fires_within_two_windows_after_the_shift_and_never_before(window: str) -> None:
    articles, shift = stream("a")
    assert shift is not None
    windows = compute_windows(articles, scorer(), window, DriftConfig())
    events = detect_events(windows, DriftConfig())
    assert events, "the shift was not detected"
    assert all(e.window_start >= shift for e in events), [(e.metric, e.window_start) for e in events]
    after = [w.window_start for w in windows if w.window_start >= shift]
    first = min(e.fired_window_start for e in events)
    assert after.index(first) + 1 <= 2  # fired at the end of the 1st or 2nd window after the shift
    fired = next(e for e in events if e.fired_window_start == first)
    assert "safety_misuse" in fired.explanation.split("Frames that grew:")[1].split("\n")[0]
    assert len(fired.example_article_ids) == 3
    # no flapping: at most one event per metric for the one shift
    assert len({e.metric for e in events}) == len(events)


@pytest.mark.parametrize("window", ["1d", "7d"])
def test_stream_b_never_fires(window: str) -> None:
    articles, _ = stream("b")
    windows = compute_windows(articles, scorer(), window, DriftConfig())
    assert len(windows) >= 8
    assert detect_events(windows, DriftConfig()) == []
