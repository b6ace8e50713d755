"""``newsdrift feeds status|add|import|export``: feed health, and sources in and out of the feeds file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json
from newsdrift.errors import NewsdriftError
from newsdrift.settings import get_settings

feeds_app = typer.Typer(help="Feed health and configuration.", no_args_is_help=True)

FileOption = typer.Option(
    None, "--feeds", help="Feeds file to edit; default NEWSDRIFT_FEEDS_FILE or config/feeds.yaml."
)
LinesJsonOption = typer.Option(False, "--json", help="Print one JSON object instead of lines.")


def _path(feeds_file: Path | None) -> Path:
    return Path(feeds_file) if feeds_file else Path(get_settings().feeds_path)


def _report(added, skipped, path: Path, as_json: bool) -> None:
    if as_json:
        data = {
            "file": str(path),
            "added": [{"name": f.name, "url": f.url, "tags": list(f.tags)} for f in added],
            "skipped": [{"name": f.name, "url": f.url, "reason": why} for f, why in skipped],
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for f in added:
        console.print(f"[green]added[/] {f.name} <{f.url}>")
    for f, why in skipped:
        console.print(f"[dim]skipped {f.name} <{f.url}>: {why}[/]")
    console.print(f"{len(added)} feed(s) added to {path}")


@feeds_app.command("status")
@cli_errors
def status(as_json: bool = JsonOption) -> None:
    """Per-feed health: last success, consecutive failures, last error, counters."""
    from newsdrift.feeds.state import all_states
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames

    s = get_settings()
    states = all_states(connect(s), IndexNames(s.index_prefix))
    if as_json:
        emit_json(states)
        return
    table = Table(title="feeds")
    for col in ("name", "health", "last success", "failures", "seen", "dropped", "indexed", "last error"):
        table.add_column(col, overflow="fold")
    for st in states:
        colour = {"ok": "green", "degraded": "yellow"}.get(st.get("health", ""), "red")
        dropped = str(st.get("entries_dropped", 0))
        if st.get("dropped_reasons"):
            dropped += f" ({st['dropped_reasons'][0]}{', ...' if len(st['dropped_reasons']) > 1 else ''})"
        table.add_row(
            st.get("name", ""),
            f"[{colour}]{st.get('health', '?')}[/]",
            str(st.get("last_success_at", "never"))[:19],
            str(st.get("consecutive_failures", 0)),
            str(st.get("entries_seen", 0)),
            dropped,
            str(st.get("articles_indexed", 0)),
            st.get("last_error", "") if st.get("consecutive_failures") else "",
        )
    console.print(f"{len(states)} feeds")
    console.print(table)


@feeds_app.command("add")
@cli_errors
def add(
    url: str = typer.Argument(..., help="A site's page (its feeds are discovered) or a feed URL."),
    name: str | None = typer.Option(None, help="Name of the feed (default: the feed's title)."),
    tags: list[str] = typer.Option([], "--tag", help="Tag copied onto its articles (repeatable)."),
    feeds_file: Path | None = FileOption,
    as_json: bool = LinesJsonOption,
) -> None:
    """Find a site's feeds (trafilatura's feed discovery: <link rel=alternate> and feed links) and add them."""
    from newsdrift.feeds.catalog import Feed
    from newsdrift.feeds.discovery import add_feeds, discover

    settings = get_settings()
    with console.status(f"looking for feeds at {url}..."):
        found = asyncio.run(discover(url, settings))
    if not found:
        raise NewsdriftError(f"no feed found at {url} (neither a feed nor a page announcing one)")
    feeds = [Feed(url=f.url, name=(name if len(found) == 1 and name else f.title), tags=tags) for f in found]
    path = _path(feeds_file)
    added, skipped = add_feeds(path, feeds)
    _report(added, skipped, path, as_json)


@feeds_app.command("import")
@cli_errors
def import_opml(
    opml: Path = typer.Argument(..., help="An OPML file exported by a feed reader."),
    feeds_file: Path | None = FileOption,
    as_json: bool = LinesJsonOption,
) -> None:
    """Add every feed of an OPML file (folders and categories become tags); known URLs are skipped."""
    from newsdrift.feeds.discovery import add_feeds, read_opml

    feeds = read_opml(opml)
    path = _path(feeds_file)
    added, skipped = add_feeds(path, feeds)
    _report(added, skipped, path, as_json)


@feeds_app.command("export")
@cli_errors
def export_opml(
    opml: bool = typer.Option(True, "--opml", help="OPML 2.0 (the format feed readers import)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    feeds_file: Path | None = FileOption,
) -> None:
    """Write the configured feeds as OPML, for a feed reader or another newsdrift."""
    from newsdrift.feeds.catalog import load_feeds
    from newsdrift.feeds.discovery import write_opml

    text = write_opml(load_feeds(_path(feeds_file)))
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        sys.stdout.write(text)
