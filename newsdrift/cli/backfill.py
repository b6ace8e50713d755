"""``newsdrift backfill``: a site's past articles from its sitemaps, or from a list of URLs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json, err_console, print_summary
from newsdrift.errors import NewsdriftError
from newsdrift.settings import get_settings


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        from newsdrift.feeds.catalog import parse_duration

        try:
            return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=parse_duration(value))
        except ValueError:
            raise typer.BadParameter(f"--since: use a date (2026-09-01) or a duration (30d), got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@cli_errors
def backfill(
    sitemap: str | None = typer.Argument(
        None, help="A sitemap URL, or a site URL (its sitemaps are found in robots.txt or at /sitemap.xml)."
    ),
    urls: Path | None = typer.Option(None, "--urls", help="A file with one article URL per line instead."),
    since: str | None = typer.Option(
        None, help="Only sitemap URLs with lastmod on or after this date (2026-09-01) or within this age (30d)."
    ),
    limit: int = typer.Option(1000, min=1, max=100_000, help="At most this many URLs."),
    source: str | None = typer.Option(None, help="Outlet name stored on the articles (default: the host)."),
    as_json: bool = JsonOption,
) -> None:
    """Index a site's past articles through the same pipeline as feeds, politely (robots.txt, per-host pacing)."""
    from newsdrift.run.backfill import entries_for, read_sitemaps, run_backfill
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

    if (sitemap is None) == (urls is None):
        raise NewsdriftError("give a sitemap (or site) URL, or --urls FILE (one of them)")
    settings = get_settings()
    cutoff = _since(since)
    found: dict[str, object] = {}
    if urls is not None:
        try:
            lines = urls.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise NewsdriftError(f"cannot read {urls}: {exc.strerror}") from None
        wanted = [u.strip() for u in lines if u.strip() and not u.lstrip().startswith("#")]
        pairs: list[tuple[str, datetime | None]] = [(u, None) for u in wanted[:limit]]
        origin = f"file:{urls.resolve()}"
    else:
        assert sitemap is not None
        with err_console.status(f"reading sitemaps at {sitemap}..."):
            result = asyncio.run(read_sitemaps(sitemap, settings, cutoff, limit))
        pairs, origin = result.urls, sitemap
        found = {"sitemaps": result.sitemaps, "skipped_old": result.skipped_old, "problems": result.problems}
    entries = entries_for(pairs, origin, source)
    client = connect(settings)
    apply_templates(client, IndexNames(settings.index_prefix))
    summary = run_backfill(settings, client, entries)
    data = {"urls": len(entries), **found, **summary.to_json()}
    if as_json:
        emit_json(data)
        return
    if found:
        console.print(
            f"{len(found['sitemaps'])} sitemap(s), {len(entries)} URL(s)"  # type: ignore[arg-type]
            + (f", {found['skipped_old']} older than --since skipped" if cutoff else "")
        )
    print_summary(summary)
