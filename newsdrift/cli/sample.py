"""``newsdrift sample serve``: the offline sample corpus (fictional outlets) on a loopback server."""

from __future__ import annotations

import typer

from newsdrift.cli.support import cli_errors, console

sample_app = typer.Typer(
    help="The offline sample corpus (fictional outlets) and its loopback server.", no_args_is_help=True
)


@sample_app.command("serve")
@cli_errors
def serve(
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    host: str = typer.Option("127.0.0.1", help="Interface (loopback by default)."),
) -> None:
    """Serve the offline sample corpus (feeds and pages) until Ctrl-C."""
    from newsdrift.ops.sample.server import serve_forever

    console.print(f"serving the sample corpus on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        serve_forever(host=host, port=port)
    except KeyboardInterrupt:
        pass
