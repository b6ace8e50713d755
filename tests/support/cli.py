"""Run the real ``newsdrift`` command in a fresh interpreter, with extra environment variables."""

from __future__ import annotations

import os
import subprocess
import sys

from newsdrift.settings import PROJECT_ROOT


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsdrift", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
    )
