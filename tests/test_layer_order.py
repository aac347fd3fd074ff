"""The package layers of src/taskorder: every import goes down (or sideways), never up.

Each package (the second component of a module name: ``solvers``, ``estimate``, ...) sits on
one layer of :data:`LAYERS`, from the core every module may use to the command line that
uses everything. An import from a package on a lower layer to one on a higher layer is an
upward edge; lazy imports count (they are still dependencies), ``if TYPE_CHECKING:``
imports do not. A new package must be given a layer here, which is where a reader finds
where it belongs.
"""

from __future__ import annotations

from tests import test_import_layers as graph_of

#: Layer of each package, lowest first; imports may only point to the same or a lower layer.
LAYERS: dict[str, int] = {
    # 0: core values every module may use
    "exceptions": 0,
    "checks": 0,
    "seeds": 0,
    "result": 0,
    "runner": 0,
    "config_file": 0,
    "percentile": 0,
    "metrics": 0,
    "merge": 0,
    # 1: the matrix, its files and the outcome models
    "matrix": 1,
    "json_matrix": 1,
    "io": 1,
    "objectives": 1,
    "model": 1,
    "plot": 1,
    # 2: the one solve
    "solvers": 2,
    # 3: decisions on a solved matrix and the built-in learner
    "recommend": 3,
    "online": 3,
    "schedule": 3,
    "rewards": 3,
    "learner": 3,
    # 4: probing, estimation and the workflows on a runner
    "estimate": 4,
    "active": 4,
    "replan": 4,
    "calibrate": 4,
    "compare": 4,
    # 5: the TRL adapter (drives campaigns and re-planning on a real model)
    "trl": 5,
    # 6: entry points: the config router and runner factory, and the command line
    "configs": 6,
    "cli": 6,
    "__main__": 6,
}


def _package_edges() -> set[tuple[str, str]]:
    modules = graph_of._modules()
    edges = set()
    for a, b in graph_of._edges(modules, top_level_only=False).edges:
        pa, pb = graph_of._package(a), graph_of._package(b)
        if pa and pb and pa != pb:
            edges.add((pa, pb))
    return edges


def test_every_package_has_a_layer():
    packages = {graph_of._package(m) for m in graph_of._modules()} - {""}
    missing = sorted(packages - set(LAYERS))
    assert not missing, f"give these packages a layer in LAYERS: {missing}"


def test_no_upward_imports():
    upward = sorted((a, b) for a, b in _package_edges() if LAYERS[a] < LAYERS.get(b, -1))
    assert not upward, f"imports from a lower layer to a higher one: {upward}"
