"""scripts/check_history.py: what it flags, what it lets through, and the repository passing it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_history.py"
FIXTURES = ROOT / "tests" / "data" / "history"

_spec = importlib.util.spec_from_file_location("check_history", SCRIPT)
assert _spec is not None and _spec.loader is not None
check_history = importlib.util.module_from_spec(_spec)
sys.modules["check_history"] = check_history
_spec.loader.exec_module(check_history)


def fixture_lines(name: str) -> list[str]:
    """The fixture's lines, without its first (descriptive) line."""
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()[1:]


@pytest.mark.parametrize("line", fixture_lines("flagged.txt"))
def test_flagged(line: str) -> None:
    assert check_history.scan_line(line), line


@pytest.mark.parametrize("line", fixture_lines("passing.txt"))
def test_passing(line: str) -> None:
    assert check_history.scan_line(line) == [], line


def test_one_reason_per_reference() -> None:
    assert check_history.scan_line("(issue #9, item 5) and PR #4") == [
        "issue reference 'issue #9'",
        "pull request reference 'PR #4'",
    ]


def test_wording_rules_skip_article_text_and_changelog() -> None:
    line = "The rule no longer fires, as before."
    assert check_history.scan_line(line, "newsdrift/example.py")
    assert check_history.scan_line(line, "tests/data/dedup/base/01_example.txt") == []
    assert check_history.scan_line(line, "CHANGELOG.md") == []
    # the mechanical rules still apply there
    assert check_history.scan_line("Verified shingles (#13).", "CHANGELOG.md")
    assert check_history.scan_line("measured in session 6", "tests/data/extraction/manifest.json")
    # code beside the article text is scanned fully
    assert check_history.scan_line(line, "tests/data/dedup/build_set.py")


def test_own_fixtures_are_skipped() -> None:
    text = (FIXTURES / "flagged.txt").read_text(encoding="utf-8")
    assert check_history.scan_text("tests/data/history/flagged.txt", text) == []
    assert check_history.scan_text("tests/elsewhere/flagged.txt", text)


def test_reports_file_and_line() -> None:
    hits = check_history.scan_text("docs/x.md", "fine\nsee (#13)\n")
    assert hits == [(2, "issue reference '#13'")]


def test_repository_is_clean() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
