"""Fitness tests for the shape of the code: module sizes, import cycles, typed call state, type ignores.

They read the source tree and its import graph only (no services), so they run in well under a second
and fail with what is wrong and where. The import graph is grimp's: every import counts, including
those inside functions and under ``if TYPE_CHECKING:`` (a cycle hidden behind either is still one the
reader has to untangle).
"""

from __future__ import annotations

import inspect
import io
import re
import tokenize
from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import grimp
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE = REPO_ROOT / "core"
MAX_LINES_CORE = 400
MAX_LINES_CALLFLOW = 300
MAX_TYPE_IGNORES_CORE = 2
_TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b")


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def _oversized(root: Path, limit: int) -> list[str]:
    found = []
    for path in _python_files(root):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{_rel(path)}: {lines} lines")
    return found


def test_no_module_in_core_is_over_400_lines() -> None:
    oversized = _oversized(CORE, MAX_LINES_CORE)
    assert not oversized, f"modules in core/ over {MAX_LINES_CORE} lines (split them by concern):\n" + (
        "\n".join(oversized)
    )


def test_no_module_in_core_callflow_is_over_300_lines() -> None:
    oversized = _oversized(CORE / "callflow", MAX_LINES_CALLFLOW)
    assert not oversized, (
        f"modules in core/callflow/ over {MAX_LINES_CALLFLOW} lines (split the call flow by event family):\n"
        + "\n".join(oversized)
    )


# -- import cycles ------------------------------------------------------------------------------------


def _strongly_connected(nodes: Iterable[str], successors: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; returns the components that contain a cycle, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(successors.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors.get(node, ()):
                    components.append(sorted(component))
    return sorted(components)


def _shortest_cycle(start: str, members: set[str], successors: dict[str, set[str]]) -> list[str]:
    """One shortest cycle through ``start`` inside ``members``, as [start, ..., start]."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(successors.get(node, set()) & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start} in {sorted(members)}")  # a component always has one


def _cycles(component: list[str], successors: dict[str, set[str]]) -> list[list[str]]:
    """A shortest cycle through each member of a component, without repeats: together they show every
    member's part in the tangle."""
    members = set(component)
    seen: set[tuple[str, ...]] = set()
    cycles: list[list[str]] = []
    for start in component:
        cycle = _shortest_cycle(start, members, successors)
        lowest = cycle.index(min(cycle[:-1]))
        key = tuple(cycle[lowest:-1] + cycle[:lowest])
        if key not in seen:
            seen.add(key)
            cycles.append([*key, key[0]])
    return cycles


def find_cycles(graph: grimp.ImportGraph, package: str) -> list[str]:
    """Each module-level import cycle inside ``package``, as 'a (line n) -> b (line m) -> a'."""
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    successors = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    chains = []
    for cycle in (c for comp in _strongly_connected(modules, successors) for c in _cycles(comp, successors)):
        steps = []
        for importer, imported in pairwise(cycle):
            lines = sorted(
                d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)
            )
            steps.append(f"{importer} (line {', '.join(map(str, lines))})")
        chains.append(" -> ".join([*steps, cycle[-1]]))
    return chains


def find_package_cycles(graph: grimp.ImportGraph, package: str) -> list[str]:
    """Cycles between the children of ``package`` and of each subpackage (a package imports a sibling
    that imports it back through any of their modules), each edge shown with one import that makes it."""
    modules = {m for m in graph.modules if m.startswith(package + ".")}
    parents = sorted({package} | {m for m in modules if graph.find_children(m)})
    chains = []
    for parent in parents:
        depth = parent.count(".") + 1

        def child_of(module: str, parent: str = parent, depth: int = depth) -> str | None:
            if not module.startswith(parent + "."):
                return None
            return ".".join(module.split(".")[: depth + 1])

        successors: dict[str, set[str]] = {}
        witness: dict[tuple[str, str], str] = {}
        for importer in sorted(modules):
            source = child_of(importer)
            if source is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = child_of(imported)
                if target is None or target == source:
                    continue
                successors.setdefault(source, set()).add(target)
                if (source, target) not in witness:
                    line = min(
                        d["line_number"]
                        for d in graph.get_import_details(importer=importer, imported=imported)
                    )
                    witness[(source, target)] = f"{importer} line {line} imports {imported}"
        for cycle in (
            c for comp in _strongly_connected(successors, successors) for c in _cycles(comp, successors)
        ):
            steps = [f"{a} ({witness[(a, b)]})" for a, b in pairwise(cycle)]
            chains.append(" -> ".join([*steps, cycle[-1]]))
    return chains


@pytest.mark.parametrize("package", ["core", "local"])
def test_no_import_cycle_between_modules(package: str) -> None:
    cycles = find_cycles(grimp.build_graph(package), package)
    assert not cycles, (
        f"import cycles between modules of {package}/ (each arrow is an import, at the line shown; let one "
        "side depend on a protocol it declares, or move the shared part down):\n" + "\n".join(cycles)
    )


@pytest.mark.parametrize("package", ["core", "local"])
def test_no_import_cycle_between_packages(package: str) -> None:
    cycles = find_package_cycles(grimp.build_graph(package), package)
    assert not cycles, f"sibling packages of {package}/ that import each other:\n" + "\n".join(cycles)


def test_the_cycle_finders_report_a_cycle_as_a_chain() -> None:
    graph = grimp.ImportGraph()
    for importer, imported, line in [
        ("pkg.a.one", "pkg.b.two", 3),
        ("pkg.b.two", "pkg.a.one", 7),
        ("pkg.b.two", "pkg.c", 8),
    ]:
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents="import x")
    graph.add_module("pkg")
    for module in ("pkg.a", "pkg.b"):
        graph.add_module(module)
    assert find_cycles(graph, "pkg") == ["pkg.a.one (line 3) -> pkg.b.two (line 7) -> pkg.a.one"]
    assert find_package_cycles(graph, "pkg") == [
        "pkg.a (pkg.a.one line 3 imports pkg.b.two) -> pkg.b (pkg.b.two line 7 imports pkg.a.one) -> pkg.a"
    ]
    graph.remove_import(importer="pkg.b.two", imported="pkg.a.one")
    assert find_cycles(graph, "pkg") == [] and find_package_cycles(graph, "pkg") == []


# -- typed call state, type ignores ---------------------------------------------------------------------


def test_call_has_no_free_form_flags() -> None:
    from core.models import Call

    if "flags" in Call.model_fields:
        source, first = inspect.getsourcelines(Call)
        line = next((first + i for i, text in enumerate(source) if re.match(r"\s*flags\s*:", text)), first)
        pytest.fail(
            f"core.models.Call still has a `flags` field ({_rel(Path(inspect.getsourcefile(Call) or '?'))}:{line}): the live "
            "connection's state belongs in a typed model (core/models/connection.py), not a string-keyed dict"
        )


def _type_ignores(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    return [
        f"{_rel(path)}:{token.start[0]}: {token.string}"
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and _TYPE_IGNORE.search(token.string)
    ]


def test_core_has_at_most_two_type_ignores() -> None:
    found = [hit for path in _python_files(CORE) for hit in _type_ignores(path)]
    assert len(found) <= MAX_TYPE_IGNORES_CORE, (
        f"{len(found)} `type: ignore` comments in core/ (at most {MAX_TYPE_IGNORES_CORE}; type the code "
        "instead):\n" + "\n".join(found)
    )
