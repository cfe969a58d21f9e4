"""The due list: the projection equals deciding every timed family on every case as of the
same date, kept current as events are recorded, and rebuilt from the log the same."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS
from vrrules import CaseRecords
from vrrules.events.due import DueProjection, due_sweep, timed_families

START = date(2025, 10, 1)


def _day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def _steps(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = []
    if draw(st.booleans()):
        steps.append(
            (
                "work_status_changed",
                {
                    "status": "absent",
                    "effective_on": _day(draw(st.integers(0, 30))),
                    "off_work_since": _day(0),
                },
            )
        )
    if draw(st.booleans()):
        steps.append(
            (
                "practitioner_assigned",
                {
                    "practitioner_id": "p1",
                    "role": draw(st.sampled_from(["vr_practitioner", "clinician"])),
                    "clinician": True,
                    "assigned_on": _day(draw(st.integers(0, 200))),
                },
            )
        )
    if draw(st.booleans()):
        steps.append(("plan_development_started", {"commenced_on": _day(draw(st.integers(0, 20)))}))
        if draw(st.booleans()):
            steps.append(
                (
                    "plan_extension_requested",
                    {
                        "requested_on": _day(draw(st.integers(20, 80))),
                        "good_cause": "new_information",
                        "extra_days_estimated": 20,
                    },
                )
            )
            if draw(st.booleans()):
                steps.append(
                    (
                        "plan_extension_granted",
                        {
                            "granted_on": _day(draw(st.integers(80, 90))),
                            "days_granted": draw(st.integers(1, 30)),
                        },
                    )
                )
        if draw(st.booleans()):
            sub = draw(st.integers(30, 140))
            steps.append(
                (
                    "plan_submitted",
                    {
                        "submitted_on": _day(sub),
                        "received_on": _day(sub + 1),
                        "planned_start_on": _day(sub + draw(st.integers(10, 60))),
                        "school": "none",
                        "planned_months": 12,
                    },
                )
            )
            if draw(st.booleans()):
                steps.append(("plan_approved", {"approved_on": _day(sub + draw(st.integers(2, 20)))}))
            if draw(st.booleans()):
                impl = sub + draw(st.integers(5, 40))
                steps.append(("plan_implementation_started", {"started_on": _day(impl)}))
                for n in range(draw(st.integers(0, 2))):
                    steps.append(
                        ("worker_contacted", {"contacted_on": _day(impl + draw(st.integers(1, 60)) + n)})
                    )
    return steps


@st.composite
def stores(draw: st.DrawFn) -> list[list[tuple[str, dict[str, Any]]]]:
    return [_steps(draw) for _ in range(draw(st.integers(1, 3)))]


def _fill(records: CaseRecords, cases: list[list[tuple[str, dict[str, Any]]]], first: int = 0) -> None:
    for n, steps in enumerate(cases, start=first):
        ref = f"D-{n}"
        records.open_case(ref, START)
        for event_type, payload in steps:
            records.record(ref, event_type, payload)


@settings(max_examples=20, deadline=None)
@given(stores(), stores(), st.lists(st.integers(-10, 500), min_size=1, max_size=4), st.integers(0, 30))
def test_the_projection_equals_deciding_every_timed_family_on_every_case(
    first: list[Any], later: list[Any], offsets: list[int], within: int
) -> None:
    with CaseRecords(store="memory", specs=SPECS) as records:
        _fill(records, first)
        projection = DueProjection(records)
        days = [START + timedelta(days=o) for o in offsets]
        assert projection.verify(days, within) == []
        _fill(records, later, first=len(first))  # kept current as events are recorded
        assert projection.verify(days, within) == []
        rebuilt = DueProjection(records)
        rebuilt.rebuild()
        assert [rebuilt.due(d, within) for d in days] == [projection.due(d, within) for d in days]


def test_a_due_list_across_the_store(records: CaseRecords) -> None:
    assert {"plan-timeframes", "early-intervention", "option-election"} <= set(
        timed_families(records.policies)
    )
    records.open_case("Q-1", "2025-01-01")
    records.record("Q-1", "plan_development_started", {"commenced_on": "2025-01-01"})
    records.open_case("Q-2", "2025-01-01")
    records.record(
        "Q-2",
        "work_status_changed",
        {"status": "absent", "effective_on": "2025-01-05", "off_work_since": "2025-01-02"},
    )
    listed = records.due("2025-03-25", within=14)
    assert [(i.case_ref, i.rule_id, i.due_on, i.days) for i in listed] == [
        ("Q-1", "plan-due", date(2025, 4, 1), -7),
        ("Q-2", "alert-coming", date(2025, 4, 2), -8),
    ]
    assert records.due("2025-03-25") == []  # nothing passed yet, nothing due today
    overdue = records.due("2025-04-02")
    assert [(i.rule_id, i.days) for i in overdue] == [
        ("plan-overdue", 1),
        ("off-work-three-months-without-help", 0),
    ]
    assert overdue[0].as_dict()["days_overdue"] == 1 and "RCW 51.32.096" in overdue[0].reference
    # kept current: the plan is submitted (business date 2025-04-02) and the alert silenced
    records.record(
        "Q-1",
        "plan_submitted",
        {
            "submitted_on": "2025-03-30",
            "received_on": "2025-03-31",
            "planned_start_on": "2025-06-01",
            "school": "none",
            "planned_months": 12,
        },
    )
    records.record(
        "Q-2",
        "practitioner_assigned",
        {"practitioner_id": "v", "role": "vr_practitioner", "clinician": False, "assigned_on": "2025-03-30"},
    )
    # submitted and received on 2025-03-31: the department's 15 days run to 2025-04-15
    assert [(i.rule_id, i.due_on, i.days) for i in records.due("2025-04-02", within=14)] == [
        ("awaiting-approval", date(2025, 4, 15), -13)
    ]
    assert records.due("2025-04-02") == []
    assert due_sweep(records, date(2025, 4, 2)) == records.due("2025-04-02")
