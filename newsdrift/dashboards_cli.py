"""``newsdrift dashboards ...``: a typer sub-app.

Registered in the main CLI with ``app.add_typer(dashboards_app, name="dashboards")``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newsdrift.dashboards import SAVED_OBJECTS_PATH, DashboardsError, ImportReport, import_dashboards
from newsdrift.errors import NewsdriftError

dashboards_app = typer.Typer(help="OpenSearch Dashboards saved objects (index patterns, visualizations, dashboards).",
                             no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"saved objects imported into {report.url}")
    for col in ("type", "id", "title", "result"):
        table.add_column(col)
    for obj in report.created:
        table.add_row(obj.type, obj.id, obj.title, "[green]created[/]")
    for obj in report.overwritten:
        table.add_row(obj.type, obj.id, obj.title, "[yellow]overwritten[/]")
    for err in report.errors:
        detail = f": {err.detail}" if err.detail else ""
        table.add_row(err.type, err.id, err.title, f"[red]{err.error}{detail}[/]")
    console.print(table)
    console.print(f"{len(report.created)} created, {len(report.overwritten)} overwritten, {len(report.errors)} failed")


@dashboards_app.command("import")
def import_command(
    url: str = typer.Option("http://127.0.0.1:5601", "--url", envvar="NEWSDRIFT_DASHBOARDS_URL",
                            help="OpenSearch Dashboards base URL."),
    user: str | None = typer.Option(None, "--user", envvar="NEWSDRIFT_DASHBOARDS_USER", help="Basic-auth user."),
    password: str | None = typer.Option(None, "--password", envvar="NEWSDRIFT_DASHBOARDS_PASSWORD",
                                        help="Basic-auth password (prefer the environment variable)."),
    file: Path = typer.Option(SAVED_OBJECTS_PATH, "--file", help="NDJSON saved objects to import."),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Index prefix the index patterns point at (default NEWSDRIFT_INDEX_PREFIX)."),
    verify: bool = typer.Option(True, "--verify/--no-verify", envvar="NEWSDRIFT_DASHBOARDS_VERIFY_CERTS",
                                help="Verify the TLS certificate."),
    ca_certs: Path | None = typer.Option(None, "--ca-certs", envvar="NEWSDRIFT_DASHBOARDS_CA_CERTS",
                                         help="CA bundle for TLS verification."),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite", help="Replace objects with the same id."),
    wait: float = typer.Option(0.0, "--wait", min=0.0, help="Seconds to keep retrying while Dashboards starts."),
    tenant: str | None = typer.Option(None, "--tenant", envvar="NEWSDRIFT_DASHBOARDS_TENANT",
                                      help="Security-plugin tenant, e.g. global (default: the user's default)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Import dashboards/newsdrift.ndjson through the saved-objects import API (idempotent with --overwrite)."""
    try:
        if prefix is None:
            from newsdrift.config import get_settings

            prefix = get_settings().index_prefix
        report = import_dashboards(url, file, user=user, password=password,
                                   verify=str(ca_certs) if ca_certs and verify else verify,
                                   overwrite=overwrite, prefix=prefix, wait=wait, tenant=tenant)
    except (DashboardsError, NewsdriftError, OSError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        _print_report(report)
    if report.errors or not report.success:
        raise typer.Exit(1)
