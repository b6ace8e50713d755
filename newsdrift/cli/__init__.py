"""The ``newsdrift`` command: assembles the command modules of this package into one typer app."""

from __future__ import annotations

import typer

from newsdrift.cli import backfill, run, store
from newsdrift.cli.alerts import alerts_app
from newsdrift.cli.dashboards import dashboards_app
from newsdrift.cli.drift import baseline_app, drift_app
from newsdrift.cli.feeds import feeds_app
from newsdrift.cli.node import node_app
from newsdrift.cli.sample import sample_app

app = typer.Typer(
    name="newsdrift",
    help="Watch the press coverage of the open-source AI debate: ingest feeds, detect duplicates and "
    "narrative drift, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("init")(store.init)
app.command("info")(store.info)
app.command("run")(run.run)
app.command("watch")(run.watch)
app.command("search")(store.search)
app.command("backfill")(backfill.backfill)

app.add_typer(node_app, name="node")
app.add_typer(feeds_app, name="feeds")
app.add_typer(sample_app, name="sample")
app.add_typer(baseline_app, name="baseline")
app.add_typer(drift_app, name="drift")
app.add_typer(alerts_app, name="alerts")
app.add_typer(dashboards_app, name="dashboards")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
