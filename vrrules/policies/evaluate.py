"""The evaluate stage: the :class:`Evaluator` protocol and the plain evaluator.

An evaluator takes a family lowered for one parameter period and a case's typed facts
(``Decimal`` money, ``date`` dates, ``frozenset`` code sets; unknown facts absent) and says
which rules apply, in priority order: only the first under hit policy ``first``, every one
otherwise. durable_rules decides in production (:mod:`vrrules.policies.engine`).

:class:`PlainEvaluator` reads the same lowered conditions directly in Python. It exists so
that the engine's answers can be checked against an independent reading (the property
tests do), and its three-valued form (:func:`truth`) is what the lint searches with: over a
*partial* assignment of facts a condition is true, false or not decided yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from vrrules.policies.facts import typed_facts
from vrrules.policies.lower import And, FactTest, LoweredCondition, LoweredFamily, Not, Or, lower_condition
from vrrules.policies.model import Condition, FamilySpec

__all__ = [
    "UNKNOWN",
    "Evaluator",
    "Formula",
    "PlainEvaluator",
    "condition_holds",
    "truth",
]


class Evaluator(Protocol):
    """Decides which rules of a lowered family apply to typed facts."""

    name: str

    def fired(self, family: LoweredFamily, facts: Mapping[str, Any]) -> tuple[str, ...]:
        """The ids of the rules that apply, in priority order (at most one for ``first``)."""
        ...


class _Unknown:
    """The value of a fact that is not known."""

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN: Any = _Unknown()
Truth = bool | None  # None: not decided yet by a partial assignment
Formula = Callable[[Mapping[str, Any]], Truth]
_UNSET = object()


def _predicate(test: FactTest) -> Callable[[Any], bool]:
    op, items = test.op, test.values
    if op == "present":
        wanted = bool(items[0])
        return lambda value: (value is not UNKNOWN) == wanted
    first: Any = items[0] if items else None
    members = frozenset(items)
    tests: dict[str, Callable[[Any], bool]] = {
        "equals": lambda v: bool(v == first),
        "not_equals": lambda v: bool(v != first),
        "lt": lambda v: bool(v < first),
        "lte": lambda v: bool(v <= first),
        "gt": lambda v: bool(v > first),
        "gte": lambda v: bool(v >= first),
        "in": lambda v: v in members,
        "not_in": lambda v: v not in members,
        "contains": lambda v: first in v,
        "contains_any": lambda v: bool(v & members),
        "contains_all": lambda v: members <= v,
        "contains_none": lambda v: not v & members,
        "count_gte": lambda v: len(v) >= first,
        "count_lte": lambda v: len(v) <= first,
    }
    check = tests[op]
    # A test on an unknown fact is false (its negation true).
    return lambda value: False if value is UNKNOWN else check(value)


def _kleene(parts: Sequence[Formula], decisive: bool) -> Formula:
    """Three-valued and (``decisive`` False) or or (``decisive`` True): a part with the
    decisive value settles it, else any undecided part leaves it undecided."""

    def evaluate(assignment: Mapping[str, Any]) -> Truth:
        result: Truth = not decisive
        for part in parts:
            value = part(assignment)
            if value is decisive:
                return decisive
            if value is None:
                result = None
        return result

    return evaluate


def all_of(parts: Sequence[Formula]) -> Formula:
    return _kleene(parts, decisive=False)


def any_of(parts: Sequence[Formula]) -> Formula:
    return _kleene(parts, decisive=True)


def not_(part: Formula) -> Formula:
    def evaluate(assignment: Mapping[str, Any]) -> Truth:
        value = part(assignment)
        return None if value is None else not value

    return evaluate


def truth(condition: LoweredCondition, *, complete: bool = False) -> Formula:
    """A lowered condition as a function of an assignment of typed facts.

    A fact assigned :data:`UNKNOWN` is unknown. A fact missing from the assignment leaves
    the condition undecided (``None``) unless ``complete``, when it is unknown too.
    """
    if isinstance(condition, And):
        return all_of([truth(c, complete=complete) for c in condition.parts])
    if isinstance(condition, Or):
        return any_of([truth(c, complete=complete) for c in condition.parts])
    if isinstance(condition, Not):
        return not_(truth(condition.part, complete=complete))
    fact = condition.fact
    test = _predicate(condition)
    missing = UNKNOWN if complete else _UNSET

    def compare(assignment: Mapping[str, Any]) -> Truth:
        value = assignment.get(fact, missing)
        return None if value is _UNSET else test(value)

    return compare


class PlainEvaluator:
    """The lowered conditions read directly in Python: the second opinion on durable_rules."""

    name = "plain"

    def fired(self, family: LoweredFamily, facts: Mapping[str, Any]) -> tuple[str, ...]:
        matching = tuple(rule.id for rule in family.rules if truth(rule.when, complete=True)(facts))
        return matching if family.every_match else matching[:1]


def condition_holds(
    condition: Condition, spec: FamilySpec, recorded: Mapping[str, Any], params: Mapping[str, Any]
) -> bool:
    """Whether a spec condition (a rule's or an invariant's) holds on recorded facts."""
    lowered = lower_condition(condition, spec, params)
    return bool(truth(lowered, complete=True)(typed_facts(spec.facts, recorded)))
