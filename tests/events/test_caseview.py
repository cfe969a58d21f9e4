"""Counting time on a case: days and whole months, at their boundaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from vrrules import CaseRecords
from vrrules.events.caseview import case_view, whole_months


@pytest.mark.parametrize(
    ("start", "on", "months"),
    [
        (date(2025, 1, 15), date(2025, 4, 14), 2),  # the day before
        (date(2025, 1, 15), date(2025, 4, 15), 3),  # the day of
        (date(2025, 1, 15), date(2025, 4, 16), 3),  # the day after
        (date(2025, 1, 31), date(2025, 2, 27), 0),
        (date(2025, 1, 31), date(2025, 2, 28), 1),  # no 31 February: its last day completes it
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2025, 1, 31), date(2025, 3, 30), 1),
        (date(2025, 1, 31), date(2025, 3, 31), 2),
        (date(2024, 11, 10), date(2025, 11, 9), 11),
        (date(2024, 11, 10), date(2025, 11, 10), 12),
        (date(2025, 3, 1), date(2025, 3, 1), 0),
    ],
)
def test_whole_months(start: date, on: date, months: int) -> None:
    assert whole_months(start, on) == months


def test_no_months_before_the_start() -> None:
    assert whole_months(date(2025, 3, 2), date(2025, 3, 1)) is None


def test_days_and_months_off_work_on_the_decision_date(records: CaseRecords) -> None:
    records.open_case("T-1", "2025-10-01")
    records.record(
        "T-1",
        "work_status_changed",
        {"status": "absent", "effective_on": "2025-10-01", "off_work_since": "2025-07-14"},
    )
    view = records.case_view("T-1", on=date(2025, 10, 13))
    assert view["work.days_off_work"] == 91
    assert view["work.months_off_work"] == 2
    assert records.case_view("T-1", on=date(2025, 10, 14))["work.months_off_work"] == 3
    assert records.case_view("T-1", on=date(2025, 7, 14))["work.days_off_work"] == 0
    assert records.case_view("T-1", on=date(2025, 7, 13))["work.days_off_work"] is None
    assert records.case_view("T-1")["work.days_off_work"] is None  # no decision date, no count


def test_correspondence_waits_until_answered(records: CaseRecords) -> None:
    records.open_case("T-2", "2025-10-01")
    records.record(
        "T-2",
        "correspondence_sent",
        {"correspondence_id": "c1", "sent_on": "2025-10-02", "to": "medical_provider"},
    )
    records.record(
        "T-2", "correspondence_sent", {"correspondence_id": "c2", "sent_on": "2025-10-05", "to": "employer"}
    )
    assert records.case_view("T-2", on=date(2025, 10, 1))["correspondence.medical_unanswered"] == 0
    view = records.case_view("T-2", on=date(2025, 10, 12))
    assert view["correspondence.medical_unanswered"] == 1
    assert view["correspondence.medical_oldest_unanswered_days"] == 10
    records.record("T-2", "correspondence_answered", {"correspondence_id": "c1", "answered_on": "2025-10-20"})
    assert records.case_view("T-2", on=date(2025, 10, 19))["correspondence.medical_unanswered"] == 1
    assert records.case_view("T-2", on=date(2025, 10, 20))["correspondence.medical_unanswered"] == 0


def test_an_answer_must_fit_the_history(records: CaseRecords) -> None:
    from vrrules import EventInvalidError  # noqa: PLC0415

    records.open_case("T-3", "2025-10-01")
    records.record(
        "T-3",
        "correspondence_sent",
        {"correspondence_id": "c1", "sent_on": "2025-10-02", "to": "medical_provider"},
    )
    for payload, words in [
        ({"correspondence_id": "c9", "answered_on": "2025-10-03"}, "expected the id of correspondence sent"),
        ({"correspondence_id": "c1", "answered_on": "2025-10-01"}, "on or after 2025-10-02"),
    ]:
        with pytest.raises(EventInvalidError, match=words):
            records.record("T-3", "correspondence_answered", payload)
    records.record("T-3", "correspondence_answered", {"correspondence_id": "c1", "answered_on": "2025-10-03"})
    with pytest.raises(EventInvalidError, match="already answered"):
        records.record(
            "T-3", "correspondence_answered", {"correspondence_id": "c1", "answered_on": "2025-10-04"}
        )


def test_latest_intervention_is_joined_to_its_deliverer(records: CaseRecords) -> None:
    records.open_case("T-4", "2025-10-01")
    records.record(
        "T-4",
        "practitioner_assigned",
        {
            "practitioner_id": "vrp_a",
            "role": "vr_practitioner",
            "clinician": False,
            "assigned_on": "2025-10-01",
        },
    )
    records.record(
        "T-4",
        "assessment_completed",
        {
            "assessed_on": "2025-10-03",
            "kind": "initial",
            "depth": "brief",
            "assessor_id": "vrp_a",
            "domains_examined": ["health"],
        },
    )
    records.record(
        "T-4",
        "intervention_planned",
        {
            "planned_on": "2025-10-02",
            "category": "health",
            "activity": "psychotherapy_cbt",
            "delivered_by": "vrp_a",
        },
    )
    view = records.case_view("T-4")
    assert view["intervention.latest.deliverer_clinician"] is False
    assert view["intervention.latest.days_after_first_assessment"] == -1


def test_each_path_asked_for_alone_has_its_value_in_the_whole_view(records: CaseRecords) -> None:
    """``case_view(paths=…)`` leaves out the parts of the view that fill none of the paths:
    every path, asked for alone, on every version of every sample story, on several days,
    read both ways, has the value the whole view gives it (a part filling a path outside
    its prefixes, or reading another part it does not run after, would differ here)."""
    from vrrules.events.caseview import CASE_SOURCES, case_view  # noqa: PLC0415
    from vrrules.events.importer import import_cases, load_case_file  # noqa: PLC0415
    from vrrules.samples import SAMPLE_CASES  # noqa: PLC0415

    import_cases(records, load_case_file(SAMPLE_CASES).cases)
    checked = 0
    for ref in records.case_refs():
        latest = records.case(ref)
        others = records.worker_cases(latest)
        for version in range(1, latest.version + 1):
            case = records.case(ref, version)
            opened = case.opening.opened_on
            for on in (None, opened, date.fromordinal(opened.toordinal() + 45), date(2027, 1, 1)):
                for happened_only in (False, True):
                    whole = case_view(case, on, happened_only=happened_only, others=others)
                    for path in CASE_SOURCES:
                        alone = case_view(case, on, happened_only=happened_only, others=others, paths=[path])
                        assert alone[path] == whole[path], (ref, version, on, happened_only, path)
                        checked += whole[path] is not None
    assert checked > 1000  # the stories fill the paths: the comparison is not of Nones


# "Latest" is latest in business time: each kind recorded out of order, the later-dated one
# first. (setup events, the later-dated event, the earlier-dated one recorded after it, the path
# and the value the later-dated event gives it.)
_EARLY, _LATE = "2025-11-10", "2025-11-20"
_ASSESSMENT = {"kind": "initial", "assessor_id": "vrp_a", "domains_examined": ["health"]}
_SUBMISSION = {"school": "public", "received_on": "2025-11-21", "planned_start_on": "2026-01-05"}
_PER_DIEM = {
    "keeps_primary_residence": True,
    "separated_from_family": True,
    "program_starts_on": "2026-01-05",
    "program_ends_on": "2026-06-30",
}
_PURCHASE = {"prior_approval": True, "requested_as": "plan_cost"}
_BILL = {"provider_type": "credentialed_vrc"}
_OPTION_2 = ("option_elected", {"option": "option_2", "elected_on": "2025-11-01"})
_REQUESTS = [
    ("plan_development_started", {"commenced_on": "2025-10-01"}),
    (
        "plan_extension_requested",
        {"requested_on": "2025-11-01", "good_cause": "none", "extra_days_estimated": 5},
    ),
    (
        "plan_extension_requested",
        {"requested_on": "2025-11-02", "good_cause": "none", "extra_days_estimated": 5},
    ),
]
_Event = tuple[str, dict[str, Any]]
_Story = tuple[str, list[_Event], _Event, _Event, str, Any]
LATEST_OF_EACH_KIND: list[_Story] = [
    (
        "assessment",
        [],
        ("assessment_completed", {**_ASSESSMENT, "assessed_on": _LATE, "depth": "comprehensive"}),
        ("assessment_completed", {**_ASSESSMENT, "assessed_on": _EARLY, "depth": "brief"}),
        "assessment.depth",
        "comprehensive",
    ),
    (
        "intervention",
        [],
        (
            "intervention_planned",
            {
                "planned_on": _LATE,
                "category": "career_coaching",
                "activity": "career_coaching",
                "delivered_by": "x",
            },
        ),
        (
            "intervention_planned",
            {
                "planned_on": _EARLY,
                "category": "health",
                "activity": "psychotherapy_cbt",
                "delivered_by": "x",
            },
        ),
        "intervention.latest.activity",
        "career_coaching",
    ),
    (
        "practitioner",
        [],
        (
            "practitioner_assigned",
            {"practitioner_id": "p", "role": "clinician", "clinician": True, "assigned_on": _LATE},
        ),
        (
            "practitioner_assigned",
            {"practitioner_id": "p", "role": "vr_practitioner", "clinician": False, "assigned_on": _EARLY},
        ),
        "practitioner.latest.role",
        "clinician",
    ),
    (
        "work status",
        [],
        ("work_status_changed", {"status": "in_work", "effective_on": _LATE}),
        ("work_status_changed", {"status": "absent", "effective_on": _EARLY, "off_work_since": "2025-11-01"}),
        "work.status",
        "in_work",
    ),
    (
        "referral",
        [],
        ("referral_received", {"received_on": _LATE, "source": "gp"}),
        ("referral_received", {"received_on": _EARLY, "source": "employer"}),
        "referral.source",
        "gp",
    ),
    (
        "plan submission",
        [],
        ("plan_submitted", {**_SUBMISSION, "submitted_on": _LATE, "planned_months": 12}),
        ("plan_submitted", {**_SUBMISSION, "submitted_on": _EARLY, "planned_months": 6}),
        "plan.planned_months",
        12,
    ),
    (
        "plan development start",
        [],
        ("plan_development_started", {"commenced_on": _LATE}),
        ("plan_development_started", {"commenced_on": _EARLY}),
        "plan.commenced_on",
        date(2025, 11, 20),
    ),
    (
        "plan approval",
        [],
        ("plan_approved", {"approved_on": _LATE, "deemed": True}),
        ("plan_approved", {"approved_on": _EARLY}),
        "plan.deemed_approval",
        True,
    ),
    (
        "implementation",
        [],
        ("plan_implementation_started", {"started_on": _LATE}),
        ("plan_implementation_started", {"started_on": _EARLY}),
        "plan.implementation_started_on",
        date(2025, 11, 20),
    ),
    (
        "extension grant",
        _REQUESTS,
        ("plan_extension_granted", {"granted_on": _LATE, "days_granted": 10}),
        ("plan_extension_granted", {"granted_on": _EARLY, "days_granted": 5}),
        "plan.extension_granted_on",
        date(2025, 11, 20),
    ),
    (
        "option election",
        [],
        ("option_elected", {"option": "option_2", "elected_on": _LATE}),
        ("option_elected", {"option": "option_1", "elected_on": _EARLY}),
        "option.chosen",
        "option_2",
    ),
    (
        "option 2 order",
        [_OPTION_2],
        ("option_2_confirmed", {"ordered_on": _LATE, "first_quarter_spending": "100.00"}),
        ("option_2_confirmed", {"ordered_on": _EARLY, "first_quarter_spending": "50.00"}),
        "option.first_quarter_spending",
        Decimal("100.00"),
    ),
    (
        "bill",
        [],
        ("bill_submitted", {**_BILL, "bill_id": "b2", "code": "cpt_99366", "service_on": _LATE}),
        ("bill_submitted", {**_BILL, "bill_id": "b1", "code": "local_1038m", "service_on": _EARLY}),
        "bill.latest.code",
        "cpt_99366",
    ),
    (
        "bills before the latest",
        [],
        ("bill_submitted", {**_BILL, "bill_id": "b2", "code": "cpt_99366", "service_on": _LATE}),
        ("bill_submitted", {**_BILL, "bill_id": "b1", "code": "local_1038m", "service_on": _EARLY}),
        "bill.first_review_billed_before",
        True,
    ),
    (
        "purchase",
        [],
        ("purchase_requested", {**_PURCHASE, "requested_on": _LATE, "item": "software"}),
        ("purchase_requested", {**_PURCHASE, "requested_on": _EARLY, "item": "computer"}),
        "purchase.latest.item",
        "software",
    ),
    (
        "per diem",
        [],
        ("per_diem_requested", {**_PER_DIEM, "requested_on": _LATE, "program_location": "Spokane"}),
        ("per_diem_requested", {**_PER_DIEM, "requested_on": _EARLY, "program_location": "Tacoma"}),
        "per_diem.latest.program_location",
        "Spokane",
    ),
]


@pytest.mark.parametrize("story", LATEST_OF_EACH_KIND, ids=[story[0] for story in LATEST_OF_EACH_KIND])
def test_the_latest_of_each_kind_is_the_latest_dated_not_the_last_recorded(
    records: CaseRecords, story: _Story
) -> None:
    _, setup, later, earlier, path, value = story
    records.open_case("L-1", "2025-10-01")
    for event_type, payload in [*setup, later, earlier]:  # the earlier-dated one recorded last
        records.record("L-1", event_type, payload)
    assert records.case_view("L-1", on="2025-12-01")[path] == value
    assert records.case_view("L-1")[path] == value  # with no date: every event, still by business date
    # a decision stored before the two times were kept apart read the last recorded: it replays so
    legacy = case_view(records.case("L-1"), date(2025, 12, 1), happened_only=False)
    assert legacy[path] != value


def test_the_current_tier_is_the_latest_dated_decisions(records: CaseRecords) -> None:
    records.open_case("L-2", "2025-10-01")
    records.record("L-2", "referral_received", {"received_on": "2025-10-01", "source": "insurer"})
    three = {**_ASSESSMENT, "kind": "initial", "depth": "comprehensive", "assessed_on": "2025-10-10"}
    records.record(
        "L-2",
        "assessment_completed",
        {
            **three,
            "domains_examined": ["health", "physical"],
            "obstacles": ["health", "physical"],
            "client_groups": ["long_term_condition"],
        },
    )
    records.record(
        "L-2",
        "assessment_completed",
        {
            **three,
            "kind": "review",
            "assessed_on": "2025-11-20",
            "support_needed": ["information_and_advice"],
        },
    )
    late = records.decide("L-2", "tiers", as_of="2025-11-25")
    early = records.decide("L-2", "tiers", as_of="2025-10-15")  # recorded later, dated earlier
    assert late.decision.outcome is not None and early.decision.outcome is not None
    assert late.decision.outcome["tier"] != early.decision.outcome["tier"]
    view = records.case_view("L-2", on="2025-12-01")
    assert view["tier.current"] == late.decision.outcome["tier"]
    assert view["tier.since"] == date(2025, 11, 25)
