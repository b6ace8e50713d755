"""The package's shape, read from the source with ``ast`` (nothing is imported).

No import cycles among the modules of ``newsdrift/`` and ``extractors/`` (module-level, function-level and
``if TYPE_CHECKING:`` imports alike), a small ``newsdrift/`` root, no oversized module, ``extractors/``
depending only on the record types, settings and errors, and DAG files that import only thin entry points
when Airflow parses them.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("newsdrift", "extractors")
MAX_ROOT_MODULES = 12
MAX_MODULE_LINES = 700
EXTRACTORS_MAY_IMPORT = {"newsdrift.records", "newsdrift.settings", "newsdrift.errors"}
# What a DAG file may import from newsdrift while Airflow parses it; the tasks import newsdrift.airflow.* when they run.
DAG_PARSE_TIME_IMPORTS = {"newsdrift.airflow.callbacks", "newsdrift.settings"}
DAG_TASK_IMPORT_PREFIX = "newsdrift.airflow."


@dataclass(frozen=True)
class Import:
    source: str  # importing module (dotted name) or DAG file name
    target: str  # imported module of newsdrift/ or extractors/ (a package stands for its __init__)
    line: int
    in_function: bool
    type_checking: bool

    file: str  # path relative to the repository

    @property
    def where(self) -> str:
        scope = ", in a function" if self.in_function else ""
        return f"{self.file}:{self.line}{scope}{', under TYPE_CHECKING' if self.type_checking else ''}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Dotted name -> file for every module of the packages (a package's name maps to its __init__.py)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(dotted: str) -> str | None:
    """The module of ours a dotted name stands for: the longest prefix that is a module, else None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement with (in a function, under ``if TYPE_CHECKING:``)."""

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[tuple]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_function, type_checking
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, in_function, True)
            for child in node.orelse:
                yield from visit(child, in_function, type_checking)
            return
        nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, nested, type_checking)

    yield from visit(tree, False, False)


def imports_of(path: Path, module: str | None) -> list[Import]:
    """The imports of newsdrift/ and extractors/ modules in one file.

    ``import a.b.c`` and ``from a.b import c`` (a.b.c a module) point to a.b.c; ``from a.b import name``
    points to a.b. Parent packages a name passes through get no edge of their own.
    """
    source = module or path.name
    relative = str(path.relative_to(ROOT))
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node, in_function, type_checking in _import_nodes(tree):
        targets: list[str | None] = []
        if isinstance(node, ast.Import):
            targets = [_resolve(alias.name) for alias in node.names]
        else:
            if node.level:
                assert module is not None, f"{path}: relative import outside the packages"
                base = module.split(".") if _is_package(module) else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            for alias in node.names:
                submodule = f"{stem}.{alias.name}"
                targets.append(submodule if submodule in modules() else _resolve(stem))
        for target in targets:
            if target is not None:
                found.append(Import(source, target, node.lineno, in_function, type_checking, relative))
    return found


@cache
def graph() -> dict[str, list[Import]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(start: str, edges: dict[str, set[str]], within: set[str]) -> list[str]:
    """Shortest path start -> ... -> start inside one strongly connected component (BFS)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(edges[node] & within):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is on no cycle")


def import_cycles() -> list[str]:
    """One readable line per distinct cycle: the shortest cycle through each module of each cyclic component."""
    edges = {name: {imp.target for imp in imps} for name, imps in graph().items()}
    lines: list[str] = []
    for component in _strongly_connected(edges):
        if len(component) == 1 and component[0] not in edges[component[0]]:
            continue
        seen: set[tuple[str, ...]] = set()
        for start in component:
            cycle = _shortest_cycle(start, edges, set(component))
            pivot = cycle.index(min(cycle[:-1]))
            key = tuple(cycle[pivot:-1] + cycle[:pivot])
            if key in seen:
                continue
            seen.add(key)
            steps = [key[0]]
            for source, target in zip(key, key[1:] + key[:1], strict=True):
                first = min((i for i in graph()[source] if i.target == target), key=lambda i: i.line)
                steps.append(f"-> {target} ({first.where})")
            lines.append(" ".join(steps))
    return lines


def test_the_scan_sees_the_imports() -> None:
    """A scanner that finds nothing would pass every rule below."""
    assert {"newsdrift", "newsdrift.settings", "newsdrift.store", "extractors.article"} <= modules().keys()
    assert "newsdrift.errors" in {i.target for i in graph()["newsdrift.settings"]}
    # `from newsdrift.alert.rules import X` points to the submodule; the package's own imports are seen too
    assert {"newsdrift.alert.rules", "newsdrift.alert.sync"} <= {i.target for i in graph()["newsdrift.alert"]}


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(cycles)


def test_newsdrift_root_stays_small() -> None:
    root = sorted(p.name for p in (ROOT / "newsdrift").glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert len(root) <= MAX_ROOT_MODULES, f"{len(root)} modules in newsdrift/ (at most {MAX_ROOT_MODULES}): {root}"


def test_no_oversized_module() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    over = {f"{modules()[name].relative_to(ROOT)}": n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"


def test_extractors_depend_only_on_records_settings_errors() -> None:
    wrong = [
        f"{imp.source} -> {imp.target} ({imp.where})"
        for name, imps in graph().items()
        if name.split(".")[0] == "extractors"
        for imp in imps
        if imp.target.split(".")[0] == "newsdrift" and imp.target not in EXTRACTORS_MAY_IMPORT
    ]
    assert not wrong, "extractors/ may import from newsdrift only records, settings and errors:\n" + "\n".join(wrong)


def _dag_files() -> list[Path]:
    files = sorted((ROOT / "dags").glob("*.py"))
    assert files
    return files


def _parse_time_closure(start: set[str]) -> set[str]:
    """Every module of ours that importing ``start`` runs: module-level imports (not TYPE_CHECKING)
    followed transitively, parent packages included (Python runs their __init__ first)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.extend(".".join(parts[:end]) for end in range(1, len(parts)))
        todo.extend(i.target for i in graph()[name] if not i.in_function and not i.type_checking)
    return seen


def test_dag_files_import_only_thin_entry_points_at_parse_time() -> None:
    wrong: list[str] = []
    for path in _dag_files():
        for imp in imports_of(path, None):
            if imp.in_function:
                if not imp.target.startswith(DAG_TASK_IMPORT_PREFIX):
                    wrong.append(f"a task imports {imp.target} ({imp.where})")
            elif imp.target not in DAG_PARSE_TIME_IMPORTS:
                wrong.append(f"imports {imp.target} ({imp.where})")
    assert not wrong, (
        f"at parse time the DAG files may import from newsdrift only {sorted(DAG_PARSE_TIME_IMPORTS)}, "
        f"and their tasks only {DAG_TASK_IMPORT_PREFIX}*:\n" + "\n".join(wrong)
    )


def test_dag_entry_points_stay_thin() -> None:
    """What the DAG files import at parse time pulls in nothing of ours but settings sections, errors and the
    package inits on the way (whatever those import at module level is followed too)."""

    def light(name: str) -> bool:
        return (
            name in DAG_PARSE_TIME_IMPORTS
            or name == "newsdrift.errors"
            or name.rsplit(".", 1)[-1] == "settings"
            or _is_package(name)
        )

    heavy = sorted(name for name in _parse_time_closure(DAG_PARSE_TIME_IMPORTS) if not light(name))
    assert not heavy, f"parsing a DAG file also imports {heavy}"
