"""The layers stay layers: read every module's imports and pin who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vrrules

PACKAGE = Path(vrrules.__file__).parent


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


MODULES = _modules()


def _imports(tree: ast.Module) -> set[str]:
    """Every module named in an import anywhere in the file (function-level ones too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("vrrules.policies", ("vrrules.events", "vrrules.audit", "vrrules.cli")),
        ("vrrules.events", ("vrrules.audit", "vrrules.cli")),
        ("vrrules.audit", ("vrrules.cli",)),
    ],
)
def test_a_lower_layer_imports_nothing_from_a_higher_one(layer: str, forbidden: tuple[str, ...]) -> None:
    offending = sorted(
        f"{module} imports {name}"
        for module, tree in MODULES.items()
        if _in(module, layer)
        for name in _imports(tree)
        if any(_in(name, f) for f in forbidden)
    )
    assert not offending


def test_only_the_store_touches_eventsourcing_machinery() -> None:
    # the application, recorder and mapper; domain events (eventsourcing.domain) are the
    # aggregate's own business, transcodings the persistence module's
    machinery = (
        "eventsourcing.application",
        "eventsourcing.persistence",
        "eventsourcing.sqlite",
        "eventsourcing.postgres",
    )
    # duetables: the due list's tables, on the store's own connections (it catches the
    # persistence errors eventsourcing raises from them; it opens no application or recorder)
    allowed = {
        "vrrules.events.store",
        "vrrules.events.persistence",
        "vrrules.events.pglog",
        "vrrules.events.duetables",
    }
    offending = sorted(
        f"{module} imports {name}"
        for module, tree in MODULES.items()
        if module not in allowed
        for name in _imports(tree)
        if any(_in(name, m) for m in machinery)
    )
    assert not offending


def test_no_module_reaches_into_the_store_internals() -> None:
    offending = sorted(
        f"{module} uses .{node.attr}"
        for module, tree in MODULES.items()
        if module != "vrrules.events.store"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"_log", "recorder", "mapper"}
    )
    assert not offending


def test_no_module_calls_another_modules_private_names() -> None:
    offending = []
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vrrules"):
                offending += [
                    f"{module} imports {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not offending


def test_durable_rules_is_imported_by_the_engine_adapter_alone() -> None:
    importers = sorted(
        module for module, tree in MODULES.items() if any(_in(n, "durable") for n in _imports(tree))
    )
    assert importers == ["vrrules.policies.engine"]
