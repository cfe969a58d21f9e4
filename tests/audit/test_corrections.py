"""Corrections: back-dated events change the decisions about their days; progress does not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from vrrules import CaseRecords
from vrrules.audit.corrections import corrections
from vrrules.audit.timeline import case_as_of

ABSENT = {"status": "absent", "effective_on": "2025-10-01", "off_work_since": "2025-10-01"}


def _assign(day: str) -> dict[str, object]:
    return {"practitioner_id": "vrp_1", "role": "vr_practitioner", "clinician": False, "assigned_on": day}


def test_a_back_dated_event_is_listed_and_later_progress_is_not(records: CaseRecords) -> None:
    for ref in ("C-1", "C-2", "C-3"):
        records.open_case(ref, "2025-10-01")
        records.record(ref, "work_status_changed", ABSENT)
        records.decide(ref, "early-intervention", as_of="2026-01-05")  # alert: three months
    # C-1: recorded now, dated before the decision: a correction that silences the alert
    records.record("C-1", "practitioner_assigned", _assign("2025-12-01"))
    # C-2: ordinary progress, dated after the decision
    records.record("C-2", "practitioner_assigned", _assign("2026-02-01"))
    # C-3: a correction that changes nothing (a letter to the employer)
    records.record(
        "C-3", "correspondence_sent", {"correspondence_id": "e1", "sent_on": "2025-11-01", "to": "employer"}
    )
    report = corrections(records)
    assert [(c.case_ref, c.family) for c in report.changed] == [("C-1", "early-intervention")]
    change = report.changed[0]
    assert change.outcome_then is not None and change.outcome_then["verdict"] == "alert"
    assert change.outcome_corrected == {"verdict": "no_alert"}
    assert [(e.event_type, e.happened_on) for e in change.events] == [
        ("practitioner_assigned", date(2025, 12, 1))
    ]
    assert report.corrected_unchanged == 1 and report.without_corrections == 1
    assert "C-1@3 early-intervention" in report.render()
    assert report.as_dict()["changed"][0]["corrections"][0]["type"] == "practitioner_assigned"


@settings(max_examples=25)
@given(st.lists(st.integers(-120, 120), min_size=1, max_size=4))
def test_exactly_the_decisions_a_correction_changes_are_listed(offsets: list[int]) -> None:
    as_of = date(2026, 1, 5)
    with CaseRecords(store="memory", specs="specs") as records:
        expected = []
        for n, offset in enumerate(offsets):
            ref = f"H-{n}"
            records.open_case(ref, "2025-10-01")
            records.record(ref, "work_status_changed", ABSENT)
            records.decide(ref, "early-intervention", as_of=as_of)
            day = as_of + timedelta(days=offset)
            records.record(ref, "practitioner_assigned", _assign(day.isoformat()))
            if day <= as_of:
                expected.append(ref)
        assert [c.case_ref for c in corrections(records).changed] == expected


def test_what_we_knew_on_t_about_d(records: CaseRecords) -> None:
    records.open_case("K-1", "2025-10-01")
    records.record("K-1", "work_status_changed", ABSENT)
    records.record("K-1", "practitioner_assigned", _assign("2025-12-01"))  # version 3
    records.record("K-1", "referral_received", {"received_on": "2026-02-01", "source": "gp"})  # version 4
    case, _ = case_as_of(records, "K-1", date(2026, 1, 1))
    assert case is not None and case.practitioners and case.referral is None  # referral not yet happened
    case, _ = case_as_of(records, "K-1", date(2026, 3, 1), version=2)
    assert case is not None and not case.practitioners and case.version == 2  # not yet recorded at version 2
    case, _ = case_as_of(records, "K-1", None, known_at=datetime.now().astimezone() + timedelta(days=1))
    assert case is not None and case.referral is not None
    assert case_as_of(records, "K-1", None, known_at=date(2000, 1, 1)) == (None, [])
    assert case_as_of(records, "K-1", date(2025, 9, 30)) == (None, [])  # not opened yet
    assert case_as_of(records, "NOPE", date(2026, 1, 1)) == (None, [])


def test_what_if_with_current_facts_leaves_later_progress_out(records: CaseRecords) -> None:
    from vrrules.audit.whatif import impact  # noqa: PLC0415

    records.open_case("P-1", "2025-10-01")
    records.record("P-1", "work_status_changed", ABSENT)
    records.decide("P-1", "early-intervention", as_of="2026-01-05")
    records.record("P-1", "practitioner_assigned", _assign("2026-02-01"))  # progress
    assert impact(records, current_facts=True).changes == []
    records.record("P-1", "referral_received", {"received_on": "2025-11-01", "source": "gp"})  # a correction
    changed = impact(records, current_facts=True).changes
    assert [c.as_of for c in changed] == [date(2026, 1, 5)]


def test_a_decision_as_of_a_past_date_replays_with_later_dated_events_recorded(records: CaseRecords) -> None:
    from vrrules.audit import replay  # noqa: PLC0415

    records.open_case("R-1", "2025-10-01")
    records.record("R-1", "work_status_changed", ABSENT)
    records.record("R-1", "practitioner_assigned", _assign("2026-03-01"))  # happens after the date asked
    made = records.decide("R-1", "early-intervention", as_of="2026-01-05")
    assert made.decision.outcome is not None and made.decision.outcome["verdict"] == "alert"
    assert all(r.reproduced for r in replay(records, "R-1"))
