"""The pass in progress: its id, stamped on what it writes, and every problem it logged.

The run id lets a pass recognise its own writes when a retried request answers
"already exists" (the first attempt landed, but its answer was lost), so its
counts match the index. Problems that a stage only logs are copied into the
summary's errors, so ``--json`` never says less than stderr.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from newsdrift.records import Failure

current_run_id: ContextVar[str | None] = ContextVar("newsdrift_run_id", default=None)

CAPTURED_LOGGERS = ("newsdrift", "extractors")


class _FailureCapture(logging.Handler):
    """Turns WARNING+ records of newsdrift's own loggers into ``Failure`` records."""

    def __init__(self, sink: Callable[[Failure], None]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink
        self.seen: set[tuple[str, str]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            where = record.name.removeprefix("newsdrift.")
            reason = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                reason = f"{reason}: {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            key = (where, reason)
            if key in self.seen:
                return
            self.seen.add(key)
            self.sink(Failure(f"log:{where}", reason))
        except Exception:  # a handler must never break the code that logs
            self.handleError(record)


def new_run_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def pass_context(sink: Callable[[Failure], None], run_id: str | None = None) -> Iterator[str]:
    """Set the run id and route logged problems to ``sink`` for the duration of a pass."""
    run_id = run_id or new_run_id()
    token = current_run_id.set(run_id)
    handler = _FailureCapture(sink)
    loggers = [logging.getLogger(name) for name in CAPTURED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield run_id
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        current_run_id.reset(token)
