"""Detection quality on the labelled streams in tests/data/drift (see generate_streams.py there).

Stream A turns from openness/innovation coverage to security-and-misuse coverage
at a known date: with the default change detector an event must fire within
three windows of the shift and never before it. Stream B has no shift: no event.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from newsdrift.clock import as_utc as utc
from newsdrift.score.drift.events import detect_events
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import compute_windows
from newsdrift.score.frames import load_frames

ROOT = Path(__file__).resolve().parents[3]
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


def test_stream_a_fires_within_two_windows_after_the_shift_and_never_before() -> None:
    articles, shift = stream("a")
    assert shift is not None
    windows = compute_windows(articles, scorer(), "1d", DriftConfig())
    events = detect_events(windows, DriftConfig())
    assert events, "the shift was not detected"
    assert all(e.fired_window_start >= shift for e in events), [(e.frame, e.fired_window_start) for e in events]
    after = [w.window_start for w in windows if w.window_start >= shift]
    first = min(e.fired_window_start for e in events)
    assert after.index(first) + 1 <= 3  # fired at the end of the 1st, 2nd or 3rd window after the shift
    moved = {(e.frame, e.direction) for e in events if e.fired_window_start == first}
    assert ("safety_misuse", 1) in moved, moved  # the frame the generator moved, in the right direction
    fired = next(e for e in events if e.frame == "safety_misuse")
    assert fired.delta > 0.15 and fired.confidence > 0.99 and len(fired.example_article_ids) == 3
    # no flapping: at most one event per statistic for the one shift
    assert len({(e.metric, e.frame) for e in events}) == len(events)


def test_stream_b_never_fires() -> None:
    articles, _ = stream("b")
    windows = compute_windows(articles, scorer(), "1d", DriftConfig())
    assert len(windows) >= 50
    assert detect_events(windows, DriftConfig()) == []


def test_weekly_windows_wait_for_their_reference_period() -> None:
    # Eight weekly windows are fewer than the reference period (10 windows): no event can be calibrated yet.
    for name in ("a", "b"):
        articles, _ = stream(name)
        windows = compute_windows(articles, scorer(), "7d", DriftConfig())
        assert len(windows) == 8 and DriftConfig().reference_windows > 8
        assert detect_events(windows, DriftConfig()) == []
