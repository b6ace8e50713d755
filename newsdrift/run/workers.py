"""Worker processes that die with their parent.

A ``concurrent.futures.ProcessPoolExecutor`` worker outlives a parent killed with
SIGKILL: the parent never sends the shutdown sentinel, and an idle worker waits
forever on the call queue, whose write end it holds itself. Such orphans keep
about 110 MB each and the parent's stdout/stderr open, so whatever reads the
run's output never sees EOF.

:func:`process_pool` gives each worker two guards, set up by its initializer:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the
  moment its parent exits. ``os.getppid()`` is checked right after, for a parent
  that died before the call.
- everywhere: a daemon thread polls ``os.getppid()`` every ``POLL_SECONDS`` and
  calls ``os._exit`` when it changes (the fallback where prctl is unavailable).

When a worker exits, its copies of the parent's stdout/stderr close with it, so
they are deliberately not detached: a worker's warnings and tracebacks still
reach the parent's stderr.

PR_SET_PDEATHSIG fires when the *thread* that forked the worker exits, not only
the process. The pool therefore forks all its workers at creation, in the
creating thread: use it from a thread that outlives it (the usual
``with process_pool(n) as pool:`` block).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

POLL_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ORPHAN_EXIT_STATUS = 70  # os._exit status of a worker that found its parent gone


def _set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the Linux kernel to send ``sig`` to this process when its parent exits; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the interpreter's own libc (find_library would fork)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            os._exit(ORPHAN_EXIT_STATUS)


def _init_worker(parent_pid: int, interval: float) -> None:
    """Initializer of every pool worker: die with the parent (signal on Linux, polling everywhere)."""
    _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect: no signal will come
        os._exit(ORPHAN_EXIT_STATUS)
    threading.Thread(target=_watch_parent, args=(parent_pid, interval), name="parent-watch", daemon=True).start()


def _started() -> None:
    return None


def process_pool(max_workers: int) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor whose workers exit when this process dies, even by SIGKILL.

    On Linux the workers are forked (as Python 3.11 does by default; newer versions
    default to forkserver), so they inherit what the parent imported, and the parent
    they watch is this process.
    """
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    pool = ProcessPoolExecutor(
        max_workers=max_workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(), POLL_SECONDS)
    )
    # With fork, the first submit forks every worker in the calling thread: do it here, so the
    # death signal is tied to the thread that owns the pool, not to whichever thread submits first.
    pool.submit(_started)
    return pool
