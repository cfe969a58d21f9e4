"""Facts: checking a caller's facts against a family's declarations, in two forms.

The *recorded* form is JSON-safe and exact (money as ``"1234.50"``, dates as
``"2025-07-01"``, sets as sorted lists); a decision stores it, and replay compares it.
The *typed* form is what evaluators compare: ``Decimal`` money, ``date`` dates and
``frozenset`` code sets. How the engine encodes these (cents, day numbers, one flag per
code) is the engine adapter's business alone (:mod:`vrrules.policies.engine`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic_core import PydanticCustomError

from vrrules.errors import FactsInvalidError
from vrrules.policies.model import FactDecl
from vrrules.policies.values import CENT, parse_iso_date, parse_money

__all__ = ["MONEY_WRITTEN", "NUMBER_LIMIT", "money_as_written", "recorded_facts", "typed_facts"]

# Numbers of 2**53 and more lose precision as doubles (durable_rules compares C doubles, and
# saturates beyond 2**63): facts are refused at that size, money counted in cents.
NUMBER_LIMIT = 2**53


# Money as written in a caller's facts or an event payload: an optional minus, ASCII digits
# (no leading zeros) and at most two decimals after a point. Decimal() alone also takes
# "1e3", "1_000", " 100 ", "+5", "1e-2" and other scripts' digits ("١٢٣"), and each was
# stored as an amount written another way than the caller wrote it.
_MONEY_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?")
MONEY_WRITTEN = (
    'money written as text of ASCII digits with at most two decimals after a point, such as "1234.50" '
    "(an optional leading minus; or a whole number)"
)


def _plain(value: str) -> str | None:
    """The amount ``value`` reads as to Decimal, written the one way (None: it reads as none)."""
    try:
        amount = Decimal(value.strip())
        return str(amount.quantize(CENT)) if amount.is_finite() and amount == amount.quantize(CENT) else None
    except ArithmeticError:  # not an amount, or more digits than the context holds
        return None


def _inexact_text(value: str) -> str:
    """How a refused money text is fixed: its plain form if it has one."""
    plain = _plain(value)
    fix = (
        "write it plainly, with no exponent, underscore, space, plus sign, leading zero, "
        "bare point or digits other than 0-9"
    )
    return f"{fix} ({plain!r} if that is the amount meant)" if plain is not None else fix


def money_as_written(value: Any) -> Decimal:
    """Money exactly as written: text must be in the one form :data:`MONEY_WRITTEN` names
    (refused with pydantic's ``money_invalid``, saying what to write instead); whole numbers
    and ``Decimal`` go on to :func:`~vrrules.policies.values.parse_money`, which refuses
    floats and more than two decimals."""
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "money_invalid",
            "expected {expected}, got {got}: {fix}",
            {"expected": MONEY_WRITTEN, "got": repr(value), "fix": _inexact_text(value)},
        )
    return parse_money(value)


# how much of a refused value a message quotes (a caller's list may be long)
_QUOTED = 100


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "..."


def _problem(
    name: str, decl: FactDecl, got: Any, where: str, expected: str, *, fix: str | None = None
) -> FactsInvalidError:
    return FactsInvalidError(
        f"{where}: fact {name!r} expected {expected}, got {_quoted(got)} ({type(got).__name__})"
        + (f"; {fix}" if fix else ""),
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
    expected = 'money as Decimal, a whole number or text with at most two decimals (e.g. "1234.50")'
    if isinstance(value, (bool, float)):
        plain = _plain(repr(value)) if isinstance(value, float) else None
        fix = f'quote it: "{plain}" (a float cannot hold cents exactly)' if plain is not None else None
        raise _problem(name, decl, value, where, expected + "; floats, true and false are refused", fix=fix)
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        raise _problem(name, decl, value, where, MONEY_WRITTEN, fix=_inexact_text(value))
    finite = isinstance(value, int | str) or (isinstance(value, Decimal) and value.is_finite())
    if finite and abs(Decimal(value)) * 100 >= NUMBER_LIMIT:
        raise _problem(name, decl, value, where, expected + " below 90 trillion")
    try:
        amount = parse_money(value)
    except ValueError:  # only a Decimal of more decimals, or no amount at all, is left
        raise _problem(
            name, decl, value, where, expected + ("; it has more than two decimals" if finite else "")
        ) from None
    return amount.quantize(CENT)


def _check_date(name: str, decl: FactDecl, value: Any, where: str) -> date:
    expected = "a date (datetime.date or 'YYYY-MM-DD')"
    if isinstance(value, datetime):  # a date too, to Python, but one holding a time of day
        raise _problem(name, decl, value, where, expected + ", not a datetime", fix="pass its .date()")
    try:
        return parse_iso_date(value)
    except ValueError:
        raise _problem(name, decl, value, where, expected) from None


def _check_codes(name: str, decl: FactDecl, value: Any, where: str) -> list[str]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _problem(name, decl, value, where, f"a list of codes from {decl.values}")
    codes = list(value)
    allowed = set(decl.values or ())
    for code in codes:
        # a nested list or mapping cannot even be looked up among the codes (it is unhashable)
        if not isinstance(code, str):
            raise _problem(
                name, decl, code, where, f"each element a code written as text, one of {decl.values}"
            )
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
    if not isinstance(facts, Mapping) or not all(isinstance(key, str) for key in facts):
        raise FactsInvalidError(
            f"{where}: expected the facts as a mapping of fact names (text) to values, got "
            + (
                f"a key {_quoted(next(k for k in facts if not isinstance(k, str)))}"
                if isinstance(facts, Mapping)
                else f"{_quoted(facts)} ({type(facts).__name__})"
            ),
            got=facts,
        )
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
