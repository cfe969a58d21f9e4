"""Facts: checking them against a family's declarations, and the engine's view of them.

Two forms of the same facts exist. The *recorded* form is JSON text-safe and exact
(money as ``"1234.50"``, dates as ``"2025-07-01"``, sets as sorted lists) and is what a
decision event stores. The *engine view* is what durable_rules sees: only integers,
booleans and text, because the engine compares numbers as C doubles and can serialise
neither ``Decimal`` nor ``date``. Money becomes integer cents, dates become day numbers
(proleptic ordinals), and a set fact becomes one boolean per code plus a count, which
keeps "does not contain" exact (durable_rules' ``$iall`` is false on an empty list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from vrrules.errors import FactsInvalidError
from vrrules.policies.model import FactDecl

__all__ = [
    "ENGINE_INT_LIMIT",
    "cents",
    "engine_key_count",
    "engine_view",
    "recorded_facts",
]

# Integers beyond 2**53 lose precision as C doubles, and beyond 2**63 durable_rules saturates.
ENGINE_INT_LIMIT = 2**53


def cents(amount: Decimal) -> int:
    """Exact conversion of a money amount to integer cents."""
    return int(amount.scaleb(2))


def _flag(fact: str, code: str) -> str:
    return f"{fact}__{code}"


def _count(fact: str) -> str:
    return f"{fact}__count"


def engine_key_count(facts: Mapping[str, FactDecl]) -> int:
    """How many properties a fact message of this family puts on one engine fact."""
    total = 0
    for decl in facts.values():
        total += (len(decl.values or ()) + 1) if decl.type == "set" else 1
    return total


def _problem(name: str, decl: FactDecl, got: Any, where: str, expected: str) -> FactsInvalidError:
    return FactsInvalidError(
        f"{where}: fact {name!r} expected {expected}, got {got!r} ({type(got).__name__})",
        fact=name,
        expected=expected,
        got=got,
    )


def _check_int(name: str, decl: FactDecl, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(name, decl, value, where, f"a whole number ({decl.type})")
    if abs(value) >= ENGINE_INT_LIMIT:
        raise _problem(name, decl, value, where, f"a whole number below 2**53 in size ({decl.type})")
    return value


def _check_money(name: str, decl: FactDecl, value: Any, where: str) -> Decimal:
    expected = 'money as Decimal, int or text with at most two decimals (e.g. "1234.50")'
    if isinstance(value, (bool, float)):
        raise _problem(name, decl, value, where, expected + "; floats are refused")
    try:
        amount = Decimal(value) if isinstance(value, Decimal | int | str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise _problem(name, decl, value, where, expected)
    try:
        exact = amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise _problem(name, decl, value, where, expected + "; it has more than two decimals")
    if abs(cents(amount)) >= ENGINE_INT_LIMIT:
        raise _problem(name, decl, value, where, expected + " below 90 trillion")
    return amount.quantize(Decimal("0.01"))


def _check_date(name: str, decl: FactDecl, value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _problem(name, decl, value, where, "a date (datetime.date or 'YYYY-MM-DD')")


def _check_codes(name: str, decl: FactDecl, value: Any, where: str) -> list[str]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _problem(name, decl, value, where, f"a list of codes from {decl.values}")
    codes = list(value)
    allowed = set(decl.values or ())
    for code in codes:
        if code not in allowed:
            raise _problem(name, decl, code, where, f"codes from {decl.values}")
    return sorted(set(codes))


def _check(name: str, decl: FactDecl, value: Any, where: str) -> Any:
    """Validate one non-null fact; return it in recorded (JSON-safe, exact) form."""
    match decl.type:
        case "bool":
            if not isinstance(value, bool):
                raise _problem(name, decl, value, where, "true or false")
            return value
        case "int" | "days":
            return _check_int(name, decl, value, where)
        case "text":
            if not isinstance(value, str):
                raise _problem(name, decl, value, where, "text")
            return value
        case "enum":
            if not isinstance(value, str) or value not in (decl.values or ()):
                raise _problem(name, decl, value, where, f"one of {decl.values}")
            return value
        case "set":
            return _check_codes(name, decl, value, where)
        case "money":
            return str(_check_money(name, decl, value, where))
        case "date":
            return _check_date(name, decl, value, where).isoformat()
    raise AssertionError(decl.type)  # pragma: no cover - FactType is closed


def recorded_facts(declared: Mapping[str, FactDecl], facts: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check ``facts`` against the declarations; return them in recorded form, keys sorted.

    Unknown names are refused; a declared fact that is missing or ``None`` is unknown,
    and every comparison on an unknown fact is false.
    """
    unknown = sorted(set(facts) - set(declared))
    if unknown:
        raise FactsInvalidError(
            f"{where}: expected only the facts the family declares ({sorted(declared)}), "
            f"got unknown fact(s) {unknown}",
            unknown=unknown,
        )
    recorded: dict[str, Any] = {}
    for name in sorted(declared):
        value = facts.get(name)
        if value is None:
            value = declared[name].default
        if value is not None:
            recorded[name] = _check(name, declared[name], value, where)
    return recorded


def engine_view(declared: Mapping[str, FactDecl], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """Translate recorded facts into the integers, booleans and text the engine compares."""
    view: dict[str, Any] = {}
    for name, value in recorded.items():
        decl = declared[name]
        match decl.type:
            case "money":
                view[name] = cents(Decimal(value))
            case "date":
                view[name] = date.fromisoformat(value).toordinal()
            case "set":
                held = set(value)
                for code in decl.values or ():
                    view[_flag(name, code)] = code in held
                view[_count(name)] = len(held)
            case _:
                view[name] = value
    return view
