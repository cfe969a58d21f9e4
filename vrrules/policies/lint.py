"""The lint stage: rules that can never fire, conflicting pairs, facts no rule covers.

Only ``vrrules check`` and the pytest plugin run it; deciding and replaying never do, so a
new lint finding cannot turn a stored, reproduced decision into an unreplayable one.

Every comparison tests one fact against constants (literals or parameter values), so the
values of a fact fall into finitely many classes that every rule treats alike: for numbers,
the constants and the values either side of them (a cent for money, a day for dates, one
for whole numbers); for codes, each code named plus one that is not; for sets, how many
codes of each group the rules name. Searching one value per class is therefore exact for
facts that are given. A derived fact is searched as if it were free of its inputs, which can
only *add* combinations: a "never fires" finding stays proven, while a conflict or gap whose
example needs a derived fact is said to rest on one, so the author can judge it.

The search reads the lowered rules with the plain evaluator's three-valued :func:`truth`,
and each question has three answers: ``found`` (with an example), ``none`` (a proof) or
``inconclusive`` (the search budget ran out). Inconclusive is reported as a warning
(``lint_inconclusive``) and is never taken as a proof of anything.

The analysis runs once per parameter period (the rules' constants change on dated
boundaries) and skips periods in which a parameter is unpublished.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from vrrules.policies.evaluate import UNKNOWN, Formula, all_of, any_of, not_, truth
from vrrules.policies.lower import And, FactTest, LoweredCondition, Not, Or, lower_condition
from vrrules.policies.model import FactDecl, FamilySpec, ParamRef
from vrrules.policies.values import CENT, recorded

__all__ = ["SEARCH_BUDGET", "Finding", "Search", "analyse", "example_firing", "search_firing"]

# a search visits at most this many partial assignments per question, then says inconclusive
SEARCH_BUDGET = 200_000
# a set fact whose representative subsets exceed this is searched on presence alone
MAX_SET_SHAPES = 4096

Assignment = dict[str, Any]


@dataclass(frozen=True)
class Search:
    """The answer to one question: found (with an example), none (proven), or inconclusive."""

    outcome: Literal["found", "none", "inconclusive"]
    example: Assignment | None = None

    @property
    def found(self) -> bool:
        return self.outcome == "found"

    @property
    def proven_none(self) -> bool:
        return self.outcome == "none"


@dataclass(frozen=True)
class Finding:
    """One problem the analysis proved (or could not settle), with an example that shows it."""

    code: str  # rule_never_fires | rules_conflict | rules_incomplete | lint_inconclusive
    rule_index: int | None
    other_index: int | None
    message: str
    hint: str
    severity: str
    period: date
    example: dict[str, Any] | None = None  # facts (recorded form) that show it; unknown ones left out


# ------------------------------------------------------------------------------- domains


def _tests(condition: LoweredCondition) -> Iterator[FactTest]:
    if isinstance(condition, And | Or):
        for part in condition.parts:
            yield from _tests(part)
    elif isinstance(condition, Not):
        yield from _tests(condition.part)
    else:
        yield condition


def _constants(whens: Sequence[LoweredCondition]) -> dict[str, list[tuple[str, tuple[Any, ...]]]]:
    """Per fact, each operator used on it with its typed values."""
    found: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
    for when in whens:
        for test in _tests(when):
            if test.op != "present":
                found.setdefault(test.fact, []).append((test.op, test.values))
    return found


def _set_shapes(decl: FactDecl, uses: list[tuple[str, tuple[Any, ...]]]) -> list[frozenset[str]]:
    codes = list(decl.values or ())
    # Codes named by exactly the same tests are interchangeable; only how many of each group
    # a set holds matters, and counts matter only up to the largest count tested plus one
    # (and the whole group, below).
    signature: dict[str, tuple[int, ...]] = {
        code: tuple(i for i, (op, items) in enumerate(uses) if not op.startswith("count_") and code in items)
        for code in codes
    }
    groups: dict[tuple[int, ...], list[str]] = {}
    for code in codes:
        groups.setdefault(signature[code], []).append(code)
    counts = [int(items[0]) for op, items in uses if op.startswith("count_")]
    most = max(counts, default=0) + 1
    # ... and the whole group: a `contains_all` of the group holds only when every code is held
    choices = [
        sorted(set(range(min(len(group), max(most, 1)) + 1)) | {len(group)}) for group in groups.values()
    ]
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
            undefined_sometimes = bool(derivation.months_between or derivation.lookup or derivation.table_sum)
            result[name] = undefined_sometimes or any(result.get(i, True) for i in derivation.inputs)
    return result


_STEP: dict[str, Any] = {"int": 1, "days": 1, "money": CENT, "date": timedelta(days=1)}


def domains(spec: FamilySpec, whens: Sequence[LoweredCondition]) -> dict[str, list[Any]]:
    """One representative typed value per class of values the rules tell apart, for each fact."""
    constants = _constants(whens)
    absent = _may_be_absent(spec)
    result: dict[str, list[Any]] = {}
    for name, decl in spec.facts.items():
        uses = constants.get(name, [])
        values: list[Any]
        if decl.type == "bool":
            values = [True, False]
        elif decl.type in _STEP:
            step = _STEP[decl.type]
            numbers = {v for _, items in uses for v in items}
            anywhere: Any = {"date": spec.effective_from, "money": Decimal("0.00")}.get(decl.type, 0)
            values = sorted({n + d for n in numbers for d in (-step, step)} | numbers) or [anywhere]
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
            values.append(UNKNOWN)
        result[name] = values
    return result


# -------------------------------------------------------------------------------- search


def search(
    question: Formula, facts: Sequence[str], values: Mapping[str, list[Any]], budget: int | None = None
) -> Search:
    """Facts that make ``question`` true; or a proof that none do; or, out of budget, neither."""
    left = [SEARCH_BUDGET if budget is None else budget]

    def extend(assignment: Assignment, depth: int) -> Assignment | None:
        left[0] -= 1
        verdict = question(assignment)
        if verdict is not None:
            return dict(assignment) if verdict else None
        if depth == len(facts) or left[0] <= 0:
            return None
        name = facts[depth]
        for value in values[name]:
            assignment[name] = value
            found = extend(assignment, depth + 1)
            if found is not None:
                return found
            if left[0] <= 0:
                break
        assignment.pop(name, None)
        return None

    example = extend({}, 0)
    if example is not None:
        return Search("found", example)
    return Search("inconclusive" if left[0] <= 0 else "none")


def _facts_of(whens: Sequence[LoweredCondition]) -> list[str]:
    seen: dict[str, None] = {}
    for when in whens:
        for test in _tests(when):
            seen.setdefault(test.fact, None)
    return list(seen)


def _shown(value: Any) -> str:
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(recorded(value))


def recorded_example(example: Assignment) -> dict[str, Any]:
    """An example in the form a caller gives facts (money as text, dates ISO, sets as lists)."""
    return {name: recorded(value) for name, value in example.items() if value is not UNKNOWN}


def _severity(spec: FamilySpec, example: Assignment) -> str:
    # Proven on given facts: an error. Resting on a derived fact it may not be possible: a warning
    # (and the family still refuses a real conflict when it happens).
    return "warning" if any(spec.facts[name].derive is not None for name in example) else "error"


def describe(spec: FamilySpec, example: Assignment) -> str:
    parts = [f"{name}={_shown(value)}" for name, value in example.items()]
    text = ", ".join(parts) if parts else "any facts"
    derived = sorted(name for name in example if spec.facts[name].derive is not None)
    if derived:
        text += (
            f" (this rests on derived fact(s) {derived}, searched as if free of their inputs: "
            "check that these values can occur together)"
        )
    return text


# ------------------------------------------------------------------------------ questions


def _outcome_key(spec: FamilySpec, index: int, params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    outcome = spec.rules[index].outcome
    shown = {
        key: repr(params.get(value.param)) if isinstance(value, ParamRef) else repr(value)
        for key, value in outcome.items()
    }
    return tuple(sorted(shown.items()))


def _lowered(spec: FamilySpec, params: Mapping[str, Any]) -> list[LoweredCondition]:
    return [lower_condition(rule.when, spec, params) for rule in spec.rules]


def search_firing(
    spec: FamilySpec, params: Mapping[str, Any], index: int, budget: int | None = None
) -> Search:
    """Whether rule ``index`` can fire (for 'first', before any earlier rule); the example typed."""
    lowered = _lowered(spec, params)
    values = domains(spec, lowered)
    whens = [truth(when) for when in lowered]
    question = whens[index]
    if spec.hit_policy == "first" and index:
        question = all_of([question, not_(any_of(whens[:index]))])
    return search(question, _facts_of(lowered[: index + 1]), values, budget)


def example_firing(spec: FamilySpec, params: Mapping[str, Any], index: int) -> dict[str, Any] | None:
    """Facts (recorded form) on which rule ``index`` fires, or None (none found, or inconclusive)."""
    found = search_firing(spec, params, index)
    return None if found.example is None else recorded_example(found.example)


def _inconclusive(start: date, question: str, rule_index: int | None, budget: int) -> Finding:
    return Finding(
        code="lint_inconclusive",
        rule_index=rule_index,
        other_index=None,
        message=f"could not settle whether {question} for the parameters in force from "
        f"{start.isoformat()}: the search gave up after {budget} steps, so nothing is proven either way",
        hint="split the rule's condition or the family into smaller ones, or add a worked example "
        "that covers it",
        severity="warning",
        period=start,
    )


def _analyse_period(
    spec: FamilySpec, start: date, params: Mapping[str, Any], budget: int
) -> Iterator[Finding]:
    lowered = _lowered(spec, params)
    values = domains(spec, lowered)
    whens = [truth(when) for when in lowered]
    rules = spec.rules
    first = spec.hit_policy == "first"

    for index, rule in enumerate(rules):
        alone = search(whens[index], _facts_of(lowered[index : index + 1]), values, budget)
        if alone.outcome == "inconclusive":
            yield _inconclusive(start, f"rule {rule.id!r} can fire", index, budget)
            continue
        if alone.proven_none:
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
            reachable = all_of([whens[index], not_(any_of(whens[:index]))])
            found = search(reachable, _facts_of(lowered[: index + 1]), values, budget)
            if found.outcome == "inconclusive":
                yield _inconclusive(
                    start, f"rule {rule.id!r} can fire before the rules above it", index, budget
                )
            elif found.proven_none:
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
            both = all_of([whens[earlier], whens[later]])
            found = search(both, _facts_of([lowered[earlier], lowered[later]]), values, budget)
            if found.outcome == "inconclusive":
                pair = f"rules {rules[earlier].id!r} and {rules[later].id!r} can apply together"
                yield _inconclusive(start, pair, later, budget)
            elif found.example is not None:
                example = found.example
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
                    example=recorded_example(example),
                )

    if spec.always_decides:
        uncovered = not_(any_of(whens))
        found = search(uncovered, _facts_of(lowered), values, budget)
        if found.outcome == "inconclusive":
            yield _inconclusive(start, "some rule applies to every combination of facts", None, budget)
        elif found.example is not None:
            example = found.example
            yield Finding(
                code="rules_incomplete",
                rule_index=None,
                other_index=None,
                message=f"the family must always decide (always_decides: true), but no rule applies when "
                f"{describe(spec, example)}, from {start.isoformat()}",
                hint="add a rule for these facts, or widen a condition so they are covered",
                severity=_severity(spec, example),
                period=start,
                example=recorded_example(example),
            )


def analyse(
    spec: FamilySpec, periods: Iterable[tuple[date, Mapping[str, Any]]], budget: int | None = None
) -> list[Finding]:
    """Every finding, once per rule and code (the first period it shows in).

    ``periods``: each date the rules' parameters change on, with the typed values in force
    from it (:func:`vrrules.policies.resolve.parameter_periods`).
    """
    seen: set[tuple[str, int | None, int | None]] = set()
    findings: list[Finding] = []
    steps = SEARCH_BUDGET if budget is None else budget
    for start, params in periods:
        for finding in _analyse_period(spec, start, params, steps):
            key = (finding.code, finding.rule_index, finding.other_index)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings
