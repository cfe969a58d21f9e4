"""Unpublished values block only the answers that need them.

A parameter the sources do not publish has no value (``unpublished``), and a decision that
needs it raises ``parameter_missing``: the value is never guessed. But a family often has
rules that do not read it (responsiveness with nothing unanswered; a bill with no amount to
check against an unpublished fee), and the decision should stand on those. A rule reading
a missing parameter is *needed* when it applies for some value of it: that is tried with
stand-in values, both far ends and each value of the parameter's type the facts hold with the
values either side (so a comparison with a fact, the usual use, is tried on both of its
sides). If no rule reading a missing parameter applies under any stand-in, the decision is
the one the other rules make, and nothing a stand-in gave is reported. When one applies, when
a derivation reads the parameter, or when its type cannot be tried (text, codes), the
original ``parameter_missing`` is raised.

The stand-ins decide with the plain evaluator (the engine's second opinion), so no rule
engine state is made for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from vrrules.errors import ParameterMissingError
from vrrules.policies.conditions import operand_items, walk
from vrrules.policies.decision import Decision
from vrrules.policies.evaluate import PlainEvaluator
from vrrules.policies.model import ParamRef
from vrrules.policies.values import parse_money

if TYPE_CHECKING:
    from vrrules.policies.family import CompiledFamily

__all__ = ["decide_without_unneeded"]

# How many combinations of stand-in values are tried before a missing value is reported.
_MAX_PROBES = 64
_FAR = 10**9
_PROBED: dict[tuple[str, tuple[tuple[str, Any], ...]], CompiledFamily] = {}


# values for missing parameters a probed rule does not read (they do not matter to it)
_FAR_FOR: dict[str, Any] = {
    "int": _FAR,
    "days": _FAR,
    "money": Decimal(_FAR),
    "bool": False,
    "text": "",
    "codes": ["none"],
}


def _stand_ins(kind: str, facts: Mapping[str, Any]) -> list[Any] | None:
    """Values tried for a parameter with no value: both far ends and every value the facts
    hold of its type, with the values either side (None: a type not tried)."""
    if kind in ("int", "days"):
        held = {v for v in facts.values() if isinstance(v, int) and not isinstance(v, bool)}
        return sorted({-_FAR, _FAR, *held, *(v - 1 for v in held), *(v + 1 for v in held)})
    if kind == "money":
        held_money: set[Decimal] = set()
        for value in facts.values():
            if isinstance(value, Decimal | str):
                try:
                    held_money.add(parse_money(value))
                except ValueError:
                    continue
        cent = Decimal("0.01")
        ends = {Decimal(-_FAR), Decimal(_FAR)}
        return sorted(ends | held_money | {v - cent for v in held_money} | {v + cent for v in held_money})
    if kind == "bool":
        return [False, True]
    return None


def decide_without_unneeded(
    compiled: CompiledFamily,
    facts: Mapping[str, Any],
    as_of: date,
    where: str | None,
    error: ParameterMissingError,
) -> Decision:
    """Decide although a parameter has no value, when no rule that reads it could apply.

    An unpublished value blocks only the answers it is needed for: a rule reading it is
    needed when it applies for some value of it. That is tried with stand-in values (both far
    ends, and each value of its type the facts hold, with the values either side); if no
    rule reading a missing parameter applies under any of them, the decision stands without
    it (the rules not reading it decide, and nothing the stand-ins gave is reported). Else,
    or when a derivation reads the parameter or it is of a type not tried, ``error`` is
    raised as it was: the value is needed and is never guessed.
    """
    missing = error.details.get("parameters")
    spec = compiled.spec
    if not isinstance(missing, list) or not missing or any(m not in spec.parameters for m in missing):
        raise error
    if any(
        set(_derivation_params(decl.derive)) & set(missing) for decl in spec.facts.values() if decl.derive
    ):
        raise error
    recorded = compiled.check_facts(facts, where)  # derived facts that read no parameter, too
    decided: Decision | None = None
    for rule in spec.rules:
        reads = [name for name in missing if name in _params_of(rule)]
        if not reads:
            continue
        # the facts the rule compares: a parameter's value matters only against them
        compared = {comparison.fact for comparison, _ in walk(rule.when, ())}
        held = {name: value for name, value in recorded.items() if name in compared}
        choices: list[list[Any]] = []
        for name in reads:
            values = _stand_ins(spec.parameters[name].type, held)
            if values is None:
                raise error
            choices.append(values)
        combos = list(itertools.islice(itertools.product(*choices), _MAX_PROBES + 1))
        if len(combos) > _MAX_PROBES:
            raise error
        for combo in combos:
            chosen = dict(zip(reads, combo, strict=True))
            values_all = tuple(
                (name, chosen.get(name, _FAR_FOR[spec.parameters[name].type])) for name in missing
            )
            decision = _probe(compiled, values_all).decide_exactly(facts, as_of, where)
            if rule.id in decision.fired_rule_ids:
                raise error
            decided = decided or decision
    if decided is None:  # no rule reads the missing parameters (an outcome-free use): decide
        values_all = tuple((name, _FAR_FOR.get(spec.parameters[name].type)) for name in missing)
        if any(v is None for _, v in values_all):
            raise error
        decided = _probe(compiled, values_all).decide_exactly(facts, as_of, where)
    return decided


def _derivation_params(derivation: Any) -> list[str]:
    items = [*(derivation.sum or derivation.difference or [])]
    return [i.param for i in items if isinstance(i, ParamRef)] + list(derivation.params)


def _params_of(rule: Any) -> list[str]:
    from_conditions = [
        item.param
        for comparison, _ in walk(rule.when, ())
        for item in operand_items(comparison)
        if isinstance(item, ParamRef)
    ]
    return from_conditions + [v.param for v in rule.outcome.values() if isinstance(v, ParamRef)]


def _probe(compiled: CompiledFamily, values: tuple[tuple[str, Any], ...]) -> CompiledFamily:
    """The family with stand-in values for its missing parameters (one for all time), kept:
    it lowers once per parameter period, whatever the decision date, as the family does."""
    key = (compiled.sha256, values)
    probe = _PROBED.get(key)
    if probe is None:
        spec = compiled.spec
        stand_in = {
            name: spec.parameters[name].model_copy(update={"values": {date.min: value}, "unpublished": None})
            for name, value in values
        }
        probe = type(compiled)(
            spec.model_copy(update={"parameters": {**spec.parameters, **stand_in}}),
            compiled.source,
            PlainEvaluator(),
        )
        if len(_PROBED) > 1000:
            _PROBED.clear()
        _PROBED[key] = probe
    return probe
