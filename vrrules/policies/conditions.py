"""Walking the spec's condition tree: shared by the check, resolve, lower and lint stages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    FactDecl,
    NotOf,
    ParamRef,
)

__all__ = ["expand_codes", "operand_items", "operand_type", "walk"]

Path = tuple[str | int, ...]


def walk(condition: Condition, path: Path) -> Iterator[tuple[Comparison, Path]]:
    """Every comparison in a condition tree, with its path in the spec."""
    if isinstance(condition, AllOf):
        for index, item in enumerate(condition.all):
            yield from walk(item, (*path, "all", index))
    elif isinstance(condition, AnyOf):
        for index, item in enumerate(condition.any):
            yield from walk(item, (*path, "any", index))
    elif isinstance(condition, NotOf):
        yield from walk(condition.not_, (*path, "not"))
    else:
        yield condition, path


def operand_type(operator: str, decl: FactDecl) -> str:
    """The type of an operator's values: counts are whole numbers, set codes are text."""
    if operator.startswith("count_"):
        return "int"
    return "text" if decl.type == "set" else decl.type


def operand_items(comparison: Comparison) -> list[Any]:
    """The values a comparison compares with (none for ``present``).

    A list operator's operand may be one ``ParamRef`` to a code list; it is returned as is.
    """
    operand = comparison.operand
    if comparison.operator == "present":
        return []
    return list(operand) if isinstance(operand, list) else [operand]


def expand_codes(items: list[Any], params: Mapping[str, Any]) -> list[Any]:
    """Replace a reference to a code-list parameter by its codes."""
    out: list[Any] = []
    for item in items:
        value = params.get(item.param) if isinstance(item, ParamRef) else item
        out.extend(value if isinstance(value, list) else [item])
    return out
