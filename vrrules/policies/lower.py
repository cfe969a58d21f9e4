"""The lower stage: a spec's rules as engine-neutral conditions over typed facts.

Lowering fills in what the spec leaves symbolic for a given parameter period: parameter
references become their typed values (``Decimal`` money, ``int`` days), code-list
parameters become their codes, and every literal is typed by the fact it is compared
with. The result is plain data that says nothing about durable_rules: an evaluator (the
engine adapter in :mod:`vrrules.policies.engine`, or the plain one in
:mod:`vrrules.policies.evaluate`) reads it, and only the engine adapter encodes it
into cents, day numbers and per-code flags.

Semantics every evaluator keeps: a test on an unknown fact is false, so its negation is
true; ``present`` tests whether a fact is known; rules are in spec order (priority 1 first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from vrrules.policies.conditions import expand_codes, operand_items, operand_type
from vrrules.policies.decision import FiredRule
from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Condition,
    FactDecl,
    FactRef,
    FamilySpec,
    NotOf,
    ParamRef,
)
from vrrules.policies.values import recorded, typed_scalar

__all__ = [
    "And",
    "FactTest",
    "LoweredCondition",
    "LoweredFamily",
    "LoweredRule",
    "Not",
    "Or",
    "lower",
    "lower_condition",
]


@dataclass(frozen=True)
class FactTest:
    """One operator on one fact, its values typed (codes for set operators, ints for counts)."""

    fact: str
    fact_type: str
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class And:
    parts: tuple[LoweredCondition, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[LoweredCondition, ...]


@dataclass(frozen=True)
class Not:
    part: LoweredCondition


LoweredCondition = FactTest | And | Or | Not


@dataclass(frozen=True)
class LoweredRule:
    """A rule ready to evaluate: its condition, its typed outcome and its explanation."""

    id: str
    priority: int
    when: LoweredCondition
    outcome: Mapping[str, Any]  # typed values (Decimal money); fact references left out
    fact_refs: Mapping[str, str]  # outcome key -> the fact whose value it reports
    fired: FiredRule  # the explanation, outcome in recorded (JSON-safe) form


@dataclass(frozen=True)
class LoweredFamily:
    """Every rule of one family for one parameter period, in priority order."""

    name: str  # unique per spec text and parameter values: family@version#sha/params
    family: str
    hit_policy: str
    facts: Mapping[str, FactDecl]
    params: Mapping[str, Any]
    rules: tuple[LoweredRule, ...] = field(default=())

    @property
    def every_match(self) -> bool:
        """Whether every applying rule is reported (else only the first in priority order)."""
        return self.hit_policy != "first"


def _test(comparison: Any, decl: FactDecl, params: Mapping[str, Any]) -> FactTest:
    op = comparison.operator
    if op == "present":
        return FactTest(comparison.fact, decl.type, op, (bool(comparison.present),))
    value_type = operand_type(op, decl)
    items = [
        typed_scalar(value_type, params[i.param] if isinstance(i, ParamRef) else i)
        for i in expand_codes(operand_items(comparison), params)
    ]
    return FactTest(comparison.fact, decl.type, op, tuple(items))


def lower_condition(condition: Condition, spec: FamilySpec, params: Mapping[str, Any]) -> LoweredCondition:
    """A spec condition with parameters filled in and values typed."""
    if isinstance(condition, AllOf):
        return And(tuple(lower_condition(c, spec, params) for c in condition.all))
    if isinstance(condition, AnyOf):
        return Or(tuple(lower_condition(c, spec, params) for c in condition.any))
    if isinstance(condition, NotOf):
        return Not(lower_condition(condition.not_, spec, params))
    return _test(condition, spec.facts[condition.fact], params)


def _param_digest(params: Mapping[str, Any]) -> str:
    text = json.dumps({k: recorded(v) for k, v in params.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def lower(spec: FamilySpec, params: Mapping[str, Any], sha256: str) -> LoweredFamily:
    """Every rule of ``spec`` with the parameters ``params`` (typed, from the resolve stage)."""
    rules = []
    for priority, rule in enumerate(spec.rules, start=1):
        outcome = {
            key: params[value.param] if isinstance(value, ParamRef) else value
            for key, value in rule.outcome.items()
            if not isinstance(value, FactRef)
        }
        explanation = FiredRule(
            rule_id=rule.id,
            reason=rule.reason,
            reference=MappingProxyType(rule.reference.model_dump(exclude_none=True)),
            outcome=MappingProxyType({key: recorded(value) for key, value in outcome.items()}),
            fix=rule.fix,
        )
        rules.append(
            LoweredRule(
                id=rule.id,
                priority=priority,
                when=lower_condition(rule.when, spec, params),
                outcome=MappingProxyType(outcome),
                fact_refs=MappingProxyType(
                    {k: v.fact for k, v in rule.outcome.items() if isinstance(v, FactRef)}
                ),
                fired=explanation,
            )
        )
    return LoweredFamily(
        name=f"{spec.family}@{spec.version}#{sha256[:16]}/{_param_digest(params)[:12]}",
        family=spec.family,
        hit_policy=spec.hit_policy,
        facts=MappingProxyType(dict(spec.facts)),
        # the resolve stage's read-only mapping itself, so derivations read the very same values
        params=params if isinstance(params, MappingProxyType) else MappingProxyType(dict(params)),
        rules=tuple(rules),
    )
