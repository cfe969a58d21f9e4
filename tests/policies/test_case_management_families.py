"""The case-management families decided against real case histories, recorded and replayed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import CaseRecords, FactsInvalidError, ParameterMissingError
from vrrules.audit import replay

CLINICIAN = {
    "practitioner_id": "ot_a",
    "role": "dual_function_case_manager",
    "clinician": True,
    "assigned_on": "2025-11-03",
}
COORDINATOR = {
    "practitioner_id": "vcm_b",
    "role": "administrative_case_manager",
    "clinician": False,
    "assigned_on": "2025-11-03",
}


def _verdict(records: CaseRecords, ref: str, family: str, **kwargs: object) -> str:
    outcome = records.decide(ref, family, **kwargs).decision.outcome  # type: ignore[arg-type]
    assert outcome is not None
    return str(outcome["verdict"])


def test_roles_and_delivery_from_the_history(records: CaseRecords) -> None:
    records.open_case("M-1", "2025-11-03")
    records.record("M-1", "practitioner_assigned", CLINICIAN)
    assert _verdict(records, "M-1", "practitioner-roles") == "accepted"
    records.record("M-1", "practitioner_assigned", {**COORDINATOR, "assigned_on": "2025-11-04"})
    records.record(
        "M-1",
        "intervention_planned",
        {
            "planned_on": "2025-11-05",
            "category": "career_coaching",
            "activity": "career_coaching",
            "delivered_by": "vcm_b",
        },
    )
    made = records.decide("M-1", "intervention-delivery")
    assert made.decision.outcome is not None and made.decision.outcome["verdict"] == "refused"
    assert made.decision.fired_rule_ids == ("coordinator-does-not-deliver",)
    assert "source the intervention" in (made.decision.fired[0].fix or "").lower()
    assert all(r.reproduced for r in replay(records, "M-1"))


def test_an_intervention_by_someone_not_assigned_is_refused(records: CaseRecords) -> None:
    records.open_case("M-2", "2025-11-03")
    records.record(
        "M-2",
        "intervention_planned",
        {
            "planned_on": "2025-11-05",
            "category": "health",
            "activity": "exploring_psychological_factors",
            "delivered_by": "nobody_yet",
        },
    )
    made = records.decide("M-2", "intervention-delivery").decision
    assert made.fired_rule_ids == ("deliverer-must-be-assigned",)
    assert _verdict(records, "M-2", "assessment-first") == "flagged"


def test_early_intervention_needs_the_date_it_is_checked_on(records: CaseRecords) -> None:
    records.open_case("M-3", "2025-11-03")
    records.record(
        "M-3",
        "work_status_changed",
        {"status": "absent", "effective_on": "2025-11-03", "off_work_since": "2025-08-04"},
    )
    with pytest.raises(FactsInvalidError, match="pass as_of"):
        records.decide("M-3", "early-intervention")
    assert _verdict(records, "M-3", "early-intervention", as_of=date(2025, 11, 3)) == "no_alert"
    assert _verdict(records, "M-3", "early-intervention", as_of=date(2025, 11, 4)) == "alert"
    assert _verdict(records, "M-3", "early-intervention", as_of=date(2026, 8, 4)) == "urgent_alert"
    assert all(r.reproduced for r in replay(records, "M-3"))


def test_tier_review_counts_from_the_tier_decision(records: CaseRecords) -> None:
    records.open_case("M-4", "2025-11-03")
    records.record(
        "M-4",
        "assessment_completed",
        {
            "assessed_on": "2025-11-03",
            "kind": "initial",
            "depth": "brief",
            "assessor_id": "x",
            "domains_examined": ["health"],
            "support_needed": ["information_and_advice"],
        },
    )
    assert records.decide("M-4", "tiers").decision.outcome["tier"] == 1  # type: ignore[index]
    assert _verdict(records, "M-4", "tier-review", as_of=date(2025, 11, 30)) == "in_order"  # day 27
    assert _verdict(records, "M-4", "tier-review", as_of=date(2025, 12, 1)) == "review_due"  # day 28


def test_responsiveness_reports_its_missing_value_and_works_once_one_is_added(tmp_path: Path) -> None:
    with CaseRecords("memory", SPECS) as records:
        records.open_case("M-5", "2025-11-03")
        records.record(
            "M-5",
            "correspondence_sent",
            {"correspondence_id": "c1", "sent_on": "2025-11-03", "to": "medical_provider"},
        )
        with pytest.raises(ParameterMissingError, match="publishes no number"):
            records.decide("M-5", "responsiveness", as_of=date(2025, 11, 20))
        assert len(records.history("M-5")) == 2
    # An operator who has a source for a reply period adds it as a dated value.
    specs = tmp_path / "specs"
    shutil.copytree(SPECS / "responsiveness", specs / "responsiveness")
    spec = specs / "responsiveness" / "2025.1.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    unpublished: the flyer asks for replies as soon as possible and publishes no number of days"
            "\n",
            "    values:\n      2025-10-01: 10\n",
        )
    )
    with CaseRecords("memory", specs) as records:
        records.open_case("M-5", "2025-11-03")
        records.record(
            "M-5",
            "correspondence_sent",
            {"correspondence_id": "c1", "sent_on": "2025-11-03", "to": "medical_provider"},
        )
        assert _verdict(records, "M-5", "responsiveness", as_of=date(2025, 11, 13)) == "no_alert"  # 10 days
        assert _verdict(records, "M-5", "responsiveness", as_of=date(2025, 11, 14)) == "alert"  # 11 days
        records.record(
            "M-5", "correspondence_answered", {"correspondence_id": "c1", "answered_on": "2025-11-15"}
        )
        assert _verdict(records, "M-5", "responsiveness", as_of=date(2025, 11, 15)) == "no_alert"


def test_employer_phased_return_needs_monitoring(records: CaseRecords) -> None:
    records.open_case("M-6", "2025-11-03")
    records.record(
        "M-6",
        "employer_commitment_recorded",
        {"recorded_on": "2025-11-04", "kind": "phased_return", "lighter_duties": True},
    )
    assert _verdict(records, "M-6", "employer-role") == "flagged"
    records.record("M-6", "employer_commitment_recorded", {"recorded_on": "2025-11-05", "kind": "monitoring"})
    assert _verdict(records, "M-6", "employer-role") == "in_order"
