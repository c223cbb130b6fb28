"""The package's layering: every module imports, subpackages do not import each other in a cycle, the base
modules import no subpackage, and no module reaches into another module's private names.

The import graph is read from the modules' source (``ast``), so an import inside a function counts as much
as one at the top: a lazy import hides a dependency from the interpreter, not from the design. Nodes are
the subpackages (``usd_synth.motion``, ``usd_synth.usd``, ...); the top-level modules that everything
builds on (:data:`BASE`) form one base layer, which must import no subpackage.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

#: Top-level modules that form the base layer: they may import each other, never a subpackage.
BASE = {
    "usd_synth",
    "skeleton",
    "kinematics",
    "rotations",
    "errors",
    "fileio",
    "safe_pickle",
    "executors",
    "limits",
}

#: Packages that live outside ``usd_synth/`` in the source tree but install inside it.
EXTRA_PACKAGES = ("usd_synth.cli",)

#: Known module -> subpackage edges that close a cycle, each with its reason. Keep this list short: an edge
#: listed here must exist (a stale entry fails) and every other cycle fails.
ALLOWED_EDGES: dict[tuple[str, str], str] = {}


def _package_modules() -> dict[str, Path]:
    """Every module of the package (and of the packages installed inside it): name -> source file."""
    found: dict[str, Path] = {}
    for pkg_name in ("usd_synth", *EXTRA_PACKAGES):
        spec = importlib.util.find_spec(pkg_name)
        if spec is None or spec.origin is None:
            continue
        found[pkg_name] = Path(spec.origin)
        locations = list(spec.submodule_search_locations or [])
        for info in pkgutil.walk_packages(locations, prefix=f"{pkg_name}."):
            sub = importlib.util.find_spec(info.name)
            if sub is not None and sub.origin and sub.origin.endswith(".py"):
                found[info.name] = Path(sub.origin)
    return found


MODULES = _package_modules()
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module a ``from ... import`` statement names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if module in PACKAGES else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, ast.AST]]:
    """(imported usd_synth module, node) for every import in ``module``'s source, at any depth."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                # ``from usd_synth.body import shapes`` imports the module usd_synth.body.shapes.
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in MODULES else target, node))
    return [(name, node) for name, node in out if name == "usd_synth" or name.startswith("usd_synth.")]


def layer(module: str) -> str:
    """The node of the layer graph a module belongs to."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in BASE:
        return "base"
    top = ".".join(parts[:2])
    return top  # a subpackage, or a top-level application module (usd_synth.demo) on its own


def _edges() -> dict[tuple[str, str], list[str]]:
    """(layer, layer) -> the module-level imports that make the edge ("a -> b")."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _ in _imports(module):
            a, b = layer(module), layer(target)
            if a != b and (module, b) not in ALLOWED_EDGES:
                edges[(a, b)].add(f"{module} -> {target}")
    return {edge: sorted(how) for edge, how in edges.items()}


def _cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_finds_the_package():
    assert {"usd_synth.kinematics", "usd_synth.motion.model", "usd_synth.usd.authoring"} <= set(MODULES)
    assert "usd_synth.cli.main" in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module):
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("usd_synth"):
            pytest.skip(f"optional dependency {exc.name} is not installed")
        raise


def test_no_cycle_between_subpackages():
    edges = _edges()
    problems = []
    for component in _cycles(edges):
        inside = [
            f"  {a} -> {b}: {', '.join(edges[(a, b)][:3])}"
            for a in component
            for b in component
            if (a, b) in edges
        ]
        problems.append(f"cycle between {', '.join(component)}:\n" + "\n".join(inside))
    assert not problems, "\n".join(problems)


def test_allowed_edges_are_still_needed():
    present = {(module, layer(target)) for module in MODULES for target, _ in _imports(module)}
    stale = [edge for edge in ALLOWED_EDGES if edge not in present]
    assert not stale, f"remove these from ALLOWED_EDGES, they no longer exist: {stale}"


def test_base_layer_imports_no_subpackage():
    bad = [
        f"{module} -> {target}"
        for module in MODULES
        if layer(module) == "base"
        for target, _ in _imports(module)
        if layer(target) != "base"
    ]
    assert not bad, "base modules must not import subpackages:\n" + "\n".join(bad)


def _private_uses(module: str, source: str | None = None) -> list[str]:
    """``from usd_synth.x import _name`` and ``<usd_synth module>._name`` in ``module``'s source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8") if source is None else source)
    aliases: dict[str, str] = {}  # local name -> usd_synth module it is bound to
    found: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("usd_synth.") and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not (target == "usd_synth" or target.startswith("usd_synth.")):
                continue
            for alias in node.names:
                if private(alias.name):
                    found.append(f"line {node.lineno}: from {target} import {alias.name}")
                elif f"{target}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and private(node.attr)
            and aliases[node.value.id] != module
        ):
            found.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    bad = [f"{module}: {use}" for module in sorted(MODULES) for use in _private_uses(module)]
    assert not bad, "private names used from another module (make them public where they belong):\n" + (
        "\n".join(bad)
    )


def test_the_private_name_check_sees_both_forms():
    source = (
        "from usd_synth.usd.skel import _hidden, find_skeleton\n"
        "from usd_synth.body import shapes\n"
        "import usd_synth.usd.matrices as mx\n"
        "def f():\n"
        "    from ..errors import _secret\n"
        "    return shapes._float, mx.gf_matrix, mx._private, shapes.__name__\n"
    )
    uses = _private_uses("usd_synth.motion.model", source)
    assert sorted(uses) == [
        "line 1: from usd_synth.usd.skel import _hidden",
        "line 5: from usd_synth.errors import _secret",
        "line 6: usd_synth.body.shapes._float",
        "line 6: usd_synth.usd.matrices._private",
    ]
