"""The one outcome formatter: every shipped family's outcomes read as sentences."""

from __future__ import annotations

import doctest
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import Decision, PolicyLibrary
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies import wording
from vrrules.policies.examples import load_examples, run_example
from vrrules.policies.wording import change_text, outcome_text, value_text

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)


def _decisions() -> list[tuple[str, Decision]]:
    made = []
    for family in LIBRARY.families():
        for example in load_examples(Path(SPECS) / family / "examples.yaml").examples:
            decision = run_example(LIBRARY, family, example).decision
            if decision is not None:
                made.append((family, decision))
    return made


DECISIONS = _decisions()


def test_the_examples_cover_every_family_that_decides() -> None:
    deciding = {
        family
        for family in LIBRARY.families()
        if any(e.expect_error is None for e in load_examples(Path(SPECS) / family / "examples.yaml").examples)
    }
    assert {family for family, _ in DECISIONS} == deciding and len(deciding) >= 14


@pytest.mark.parametrize(("family", "decision"), DECISIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_outcome_reads_as_words(family: str, decision: Decision) -> None:
    spec = LIBRARY.in_force(family, decision.as_of).spec
    for text in (outcome_text(decision.outcome, spec), outcome_text(decision.outcome)):
        assert not re.search(r"[{}\[\]]|None|'|\b[a-z]+_[a-z_]+\b", text), text
    assert "{'" not in decision.explain() and "None" not in decision.explain()
    words = outcome_text(decision.outcome)
    for key, value in (decision.outcome or {}).items():
        if isinstance(value, str) and re.fullmatch(r"\d+\.\d\d", value):
            assert f"${Decimal(value):,.2f}" in words  # money in dollars, never a bare number
        if key == "decision" and value == "tier_assigned" and "tier" in (decision.outcome or {}):
            continue  # "Tier 2 (...)" says it
        if key != "findings" and isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", value):
            assert value.replace("_", " ") in words.lower()  # codes as words


def test_the_tier_sentence() -> None:
    outcome = {
        "decision": "tier_assigned",
        "tier": 2,
        "focus": "targeted_assessment_and_recommendations",
        "scope": "assessment_and_planning_only",
        "min_weeks": 6,
        "max_months": 6,
    }
    assert outcome_text(outcome) == (
        "Tier 2 (targeted assessment and recommendations), from 6 weeks up to 6 months; "
        "scope: assessment and planning only"
    )


def test_values_in_words() -> None:
    assert value_text(Decimal("17599.11")) == "$17,599.11"
    assert value_text("17599.11") == "$17,599.11"
    assert value_text(Decimal("-0.01")) == "-$0.01"
    assert value_text(date(2025, 11, 3)) == "3 November 2025"
    assert value_text("2025-11-03") == "3 November 2025"
    assert value_text(["functional_capacity_evaluation", "rtw_planning"]) == (
        "functional capacity evaluation, rtw planning"
    )
    assert value_text(True) == "yes" and value_text(False) == "no"
    assert value_text(None) == "not set"
    assert value_text(1, unit="months") == "1 month" and value_text(3, "days") == "3 days"
    assert value_text("F280-016-000") == "F280-016-000"  # not a code: kept as written
    assert outcome_text(None) == "not set"
    assert change_text(None, Decimal("20602.65"), "money") == "was not set, now $20,602.65"


def test_a_collect_family_lists_its_findings() -> None:
    outcome = {
        "findings": [
            {"rule_id": "r", "verdict": "refused", "finding": "over_per_diem", "over_by": "0.01"},
            {"rule_id": "s", "verdict": "warning", "finding": "curriculum_missing"},
        ],
        "verdict": "refused",
    }
    assert outcome_text(outcome) == (
        "Refused; 2 findings: over per diem (over by: $0.01); warning: curriculum missing"
    )


def test_no_rule_applied_reads_as_such() -> None:
    decision = Decision("f", "1", "0" * 64, date(2025, 1, 1), {}, "no_rule_applied", {"verdict": "in_order"})
    assert decision.explain() == "f 1 on 2025-01-01: no rule applied (recorded as: In order)"


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(wording).failed == 0
