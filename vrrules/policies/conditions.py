"""Helpers over the condition tree shared by the checks and the lowering stage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from vrrules.policies.facts import cents
from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    FactDecl,
    NotOf,
    ParamRef,
    parse_iso_date,
    parse_money,
)

__all__ = ["OperandError", "engine_scalar", "expand_codes", "operand_items", "operand_type", "walk"]

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


class OperandError(ValueError):
    """A literal or parameter value that does not fit the fact it is compared with."""


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


def engine_scalar(fact_type: str, value: Any) -> Any:
    """Convert one literal or resolved parameter value to what the engine compares."""
    if value is None:
        raise OperandError("expected a value, got null")
    match fact_type:
        case "bool":
            if not isinstance(value, bool):
                raise OperandError(f"expected true or false, got {value!r}")
            return value
        case "int" | "days":
            if isinstance(value, bool) or not isinstance(value, int):
                raise OperandError(f"expected a whole number, got {value!r}")
            return value
        case "money":
            try:
                return cents(value if isinstance(value, Decimal) else parse_money(value))
            except ValueError as exc:
                raise OperandError(f'expected money such as "1234.50", got {value!r}') from exc
        case "date":
            try:
                return parse_iso_date(value).toordinal()
            except ValueError as exc:
                raise OperandError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from exc
        case _:
            if not isinstance(value, str):
                raise OperandError(f"expected text, got {value!r}")
            return value
