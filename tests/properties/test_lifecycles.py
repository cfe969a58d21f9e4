"""Random case lifecycles driven by a Hypothesis state machine.

Cases are opened, referred, assigned, assessed (and assessed again: a correction), planned,
approved, billed and decided in any order, with payloads and decision requests taken from
the sample case stories. After every step: the whole log verifies (every chain intact, every
recorded decision replays identically), no refused step changed anything, and no decision
breaks an invariant its family declares.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests import strategies as gen
from tests.conftest import SPECS, _reset_postgres
from vrrules import CaseRecords, ParameterMissingError, PolicyLibrary, VrrulesError
from vrrules.audit import verify_store
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.evaluate import condition_holds as holds
from vrrules.policies.invariants import breaks as _breaks
from vrrules.policies.resolve import resolve_parameters

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
# why a decision may rightly be refused on a random history: nothing is stored then
REFUSALS = {"facts_invalid", "parameter_missing", "policy_not_in_force"}


class CaseLifecycles(RuleBasedStateMachine):
    cases = Bundle("cases")

    location = "memory"  # the store each run starts empty in (see the tests below)

    def __init__(self) -> None:
        super().__init__()
        location = self.location
        self.folder: Path | None = None
        if location == "sqlite":
            self.folder = Path(tempfile.mkdtemp(prefix="vrrules-lifecycle-"))
            location = str(self.folder / "cases.db")
        elif location.startswith("postgresql"):
            _reset_postgres(location)
        self.records = CaseRecords(location, LIBRARY)
        self.opened = 0
        self.decisions = 0

    @rule(target=cases, days=st.integers(min_value=0, max_value=480))
    def open_case(self, days: int) -> str:
        case_ref = f"L-{self.opened}"
        self.opened += 1
        self.records.open_case(case_ref, date(2024, 9, 2) + timedelta(days=days))
        return case_ref

    @rule(case_ref=cases, step=gen.lifecycle_records)
    def record(self, case_ref: str, step: tuple[str, dict[str, Any]]) -> None:
        before = self.records.history(case_ref)
        try:
            self.records.record(case_ref, *step)
        except VrrulesError as error:  # out of order for this history: refused, nothing stored
            assert error.code == "event_invalid", error
            assert self.records.history(case_ref) == before
            event("record refused")
        else:
            event(f"recorded {step[0]}")

    @rule(case_ref=cases, ask=gen.lifecycle_decisions)
    def decide(self, case_ref: str, ask: tuple[str, date | None, dict[str, Any] | None]) -> None:
        family, as_of, facts = ask
        before = self.records.history(case_ref)
        try:
            made = self.records.decide(case_ref, family, as_of=as_of, facts=facts)
        except VrrulesError as error:
            assert error.code in REFUSALS, error
            assert self.records.history(case_ref) == before
            event(f"decision refused: {error.code}")
            return
        self.decisions += 1
        event(f"decided {family}")
        decision = made.decision
        compiled = LIBRARY.in_force(family, decision.as_of)
        try:
            params = resolve_parameters(compiled.spec, decision.as_of, compiled.source.file)
        except ParameterMissingError:
            # decided although a value is unpublished: no rule that applied needed it
            # (tests/events cover that); the invariants read the parameters, so they wait
            event(f"decided {family} without an unpublished value")
            return
        for declared in compiled.spec.invariants:
            if holds(declared.when, compiled.spec, decision.facts, params):
                assert not _breaks(decision.outcome, declared), (
                    f"{family} broke {declared.id!r}: {declared.description}\n{decision.explain()}"
                )

    @invariant()
    def the_log_verifies_and_every_decision_replays(self) -> None:
        report = verify_store(self.records)
        assert report.ok, report.render()
        assert report.decisions == self.decisions
        assert report.cases == self.opened

    def teardown(self) -> None:
        self.records.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
def test_random_case_lifecycles(backend: str, request: pytest.FixtureRequest) -> None:
    location = request.getfixturevalue("postgres_url") if backend == "postgres" else backend
    # the stores on disk cost more per step: fewer runs there, the same kind of run
    runs = settings.default.max_examples // (3 if backend == "memory" else 6)
    machine = type(f"CaseLifecycles_{backend}", (CaseLifecycles,), {"location": location})
    run_state_machine_as_test(
        machine, settings=settings(settings.default, stateful_step_count=20, max_examples=max(5, runs))
    )
