"""Counting time on a case: days and whole months, at their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from vrrules import CaseRecords
from vrrules.events.caseview import whole_months


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
