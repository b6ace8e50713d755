"""``newsdrift feeds add | import | export``: sources in and out of the feeds file (registered by cli.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from newsdrift.cli.support import cli_errors
from newsdrift.errors import NewsdriftError
from newsdrift.settings import get_settings

console = Console()
FileOption = typer.Option(
    None, "--feeds", help="Feeds file to edit; default NEWSDRIFT_FEEDS_FILE or config/feeds.yaml."
)


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


def register(feeds_app: typer.Typer) -> None:
    @feeds_app.command("add")
    @cli_errors
    def feeds_add(
        url: str = typer.Argument(..., help="A site's page (its feeds are discovered) or a feed URL."),
        name: str | None = typer.Option(None, help="Name of the feed (default: the feed's title)."),
        tags: list[str] = typer.Option([], "--tag", help="Tag copied onto its articles (repeatable)."),
        feeds_file: Path | None = FileOption,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of lines."),
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
    def feeds_import(
        opml: Path = typer.Argument(..., help="An OPML file exported by a feed reader."),
        feeds_file: Path | None = FileOption,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of lines."),
    ) -> None:
        """Add every feed of an OPML file (folders and categories become tags); known URLs are skipped."""
        from newsdrift.feeds.discovery import add_feeds, read_opml

        feeds = read_opml(opml)
        path = _path(feeds_file)
        added, skipped = add_feeds(path, feeds)
        _report(added, skipped, path, as_json)

    @feeds_app.command("export")
    @cli_errors
    def feeds_export(
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
