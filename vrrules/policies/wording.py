"""Outcomes and values in words: the one formatter behind ``explain()``, the CLI and the reports.

An outcome is data (``{"tier": 2, "focus": "targeted_assessment_and_recommendations",
"max_months": 6, ...}``); people read it as a sentence::

    >>> outcome_text({"decision": "tier_assigned", "tier": 2,
    ...               "focus": "targeted_assessment_and_recommendations",
    ...               "scope": "assessment_and_planning_only", "min_weeks": 6, "max_months": 6})
    ... # doctest: +NORMALIZE_WHITESPACE
    'Tier 2 (targeted assessment and recommendations), from 6 weeks up to 6 months;
    scope: assessment and planning only'
    >>> outcome_text({"verdict": "refused", "cap": "19802.63", "cap_provisional": False})
    'Refused; cap: $19,802.63; cap provisional: no'

The wording is generic over every family's outcome: codes become words, money reads
``$17,599.11``, dates ``3 November 2025``, lists are joined, booleans are ``yes``/``no``, a
missing value is ``not set``. Given the family's spec, the types and units the spec declares
(a money fact, a parameter's ``unit``) are used instead of guessing from the value's shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from vrrules.policies.model import FactRef, FamilySpec, ParamRef

__all__ = ["change_text", "code_text", "outcome_text", "value_text"]

NOT_SET = "not set"

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[a-z]+$")
_CODES = re.compile(r"^[a-z][a-z0-9_]*(?:, *[a-z][a-z0-9_]*)+$")
_MONEY = re.compile(r"^-?\d+\.\d{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNITS = ("days", "weeks", "months", "years", "minutes", "hours", "domains")
# the keys that name what an outcome is: shown first, as its headline
_HEADLINE_KEYS = ("tier", "decision", "verdict")


def code_text(code: str) -> str:
    """A lower_snake_case code as words: ``assessment_and_planning_only`` -> ``assessment and
    planning only``. Text that is not a code (a form number, a sentence) is kept as written."""
    if _CODE.match(code) or _CODES.match(code):
        return ", ".join(part.strip().replace("_", " ") for part in code.split(","))
    return code


def _money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _unit(count: Any, unit: str) -> str:
    if isinstance(count, int) and not isinstance(count, bool) and abs(count) == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{count} {unit}"


def value_text(value: Any, kind: str | None = None, unit: str | None = None) -> str:
    """One value in words.

    ``kind`` is the declared type where it is known (``money``, ``date``, ``days``, ``bool``,
    ``codes`` ...); without it the value's shape decides: a ``Decimal`` or a string with two
    decimals is money, an ISO date string a date, a code words. ``unit`` (a parameter's
    ``unit``, e.g. ``months``) follows a number. ``None`` is ``not set``.
    """
    if value is None:
        return NOT_SET
    if isinstance(value, ParamRef):
        return f"the parameter {value.param}"
    if isinstance(value, FactRef):
        return f"the fact {value.fact}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return _date(value)
    if isinstance(value, Mapping):
        return outcome_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return ", ".join(value_text(item, None if kind == "codes" else kind) for item in items) or "none"
    if kind == "days" and unit is None:
        unit = "days"
    if kind == "money" or isinstance(value, Decimal) or (isinstance(value, str) and _MONEY.match(value)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        text = _money(amount)
        return text if unit in (None, "USD", "$") else f"{text} {unit}"
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            try:
                return _date(date.fromisoformat(value))
            except ValueError:
                return value
        return code_text(value)
    if isinstance(value, int | float) and unit:
        return _unit(value, unit)
    return str(value)


def _key_unit(key: str) -> tuple[str, str | None]:
    """``limit_days`` -> (``limit``, ``days``); ``max_months`` -> (``max``, ``months``)."""
    for unit in _UNITS:
        if key.endswith("_" + unit):
            return key[: -len(unit) - 1], unit
    return key, None


class _Types:
    """What the family's spec says about an outcome's keys: their type and unit."""

    def __init__(self, spec: FamilySpec | None, rule_id: str | None = None) -> None:
        self.kinds: dict[str, tuple[str | None, str | None]] = {}
        if spec is None:
            return
        rules = [r for r in spec.rules if rule_id is None or r.id == rule_id] or list(spec.rules)
        for rule in rules:
            for key, value in rule.outcome.items():
                if key in self.kinds:
                    continue
                if isinstance(value, ParamRef) and value.param in spec.parameters:
                    param = spec.parameters[value.param]
                    self.kinds[key] = (param.type, param.unit)
                elif isinstance(value, FactRef) and value.fact in spec.facts:
                    self.kinds[key] = (spec.facts[value.fact].type, None)

    def of(self, key: str) -> tuple[str | None, str | None]:
        return self.kinds.get(key, (None, None))


def _span(values: Mapping[str, Any], prefix: str, types: _Types) -> tuple[str | None, set[str]]:
    """``min_<unit>``/``max_<unit>`` (after ``prefix``) as one span: "from 6 weeks up to 6 months"."""
    lows = [k for k in values if k.startswith(prefix + "min_")]
    highs = [k for k in values if k.startswith(prefix + "max_")]
    if not lows and not highs:
        return None, set()

    def amount(key: str) -> str:
        kind, unit = types.of(key)
        return value_text(values[key], kind, unit or _key_unit(key)[1])

    low = amount(lows[0]) if lows else None
    high = amount(highs[0]) if highs else None
    used = set(lows[:1] + highs[:1])
    if prefix == "typical_":
        if low and high:
            low_n, high_n = low.split(" ", 1), high.split(" ", 1)
            if len(low_n) == 2 and len(high_n) == 2 and low_n[1] == high_n[1]:
                return f"typically {low_n[0]} to {high}", used
            return f"typically {low} to {high}", used
        return f"typically {'at least ' + low if low else 'up to ' + str(high)}", used
    if low and high:
        return f"from {low} up to {high}", used
    return (f"at least {low}" if low else f"up to {high}"), used


def _label(key: str, types: _Types, value: Any) -> tuple[str, str]:
    kind, unit = types.of(key)
    name, key_unit = _key_unit(key)
    if unit is None and key_unit is not None and isinstance(value, int) and not isinstance(value, bool):
        return code_text(name), value_text(value, kind, key_unit)
    label = code_text(name if unit is not None and unit == key_unit else key)
    if kind == "days" and unit is None and "days" in key.split("_"):
        kind = "int"  # "days taken: 91", not "days taken: 91 days"
    return label, value_text(value, kind, unit)


def _finding(item: Mapping[str, Any], verdict: Any, spec: FamilySpec | None) -> str:
    types = _Types(spec, str(item.get("rule_id")) if item.get("rule_id") else None)
    text = value_text(item.get("finding", item.get("rule_id", "finding")))
    if item.get("verdict") is not None and item.get("verdict") != verdict:
        text = f"{value_text(item['verdict'])}: {text}"
    details = [
        ": ".join(_label(key, types, value))
        for key, value in item.items()
        if key not in ("rule_id", "verdict", "finding")
    ]
    return text + (f" ({'; '.join(details)})" if details else "")


def outcome_text(outcome: Any, spec: FamilySpec | None = None, *, rule_id: str | None = None) -> str:
    """An outcome as one sentence, e.g. ``Tier 2 (targeted assessment and recommendations),
    from 6 weeks up to 6 months; scope: assessment and planning only``.

    Works on any family's outcome (a decision's, a recorded one read back from JSON, or a
    rule's outcome in a spec). ``spec`` (the family's spec) gives the declared types and
    units of the values; ``rule_id`` narrows them to one rule's outcome. ``None`` (no
    outcome) reads ``not set``; a collect family's ``findings`` are listed one by one.
    """
    if outcome is None:
        return NOT_SET
    if not isinstance(outcome, Mapping):
        return value_text(outcome)
    if not outcome:
        return "no outcome"
    types = _Types(spec, rule_id)
    values = dict(outcome)
    used: set[str] = set()
    head: list[str] = []
    if values.get("tier") is not None:
        tier = f"Tier {value_text(values['tier'])}"
        if values.get("focus") is not None:
            tier += f" ({value_text(values['focus'])})"
            used.add("focus")
        head.append(tier)
        used.update({"tier", "decision"} if values.get("decision") == "tier_assigned" else {"tier"})
    for key in _HEADLINE_KEYS[1:]:
        if key not in used and values.get(key) is not None:
            words = value_text(values[key])
            head.append(words[:1].upper() + words[1:] if not head else words)
            used.add(key)
    spans = []
    for prefix in ("", "typical_"):
        span, taken = _span({k: v for k, v in values.items() if k not in used}, prefix, types)
        if span:
            spans.append(span)
            used |= taken
    first = ", ".join(head + spans)
    parts = [first] if first else []
    verdict = values.get("verdict")
    for key, value in values.items():
        if key in used:
            continue
        if key == "findings" and isinstance(value, list):
            found = [_finding(f, verdict, spec) if isinstance(f, Mapping) else value_text(f) for f in value]
            parts.append(f"{len(found)} finding{'s' if len(found) != 1 else ''}: " + "; ".join(found))
            continue
        parts.append(": ".join(_label(key, types, value)))
    return "; ".join(parts)


def change_text(was: Any, now: Any, kind: str | None = None, unit: str | None = None) -> str:
    """A changed value in words: ``was not set, now $20,602.65``; ``was 4 weeks, now 6 weeks``."""
    return f"was {value_text(was, kind, unit)}, now {value_text(now, kind, unit)}"


def join_words(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    listed = list(items)
    if len(listed) <= 1:
        return "".join(listed)
    return ", ".join(listed[:-1]) + " and " + listed[-1]
