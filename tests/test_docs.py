"""Every command is documented (datasette's rule); the settings reference is checked in test_config_docs.py."""

from __future__ import annotations

import re

import typer

from newsdrift.cli import app
from newsdrift.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(group: typer.Typer, prefix: str = "newsdrift") -> list[str]:
    paths = [f"{prefix} {c.name or c.callback.__name__.replace('_', '-')}" for c in group.registered_commands]
    for sub in group.registered_groups:
        paths += command_paths(sub.typer_instance, f"{prefix} {sub.name}")
    return paths


COMMANDS_DOC = (PROJECT_ROOT / "docs" / "commands.md").read_text(encoding="utf-8")


def documented_paths() -> set[str]:
    """Command paths named in backticks in docs/commands.md, with `a|b|c` alternatives expanded."""
    paths = set()
    for span in re.findall(r"`(newsdrift [^`]+)`", COMMANDS_DOC):
        prefix = "newsdrift"
        for word in span.split()[1:]:
            if not re.match(r"^[a-z]", word):
                break
            alternatives = [a for a in re.split(r"\\?\|", word) if a]
            paths.update(f"{prefix} {a}" for a in alternatives)
            prefix = f"{prefix} {alternatives[0]}"
    return paths


def test_every_command_is_in_the_command_reference():
    commands = command_paths(app)
    assert len(commands) > 15
    missing = sorted(set(commands) - documented_paths())
    assert not missing, f"undocumented commands: {missing}"
