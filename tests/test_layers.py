"""The import structure: layers point one way and no module imports itself back through others.

    core  <-  index  <-  rag (the chain)  <-  eval  <-  faces (rag.cli, rag.web, app)

``core`` holds the answer contract and the errors, ``index`` stores documents, ``rag`` answers, ``eval``
measures the chain (never through a face), and the faces are never imported by anything below them.
Every ``import`` counts, including those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "index", "rag", "eval")
LAYERS = {"core": 0, "index": 1, "rag": 2, "eval": 3, "face": 4}


def layer(module: str) -> str:
    """The layer a project module belongs to."""
    if module == "app" or module == "rag.cli" or module.startswith("rag.web"):
        return "face"
    return module.split(".")[0]


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project: ``dotted.name -> file``."""
    found = {"app": root / "app.py"}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``module`` imports (``from a.b import c`` counts as ``a.b.c`` if that is a module,
    else ``a.b``)."""
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".") if is_package else module.split(".")[:-1]
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """The import graph of the project's modules."""
    modules = project_modules(root)
    known = set(modules)
    return {m: imports_of(m, p, known) for m, p in modules.items()}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Every import from a module into a higher layer, as ``a -> b`` lines."""
    bad = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            if LAYERS[layer(target)] > LAYERS[layer(module)]:
                bad.append(f"{module} ({layer(module)}) -> {target} ({layer(target)})")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles (strongly connected components of two or more modules), by Tarjan's algorithm.

    A package's ``__init__`` re-exporting its own submodules is not a cycle of the design, so edges from a
    module to the package that contains it are left out."""
    pruned = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(pruned.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(pruned):
        if v not in index:
            visit(v)
    return found


def test_layers_point_one_way() -> None:
    assert upward_imports(graph()) == []


def test_there_are_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_storage_layer_imports_nothing_from_rag() -> None:
    edges = graph()
    assert not {t for m, ts in edges.items() if m.startswith("index") for t in ts if t.startswith("rag")}


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    # The same checks over a copy of the tree in which the storage layer imports the chain's settings again.
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            copy = tmp_path / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    store = tmp_path / "index" / "store.py"
    store.write_text("from rag.config import Settings\n" + store.read_text(encoding="utf-8"), encoding="utf-8")
    edges = graph(tmp_path)
    assert "index.store (index) -> rag.config (rag)" in upward_imports(edges)
    assert any("index.store" in c and "rag.config" in c for c in cycles(edges))
