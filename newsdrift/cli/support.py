"""Shared by every ``newsdrift`` command: error reporting, consoles, ``--json`` output, the run summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newsdrift.errors import NewsdriftError

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")


def print_error(message: object) -> None:
    """One ``error:`` line on stderr: secrets redacted, markup escaped, not wrapped at 80 columns."""
    # on first use: importing it installs the log-redaction filters, which a command that never errs does not need
    from newsdrift.secrets import redact

    # the message may quote logs with [brackets]: escape them from rich markup;
    # soft_wrap: a long path or value stays on one line (no hard breaks at 80 columns)
    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", highlight=False, soft_wrap=True)


def cli_errors(func: F) -> F:
    """Wrap a command: a ``NewsdriftError`` becomes one ``error:`` line on stderr and exit 1 (no traceback),
    Ctrl-C prints ``interrupted`` and exits 130; any other exception is a bug and keeps its traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewsdriftError as exc:
            print_error(exc)
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def print_summary(summary: Any) -> None:
    """A pass's (or a backfill's) summary as a table, then its first 50 problems."""
    data = summary.to_json()
    table = Table(title="run summary", show_header=False)
    for key, value in data.items():
        if key != "errors":
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if summary.errors:
        errors = Table(title=f"{len(summary.errors)} problem(s), recorded", show_lines=False)
        errors.add_column("where", overflow="fold")
        errors.add_column("reason", overflow="fold")
        for e in summary.errors[:50]:
            errors.add_row(e.where, e.reason)
        console.print(errors)
        if len(summary.errors) > 50:
            console.print(f"... and {len(summary.errors) - 50} more (use --json for all)")
