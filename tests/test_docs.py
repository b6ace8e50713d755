"""Every setting and every command is documented in the README (datasette's rule)."""

from __future__ import annotations

import re

import typer

from newsdrift.cli import app
from newsdrift.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    names = [f"NEWSDRIFT_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if name not in README]
    assert not missing, f"undocumented settings: {missing}"


def command_paths(group: typer.Typer, prefix: str = "newsdrift") -> list[str]:
    paths = [f"{prefix} {c.name or c.callback.__name__.replace('_', '-')}" for c in group.registered_commands]
    for sub in group.registered_groups:
        paths += command_paths(sub.typer_instance, f"{prefix} {sub.name}")
    return paths


def documented_paths() -> set[str]:
    """Command paths named in backticks, with `a|b|c` alternatives expanded."""
    paths = set()
    for span in re.findall(r"`(newsdrift [^`]+)`", README):
        prefix = "newsdrift"
        for word in span.split()[1:]:
            if not re.match(r"^[a-z]", word):
                break
            alternatives = [a for a in re.split(r"\\?\|", word) if a]
            paths.update(f"{prefix} {a}" for a in alternatives)
            prefix = f"{prefix} {alternatives[0]}"
    return paths


def test_every_command_is_in_the_readme():
    commands = command_paths(app)
    assert len(commands) > 15
    missing = sorted(set(commands) - documented_paths())
    assert not missing, f"undocumented commands: {missing}"
