"""The drift report: rows for a table/JSON and a self-contained HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from newsdrift.score.drift.events import detect_events
from newsdrift.score.drift.report import REPORT_COLUMNS, event_rows, render_report_html, report_rows
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import compute_windows
from newsdrift.score.frames import load_frames

ROOT = Path(__file__).resolve().parents[3]


def _stream_a_windows() -> tuple[list, list]:
    baseline = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    scorer = DriftScorer(baseline, load_frames(), baseline_id="seed-v1")
    with (ROOT / "tests" / "data" / "drift" / "stream_a.jsonl").open(encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh]
    windows = compute_windows(articles, scorer, "1d", DriftConfig())
    return windows, detect_events(windows, DriftConfig())


def test_report_rows_and_html(tmp_path: Path) -> None:
    windows, events = _stream_a_windows()
    rows = report_rows(windows, events)
    assert len(rows) == len(windows)
    assert all(key in rows[0] for key, _ in REPORT_COLUMNS)
    json.dumps(rows)  # --json must serialise as is
    marked = [r for r in rows if r["events"]]
    assert marked and "building" in marked[0]["events"] and any("fired" in r["events"] for r in marked)
    assert json.loads(json.dumps(event_rows(events)))[0]["explanation"] == events[0].explanation

    path = render_report_html(windows, events, tmp_path / "drift.html", title="Stream A")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert "Drift events" in page and "safety_misuse" in page and "Emerging terms" in page
    assert events[0].explanation.splitlines()[1].replace("→", "") in page.replace("→", "")


def test_empty_report(tmp_path: Path) -> None:
    page = render_report_html([], [], tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "No windows to report." in page and "No drift events" in page
    assert report_rows([]) == []
