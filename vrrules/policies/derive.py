"""Derived facts: the arithmetic and look-ups a spec declares, computed exactly before deciding.

Derivations read the facts in recorded form and the parameters the resolve stage found for
the decision's date (the same values the rules are lowered with). A derived fact is unknown
when any fact it reads is unknown. Money stays ``Decimal``
throughout and is rounded only where a ``fraction`` says how; days are whole days. A
table look-up with no row for the location and date raises ``parameter_missing``: a rate
the sources do not give is never guessed.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from vrrules.errors import ParameterMissingError
from vrrules.policies.model import Derivation, FactDecl, FamilySpec, Lookup, ParamRef, Shift, Table, TableSum
from vrrules.policies.values import CENT, parse_iso_date, parse_money

__all__ = ["add_months", "derive_facts", "derived_names", "look_up", "shifted", "whole_months"]


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, keeping the day of the month; a month without
    that day gives its last day (31 January + 1 month = 28 February, or 29 in a leap year).
    The inverse reading of :func:`whole_months`: ``whole_months(d, add_months(d, n)) == n``."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def whole_months(start: date, on: date) -> int | None:
    """Whole calendar months from ``start`` to ``on``; None before ``start``.

    A month is complete on the same day-of-month; when that day does not exist (the 29th
    to the 31st), on the month's last day. 15 January to 15 April is 3 months, to 14 April 2.
    """
    if on < start:
        return None
    months = (on.year - start.year) * 12 + (on.month - start.month)
    if on.day < min(start.day, calendar.monthrange(on.year, on.month)[1]):
        months -= 1
    return months


_ROUNDING = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP, "up": ROUND_UP}


def derived_names(spec: FamilySpec) -> set[str]:
    return {name for name, decl in spec.facts.items() if decl.derive is not None}


def _number(decl_type: str, value: Any) -> Decimal | int:
    return parse_money(value) if decl_type == "money" else int(value)


def _recorded(decl: FactDecl, value: Decimal | int) -> Any:
    if decl.type == "money":
        assert isinstance(value, Decimal)
        return str(value.quantize(CENT))
    return int(value)


def look_up(table_name: str, table: Table, location: str, on: date, column: str) -> Decimal:
    for period in table.periods:
        if not period.from_ <= on <= period.until:
            continue
        for wanted in (location, period.all_other_locations):
            for row in period.rows:
                if row.location == wanted and (row.months is None or on.month in row.months):
                    amount: Decimal = getattr(row, column)
                    return amount
        raise ParameterMissingError(
            f"table {table_name!r} has no {column} rate for {location!r} on {on.isoformat()}: the "
            f"period {period.from_.isoformat()}..{period.until.isoformat()} lists "
            f"{sorted({r.location for r in period.rows})} and names no rate for other locations. "
            "The rate is not guessed; add the published row with its reference.",
            table=table_name,
            location=location,
        )
    periods = ", ".join(f"{p.from_.isoformat()}..{p.until.isoformat()}" for p in table.periods)
    raise ParameterMissingError(
        f"table {table_name!r} has no period covering {on.isoformat()} (periods: {periods}). "
        "The rate is not guessed; add the published period with its reference.",
        table=table_name,
        on=on,
    )


def shifted(start: date, days: int, months: int, minus: bool = False) -> date:
    """``start`` moved by ``months`` calendar months, then by ``days`` days (back with ``minus``)."""
    sign = -1 if minus else 1
    return add_months(start, sign * months) + timedelta(days=sign * days)


def _table_sum(spec: FamilySpec, total: TableSum, location: str, start: date, end: date) -> Decimal:
    columns = ("lodging", "meals") if total.column == "both" else (total.column,)
    amount = Decimal("0.00")
    day = start
    while day <= end:
        for column in columns:
            amount += look_up(total.table, spec.tables[total.table], location, day, column)
        day += timedelta(days=1)
    return amount


# the longest span a table sum walks day by day (ten years): a bound on the work one fact can ask
_TABLE_SUM_MAX_DAYS = 3653


def _evaluate(
    derivation: Derivation,
    decl: FactDecl,
    spec: FamilySpec,
    facts: Mapping[str, Any],
    params: Mapping[str, Any],
) -> Any:
    def value_of(item: str | ParamRef | int) -> Any:
        if isinstance(item, ParamRef):
            return params.get(item.param)  # absent when deriving without a decision date
        if isinstance(item, int):
            return item
        return facts.get(item)

    def moved(shift: Shift, end: bool) -> Any:
        start = facts.get(shift.date)
        days = [value_of(i) for i in shift.days]
        months = [value_of(i) for i in shift.months]
        if start is None or any(v is None for v in [*days, *months]):
            return None
        result = shifted(
            parse_iso_date(start), sum(int(d) for d in days), sum(int(m) for m in months), shift.minus
        )
        return (result - timedelta(days=1) if end else result).isoformat()

    if derivation.shift is not None:
        return moved(derivation.shift, end=False)
    if derivation.period_end is not None:
        return moved(derivation.period_end, end=True)
    if derivation.earliest or derivation.latest:
        # unknown dates are left out: the earliest (latest) of the dates known, if any
        known = [
            parse_iso_date(v)
            for v in (facts.get(n) for n in derivation.earliest or derivation.latest or [])
            if v is not None
        ]
        if not known:
            return None
        return (min(known) if derivation.earliest else max(known)).isoformat()
    if derivation.product:
        items = [value_of(i) for i in derivation.product]
        if any(v is None for v in items):
            return None
        product: Decimal | int = 1
        for item, decl_item in zip(items, derivation.product, strict=True):
            money = isinstance(decl_item, str) and spec.facts[decl_item].type == "money"
            product = product * (parse_money(item) if money else int(item))
        return _recorded(decl, product)
    if derivation.table_sum is not None:
        total = derivation.table_sum
        location, start, end = (facts.get(n) for n in (total.key, total.from_, total.to))
        if location is None or start is None or end is None:
            return None
        first, last = parse_iso_date(start), parse_iso_date(end)
        if last < first or (last - first).days >= _TABLE_SUM_MAX_DAYS:
            return None  # an empty or implausible span: unknown rather than a guess
        return str(_table_sum(spec, total, location, first, last).quantize(CENT))

    if derivation.sum or derivation.difference:
        items = [value_of(i) for i in (derivation.sum or derivation.difference or [])]
        if any(v is None for v in items):
            return None
        numbers = [_number(decl.type, v) for v in items]
        if derivation.sum:
            return _recorded(decl, sum(numbers[1:], numbers[0]))
        return _recorded(decl, numbers[0] - numbers[1])
    if derivation.days_between:
        start, end = (facts.get(name) for name in derivation.days_between)
        if start is None or end is None:
            return None
        days = (parse_iso_date(end) - parse_iso_date(start)).days
        return days + 1 if derivation.inclusive else days
    if derivation.months_between:
        start, end = (facts.get(name) for name in derivation.months_between)
        if start is None or end is None:
            return None
        return whole_months(parse_iso_date(start), parse_iso_date(end))
    if derivation.fraction:
        fraction = derivation.fraction
        base = facts.get(fraction.of)
        if base is None:
            return None
        exact = parse_money(base) * fraction.numerator / fraction.denominator
        return str(exact.quantize(CENT, rounding=_ROUNDING[fraction.rounding]))
    lookup: Lookup | None = derivation.lookup
    assert lookup is not None
    location, on = facts.get(lookup.key), facts.get(lookup.date)
    if location is None or on is None:
        return None
    found = look_up(lookup.table, spec.tables[lookup.table], location, parse_iso_date(on), lookup.column)
    return str(found.quantize(CENT))


def derive_facts(spec: FamilySpec, recorded: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """``recorded`` plus every derived fact, computed in declaration order; keys sorted."""
    facts = dict(recorded)
    for name, decl in spec.facts.items():
        if decl.derive is not None:
            value = _evaluate(decl.derive, decl, spec, facts, params)
            if value is not None:
                facts[name] = value
    return dict(sorted(facts.items()))
