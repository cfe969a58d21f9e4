"""Rule analysis for authors: rules that can never fire, conflicting pairs, facts no rule covers.

Every comparison in a spec tests one fact against constants (literals or parameter values), so
the values of a fact fall into finitely many classes that every rule treats alike: for numbers,
the constants and the integers either side of them (money is whole cents and dates are day
numbers, as in the engine); for codes, each code named plus one that is not; for sets, how many
codes of each group the rules name. Searching one value per class is therefore exact for facts
that are given. A derived fact is searched as if it were free of its inputs, which can only
*add* combinations: a "never fires" finding stays proven, while a conflict or gap whose example
needs a derived fact is said to rest on one, so the author can judge whether it can happen.

The analysis runs once per parameter period (the rules' constants change on dated boundaries)
and skips periods in which a parameter is unpublished, since the family cannot decide then.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from vrrules.policies.conditions import engine_scalar, expand_codes, operand_items, operand_type, walk
from vrrules.policies.model import AllOf, AnyOf, Comparison, Condition, FactDecl, FamilySpec, NotOf, ParamRef

__all__ = ["Finding", "analyse", "example_firing"]

# a search visits at most this many partial assignments per question before giving up silently
SEARCH_BUDGET = 200_000
# a set fact whose representative subsets exceed this is searched on presence alone
MAX_SET_SHAPES = 4096


class _Absent:
    """The value of a fact that is not known."""

    def __repr__(self) -> str:
        return "unknown"


ABSENT = _Absent()
Truth = bool | None  # None: not decided yet by a partial assignment
Assignment = dict[str, Any]
Formula = Callable[[Assignment], Truth]


@dataclass(frozen=True)
class Finding:
    """One problem the analysis proved, with an example of facts that shows it."""

    code: str  # rule_never_fires | rules_conflict | rules_incomplete
    rule_index: int | None
    other_index: int | None
    message: str
    hint: str
    severity: str
    period: date
    example: dict[str, Any] | None = None  # facts (recorded form) that show it; unknown ones left out


# ------------------------------------------------------------------------------ formulas


def _predicate(comparison: Comparison, decl: FactDecl, params: Mapping[str, Any]) -> Callable[[Any], bool]:
    op = comparison.operator
    if op == "present":
        wanted = bool(comparison.present)
        return lambda value: (value is not ABSENT) == wanted
    value_type = operand_type(op, decl)
    items = [
        engine_scalar(value_type, params[i.param] if isinstance(i, ParamRef) else i)
        for i in expand_codes(operand_items(comparison), params)
    ]
    first = items[0]
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
    test = tests[op]
    # As in the engine: a test on an unknown fact is false (its negation true).
    return lambda value: False if value is ABSENT else test(value)


def formula(condition: Condition, spec: FamilySpec, params: Mapping[str, Any]) -> Formula:
    """A three-valued reading of a condition over a partial assignment of facts."""
    if isinstance(condition, AllOf | AnyOf):
        parts = [
            formula(c, spec, params)
            for c in (condition.all if isinstance(condition, AllOf) else condition.any)
        ]
        return _all_of(parts) if isinstance(condition, AllOf) else _any_of(parts)
    if isinstance(condition, NotOf):
        return _not(formula(condition.not_, spec, params))
    fact = condition.fact
    test = _predicate(condition, spec.facts[fact], params)

    def compare(assignment: Assignment) -> Truth:
        value = assignment.get(fact, _UNSET)
        return None if value is _UNSET else test(value)

    return compare


_UNSET = object()


def _kleene(parts: Sequence[Formula], decisive: bool) -> Formula:
    """Three-valued and (``decisive`` False) or or (``decisive`` True): a part with the
    decisive value settles it, else any undecided part leaves it undecided."""

    def evaluate(assignment: Assignment) -> Truth:
        result: Truth = not decisive
        for part in parts:
            value = part(assignment)
            if value is decisive:
                return decisive
            if value is None:
                result = None
        return result

    return evaluate


def _all_of(parts: Sequence[Formula]) -> Formula:
    return _kleene(parts, decisive=False)


def _any_of(parts: Sequence[Formula]) -> Formula:
    return _kleene(parts, decisive=True)


def _not(part: Formula) -> Formula:
    def evaluate(assignment: Assignment) -> Truth:
        value = part(assignment)
        return None if value is None else not value

    return evaluate


# ------------------------------------------------------------------------------- domains


def _constants(spec: FamilySpec, params: Mapping[str, Any]) -> dict[str, list[tuple[str, list[Any]]]]:
    """Per fact, each operator used on it with its values as the engine sees them."""
    found: dict[str, list[tuple[str, list[Any]]]] = {}
    for rule in spec.rules:
        for comparison, _ in walk(rule.when, ()):
            if comparison.operator == "present":
                continue
            decl = spec.facts[comparison.fact]
            value_type = operand_type(comparison.operator, decl)
            items = [
                engine_scalar(value_type, params[i.param] if isinstance(i, ParamRef) else i)
                for i in expand_codes(operand_items(comparison), params)
            ]
            found.setdefault(comparison.fact, []).append((comparison.operator, items))
    return found


def _set_shapes(decl: FactDecl, uses: list[tuple[str, list[Any]]]) -> list[frozenset[str]]:
    codes = list(decl.values or ())
    # Codes named by exactly the same tests are interchangeable; only how many of each group
    # a set holds matters, and counts matter only up to the largest count tested plus one.
    signature: dict[str, tuple[int, ...]] = {
        code: tuple(i for i, (op, items) in enumerate(uses) if not op.startswith("count_") and code in items)
        for code in codes
    }
    groups: dict[tuple[int, ...], list[str]] = {}
    for code in codes:
        groups.setdefault(signature[code], []).append(code)
    counts = [int(items[0]) for op, items in uses if op.startswith("count_")]
    most = max(counts, default=0) + 1
    choices = [range(min(len(group), max(most, 1)) + 1) for group in groups.values()]
    size = 1
    for choice in choices:
        size *= len(choice)
    if size > MAX_SET_SHAPES:
        return [frozenset(), frozenset(codes[:1])]
    shapes = []
    for picks in itertools.product(*choices):
        held: list[str] = []
        for group, k in zip(groups.values(), picks, strict=True):
            held.extend(group[:k])
        shapes.append(frozenset(held))
    return shapes


def _may_be_absent(spec: FamilySpec) -> dict[str, bool]:
    result: dict[str, bool] = {}
    for name, decl in spec.facts.items():  # derivations read earlier facts only
        derivation = decl.derive
        if derivation is None:
            result[name] = decl.default is None
        else:
            undefined_sometimes = bool(derivation.months_between or derivation.lookup)
            result[name] = undefined_sometimes or any(result.get(i, True) for i in derivation.inputs)
    return result


def domains(spec: FamilySpec, params: Mapping[str, Any]) -> dict[str, list[Any]]:
    """One representative value per class of values the rules tell apart, for each fact."""
    constants = _constants(spec, params)
    absent = _may_be_absent(spec)
    result: dict[str, list[Any]] = {}
    for name, decl in spec.facts.items():
        uses = constants.get(name, [])
        values: list[Any]
        if decl.type == "bool":
            values = [True, False]
        elif decl.type in ("int", "days", "money", "date"):
            numbers = {v for _, items in uses for v in items}
            anywhere = spec.effective_from.toordinal() if decl.type == "date" else 0
            values = sorted({n + d for n in numbers for d in (-1, 0, 1)}) or [anywhere]
        elif decl.type == "enum":
            values = list(decl.values or ())
        elif decl.type == "text":
            named = sorted({v for _, items in uses for v in items})
            other = "any other text"
            while other in named:
                other += "!"
            values = [*named, other]
        else:
            values = list(_set_shapes(decl, uses))
        if absent[name]:
            values.append(ABSENT)
        result[name] = values
    return result


# -------------------------------------------------------------------------------- search


def search(question: Formula, facts: Sequence[str], values: Mapping[str, list[Any]]) -> Assignment | None:
    """Facts that make ``question`` true, or None when none do (or the budget runs out)."""
    budget = [SEARCH_BUDGET]

    def extend(assignment: Assignment, depth: int) -> Assignment | None:
        budget[0] -= 1
        verdict = question(assignment)
        if verdict is not None:
            return dict(assignment) if verdict else None
        if depth == len(facts) or budget[0] <= 0:
            return None
        name = facts[depth]
        for value in values[name]:
            assignment[name] = value
            found = extend(assignment, depth + 1)
            if found is not None:
                return found
            if budget[0] <= 0:
                break
        assignment.pop(name, None)
        return None

    return extend({}, 0)


def _facts_of(conditions: Sequence[Condition]) -> list[str]:
    seen: dict[str, None] = {}
    for condition in conditions:
        for comparison, _ in walk(condition, ()):
            seen.setdefault(comparison.fact, None)
    return list(seen)


def _shown(decl: FactDecl, value: Any) -> str:
    if value is ABSENT:
        return "unknown"
    if decl.type == "money":
        return str(Decimal(value).scaleb(-2))
    if decl.type == "date":
        return date.fromordinal(value).isoformat()
    if decl.type == "set":
        return "[" + ", ".join(sorted(value)) + "]"
    return (
        repr(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def recorded_example(spec: FamilySpec, example: Assignment) -> dict[str, Any]:
    """An example in the form a caller gives facts (money as text, dates ISO, sets as lists)."""
    facts: dict[str, Any] = {}
    for name, value in example.items():
        decl = spec.facts[name]
        if value is ABSENT:
            continue
        if decl.type == "money":
            facts[name] = str(Decimal(value).scaleb(-2))
        elif decl.type == "date":
            facts[name] = date.fromordinal(value).isoformat()
        elif decl.type == "set":
            facts[name] = sorted(value)
        else:
            facts[name] = value
    return facts


def _severity(spec: FamilySpec, example: Assignment) -> str:
    # Proven on given facts: an error. Resting on a derived fact it may not be possible: a warning
    # (and the engine adapter still refuses a real conflict when it happens).
    return "warning" if any(spec.facts[name].derive is not None for name in example) else "error"


def describe(spec: FamilySpec, example: Assignment) -> str:
    parts = [f"{name}={_shown(spec.facts[name], value)}" for name, value in example.items()]
    text = ", ".join(parts) if parts else "any facts"
    derived = sorted(name for name in example if spec.facts[name].derive is not None)
    if derived:
        text += (
            f" (this rests on derived fact(s) {derived}, searched as if free of their inputs: "
            "check that these values can occur together)"
        )
    return text


# ------------------------------------------------------------------------------ periods


# ------------------------------------------------------------------------------ questions


def _outcome_key(spec: FamilySpec, index: int, params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    outcome = spec.rules[index].outcome
    shown = {
        key: repr(params.get(value.param)) if isinstance(value, ParamRef) else repr(value)
        for key, value in outcome.items()
    }
    return tuple(sorted(shown.items()))


def example_firing(spec: FamilySpec, params: Mapping[str, Any], index: int) -> dict[str, Any] | None:
    """Facts on which rule ``index`` fires (for 'first', before any earlier rule), or None."""
    values = domains(spec, params)
    whens = [formula(rule.when, spec, params) for rule in spec.rules]
    question = whens[index]
    if spec.hit_policy == "first" and index:
        question = _all_of([question, _not(_any_of(whens[:index]))])
    example = search(question, _facts_of([r.when for r in spec.rules[: index + 1]]), values)
    return None if example is None else recorded_example(spec, example)


def _analyse_period(spec: FamilySpec, start: date, params: Mapping[str, Any]) -> Iterator[Finding]:
    values = domains(spec, params)
    whens = [formula(rule.when, spec, params) for rule in spec.rules]
    rules = spec.rules
    first = spec.hit_policy == "first"

    for index, rule in enumerate(rules):
        own_facts = _facts_of([rule.when])
        if search(whens[index], own_facts, values) is None:
            yield Finding(
                code="rule_never_fires",
                rule_index=index,
                other_index=None,
                message=f"rule {rule.id!r} can never fire: its condition contradicts itself "
                f"for the parameters in force from {start.isoformat()}",
                hint="correct the condition's values or operators, or remove the rule",
                severity="warning",
                period=start,
            )
            continue
        if first and index:
            reachable = _all_of([whens[index], _not(_any_of(whens[:index]))])
            facts = _facts_of([r.when for r in rules[: index + 1]])
            if search(reachable, facts, values) is None:
                yield Finding(
                    code="rule_never_fires",
                    rule_index=index,
                    other_index=None,
                    message=f"rule {rule.id!r} can never fire: whenever its condition holds, an earlier "
                    f"rule fires first (hit policy 'first'), from {start.isoformat()}",
                    hint="move the rule above the rules that hide it, narrow their conditions, or remove it",
                    severity="warning",
                    period=start,
                )

    if spec.hit_policy in ("unique", "any"):
        for earlier, later in itertools.combinations(range(len(rules)), 2):
            if spec.hit_policy == "any" and _outcome_key(spec, later, params) == _outcome_key(
                spec, earlier, params
            ):
                continue
            both = _all_of([whens[earlier], whens[later]])
            example = search(both, _facts_of([rules[earlier].when, rules[later].when]), values)
            if example is not None:
                clash = "both" if spec.hit_policy == "unique" else "both, with different outcomes,"
                yield Finding(
                    code="rules_conflict",
                    rule_index=later,
                    other_index=earlier,
                    message=f"rules {rules[earlier].id!r} and {rules[later].id!r} {clash} fire on the same "
                    f"facts under hit policy {spec.hit_policy!r}, e.g. {describe(spec, example)}, "
                    f"from {start.isoformat()}",
                    hint="make the conditions exclude each other, or choose hit policy 'first' (order "
                    "decides) or 'collect' (every finding is kept)",
                    severity=_severity(spec, example),
                    period=start,
                    example=recorded_example(spec, example),
                )

    if spec.always_decides:
        uncovered = _not(_any_of(whens))
        example = search(uncovered, _facts_of([r.when for r in rules]), values)
        if example is not None:
            yield Finding(
                code="rules_incomplete",
                rule_index=None,
                other_index=None,
                message=f"the family must always decide (always_decides: true), but no rule applies when "
                f"{describe(spec, example)}, from {start.isoformat()}",
                hint="add a rule for these facts, or widen a condition so they are covered",
                severity=_severity(spec, example),
                period=start,
                example=recorded_example(spec, example),
            )


def analyse(spec: FamilySpec, periods: Iterable[tuple[date, Mapping[str, Any]]]) -> list[Finding]:
    """Every finding, once per rule and code (the first period it shows in).

    ``periods``: each date the rules' parameters change on, with the values in force from it.
    """
    seen: set[tuple[str, int | None, int | None]] = set()
    findings: list[Finding] = []
    for start, params in periods:
        for finding in _analyse_period(spec, start, params):
            key = (finding.code, finding.rule_index, finding.other_index)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings
