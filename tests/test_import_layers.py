"""The import graph of src/taskorder: no cycles at import time, package cycles only as listed.

Edges are read from the source with ``ast`` (nothing is imported): every ``import`` and
``from ... import`` of a taskorder module, including those inside functions (a lazy
import is still a dependency), but not those under ``if TYPE_CHECKING:``.
``from package import submodule`` is an edge to the submodule.

Two rules:

1. **Import time**: the module-level imports form no cycle.
2. **Packages** (the second component of the name: ``estimate``, ``solvers``, ``io``...):
   the package graph, lazy imports included, has no cycle other than those in
   :data:`KNOWN_PACKAGE_CYCLES`, each with the reason it is still there. The list may only
   shrink: a cycle that no longer exists must be removed from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"

#: Package cycles that remain, with why (issue 14 asks for none; remove entries as fixed).
KNOWN_PACKAGE_CYCLES: dict[frozenset[str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "taskorder").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(inner) for inner in ast.walk(node))
    return skip


def _edges(modules: dict[str, Path], *, top_level_only: bool) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        skip = _type_checking_nodes(tree)
        nodes = tree.body if top_level_only else ast.walk(tree)
        for node in nodes:
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                subs = [f"{base}.{alias.name}" for alias in node.names]
                targets = [s for s in subs if s in modules] or [base]
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_cycles_among_module_level_imports():
    graph = _edges(_modules(), top_level_only=True)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import-time cycles: {cycles}"


def test_package_cycles_are_only_the_known_ones():
    modules = _modules()
    graph = _edges(modules, top_level_only=False)
    packages = nx.DiGraph()
    for a, b in graph.edges:
        pa, pb = _package(a), _package(b)
        if pa and pb and pa != pb:
            packages.add_edge(pa, pb)
    found = {frozenset(c) for c in nx.strongly_connected_components(packages) if len(c) > 1}
    new = [sorted(c) for c in found if c not in KNOWN_PACKAGE_CYCLES]
    gone = [sorted(c) for c in KNOWN_PACKAGE_CYCLES if c not in found]
    assert not new, f"new package cycles (break them, do not list them): {new}"
    assert not gone, f"fixed cycles still listed in KNOWN_PACKAGE_CYCLES (remove them): {gone}"
