"""Facts: checking a caller's facts against a family's declarations, in two forms.

The *recorded* form is JSON-safe and exact (money as ``"1234.50"``, dates as
``"2025-07-01"``, sets as sorted lists); a decision stores it, and replay compares it.
The *typed* form is what evaluators compare: ``Decimal`` money, ``date`` dates and
``frozenset`` code sets. How the engine encodes these (cents, day numbers, one flag per
code) is the engine adapter's business alone (:mod:`vrrules.policies.engine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from vrrules.errors import FactsInvalidError
from vrrules.policies.model import FactDecl
from vrrules.policies.values import CENT, parse_iso_date, parse_money

__all__ = ["NUMBER_LIMIT", "recorded_facts", "typed_facts"]

# Numbers of 2**53 and more lose precision as doubles (durable_rules compares C doubles, and
# saturates beyond 2**63): facts are refused at that size, money counted in cents.
NUMBER_LIMIT = 2**53


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
    if abs(value) >= NUMBER_LIMIT:
        raise _problem(name, decl, value, where, f"a whole number below 2**53 in size ({decl.type})")
    return value


def _check_money(name: str, decl: FactDecl, value: Any, where: str) -> Decimal:
    expected = 'money as Decimal, int or text with at most two decimals (e.g. "1234.50")'
    if isinstance(value, (bool, float)):
        raise _problem(name, decl, value, where, expected + "; floats are refused")
    try:
        amount = parse_money(value)
    except ValueError:
        finite = isinstance(value, Decimal | int | str) and _finite(value)
        raise _problem(
            name, decl, value, where, expected + ("; it has more than two decimals" if finite else "")
        ) from None
    if abs(amount) * 100 >= NUMBER_LIMIT:
        raise _problem(name, decl, value, where, expected + " below 90 trillion")
    return amount.quantize(CENT)


def _finite(value: Decimal | int | str) -> bool:
    try:
        return Decimal(str(value).strip()).is_finite()
    except ArithmeticError:
        return False


def _check_date(name: str, decl: FactDecl, value: Any, where: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError:
        raise _problem(name, decl, value, where, "a date (datetime.date or 'YYYY-MM-DD')") from None


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


def typed_facts(declared: Mapping[str, FactDecl], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """Recorded facts in the typed form evaluators compare; unknown facts stay absent."""
    typed: dict[str, Any] = {}
    for name, value in recorded.items():
        match declared[name].type:
            case "money":
                typed[name] = parse_money(value)
            case "date":
                typed[name] = parse_iso_date(value)
            case "set":
                typed[name] = frozenset(value)
            case _:
                typed[name] = value
    return typed
