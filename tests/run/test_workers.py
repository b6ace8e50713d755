"""Extraction workers die with their parent, even when it is SIGKILLed.

Real processes: a parent is started with its stdout/stderr piped, its pool workers are
found with psutil, the parent is SIGKILLed, and the workers must be gone (exited, or a
zombie waiting for init to reap it) within a few seconds and the pipes must reach EOF.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

# A parent with a pool of two: one worker busy for two minutes, one idle (both cases were orphaned).
POOL_PARENT = """
import os, sys, time
from newsdrift.run import workers
if sys.argv[1] == "poll-only":  # no prctl: only the getppid() polling thread guards the workers
    workers._set_parent_death_signal = lambda *args: False
pool = workers.process_pool(2)
pool.submit(time.sleep, 120)
print("ready", flush=True)
time.sleep(300)
"""


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE  # exited; only its exit status is left for init
    except psutil.NoSuchProcess:
        return True


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if not _gone(p)]
    return alive


def read_until(streams: list, timeout: float, line: bytes | None = None) -> tuple[bool, bytes]:
    """Read the pipes until ``line`` appears on the first one (or, without ``line``, until EOF on all of
    them); (True, data of the first) on success, (False, data) when ``timeout`` passes: never hangs."""
    selector = selectors.DefaultSelector()
    for stream in streams:
        selector.register(stream.fileno(), selectors.EVENT_READ)
    data: dict[int, bytes] = {s.fileno(): b"" for s in streams}
    first = streams[0].fileno()
    open_fds = set(data)
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            if line is not None and line in data[first]:
                return True, data[first]
            left = deadline - time.monotonic()
            if left <= 0:
                return False, data[first]
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    data[key.fd] += chunk
                else:
                    selector.unregister(key.fd)
                    open_fds.discard(key.fd)
        return line is None or line in data[first], data[first]
    finally:
        selector.close()


def wait_children(pid: int, count: int, timeout: float) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    children: list[psutil.Process] = []
    while time.monotonic() < deadline:
        children = parent.children()
        if len(children) >= count:
            return children
        time.sleep(0.05)
    return children


def kill_parent_and_check(proc: subprocess.Popen, children: list[psutil.Process], within: float) -> float:
    """SIGKILL the parent; every worker must be gone within ``within`` s and its pipes at EOF."""
    try:
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        alive = wait_gone(children, within)
        took = time.monotonic() - started
        assert alive == [], f"{len(alive)} of {len(children)} worker(s) still alive {within} s after the kill"
        eof, _ = read_until([proc.stdout, proc.stderr], timeout=5)
        assert eof, "the parent's stdout/stderr did not reach EOF: a worker still holds them"
        return took
    finally:
        for child in children:  # never leave orphans behind, whatever happened
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


# PR_SET_PDEATHSIG is Linux only; the polling fallback is tested on every platform
MODES = [("death-signal", 2.0), ("poll-only", 4.0)] if sys.platform.startswith("linux") else [("poll-only", 4.0)]


@pytest.mark.parametrize("mode, within", MODES)
def test_pool_workers_exit_when_their_parent_is_killed(mode, within):
    proc = subprocess.Popen([sys.executable, "-c", POOL_PARENT, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready, out = read_until([proc.stdout], timeout=60, line=b"ready\n")
    assert ready, out
    children = wait_children(proc.pid, 2, timeout=10)
    assert len(children) == 2 and all(c.is_running() and not _gone(c) for c in children)
    assert {c.ppid() for c in children} == {proc.pid}
    took = kill_parent_and_check(proc, children, within)
    if mode == "death-signal":
        assert took < 1.0  # the kernel's signal, not the once-a-second poll


def test_the_pool_still_works_and_shuts_down_normally():
    from newsdrift.run.workers import process_pool

    with process_pool(2) as pool:
        pids = set(pool.map(_worker_pid, range(8)))
        workers = [psutil.Process(pid) for pid in pids]
        assert pids and os.getpid() not in pids and all(w.ppid() == os.getpid() for w in workers)
    assert wait_gone(workers, 5) == []


def _worker_pid(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_newsdrift_run_killed_mid_pass_leaves_no_extraction_workers(opensearch_url, index_names, tmp_path):
    """The real `newsdrift run --all` on the sample corpus (>= PROCESS_POOL_MIN_ENTRIES entries: process pool)."""
    env = {
        **os.environ,
        "NEWSDRIFT_STORE_URL": opensearch_url,
        "NEWSDRIFT_INDEX_PREFIX": index_names.prefix,
        "NEWSDRIFT_SAMPLE_PORT": str(free_port()),
        "NEWSDRIFT_HOME": str(tmp_path / "home"),
        "NEWSDRIFT_EXTRACT_WORKERS": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdrift", "run", "--all", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children = wait_children(proc.pid, 2, timeout=120)
    assert proc.poll() is None, "the pass ended before its extraction workers could be seen"
    assert len(children) == 2, children
    kill_parent_and_check(proc, children, within=2.0)
