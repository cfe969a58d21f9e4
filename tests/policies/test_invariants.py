"""Every invariant a shipped spec declares holds for generated facts (no new Python per family)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS
from tests.strategies import family_facts
from vrrules import ParameterMissingError, PolicyLibrary
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.evaluate import condition_holds as holds
from vrrules.policies.resolve import resolve_parameters

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
CASES = [
    (compiled, invariant)
    for family in LIBRARY.families()
    for compiled in LIBRARY.versions(family)
    for invariant in compiled.spec.invariants
]


def test_every_decidable_family_declares_an_invariant() -> None:
    for family in LIBRARY.families():
        for compiled in LIBRARY.versions(family):
            try:
                resolve_parameters(compiled.spec, compiled.spec.effective_from, "x")
            except ParameterMissingError:
                continue  # nothing can be decided until its missing values are published
            assert compiled.spec.invariants, f"{family} {compiled.version} declares no invariant"


def _breaks(outcome: dict[str, Any] | None, invariant: Any) -> bool:
    if outcome is None:
        return False
    if invariant.never is not None:
        return all(outcome.get(k) == v for k, v in invariant.never.items())
    return any(f.get("finding") == invariant.never_finding for f in outcome.get("findings", []))


@pytest.mark.parametrize(("compiled", "invariant"), CASES, ids=[f"{c.family}:{i.id}" for c, i in CASES])
@settings(max_examples=150)
@given(data=st.data())
def test_no_decision_ever_breaks_a_declared_invariant(
    compiled: Any, invariant: Any, data: st.DataObject
) -> None:
    day = compiled.spec.effective_from
    params = resolve_parameters(compiled.spec, day, compiled.source.file)
    facts = data.draw(family_facts(compiled.spec, params))
    try:
        decision = compiled.decide(facts, day)
    except ParameterMissingError:
        return  # a rate or value the sources do not give: no decision, so nothing to break
    if holds(invariant.when, compiled.spec, decision.facts, params):
        assert not _breaks(decision.outcome, invariant), (
            f"invariant {invariant.id!r} broken: {invariant.description}\n{decision.explain()}"
        )


def test_a_false_invariant_is_caught() -> None:
    """The generated check can fail: an invariant the rules contradict yields a counterexample."""
    from hypothesis import find  # noqa: PLC0415

    compiled = LIBRARY.in_force("tiers", LIBRARY.versions("tiers")[0].spec.effective_from)
    false_invariant = compiled.spec.invariants[0].model_copy(
        update={"id": "claims-no-tier-2-ever", "when": compiled.spec.invariants[1].when, "never": {"tier": 3}}
    )
    day = compiled.spec.effective_from
    params = resolve_parameters(compiled.spec, day, "x")

    def broken(facts: dict[str, Any]) -> bool:
        if not holds(false_invariant.when, compiled.spec, compiled.check_facts(facts, as_of=day), params):
            return False
        return _breaks(compiled.decide(facts, day).outcome, false_invariant)

    counterexample = find(family_facts(compiled.spec, params), broken, settings=settings(max_examples=500))
    assert compiled.decide(counterexample, day).outcome["tier"] == 3  # type: ignore[index]
