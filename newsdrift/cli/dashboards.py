"""``newsdrift dashboards import|export``: saved objects for OpenSearch Dashboards or Kibana 7.10."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from newsdrift.cli.support import cli_errors
from newsdrift.errors import DashboardsError
from newsdrift.ops.dashboards import FLAVORS, SAVED_OBJECTS_PATH, ImportReport, export_saved_objects, import_dashboards
from newsdrift.settings import get_settings

dashboards_app = typer.Typer(
    help="OpenSearch Dashboards / Kibana 7.10 saved objects (index patterns, visualizations, dashboards).",
    no_args_is_help=True,
)
FlavorOption = typer.Option(
    "opensearch",
    "--flavor",
    help=f"Saved objects for OpenSearch Dashboards or Kibana 7.10 ({' or '.join(FLAVORS)}).",
)
console = Console()


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
@cli_errors
def import_command(
    url: str | None = typer.Option(
        None,
        "--url",
        help="OpenSearch Dashboards base URL (default NEWSDRIFT_DASHBOARDS_URL, else http://127.0.0.1:5601).",
    ),
    user: str | None = typer.Option(None, "--user", help="Basic-auth user (default NEWSDRIFT_DASHBOARDS_USER)."),
    password: str | None = typer.Option(
        None, "--password", help="Basic-auth password (prefer NEWSDRIFT_DASHBOARDS_PASSWORD)."
    ),
    file: Path = typer.Option(SAVED_OBJECTS_PATH, "--file", help="NDJSON saved objects to import."),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Index prefix the index patterns point at (default NEWSDRIFT_INDEX_PREFIX)."
    ),
    verify: bool | None = typer.Option(
        None,
        "--verify/--no-verify",
        show_default=False,
        help="Verify the TLS certificate (default NEWSDRIFT_DASHBOARDS_VERIFY_CERTS, else verify).",
    ),
    ca_certs: Path | None = typer.Option(
        None, "--ca-certs", help="CA bundle for TLS verification (default NEWSDRIFT_DASHBOARDS_CA_CERTS)."
    ),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite", help="Replace objects with the same id."),
    wait: float = typer.Option(0.0, "--wait", min=0.0, help="Seconds to keep retrying while Dashboards starts."),
    tenant: str | None = typer.Option(
        None,
        "--tenant",
        help="Security-plugin tenant, e.g. global (default NEWSDRIFT_DASHBOARDS_TENANT, else the user's default).",
    ),
    flavor: str = FlavorOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Import dashboards/newsdrift.ndjson through the saved-objects import API (idempotent with --overwrite)."""
    s = get_settings()  # options win over NEWSDRIFT_DASHBOARDS_* (and the settings file)
    url = url if url is not None else s.dashboards_url
    user = user if user is not None else s.dashboards_user
    if password is None and s.dashboards_password is not None:
        password = s.dashboards_password.get_secret_value()
    verify = s.dashboards_verify_certs if verify is None else verify
    ca_certs = ca_certs if ca_certs is not None else s.dashboards_ca_certs
    tenant = tenant if tenant is not None else s.dashboards_tenant
    try:
        report = import_dashboards(
            url,
            file,
            user=user,
            password=password,
            verify=str(ca_certs) if ca_certs and verify else verify,
            overwrite=overwrite,
            prefix=s.index_prefix if prefix is None else prefix,
            wait=wait,
            tenant=tenant,
            flavor=flavor,
        )
    except OSError as exc:  # the --file or --ca-certs cannot be read
        raise DashboardsError(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        _print_report(report)
    if report.errors or not report.success:
        raise typer.Exit(1)


@dashboards_app.command("export")
@cli_errors
def export_command(
    flavor: str = FlavorOption,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the NDJSON here (default: standard output)."),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Index prefix the index patterns point at (default NEWSDRIFT_INDEX_PREFIX)."
    ),
    file: Path = typer.Option(SAVED_OBJECTS_PATH, "--file", help="NDJSON saved objects to start from."),
) -> None:
    """Write the saved objects for OpenSearch Dashboards or Kibana 7.10 (import them in its UI or API)."""
    s = get_settings()
    try:
        text = export_saved_objects(flavor, s.index_prefix if prefix is None else prefix, file)
    except OSError as exc:
        raise DashboardsError(str(exc)) from None
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DashboardsError(f"cannot write {out}: {exc.strerror or exc}") from None
    Console(stderr=True).print(f"{text.count(chr(10))} saved objects ({flavor}) written to {out}")
