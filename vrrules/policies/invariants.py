"""The search for a decision that breaks a family's declared invariants.

A spec's ``invariants`` say what no decision may ever do (``tier-3-work-is-never-tier-1``).
:func:`find_breach` looks for facts that make the family decide so: a bounded Hypothesis
search over the family's declared facts, concentrated on the boundaries its rules and
invariants test (each value ±1), with the parameters in force at the start of the version.
The same search serves ``vrrules check`` (every family, a small budget, derandomised so a
check gives the same answer every run) and the test suite
(``tests/policies/test_invariants.py``, a larger budget).

Hypothesis is a test dependency: without it installed, :func:`search_library` says so in
a warning diagnostic rather than failing the check.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from vrrules.errors import Diagnostic, ParameterMissingError, VrrulesError
from vrrules.policies.conditions import operand_items, walk
from vrrules.policies.evaluate import condition_holds
from vrrules.policies.model import FamilySpec, Invariant, ParamRef
from vrrules.policies.resolve import resolve_parameters
from vrrules.policies.yamlsource import read_yaml

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from vrrules.policies.family import CompiledFamily
    from vrrules.policies.library import PolicyLibrary

__all__ = [
    "CHECK_EXAMPLES",
    "TEST_EXAMPLES",
    "Breach",
    "breaks",
    "facts_strategy",
    "find_breach",
    "invariant_cases",
    "search_library",
]

CHECK_EXAMPLES = 40
"""Facts tried per invariant by ``vrrules check`` (a few seconds for the shipped specs)."""

TEST_EXAMPLES = 150
"""Facts tried per invariant by the test suite."""

FIRST_DAY = date(2025, 10, 1)


@dataclass(frozen=True)
class Breach:
    """Facts on which a family's decision breaks one of its invariants."""

    compiled: CompiledFamily
    invariant: Invariant
    facts: dict[str, Any]
    outcome: dict[str, Any] | None
    fired: tuple[str, ...]

    def diagnostic(self) -> Diagnostic:
        shown = {k: v for k, v in self.facts.items() if v is not None}
        source = self.compiled.source
        document, _ = read_yaml(source.text, str(source.file))
        place = ("invariants", self.compiled.spec.invariants.index(self.invariant), "never")
        return Diagnostic(
            code="invariant_broken",
            message=(
                f"{self.compiled.family} {self.compiled.version}: invariant {self.invariant.id!r} "
                f"({self.invariant.description}) is broken on facts {_text(shown)}: the rules "
                f"{list(self.fired)} decide {_text(self.outcome)}"
            ),
            file=str(source.file),
            line=document.line_of(place) if document is not None else None,
            rule=self.invariant.id,
            field=f"invariants.{place[1]}",
            hint="correct the rule's condition or outcome (or the invariant, if the policy allows "
            "it); add the facts above as a worked example",
        )


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def breaks(outcome: dict[str, Any] | None, invariant: Invariant) -> bool:
    """Whether an outcome does what the invariant says must never be done."""
    if outcome is None:
        return False
    if invariant.never is not None:
        return all(outcome.get(k) == v for k, v in invariant.never.items())
    return any(f.get("finding") == invariant.never_finding for f in outcome.get("findings", []))


def _boundaries(spec: FamilySpec, fact: str, params: dict[str, Any]) -> list[Any]:
    """Values a family's conditions compare ``fact`` with: where its boundaries are."""
    found: list[Any] = []
    for decl in spec.facts.values():
        lookup = decl.derive.lookup if decl.derive is not None else None
        if lookup is not None:
            periods = spec.tables[lookup.table].periods
            if lookup.key == fact:
                found.extend(row.location for p in periods for row in p.rows)
            if lookup.date == fact:
                found.extend(day for p in periods for day in (p.from_, p.until))
    for condition in [*(r.when for r in spec.rules), *(i.when for i in spec.invariants)]:
        for comparison, _ in walk(condition, ()):
            if comparison.fact != fact:
                continue
            for item in operand_items(comparison):
                found.append(params.get(item.param) if isinstance(item, ParamRef) else item)
    return [v for v in found if v is not None]


def facts_strategy(spec: FamilySpec, params: dict[str, Any]) -> SearchStrategy[dict[str, Any]]:
    """Facts for any family, concentrated on the boundaries its rules test (each ±1); every
    fact may also be unknown (``None``). Derived facts are computed, never given."""
    from hypothesis import strategies as st  # noqa: PLC0415  loaded only when invariants are searched

    fields: dict[str, SearchStrategy[Any]] = {}
    for name, decl in spec.facts.items():
        if decl.derive is not None:
            continue
        edges = _boundaries(spec, name, params)
        values: SearchStrategy[Any]
        if decl.type == "bool":
            values = st.booleans()
        elif decl.type in ("int", "days"):
            near = sorted({e + d for e in edges if isinstance(e, int) for d in (-1, 0, 1)} | {0})
            values = st.one_of(st.sampled_from(near), st.integers(-3, 1000))
        elif decl.type == "money":
            cents = [Decimal(str(e)) for e in edges]
            steps = (Decimal("-0.01"), Decimal(0), Decimal("0.01"))
            near_money = sorted({c + d for c in cents for d in steps})
            values = st.one_of(
                st.sampled_from(near_money or [Decimal(0)]),
                st.integers(0, 10**8).map(lambda c: Decimal(c) / 100),
            )
        elif decl.type == "date":
            days = [date.fromisoformat(e) if isinstance(e, str) else e for e in edges]
            near_days = sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)} | {FIRST_DAY})
            values = st.one_of(
                st.sampled_from(near_days),
                st.tuples(st.sampled_from(near_days), st.integers(0, 120)).map(
                    lambda pair: pair[0] + timedelta(days=pair[1])
                ),
            )
        elif decl.type == "enum":
            values = st.sampled_from(decl.values or ["other"])
        elif decl.type == "set":
            values = st.lists(st.sampled_from(decl.values or ["other"]), unique=True)
        else:
            values = st.sampled_from([*(e for e in edges if isinstance(e, str)), "other"])
        fields[name] = st.one_of(st.none(), values)
    return st.fixed_dictionaries(fields)


def invariant_cases(library: PolicyLibrary) -> Iterator[tuple[CompiledFamily, Invariant]]:
    """Every (version, invariant) a library declares, families in order."""
    for family in library.families():
        for compiled in library.versions(family):
            for invariant in compiled.spec.invariants:
                yield compiled, invariant


def find_breach(
    compiled: CompiledFamily,
    invariant: Invariant,
    *,
    max_examples: int = TEST_EXAMPLES,
    derandomize: bool = True,
) -> Breach | None:
    """Facts (shrunk to the simplest Hypothesis finds) on which ``compiled`` breaks
    ``invariant`` on the first day of the version, or None when ``max_examples`` tries find none.

    A version whose values are not all published on its first day decides nothing then, and
    so breaks nothing; nor does a decision refused with a coded error (the lint reports
    conflicts and gaps).
    """
    from hypothesis import HealthCheck, Phase, find, settings  # noqa: PLC0415
    from hypothesis.errors import NoSuchExample  # noqa: PLC0415

    spec = compiled.spec
    day = spec.effective_from
    try:
        params = resolve_parameters(spec, day, str(compiled.source.file))
    except ParameterMissingError:
        return None

    def broken(facts: dict[str, Any]) -> bool:
        try:
            decision = compiled.decide(facts, day)
        except VrrulesError:
            return False
        if not condition_holds(invariant.when, spec, decision.facts, params):
            return False
        return breaks(decision.outcome, invariant)

    budget = settings(
        max_examples=max_examples,
        database=None,  # nothing written beside the user's files
        derandomize=derandomize,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    try:
        facts = find(facts_strategy(spec, params), broken, settings=budget)
    except NoSuchExample:
        return None
    decision = compiled.decide(facts, day)
    return Breach(compiled, invariant, facts, decision.outcome, tuple(decision.fired_rule_ids))


def search_library(
    library: PolicyLibrary, *, max_examples: int = CHECK_EXAMPLES, scratch: bool = False
) -> tuple[int, list[Diagnostic]]:
    """Search every invariant of every version; return how many were searched and a
    diagnostic for each one broken.

    ``scratch``: keep what Hypothesis caches in a temporary folder, removed afterwards,
    rather than in ``.hypothesis`` under the current folder (``vrrules check`` writes nothing
    beside the user's files)."""
    cases = list(invariant_cases(library))
    if max_examples <= 0 or not cases:
        return 0, []
    from hypothesis import configuration  # noqa: PLC0415

    found = []
    with ExitStack() as stack:
        if scratch:
            previous = vars(configuration).get("__hypothesis_home_directory")
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="vrrules-check-"))
            configuration.set_hypothesis_home_dir(folder)
            stack.callback(configuration.set_hypothesis_home_dir, previous)
        for compiled, invariant in cases:
            breach = find_breach(compiled, invariant, max_examples=max_examples)
            if breach is not None:
                found.append(breach.diagnostic())
    return len(cases), found
