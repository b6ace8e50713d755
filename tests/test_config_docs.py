"""Every setting is documented: an attribute docstring per field, and docs/configuration.md generated from them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from newsdrift.ops import configdoc
from newsdrift.settings import PROJECT_ROOT, Settings

REGENERATE = "run `make docs` (python -m newsdrift.ops.configdoc) and commit docs/configuration.md"


def test_every_setting_has_a_docstring():
    missing = configdoc.undocumented_fields()
    assert not missing, "settings without an attribute docstring (add one under the field):\n  " + "\n  ".join(missing)


def test_every_field_belongs_to_one_section():
    sections = configdoc.sections()
    named = [name for section in sections for name in section.fields]
    assert sorted(named) == sorted(Settings.model_fields)
    assert sections[0].owner is Settings and len(sections) > 5


def test_configuration_reference_is_current():
    path = configdoc.OUTPUT
    assert path.exists(), f"{path.relative_to(PROJECT_ROOT)} is missing; {REGENERATE}"
    assert path.read_text(encoding="utf-8") == configdoc.render(), (
        f"{path.relative_to(PROJECT_ROOT)} differs from the settings' docstrings; {REGENERATE}"
    )


def test_reference_names_every_variable_once():
    text = configdoc.render()
    for name in Settings.model_fields:
        assert text.count(f"| `NEWSDRIFT_{name.upper()}` |") == 1, name


def test_generator_writes_and_checks(tmp_path: Path, capsys):
    out = tmp_path / "configuration.md"
    assert configdoc.main([str(out), "--check"]) == 1
    assert "make docs" in capsys.readouterr().err
    assert configdoc.main([str(out)]) == 0
    assert out.read_text(encoding="utf-8") == configdoc.render()
    assert configdoc.main([str(out), "--check"]) == 0


def test_cells_are_readable():
    fields = Settings.model_fields
    assert configdoc.type_name(fields["store_compress"].annotation) == "`auto`, `on` or `off`"
    assert configdoc.type_name(fields["store_url"].annotation) == "str (optional)"
    assert configdoc.type_name(fields["allowed_networks"].annotation) == "list of str"
    assert configdoc.bounds(fields["fetch_concurrency"]) == ">= 1, <= 256"
    assert configdoc.default_text(fields["allow_private_networks"]) == "`false`"
    assert configdoc.default_text(fields["poll_max_interval"]) == "`86400`"
    assert configdoc.default_text(fields["store_url"]) == "unset"
    assert configdoc.default_text(fields["extract_workers"]) == "computed"  # the machine's CPUs: not in the page


ALLOWED = {"newsdrift", "newsdrift.errors"}  # the package init holds only the version


def test_sections_import_nothing_of_newsdrift_but_errors():
    """A section module imported by newsdrift.settings must not import it back (nor anything that does); the
    package itself (its version) imports nothing of newsdrift."""
    wrong = []
    for section in configdoc.sections()[1:]:
        path = Path(inspect.getfile(section.owner))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if not node.level else ["(relative)"]
            wrong += [
                f"{path.relative_to(PROJECT_ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in {"newsdrift", "extractors", "(relative)"} and name not in ALLOWED
            ]
    allowed = "pydantic, the standard library, newsdrift.errors and the package version"
    assert not wrong, f"settings sections may import only {allowed}:\n" + "\n".join(wrong)
