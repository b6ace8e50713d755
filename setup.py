"""Package data outside the package: the checkout's mappings/, config/, dashboards/ and baseline/ are copied
into the wheel as ``newsdrift/_data/<name>`` (``newsdrift.settings.data_dir`` finds them there when newsdrift
does not run from a checkout). Everything else is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_DIRS = ("mappings", "config", "dashboards", "baseline")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout itself
        for name in DATA_DIRS:
            shutil.copytree(
                ROOT / name,
                Path(self.build_lib) / "newsdrift" / "_data" / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildPyWithData})
