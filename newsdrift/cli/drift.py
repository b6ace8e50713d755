"""``newsdrift baseline load|list`` and ``newsdrift drift update|report``: narrative drift against a baseline."""

from __future__ import annotations

import typer
from rich.table import Table

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json, err_console
from newsdrift.errors import NewsdriftError
from newsdrift.settings import Settings, get_settings

baseline_app = typer.Typer(help="Baselines: the reference corpus drift is measured against.", no_args_is_help=True)
drift_app = typer.Typer(help="Narrative drift against the baseline: windows, events, reports.", no_args_is_help=True)


@baseline_app.command("load")
@cli_errors
def baseline_load(
    sources: list[str] = typer.Argument(None, help="Files, folders or URLs (default: the shipped baseline/)."),
    name: str = typer.Option("seed", help="Baseline name; versions are <name>-v1, -v2, ..."),
    as_json: bool = JsonOption,
) -> None:
    """Process documents like articles and index them as a new, versioned baseline (idempotent)."""
    from newsdrift.score import baseline
    from newsdrift.score.frames import load_frames
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

    s = get_settings()
    client = connect(s)
    names = IndexNames(s.index_prefix)
    apply_templates(client, names)
    docs, failures = baseline.read_documents(sources or [str(s.baseline_dir)], s)
    for f in failures:
        err_console.print(f"[yellow]skipped[/] {f.where}: {f.reason}")
    if not docs:
        raise NewsdriftError("no baseline document could be read")
    result = baseline.load(client, names, docs, name=name, frames=load_frames(s.frames_path))
    data = {
        "baseline_id": result.baseline_id,
        "created": result.created,
        "documents": result.documents,
        "failures": [f.to_dict() for f in failures + result.failures],
    }
    if as_json:
        emit_json(data)
        return
    verb = "loaded" if result.created else "already loaded (same documents)"
    console.print(f"baseline [bold]{result.baseline_id}[/] {verb}: {result.documents} document(s)")
    if result.created and result.baseline_id != s.baseline_id:
        console.print(f"measure drift against it with NEWSDRIFT_BASELINE_ID={result.baseline_id}")


@baseline_app.command("list")
@cli_errors
def baseline_list(as_json: bool = JsonOption) -> None:
    """Stored baselines and their document counts."""
    from newsdrift.score import baseline
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames

    s = get_settings()
    rows = baseline.list_baselines(connect(s), IndexNames(s.index_prefix))
    if as_json:
        emit_json(rows)
        return
    table = Table(title="baselines")
    for col in ("baseline id", "documents", "loaded at", "in use"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["baseline_id"],
            str(r["documents"]),
            str(r["loaded_at"])[:19],
            "yes" if r["baseline_id"] == s.baseline_id else "",
        )
    console.print(table)


def _drift_store(s: Settings):
    from newsdrift.errors import NewsdriftError
    from newsdrift.score.drift.store import open_drift_store
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

    client = connect(s)
    names = IndexNames(s.index_prefix)
    apply_templates(client, names)
    store = open_drift_store(s, client, names)
    if store is None:
        raise NewsdriftError(f"baseline {s.baseline_id} has no text to measure drift against (newsdrift baseline load)")
    return store


@drift_app.command("update")
@cli_errors
def drift_update(as_json: bool = JsonOption) -> None:
    """Recompute every drift window and event against the current baseline (after a baseline change)."""
    result = _drift_store(get_settings()).backfill()
    data = {
        "windows": len(result.windows),
        "windows_removed": len(result.windows_removed),
        "docs_written": result.docs_written,
        "events": len(result.events),
        "failures": [f.to_dict() for f in result.failures],
    }
    if as_json:
        emit_json(data)
    else:
        console.print(f"{data['windows']} window(s) recomputed, {data['events']} event(s) detected")


@drift_app.command("report")
@cli_errors
def drift_report(
    window: str = typer.Option("1d", help="Window size, e.g. 1d or 7d."),
    since: str | None = typer.Option(None, help="Only windows from this date (YYYY-MM-DD)."),
    html: str | None = typer.Option(None, "--html", help="Also write a self-contained HTML page with charts."),
    as_json: bool = JsonOption,
) -> None:
    """Drift windows and events as a table, JSON or an HTML page."""
    from newsdrift.score.drift.report import REPORT_COLUMNS, event_rows, render_report_html, report_rows

    s = get_settings()
    store = _drift_store(s)
    windows = store.load_windows(window, since=since)
    events = store.load_events(window, since=since)
    if html:
        path = render_report_html(
            windows, events, html, config=store.config, title=f"newsdrift: drift vs {s.baseline_id} ({window} windows)"
        )
        err_console.print(f"wrote {path}")
    rows = report_rows(windows, events)
    if as_json:
        emit_json({"baseline_id": s.baseline_id, "window": window, "windows": rows, "events": event_rows(events)})
        return
    table = Table(title=f"drift vs {s.baseline_id}, {window} windows")
    for _, header in REPORT_COLUMNS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(key, "")) for key, _ in REPORT_COLUMNS))
    console.print(table)
    for e in event_rows(events):
        console.print(f"[bold red]event[/] {e['metric']} from {e['first_window']}:\n{e['explanation']}\n")
    if not windows:
        console.print("no drift windows yet: run `newsdrift run` first")
