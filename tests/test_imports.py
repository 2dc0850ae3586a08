"""Imports flow one way: down the layers, and never in a circle.

The rule, as checked here on every module of ``unlearn`` (stdlib ``ast``: module-level,
function-level and ``TYPE_CHECKING`` imports alike):

    config < runtime < math, models, data
           < module, twin, forget, callbacks, methods, metrics, privacy
           < loggers < experiment < analyze < entry points (unlearn/__init__, __main__, shims)

A module may import its own layer and the layers to its left, never one to its right; and
no chain of imports among modules comes back to where it started. The checker is run on a
small synthetic package too, to show that it catches an upward import and a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (  # lowest first; a name covers a module or a folder
    ("config",),
    ("runtime",),
    ("math", "models", "data"),
    ("module", "twin", "forget", "callbacks", "methods", "metrics", "privacy"),
    ("loggers",),
    ("experiment",),
    ("analyze",),
    ("__init__", "__main__", "sync", "sweeps"),  # the package itself and the commands
)


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of the package folder by dotted name (a package by its folder's name)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(package: Path) -> dict[str, dict[str, int]]:
    """module → {imported module of the same package: line}, from every import statement."""
    modules = modules_of(package)
    top = package.name
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join([*base, node.module] if node.module else base)
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{a.name}" for a in node.names] + [stem]
            for target in targets:
                if target.split(".")[0] != top:
                    continue
                while target not in modules:  # `from a.b import attr` → a.b
                    target = target.rpartition(".")[0]
                if target != name:
                    edges.setdefault(target, node.lineno)
                if isinstance(node, ast.ImportFrom):
                    break  # the first target that is a module is the one imported
        graph[name] = edges
    return graph


def layer(module: str) -> int:
    """The layer index of a dotted module name (its first component under the package)."""
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for index, names in enumerate(LAYERS):
        if key in names:
            return index
    raise AssertionError(f"{module}: in no layer; add unlearn/{key} to LAYERS in {__file__}")


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """`a:line imports b` for every import from a lower layer into a higher one."""
    return [
        f"{a}:{line} imports {b} ({'/'.join(LAYERS[layer(b)])} is above "
        f"{'/'.join(LAYERS[layer(a)])})"
        for a, edges in sorted(graph.items())
        for b, line in sorted(edges.items())
        if layer(b) > layer(a)
    ]


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (Tarjan's strongly connected
    components with more than one member)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _package_edges_to_children(graph: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The graph without the edges from a package's ``__init__`` to its own submodules.

    A package that re-exports its modules (``unlearn.methods`` → ``methods.amnesiac``) while a
    module imports a sibling through it would show as a cycle; it is one only if the module
    imports the package itself, which the remaining edges still show.
    """
    return {
        a: {b: n for b, n in edges.items() if not b.startswith(a + ".")}
        for a, edges in graph.items()
    }


def test_no_module_imports_a_higher_layer():
    bad = upward_imports(imports_of(ROOT / "unlearn"))
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    found = cycles(_package_edges_to_children(imports_of(ROOT / "unlearn")))
    assert not found, "\n".join(" ↔ ".join(group) for group in found)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "unlearn"


def test_the_checker_catches_an_upward_import_and_a_cycle(tmp_path):
    """A synthetic package: legal at first, then one function-level upward import and one
    ``TYPE_CHECKING`` import that closes a circle."""
    pkg = _write(
        tmp_path,
        {
            "unlearn/__init__.py": "",
            "unlearn/config/__init__.py": "",
            "unlearn/config/errors.py": "class ConfigError(ValueError): ...\n",
            "unlearn/experiment/__init__.py": "",
            "unlearn/experiment/run.py": "from unlearn.config.errors import ConfigError\n",
            "unlearn/experiment/job.py": "from . import run\n",
        },
    )
    graph = imports_of(pkg)
    assert graph["unlearn.experiment.job"] == {"unlearn.experiment.run": 1}
    assert not upward_imports(graph) and not cycles(graph)

    (pkg / "config" / "errors.py").write_text(
        "def hint():\n    from unlearn.experiment.job import run  # upward\n"
    )
    (pkg / "experiment" / "run.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from unlearn.experiment import job\n"
    )
    graph = imports_of(pkg)
    assert upward_imports(graph) == [
        "unlearn.config.errors:2 imports unlearn.experiment.job (experiment is above config)"
    ]
    assert cycles(graph) == [["unlearn.experiment.job", "unlearn.experiment.run"]]


def test_the_real_package_fails_when_an_upward_import_is_added(tmp_path):
    """The same check on a copy of unlearn/ with one line added to math/params.py."""
    copy = tmp_path / "unlearn"
    for path in (ROOT / "unlearn").rglob("*.py"):
        target = copy / path.relative_to(ROOT / "unlearn")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    params = copy / "math" / "params.py"
    params.write_text(params.read_text() + "\nfrom unlearn.experiment.run import run  # noqa\n")
    bad = upward_imports(imports_of(copy))
    assert len(bad) == 1 and bad[0].startswith("unlearn.math.params:")
    assert "imports unlearn.experiment.run (experiment is above math/models/data)" in bad[0]


@pytest.mark.parametrize("name", ["module", "callbacks", "loggers", "experiment", "analyze"])
def test_every_folder_and_root_module_has_a_layer(name):
    assert layer(f"unlearn.{name}") >= 0
    for child in (ROOT / "unlearn").iterdir():
        if child.suffix == ".py" or (child / "__init__.py").exists():
            layer(f"unlearn.{child.stem}")
