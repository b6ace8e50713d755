"""``newsdrift alerts sync|list|test``: alert rules, alert records and channels."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from newsdrift.cli.support import cli_errors, console, emit_json, err_console
from newsdrift.errors import ConfigError
from newsdrift.settings import get_settings

alerts_app = typer.Typer(help="Alert rules (config/alerts.yaml), alert records and channels.", no_args_is_help=True)
RulesOption = typer.Option(
    None, "--rules", help="Rules file (default: NEWSDRIFT_ALERT_RULES_FILE or config/alerts.yaml)."
)
JsonOption = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _ruleset(rules_file: Path | None):
    from newsdrift.alert.rules import load_rules

    return load_rules(rules_file or get_settings().alert_rules_path)


def _client_and_names():
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames

    s = get_settings()
    return connect(s), IndexNames(s.index_prefix)


@alerts_app.command("sync")
@cli_errors
def sync(rules_file: Path | None = RulesOption, as_json: bool = JsonOption) -> None:
    """Register the rules in OpenSearch (percolator queries); remove rules deleted from the file."""
    from newsdrift.alert.sync import sync_rules

    ruleset = _ruleset(rules_file)
    client, names = _client_and_names()
    report = sync_rules(client, names, ruleset)
    if as_json:
        emit_json(report.to_json())
    else:
        table = Table(title=f"alert rules ({ruleset.origin})")
        table.add_column("action")
        table.add_column("rules", overflow="fold")
        for action in ("created", "updated", "unchanged", "removed"):
            table.add_row(action, ", ".join(getattr(report, action)) or "-")
        console.print(table)
        for problem in report.rejected:
            err_console.print(f"[red]rejected:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@alerts_app.command("list")
@cli_errors
def list_command(
    since: str | None = typer.Option("24h", help="Alerts created since: 30m, 24h, 7d or an ISO date ('' for all)."),
    rule: str | None = typer.Option(None, help="Only this rule."),
    limit: int = typer.Option(50, min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """Recent alerts with their delivery state per channel."""
    from newsdrift.alert.service import list_alerts

    client, names = _client_and_names()
    try:
        rows = list_alerts(client, names, since or None, limit=limit, rule=rule)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} alert(s)" + (f" since {since}" if since else ""))
    for col in ("created", "rule", "kind", "title", "copies", "delivery"):
        table.add_column(col, overflow="fold")
    for row in rows:
        delivery = ", ".join(f"{d['channel']}:{d['state']}" for d in row["deliveries"]) or row["delivery_state"]
        table.add_row(
            str(row["created_at"])[:19],
            row["rule"],
            row["kind"],
            row["title"] or "",
            str(row["copy_count"] or ""),
            delivery,
        )
    console.print(table)


@alerts_app.command("test")
@cli_errors
def test_command(
    channel: str = typer.Argument(..., help="Channel name from the rules file."), rules_file: Path | None = RulesOption
) -> None:
    """Send a test message to a channel and say whether it arrived (errors are redacted)."""
    from newsdrift.alert.channels import test_channel

    ruleset = _ruleset(rules_file)
    if channel not in ruleset.channels:
        known = ", ".join(sorted(ruleset.channels)) or "none"
        raise ConfigError(f"{ruleset.origin}: no channel named {channel!r} (defined: {known})")
    ok, error = test_channel(ruleset.channels[channel])
    if ok:
        console.print(
            f"[green]sent[/] a test message to {escape(channel)} ({ruleset.channels[channel].source})", highlight=False
        )
    else:
        err_console.print(
            f"[red]failed[/] to reach {escape(channel)}: {escape(error or '')}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1)
