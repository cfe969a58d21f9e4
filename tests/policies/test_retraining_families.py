"""Retraining-plan families decided against recorded plan events, recorded and replayed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from vrrules import CaseRecords, EventInvalidError, FactsInvalidError, ParameterMissingError
from vrrules.audit import replay

PLAN = {
    "submitted_on": "2023-05-30",
    "received_on": "2023-05-31",
    "planned_start_on": "2023-07-10",
    "school": "public",
    "planned_months": 20,
    "costs": {"tuition": "18000.00", "books": "1802.63", "board_and_lodging": "4000.00"},
    "checklist": [
        "rtw_priorities_considered_in_order",
        "rights_reviewed_at_first_meeting",
        "accountability_agreement_signed_by_worker",
        "accountability_agreement_signed_by_provider",
        "curriculum_attached",
        "labor_market_where_worker_lives",
        "closing_report_directions_followed",
        # WAC 296-19A-100's contents and RCW 51.32.096(3)(b)'s school (issue 14, item 9)
        "occupational_goal_and_services",
        "skills_and_aptitudes",
        "labor_market_survey",
        "time_and_costs",
        "medically_approved_job_analysis",
        "skills_to_be_acquired",
        "transition_services",
        "school_accredited_licensed_or_approved",
    ],
}


def _plan(records: CaseRecords, approved_on: str, **changes: object) -> None:
    records.open_case("R-1", "2023-03-01")
    records.record("R-1", "plan_development_started", {"commenced_on": "2023-03-01"})
    records.record("R-1", "plan_submitted", {**PLAN, **changes})
    records.record("R-1", "plan_approved", {"approved_on": approved_on})


def test_cap_by_approval_date_from_the_recorded_plan(records: CaseRecords) -> None:
    _plan(records, "2023-06-30")
    made = records.decide("R-1", "retraining-fund-cap").decision
    assert made.as_of == date(2023, 6, 30)
    assert made.outcome is not None
    assert made.outcome["verdict"] == "within_cap" and made.outcome["remaining"] == "0.00"
    assert made.facts["paid_separately"] == "4000.00"
    assert all(r.reproduced for r in replay(records, "R-1"))


def test_one_cent_over_after_july_first_is_refused(records: CaseRecords) -> None:
    _plan(records, "2023-07-01", costs={"tuition": "18000.00", "books": "2198.69"})
    outcome = records.decide("R-1", "retraining-fund-cap").decision.outcome
    assert outcome is not None
    assert (outcome["verdict"], outcome["cap"], outcome["over_by"]) == ("refused", "20198.68", "0.01")


def test_an_approval_date_without_a_published_cap_is_refused_as_unknown(records: CaseRecords) -> None:
    _plan(records, "2024-07-01")
    with pytest.raises(ParameterMissingError, match="cap is unknown"):
        records.decide("R-1", "retraining-fund-cap")
    assert [type(e).__name__ for e in records.history("R-1")][-1] == "PlanApproved"


def test_time_frames_and_completeness_from_the_recorded_plan(records: CaseRecords) -> None:
    _plan(records, "2023-06-05")
    assert records.decide("R-1", "plan-completeness").decision.outcome == {"verdict": "complete"}
    records.record("R-1", "plan_implementation_started", {"started_on": "2023-07-10"})
    on_time = records.decide("R-1", "plan-timeframes", as_of=date(2023, 7, 24)).decision  # 14 days in
    assert on_time.outcome is not None and on_time.outcome["verdict"] == "on_time"
    assert on_time.outcome["findings"][0]["due_on"] == "2023-07-24"  # the next contact due
    late = records.decide("R-1", "plan-timeframes", as_of=date(2023, 7, 25)).decision  # 15 days in
    assert late.fired_rule_ids == ("no-contact-since-implementation",)
    records.record("R-1", "worker_contacted", {"contacted_on": "2023-07-25"})
    contacted = records.decide("R-1", "plan-timeframes", as_of=date(2023, 7, 25)).decision.outcome
    assert contacted is not None and contacted["verdict"] == "on_time"
    assert all(r.reproduced for r in replay(records, "R-1"))


def test_money_is_exact_and_floats_are_refused(records: CaseRecords) -> None:
    records.open_case("R-2", "2023-03-01")
    for bad in (1802.63, "1802.635", "NaN", "Infinity", "-5"):
        with pytest.raises(EventInvalidError):
            records.record("R-2", "plan_submitted", {**PLAN, "costs": {"books": bad}})
    assert len(records.history("R-2")) == 1
    records.record("R-2", "plan_submitted", {**PLAN, "costs": {"books": Decimal("1802.63")}})
    assert records.case("R-2").plan.costs["books"] == Decimal("1802.63")  # type: ignore[union-attr]


def test_caller_facts_for_a_bill_are_recorded_and_replayed(records: CaseRecords) -> None:
    records.open_case("R-3", "2025-01-06")
    # a bill is an event now (issue 14): its facts come from the history
    bill = {"bill_id": "b1", "code": "local_1028m", "provider_type": "physician", "service_on": "2025-01-10"}
    records.record("R-3", "bill_submitted", bill)
    made = records.decide("R-3", "billing", as_of=date(2025, 1, 10)).decision
    assert made.fired_rule_ids == ("additional-review-needs-a-first",)
    with pytest.raises(FactsInvalidError, match="derived"):
        records.decide("R-3", "billing", as_of=date(2025, 1, 10), facts={"counseling_share_limit": "1.00"})
    assert [r.status for r in replay(records, "R-3")] == ["reproduced"]


def test_option_two_only_once_across_elections(records: CaseRecords) -> None:
    records.open_case("R-4", "2024-01-02")
    records.record("R-4", "plan_approved", {"approved_on": "2024-01-31"})  # the window opens on approval
    election = {"option": "option_2", "elected_on": "2024-02-01", "window_ends_on": "2024-03-29"}
    records.record("R-4", "option_elected", election)
    first = records.decide("R-4", "option-election").decision.outcome
    assert first is not None and first["verdict"] == "accepted"
    records.record("R-4", "option_elected", {**election, "elected_on": "2024-02-05"})
    assert records.decide("R-4", "option-election").decision.fired_rule_ids == ("option-2-only-once",)
