"""Facts from the history, not from the caller: extensions in two steps, closing reports,
bills, purchases, per-diem requests, earlier plans, and a worker's cases linked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from vrrules import CaseRecords, EventInvalidError, FactsInvalidError
from vrrules.events.payloads import DecisionRecord


def _plan_case(records: CaseRecords, ref: str = "X-1", worker: str | None = None) -> None:
    records.open_case(ref, "2025-01-01", worker=worker)
    records.record(ref, "plan_development_started", {"commenced_on": "2025-01-01"})


def test_an_extension_is_requested_then_granted_or_refused(records: CaseRecords) -> None:
    _plan_case(records)
    with pytest.raises(EventInvalidError, match="pending plan_extension_requested"):
        records.record("X-1", "plan_extension_granted", {"granted_on": "2025-03-20", "days_granted": 10})
    records.record(
        "X-1",
        "plan_extension_requested",
        {"requested_on": "2025-03-15", "good_cause": "new_information", "extra_days_estimated": 30},
    )
    view = records.case_view("X-1", on="2025-03-16")
    assert view["plan.extension_pending"] is True and view["plan.extension_days_granted"] == 0
    with pytest.raises(EventInvalidError, match="on or after the request"):
        records.record("X-1", "plan_extension_granted", {"granted_on": "2025-03-14", "days_granted": 10})
    records.record("X-1", "plan_extension_granted", {"granted_on": "2025-03-20", "days_granted": 10})
    view = records.case_view("X-1", on="2025-03-21")
    assert view["plan.extension_pending"] is False and view["plan.extension_days_granted"] == 10
    # the grant had not happened yet on the 19th: the request was still pending then
    assert records.case_view("X-1", on="2025-03-19")["plan.extension_pending"] is True
    with pytest.raises(EventInvalidError, match="pending"):
        records.record("X-1", "plan_extension_refused", {"refused_on": "2025-03-22"})


def test_a_plan_is_closed_once(records: CaseRecords) -> None:
    _plan_case(records)
    with pytest.raises(EventInvalidError, match="plan_implementation_started"):
        records.record("X-1", "plan_completed", {"completed_on": "2025-09-01"})
    records.record("X-1", "plan_implementation_started", {"started_on": "2025-05-01"})
    records.record("X-1", "plan_completed", {"completed_on": "2026-05-01"})
    with pytest.raises(EventInvalidError, match="already been closed"):
        records.record("X-1", "plan_ended", {"ended_on": "2026-06-01", "reason": "other"})
    assert records.case_view("X-1", on="2026-05-01")["plan.closed_on"] == date(2026, 5, 1)
    assert records.case_view("X-1", on="2026-04-30")["plan.closed"] is False


def test_bills_are_read_from_the_history(records: CaseRecords) -> None:
    _plan_case(records)
    first = {"bill_id": "b1", "code": "local_1038m", "provider_type": "physician", "service_on": "2025-02-01"}
    records.record("X-1", "bill_submitted", first)
    with pytest.raises(EventInvalidError, match="already used"):
        records.record("X-1", "bill_submitted", first)
    records.record(
        "X-1",
        "bill_submitted",
        {"bill_id": "b2", "code": "local_1028m", "provider_type": "physician", "service_on": "2025-02-03"},
    )
    view = records.case_view("X-1", on="2025-02-03")
    assert view["bill.latest.code"] == "local_1028m" and view["bill.first_review_billed_before"] is True


def test_option_2_once_per_worker_is_checked_across_cases(records: CaseRecords) -> None:
    for ref in ("W-1", "W-2", "W-3"):
        _plan_case(records, ref, worker="worker-17" if ref != "W-3" else "someone-else")
    election = {"option": "option_2", "window_ends_on": "2025-09-30"}
    records.record("W-1", "option_elected", {**election, "elected_on": "2025-06-01"})
    records.record("W-2", "option_elected", {**election, "elected_on": "2025-08-01"})
    records.record("W-3", "option_elected", {**election, "elected_on": "2025-08-01"})
    assert len(records.worker_cases(records.case("W-2"))) == 1
    second = records.decide("W-2", "option-election", record=False)
    assert second.decision.facts["earlier_option_2_election"] is True
    assert second.decision.outcome is not None and second.decision.outcome["verdict"] == "refused"
    first = records.decide("W-1", "option-election", record=False)
    assert first.decision.facts["earlier_option_2_election"] is False
    other = records.decide("W-3", "option-election", record=False)
    assert other.decision.facts["earlier_option_2_election"] is False


def test_the_decision_says_which_facts_came_from_the_caller(records: CaseRecords) -> None:
    records.open_case("F-1", "2025-10-01")
    records.record("F-1", "plan_approved", {"approved_on": "2025-10-01"})
    records.record(
        "F-1",
        "option_elected",
        {"option": "option_2", "elected_on": "2025-10-02", "window_ends_on": "2025-12-31"},
    )
    records.record("F-1", "option_2_confirmed", {"ordered_on": "2025-10-03"})
    bill = {"bill_id": "b1", "code": "r0399", "provider_type": "credentialed_vrc", "service_on": "2025-10-05"}
    records.record("F-1", "bill_submitted", {**bill, "service_kind": "counseling", "amount": "1750.01"})
    made = records.decide("F-1", "billing", as_of="2025-10-05", facts={"option_2_funds": "17500.00"})
    assert made.from_caller == ("option_2_funds",)
    assert made.decision.facts["code"] == "r0399"  # from the recorded bill
    assert made.decision.outcome is not None and made.decision.outcome["verdict"] == "refused"
    stored = records.case("F-1").decisions[-1][1]
    assert isinstance(stored, DecisionRecord) and stored.reads_business_time
    assert stored.from_caller == ["option_2_funds"]
    with pytest.raises(FactsInvalidError, match="come from the case history"):
        records.decide("F-1", "billing", as_of="2025-10-05", facts={"code": "r0398"})


def test_facts_lists_where_each_fact_comes_from(records: CaseRecords) -> None:
    sources = {f.name: f for f in records.facts("plan-timeframes")}
    assert sources["commenced_on"].origin == "history" and sources["commenced_on"].path == "plan.commenced_on"
    assert sources["days_to_submit"].origin == "derived"
    assert sources["days_to_submit"].inputs == ("commenced_on", "submitted_on")
    billing = {f.name: f.origin for f in records.facts("billing", as_of="2025-10-01")}
    assert "caller" in billing.values()
    assert records.facts("billing")[0].as_dict()["origin"] in {"history", "derived", "caller"}


def test_an_old_decision_serialises_as_it_was_stored() -> None:
    record = DecisionRecord(
        family="tiers",
        version="2025.1",
        spec_sha256="0" * 64,
        as_of=date(2025, 10, 1),
        case_version_read=1,
        facts={},
        status="decided",
        outcome=None,
        fired=[],
    )
    assert "time_basis" not in record.model_dump(mode="json")
    assert "from_caller" not in record.model_dump()
    assert not record.reads_business_time


def test_an_unpublished_value_blocks_only_the_answers_that_need_it(records: CaseRecords) -> None:
    from vrrules import ParameterMissingError  # noqa: PLC0415

    records.open_case("U-1", "2025-10-01")
    made = records.decide("U-1", "responsiveness", as_of="2025-11-10")  # nothing unanswered
    assert made.decision.outcome == {"verdict": "no_alert"}
    records.record(
        "U-1",
        "correspondence_sent",
        {"correspondence_id": "c1", "sent_on": "2025-10-02", "to": "medical_provider"},
    )
    with pytest.raises(ParameterMissingError, match="reply_days"):
        records.decide("U-1", "responsiveness", as_of="2025-11-10")  # the reply period is needed now
    records.record("U-1", "correspondence_answered", {"correspondence_id": "c1", "answered_on": "2025-10-20"})
    assert records.decide("U-1", "responsiveness", as_of="2025-11-10").decision.outcome == {
        "verdict": "no_alert"
    }
    # and the decision made without the value replays
    from vrrules.audit import replay  # noqa: PLC0415

    assert all(r.reproduced for r in replay(records, "U-1"))


def test_earlier_plans_are_read_across_the_workers_cases(records: CaseRecords) -> None:
    _plan_case(records, "E-1", worker="worker-9")
    records.record("E-1", "plan_implementation_started", {"started_on": "2025-02-01"})
    records.record(
        "E-1",
        "plan_ended",
        {"ended_on": "2025-06-30", "reason": "option_2_elected", "option_2_elected": True},
    )
    records.open_case("E-2", "2025-09-01", worker="worker-9")
    records.record("E-2", "plan_development_started", {"commenced_on": "2025-09-01"})
    records.record(
        "E-2",
        "earlier_plan_recorded",
        {
            "ended_on": "2019-05-01",
            "completed": True,
            "amount_spent": "9000.00",
            "creditable_spending": "1200.00",
        },
    )
    view = records.case_view("E-2", on="2025-09-02")
    assert view["plan.earlier_plans"] == 2 and view["plan.earlier_plan"] is True
    assert view["plan.earlier_creditable_spending"] == Decimal("1200.00")
    assert view["worker.other_cases"] == 1
    # the plan on E-1 ended with Option 2 elected: Option 2 again on E-2 is a second election
    records.record("E-2", "plan_approved", {"approved_on": "2025-10-01"})
    records.record(
        "E-2",
        "option_elected",
        {"option": "option_2", "elected_on": "2025-10-02", "window_ends_on": "2025-12-31"},
    )
    assert (
        records.decide("E-2", "option-election", record=False).decision.facts["earlier_option_2_election"]
        is True
    )


def test_an_option_2_order_needs_an_option_2_election(records: CaseRecords) -> None:
    _plan_case(records)
    with pytest.raises(EventInvalidError, match="Option 2 election"):
        records.record("X-1", "option_2_confirmed", {"ordered_on": "2025-05-01"})
    with pytest.raises(EventInvalidError, match="plan_development_started"):
        records.open_case("X-2", "2025-01-01")
        records.record("X-2", "plan_ended", {"ended_on": "2025-05-01", "reason": "other"})
