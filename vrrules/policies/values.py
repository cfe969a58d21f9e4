"""The one parser for money and the one parser for dates, and typing a value by its declared type.

Money and dates reach vrrules from spec YAML, from a caller's facts, from event payloads and
from stored decisions. Each is parsed here and nowhere else, so every path accepts and refuses
the same text: money is ``Decimal`` exact to the cent (never a float), a date is written
``YYYY-MM-DD`` and nothing else (``date.fromisoformat`` alone would also take ``2025-W01-1``
or ``20250101``). Both raise :class:`pydantic_core.PydanticCustomError`, a ``ValueError`` that
pydantic models report with its stable code (``money_invalid``, ``date_not_iso``).

The *recorded* form (what a decision stores as JSON) is made by :func:`recorded` alone.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["CENT", "OperandError", "parse_iso_date", "parse_money", "recorded", "typed_scalar"]

CENT = Decimal("0.01")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_iso_date(value: Any) -> date:
    """Accept only ``YYYY-MM-DD`` text (or a date); refuse everything else with a clear word."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError(
        "date_not_iso",
        "expected an ISO date written YYYY-MM-DD, got {got}",
        {"got": repr(value)},
    )


def parse_money(value: Any) -> Decimal:
    """Money is written as text ("1234.50") or a whole number; never a float, at most cents.

    The result keeps the digits it was written with (``"12"`` stays ``Decimal("12")``); use
    :func:`recorded` for the two-decimal text a decision stores.
    """
    if isinstance(value, (bool, float)):
        raise PydanticCustomError(
            "money_invalid",
            'expected money as quoted text with at most two decimals such as "1234.50", '
            "got {got} (a float cannot hold cents exactly)",
            {"got": repr(value)},
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal("NaN")
    else:
        amount = Decimal("NaN")
    if not _is_cents(amount):
        raise PydanticCustomError(
            "money_invalid",
            'expected money with at most two decimals such as "1234.50", got {got}',
            {"got": repr(value)},
        )
    return amount


def _is_cents(amount: Decimal) -> bool:
    if not amount.is_finite():
        return False
    try:
        return amount == amount.quantize(CENT)
    except InvalidOperation:  # more digits than the context holds
        return False


class OperandError(ValueError):
    """A literal or parameter value that does not fit the fact it is compared with."""


def typed_scalar(value_type: str, value: Any) -> Any:
    """One literal or parameter value as the typed value a fact of ``value_type`` is compared with.

    ``money`` gives ``Decimal``, ``date`` gives ``date``, ``int``/``days`` an ``int``, ``bool`` a
    bool and every code or text a ``str``.
    """
    if value is None:
        raise OperandError("expected a value, got null")
    match value_type:
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
                return parse_money(value).quantize(CENT)
            except ValueError as exc:
                raise OperandError(f'expected money such as "1234.50", got {value!r}') from exc
        case "date":
            try:
                return parse_iso_date(value)
            except ValueError as exc:
                raise OperandError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from exc
        case _:
            if not isinstance(value, str):
                raise OperandError(f"expected text, got {value!r}")
            return value


def recorded(value: Any) -> Any:
    """A typed value in the JSON-safe form decisions store: money ``"1234.50"``, ISO dates,
    code sets as sorted lists; everything else as it is."""
    if isinstance(value, Decimal):
        return str(value)  # as written in the spec, or already exact to the cent
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    if isinstance(value, list):
        return list(value)
    return value
