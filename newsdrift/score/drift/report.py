"""Drift report: rows for a terminal table or JSON, and a self-contained HTML page with inline SVG charts.

The page loads nothing from the network (no scripts, fonts or CDNs), so it can
be mailed or archived as a single file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from newsdrift.score.drift.events import DriftEvent
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowRecord, WindowSpec

REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("window_start", "Window"),
    ("articles", "Articles"),
    ("js_divergence", "JS div."),
    ("frame_shift", "Frame shift"),
    ("centroid_shift", "Centroid shift"),
    ("mean_similarity", "Mean sim."),
    ("top_frame", "Top frame"),
    ("biggest_move", "Biggest move vs baseline"),
    ("emerging_terms", "Emerging terms"),
    ("events", "Events"),
)
"""(row key, header) in display order, for ``rich.table.Table``."""

PALETTE = ("#4e79a7", "#e15759", "#76b7b2", "#f28e2b", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
METRIC_COLOURS = {"js_divergence": "#1f3b73", "frame_shift": "#c0392b", "centroid_shift": "#8e8e8e"}
EVENT_NAMES = {"vocabulary_shift": "Vocabulary change", "frame_shift": "Frame share change"}
METRIC_NAMES = {
    "js_divergence": "JS divergence",
    "frame_shift": "Frame shift (TVD)",
    "centroid_shift": "Centroid shift",
}


def _day(when: datetime, window: str = "1d") -> str:
    return when.strftime("%Y-%m-%d %H:%M" if window.endswith("h") else "%Y-%m-%d")


def report_rows(windows: Sequence[WindowRecord], events: Sequence[DriftEvent] = ()) -> list[dict[str, Any]]:
    """One JSON-friendly row per window, oldest first; keys are those of ``REPORT_COLUMNS``."""
    rows = []
    for w in sorted(windows, key=lambda w: w.window_start):
        top = max(w.frame_shares, key=lambda f: (w.frame_shares[f], f), default="")
        move = max(w.frame_shares, key=lambda f: (abs(w.share_delta(f)), f), default="")
        marks = []
        for e in events:
            if e.window != w.window or not (e.window_start <= w.window_start < e.window_end):
                continue
            if w.window_start < e.fired_window_start:
                state = "building"  # part of the triggering run, before it fired
            else:
                state = "fired" if w.window_start == e.fired_window_start else "ongoing"
            marks.append(f"{e.metric}{':' + e.frame if e.frame else ''} {state}")
        rows.append(
            {
                "window": w.window,
                "window_start": _day(w.window_start, w.window),
                "window_end": _day(w.window_end, w.window),
                "articles": w.article_count,
                "js_divergence": round(w.js_divergence, 3),
                "frame_shift": round(w.frame_shift, 3),
                "centroid_shift": round(w.centroid_shift, 3),
                "mean_similarity": round(w.mean_baseline_similarity, 3),
                "mean_novelty": round(w.mean_novelty, 3),
                "top_frame": f"{top} {w.frame_shares.get(top, 0.0):.0%}" if top else "",
                "biggest_move": f"{move} {100 * w.share_delta(move):+.0f} pts" if move else "",
                "emerging_terms": ", ".join(t.term for t in w.emerging_terms[:3]),
                "events": "; ".join(marks),
                "frame_shares": {f: round(s, 4) for f, s in w.frame_shares.items()},
            }
        )
    return rows


def event_rows(events: Sequence[DriftEvent]) -> list[dict[str, Any]]:
    """One JSON-friendly row per event, oldest first."""
    return [
        {
            "event_id": e.event_id,
            "metric": e.metric,
            "frame": e.frame,
            "direction": "up" if e.direction > 0 else "down",
            "reference": round(e.reference, 4),
            "delta": round(e.delta, 4),
            "ci95": [round(e.ci_low, 4), round(e.ci_high, 4)],
            "confidence": round(e.confidence, 4),
            "false_alarm_rate": e.false_alarm_rate,
            "window": e.window,
            "first_window": _day(e.window_start, e.window),
            "fired_window": _day(e.fired_window_start, e.window),
            "until": _day(e.window_end, e.window),
            "open": e.open,
            "value": round(e.value, 3),
            "peak": round(e.peak, 3),
            "threshold": e.threshold,
            "consecutive_windows": e.consecutive_windows,
            "example_article_ids": list(e.example_article_ids),
            "explanation": e.explanation,
        }
        for e in sorted(events, key=lambda e: (e.window_start, e.metric))
    ]


# --------------------------------------------------------------------------- SVG helpers


class _Axes:
    """Maps window index/time and value to SVG coordinates inside a padded plot area."""

    def __init__(self, starts: Sequence[datetime], step: float, y_max: float, width: int, height: int) -> None:
        self.left, self.right, self.top, self.bottom = 56, 16, 14, 30
        self.width, self.height = width, height
        self.t0 = starts[0].timestamp() if starts else 0.0
        self.t1 = (starts[-1].timestamp() + step) if starts else 1.0
        self.y_max = y_max or 1.0

    def x(self, when: datetime | float) -> float:
        t = when.timestamp() if isinstance(when, datetime) else when
        span = (self.width - self.left - self.right) / max(self.t1 - self.t0, 1.0)
        return self.left + (t - self.t0) * span

    def y(self, value: float) -> float:
        return self.top + (1 - value / self.y_max) * (self.height - self.top - self.bottom)

    def frame(self, y_label: str, y_fmt: str = "{:.2f}") -> list[str]:
        out = []
        for i in range(6):
            v = self.y_max * i / 5
            y = self.y(v)
            out.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'class="grid"/><text x="{self.left - 6}" y="{y + 4:.1f}" class="tick" '
                f'text-anchor="end">{y_fmt.format(v)}</text>'
            )
        out.append(
            f'<text x="14" y="{(self.top + self.height - self.bottom) / 2:.0f}" class="axis" '
            f'transform="rotate(-90 14 {(self.top + self.height - self.bottom) / 2:.0f})" '
            f'text-anchor="middle">{escape(y_label)}</text>'
        )
        return out

    def time_ticks(self, starts: Sequence[datetime]) -> list[str]:
        if not starts:
            return []
        every = max(1, len(starts) // 10)
        out = []
        for w in starts[::every]:
            x = self.x(w)
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.height - self.bottom}" '
                f'y2="{self.height - self.bottom + 4}" class="axisline"/>'
                f'<text x="{x:.1f}" y="{self.height - self.bottom + 17}" class="tick" '
                f'text-anchor="middle">{w:%b %d}</text>'
            )
        out.append(
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{self.height - self.bottom}" '
            f'y2="{self.height - self.bottom}" class="axisline"/>'
        )
        return out


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )


def _event_spans(ax: _Axes, events: Sequence[DriftEvent], height: int) -> list[str]:
    out = []
    for e in events:
        x0, x1 = ax.x(e.window_start), ax.x(e.window_end)
        xf = ax.x(e.fired_window_start + WindowSpec.parse(e.window).size)  # it fires as that window closes
        out.append(
            f'<rect x="{x0:.1f}" y="{ax.top}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{height - ax.top - ax.bottom}" class="span">'
            f"<title>{escape(EVENT_NAMES.get(e.metric, e.metric))} event from {e.window_start:%Y-%m-%d}"
            f"</title></rect>"
        )
        out.append(f'<line x1="{xf:.1f}" x2="{xf:.1f}" y1="{ax.top}" y2="{height - ax.bottom}" class="fired"/>')
    return out


def divergence_chart(
    windows: Sequence[WindowRecord],
    events: Sequence[DriftEvent],
    config: DriftConfig,
    width: int = 1100,
    height: int = 300,
) -> str:
    """JS divergence, frame shift and centroid shift per window (levels vs the seed baseline), with events.

    Events fire on calibrated change against a reference period, not on these levels, so no fixed
    threshold is drawn."""
    starts = [w.window_start for w in windows]
    step = (windows[0].window_end - windows[0].window_start).total_seconds() if windows else 86400.0
    values = {m: [w.metric(m) for w in windows] for m in METRIC_COLOURS}
    top = max([0.05, *[v for vs in values.values() for v in vs]])
    nice = next(v for v in (0.1, 0.2, 0.25, 0.5, 0.75, 1.0) if v >= min(top * 1.1, 1.0))  # round tick labels
    ax = _Axes(starts, step, nice, width, height)
    body = ax.frame("divergence from baseline") + _event_spans(ax, events, height)
    half = step / 2
    for metric, colour in METRIC_COLOURS.items():
        pts = [(ax.x(w.window_start.timestamp() + half), ax.y(v)) for w, v in zip(windows, values[metric], strict=True)]
        style = 'stroke-width="1.4" stroke-dasharray="4 3"' if metric == "centroid_shift" else 'stroke-width="2.2"'
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" {style}/>')
        for (x, y), w, v in zip(pts, windows, values[metric], strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"><title>'
                f"{_day(w.window_start, w.window)} {METRIC_NAMES[metric]} {v:.3f} "
                f"({w.article_count} articles)</title></circle>"
            )
    body += ax.time_ticks(starts)
    return _svg(width, height, body, "divergence over time")


def frame_chart(windows: Sequence[WindowRecord], width: int = 1100, height: int = 320) -> tuple[str, list[str]]:
    """100% stacked areas of frame shares per window, with the baseline profile as the left-hand bar."""
    frames = sorted({f for w in windows for f in w.frame_shares} | {f for w in windows for f in w.baseline_shares})
    starts = [w.window_start for w in windows]
    step = (windows[0].window_end - windows[0].window_start).total_seconds() if windows else 86400.0
    ax = _Axes(starts, step, 1.0, width, height)
    ax.left = 132  # room for the baseline bar left of the tick labels
    body = ax.frame("share of frame weight", "{:.0%}")
    base = windows[-1].baseline_shares if windows else {}
    lower = [0.0] * len(windows)
    half = step / 2
    xs = [ax.x(w.window_start.timestamp() + half) for w in windows]
    if windows:  # flat ends so the areas fill the whole window span
        xs[0], xs[-1] = ax.x(windows[0].window_start), ax.x(windows[-1].window_end)
    b_lower = 0.0
    for i, f in enumerate(frames):
        colour = PALETTE[i % len(PALETTE)]
        upper = [lo + w.frame_shares.get(f, 0.0) for lo, w in zip(lower, windows, strict=True)]
        top_pts = [f"{x:.1f},{ax.y(u):.1f}" for x, u in zip(xs, upper, strict=True)]
        bottom_pts = [f"{x:.1f},{ax.y(lo):.1f}" for x, lo in zip(reversed(xs), reversed(lower), strict=True)]
        body.append(
            f'<polygon points="{" ".join(top_pts + bottom_pts)}" fill="{colour}" opacity="0.88">'
            f"<title>{escape(f)}</title></polygon>"
        )
        share = base.get(f, 0.0)
        y0, y1 = ax.y(b_lower + share), ax.y(b_lower)
        body.append(
            f'<rect x="40" y="{y0:.1f}" width="30" height="{max(y1 - y0, 0):.1f}" fill="{colour}">'
            f"<title>baseline {escape(f)} {share:.0%}</title></rect>"
        )
        b_lower += share
        lower = upper
    body.append(f'<text x="55" y="{height - ax.bottom + 17}" class="tick" text-anchor="middle">baseline</text>')
    for x, w in zip(xs, windows, strict=True):
        tip = "; ".join(f"{f} {w.frame_shares.get(f, 0.0):.0%}" for f in frames)
        body.append(
            f'<rect x="{x - 3:.1f}" y="{ax.top}" width="6" height="{height - ax.top - ax.bottom}" '
            f'fill="transparent"><title>{_day(w.window_start, w.window)}: {escape(tip)}</title></rect>'
        )
    body += ax.time_ticks(starts)
    return _svg(width, height, body, "frame shares over time"), list(frames)


def count_chart(windows: Sequence[WindowRecord], width: int = 1100, height: int = 110) -> str:
    """Articles per window, so thin windows are visible next to their metrics."""
    starts = [w.window_start for w in windows]
    step = (windows[0].window_end - windows[0].window_start).total_seconds() if windows else 86400.0
    peak = max((w.article_count for w in windows), default=1)
    ax = _Axes(starts, step, float(peak), width, height)
    ax.top = 8
    body = []
    for w in windows:
        x0, x1 = ax.x(w.window_start), ax.x(w.window_end)
        y = ax.y(w.article_count)
        body.append(
            f'<rect x="{x0 + 1:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 2, 1):.1f}" '
            f'height="{height - ax.bottom - y:.1f}" class="bar"><title>{_day(w.window_start, w.window)}: '
            f"{w.article_count} articles</title></rect>"
        )
    body.append(f'<text x="{ax.left - 6}" y="{ax.y(peak) + 4:.1f}" class="tick" text-anchor="end">{peak}</text>')
    body += ax.time_ticks(starts)
    return _svg(width, height, body, "articles per window")


# --------------------------------------------------------------------------- page

_CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2330;margin:0;
background:#f5f6f8}
main{max-width:1140px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6475;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:12px}
.panel{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:10px 12px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:#39414f;margin:6px 0 0 4px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend i.ln{height:3px;vertical-align:3px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e4e7ec;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.chip{display:inline-block;background:#eef1f5;border-radius:10px;padding:1px 8px;margin:1px 3px 1px 0}
.chip small{color:#5b6475}
.event{background:#fff;border:1px solid #dde1e8;border-left:5px solid #c0392b;border-radius:6px;
padding:10px 14px;margin:10px 0}
.event.vocabulary_shift{border-left-color:#1f3b73}
.event h3{margin:0 0 4px;font-size:15px}.event .meta{color:#5b6475;font-size:12px;margin-bottom:6px}
.event p{white-space:pre-wrap;margin:0}
.grid{stroke:#e6e9ee}.axisline{stroke:#9aa3b2}.tick{font-size:11px;fill:#5b6475}.axis{font-size:12px;fill:#39414f}
.thr{stroke-dasharray:6 4;stroke-width:1.3}.rel{stroke-dasharray:2 4;stroke-width:1.2}
.span{fill:#f6c453;opacity:.22}.fired{stroke:#b9770e;stroke-width:1.5}.bar{fill:#9fb3cf}
.empty{color:#5b6475;font-style:italic}
"""


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i class="{"ln" if line else ""}" style="background:{c}"></i>{escape(label)}</span>'
            for label, c, line in items
        )
        + "</div>"
    )


def _terms_table(windows: Sequence[WindowRecord], limit: int = 14) -> str:
    recent = sorted(windows, key=lambda w: w.window_start)[-limit:][::-1]
    rows = []
    for w in recent:
        chips = (
            "".join(
                f'<span class="chip">{escape(t.term)} <small>×{t.count} · G² {t.keyness:.1f} · '
                f"LR {t.log_ratio:+.1f}</small></span>"
                for t in w.emerging_terms[:8]
            )
            or '<span class="empty">none</span>'
        )
        rows.append(f"<tr><td>{_day(w.window_start, w.window)}</td><td>{w.article_count}</td><td>{chips}</td></tr>")
    return (
        "<table><thead><tr><th>Window</th><th>Articles</th><th>Emerging terms vs baseline "
        "(count · G² keyness · log₂ ratio)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _events_html(events: Sequence[DriftEvent]) -> str:
    if not events:
        return '<p class="empty">No drift events in this period.</p>'
    out = []
    for e in sorted(events, key=lambda e: (e.window_start, e.metric), reverse=True):
        state = "open" if e.open else "closed"
        out.append(
            f'<div class="event {escape(e.metric)}"><h3>{escape(EVENT_NAMES.get(e.metric, e.metric))}'
            f"{' · ' + escape(e.frame) if e.frame else ''} {'up' if e.direction > 0 else 'down'} · "
            f"{e.window} windows from {_day(e.window_start, e.window)}</h3>"
            f'<div class="meta">{state} · fired on the window of {_day(e.fired_window_start, e.window)} · '
            f"change {e.delta:+.3f} (95% {e.ci_low:+.3f} to {e.ci_high:+.3f}) from reference {e.reference:.3f}, "
            f"confidence {100 * e.confidence:.1f}% · statistic {e.peak:.2f} past limit {e.threshold:.2f} "
            f"(false-alarm rate {e.false_alarm_rate:g}/window) · "
            f"{e.consecutive_windows} windows · id <code>{escape(e.event_id[:12])}</code></div>"
            f"<p>{escape(e.explanation)}</p></div>"
        )
    return "".join(out)


def render_report_html(
    windows: Sequence[WindowRecord],
    events: Sequence[DriftEvent],
    path: str | Path,
    *,
    config: DriftConfig | None = None,
    title: str = "Narrative drift report",
) -> Path:
    """Write the report page for one baseline and one window size; returns the path."""
    config = config or DriftConfig()
    windows = sorted(windows, key=lambda w: w.window_start)
    events = [e for e in events if not windows or e.window == windows[0].window]
    path = Path(path)
    if windows:
        first, last = windows[0], windows[-1]
        sub = (
            f"Baseline <b>{escape(first.baseline_id)}</b> · {escape(first.window)} windows · "
            f"{_day(first.window_start, first.window)} to {_day(last.window_end, last.window)} (UTC)"
        )
        frame_svg, frames = frame_chart(windows)
        charts = (
            f'<h2>Divergence over time</h2><div class="panel">{divergence_chart(windows, events, config)}'
            + _legend(
                [(METRIC_NAMES[m], c, True) for m, c in METRIC_COLOURS.items()]
                + [("event (shaded; line = window it fired)", "#f6c453", False)]
            )
            + '<div class="legend">Levels against the seed baseline; events fire on calibrated change '
            f"against a reference period (CUSUM, jump and joint rules, at most {config.false_alarm_rate:g} false "
            "events per window)</div></div>"
            f'<h2>Frame shares over time</h2><div class="panel">{frame_svg}'
            + _legend([(f, PALETTE[i % len(PALETTE)], False) for i, f in enumerate(frames)])
            + "</div>"
            f'<h2>Articles per window</h2><div class="panel">{count_chart(windows)}</div>'
        )
        open_events = sum(e.open for e in events)
        cards = [
            (str(len(windows)), "windows"),
            (str(sum(w.article_count for w in windows)), "articles"),
            (str(len(events)), f"events ({open_events} open)"),
            (f"{last.js_divergence:.3f}", "latest JS div."),
            (f"{last.frame_shift:.3f}", "latest frame shift"),
            (f"{last.mean_baseline_similarity:.3f}", "latest mean similarity"),
        ]
    else:
        sub, charts, cards = "No windows to report.", "", []
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head><body><main>'
        f'<h1>{escape(title)}</h1><p class="sub">{sub}</p>'
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{v}</b><span>{escape(k)}</span></div>' for v, k in cards)
        + "</div>"
        + charts
        + f"<h2>Drift events</h2>{_events_html(events)}"
        + f"<h2>Emerging terms (latest windows)</h2>{_terms_table(windows)}"
        + "</main></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path
