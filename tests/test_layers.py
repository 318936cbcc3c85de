"""Imports run one way (docs/ARCHITECTURE.md): the core imports only the core; rendering and operations
import the core; loaders import the core; the interfaces (CLI, app) import anything of the product;
nothing of the product imports bench/. Read from the source, function-level imports included."""
from __future__ import annotations

import ast

import pytest

from kb import config

ROOT = config.PROJECT_ROOT
ALLOWED = {
    "core": {"core"},
    "render": {"core", "render"},
    "ops": {"core", "ops"},
    "loaders": {"core", "loaders"},
    "interface": {"core", "render", "ops", "loaders", "interface"},
}
PRODUCT = sorted([*ROOT.glob("kb/**/*.py"), *ROOT.glob("loaders/**/*.py"), ROOT / "app.py",
                  *ROOT.glob("app_pages/*.py")])


def layer(module: str) -> str | None:
    """The layer of a project module by its dotted name; None for a module outside the project."""
    parts = module.split(".")
    if parts[0] == "bench":
        return "bench"
    if parts[0] in ("app", "app_pages") or module == "kb.cli":
        return "interface"
    if parts[0] == "loaders":
        return "loaders"
    if parts[0] == "kb":
        return {"render": "render", "ops": "ops"}.get(parts[1] if len(parts) > 1 else "", "core")
    return None


def imported_modules(path) -> set[str]:
    """Every project module a file imports (`from kb import db` names kb.db)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" if node.module in ("kb", "kb.ops", "kb.render", "loaders",
                                                                          "app_pages") else node.module
                         for alias in node.names)
    return {name for name in found if layer(name) is not None and name not in ("kb", "loaders")}


def module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    own = layer(module_name(path))
    wrong = sorted(name for name in imported_modules(path) if layer(name) not in ALLOWED[own])
    assert not wrong, f"{path.relative_to(ROOT)} ({own}) imports against the direction: {wrong}"


def test_the_layers_are_told_apart():
    """The rule above is not empty: each layer holds modules, and a known upward import is caught."""
    layers = {layer(module_name(path)) for path in PRODUCT}
    assert layers == set(ALLOWED), layers
    assert layer("kb.ops.server") not in ALLOWED["loaders"] and layer("bench.synthetic") not in ALLOWED["interface"]
