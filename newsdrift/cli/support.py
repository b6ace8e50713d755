"""What every ``newsdrift`` command shares: one way to report errors.

``cli_errors`` wraps each command of ``newsdrift/cli/__init__.py``, ``newsdrift/cli/alerts.py`` and
``newsdrift/cli/dashboards.py``:

- a ``NewsdriftError`` (see ``newsdrift/errors.py``) prints one ``error: <message>`` line on
  stderr, with registered secrets redacted and rich markup escaped, and exits 1, no traceback;
- Ctrl-C (``KeyboardInterrupt``) prints ``interrupted`` and exits 130;
- anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from newsdrift.errors import NewsdriftError

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def print_error(message: object) -> None:
    """One ``error:`` line on stderr: secrets redacted, markup escaped, not wrapped at 80 columns."""
    # lazily: newsdrift.alert pulls in apprise, which a command that never errs does not need
    from newsdrift.secrets import redact

    # the message may quote logs with [brackets]: escape them from rich markup;
    # soft_wrap: a long path or value stays on one line (no hard breaks at 80 columns)
    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", highlight=False, soft_wrap=True)


def cli_errors(func: F) -> F:
    """Turn ``NewsdriftError`` into one ``error:`` line and exit 1, Ctrl-C into exit 130."""

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
