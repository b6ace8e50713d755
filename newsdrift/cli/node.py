"""``newsdrift node install|start|stop|status``: the embedded single-node OpenSearch or Elasticsearch."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json, err_console
from newsdrift.settings import get_settings

node_app = typer.Typer(
    help="Manage an embedded single-node OpenSearch or Elasticsearch 7.10 (no Docker).", no_args_is_help=True
)

EngineOption = typer.Option(
    None,
    "--engine",
    help="opensearch or elasticsearch (Elasticsearch 7.10.2); default NEWSDRIFT_ENGINE (opensearch).",
)


def _engine(engine: str | None) -> str:
    from newsdrift.ops import node

    chosen = engine or get_settings().engine
    node.engine_spec(chosen)  # an unknown name is a clear NodeError
    return chosen


@node_app.command("install")
@cli_errors
def install(engine: str | None = EngineOption, force: bool = typer.Option(False, help="Fetch the jars again.")) -> None:
    """Fetch the server jars from Maven Central (done by `start` when needed)."""
    from newsdrift.ops import node

    engine = _engine(engine)
    spec = node.engine_spec(engine)
    with console.status(f"fetching the {spec.label} runner {node.runner_version(engine)} with Maven..."):
        lib = node.install(get_settings(), force=force, engine=engine)
    console.print(f"{spec.label} jars in {lib}")


@node_app.command("start")
@cli_errors
def start(engine: str | None = EngineOption, as_json: bool = JsonOption) -> None:
    """Start the embedded node in the background and wait until it is healthy."""
    from newsdrift.ops import node

    engine = _engine(engine)
    s = get_settings()
    spec = node.engine_spec(engine)
    port = node.node_port(s, engine)
    if s.store_url:
        console.print(f"NEWSDRIFT_STORE_URL is set ({s.store_url}); the embedded node is not used.")
    already = node.running_state(s, engine)
    requested_busy = already is None and node.port_busy(port)
    started = time.monotonic()
    with console.status(f"starting {spec.label} (first start fetches the jars)..."):
        state = node.start(s, engine=engine)
    took = time.monotonic() - started
    if as_json:
        emit_json(
            {
                "engine": engine,
                "url": state.url,
                "pid": state.pid,
                "log": state.log,
                "already_running": already is not None,
                "seconds": round(took, 1),
            }
        )
        return
    if requested_busy and state.port != port:
        variable = "NEWSDRIFT_ELASTICSEARCH_PORT" if engine == "elasticsearch" else "NEWSDRIFT_OPENSEARCH_PORT"
        err_console.print(
            f"[yellow]port {port} is busy; the node took {state.port} instead (set {variable} to choose another).[/]"
        )
    verb = "already running" if already else f"started in {took:.1f}s"
    console.print(f"{spec.label} {verb}: [bold]{state.url}[/] (pid {state.pid}, log {state.log})")
    if engine != s.engine and not s.store_url:
        console.print(f"Use it with NEWSDRIFT_ENGINE={engine} (or NEWSDRIFT_STORE_URL={state.url}).")


@node_app.command("stop")
@cli_errors
def stop(engine: str | None = EngineOption) -> None:
    """Stop the embedded node (no JVM is left behind)."""
    from newsdrift.ops import node

    engine = _engine(engine)
    label = node.engine_spec(engine).label
    if node.stop(get_settings(), engine=engine):
        console.print(f"{label} stopped.")
    else:
        console.print(f"{label} was not running.")


@node_app.command("status")
@cli_errors
def status(engine: str | None = EngineOption, as_json: bool = JsonOption) -> None:
    """Report whether the node runs, where, and its cluster health (exit 1 when it does not answer)."""
    from newsdrift.ops import node
    from newsdrift.secrets import redact
    from newsdrift.store.client import resolve_url

    engine = _engine(engine)
    s = get_settings()
    state = node.running_state(s, engine)
    url = resolve_url(s) if s.store_url or engine == s.engine else None
    if url is None:
        url = state.url if state else f"http://127.0.0.1:{node.node_port(s, engine)}"
    info = node.health(url)
    data = {
        "engine": engine,
        "url": redact(url),
        "embedded": s.store_url is None,
        "pid": state.pid if state else None,
        "log": state.log if state else None,
        "health": info.get("status") if info else None,
        "installed": node.is_installed(s, engine),
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
