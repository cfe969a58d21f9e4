"""A plain-Python reading of the condition language, used only to check the engine.

Production decisions are made by durable_rules from the compiled specs; this evaluator
exists so property tests can compare the two on generated specs and facts. Semantics:
a comparison on an unknown fact is false; ``not`` is logical negation; ``present``
tests whether the fact is known.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from vrrules.policies.model import AllOf, AnyOf, Comparison, FamilySpec, NotOf, ParamRef


def _typed(fact_type: str, value: Any) -> Any:
    if fact_type == "money":
        return Decimal(str(value))
    if fact_type == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    return value


def _comparison(c: Comparison, spec: FamilySpec, facts: dict[str, Any], params: dict[str, Any]) -> bool:
    value = facts.get(c.fact)
    if c.operator == "present":
        return (value is not None) == c.present
    if value is None:
        return False
    fact_type = spec.facts[c.fact].type

    def operand(item: Any) -> Any:
        raw = params[item.param] if isinstance(item, ParamRef) else item
        return raw if c.operator.startswith(("contains", "count_")) else _typed(fact_type, raw)

    def listed(operand: Any) -> list[Any]:
        raw = params[operand.param] if isinstance(operand, ParamRef) else operand
        return list(raw or ())

    if fact_type == "set":
        held = set(value)
        match c.operator:
            case "contains":
                return c.contains in held
            case "contains_any":
                return bool(held & set(listed(c.contains_any)))
            case "contains_all":
                return set(listed(c.contains_all)) <= held
            case "contains_none":
                return not held & set(listed(c.contains_none))
            case "count_gte":
                return len(held) >= operand(c.count_gte)
            case "count_lte":
                return len(held) <= operand(c.count_lte)
    got = _typed(fact_type, value)
    match c.operator:
        case "equals":
            return bool(got == operand(c.equals))
        case "not_equals":
            return bool(got != operand(c.not_equals))
        case "lt":
            return bool(got < operand(c.lt))
        case "lte":
            return bool(got <= operand(c.lte))
        case "gt":
            return bool(got > operand(c.gt))
        case "gte":
            return bool(got >= operand(c.gte))
        case "in":
            return any(got == operand(i) for i in listed(c.in_))
        case "not_in":
            return all(got != operand(i) for i in listed(c.not_in))
    raise AssertionError(c.operator)


def holds(condition: Any, spec: FamilySpec, facts: dict[str, Any], params: dict[str, Any]) -> bool:
    if isinstance(condition, AllOf):
        return all(holds(c, spec, facts, params) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(c, spec, facts, params) for c in condition.any)
    if isinstance(condition, NotOf):
        return not holds(condition.not_, spec, facts, params)
    return _comparison(condition, spec, facts, params)


def expected_fired(
    spec: FamilySpec, facts: dict[str, Any], params: dict[str, Any] | None = None
) -> list[str]:
    matching = [r.id for r in spec.rules if holds(r.when, spec, facts, params or {})]
    return matching[:1] if spec.hit_policy == "first" else matching
