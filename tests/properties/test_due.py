"""The due list: the projection equals deciding every timed family on every case as of the
same date, kept current as events are recorded, and rebuilt from the log the same; kept in
a SQLite or PostgreSQL store, it still does across reopening, back-dated events, a worker's
other cases and read-only opening."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS, _reset_postgres
from vrrules import CaseRecords, VrrulesError
from vrrules.events.due import DueProjection, due_sweep, timed_families

START = date(2025, 10, 1)


def _day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def _steps(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    steps: list[tuple[str, dict[str, Any]]] = []
    if draw(st.booleans()):  # a referral: the alerts become follow-ups, which report no later date
        steps.append(("referral_received", {"received_on": _day(draw(st.integers(0, 200))), "source": "gp"}))
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
                if draw(st.booleans()):  # Option 2 once per worker: the worker's other cases read it
                    steps.append(
                        (
                            "option_elected",
                            {
                                "option": draw(st.sampled_from(["option_1", "option_2"])),
                                "elected_on": _day(impl + draw(st.integers(-5, 40))),
                            },
                        )
                    )
                if draw(st.booleans()):
                    steps.append(
                        (
                            "plan_ended",
                            {
                                "ended_on": _day(impl + draw(st.integers(10, 200))),
                                "reason": "option_2_elected",
                                "option_2_elected": True,
                            },
                        )
                    )
    return steps


@st.composite
def stores(draw: st.DrawFn) -> list[list[tuple[str, dict[str, Any]]]]:
    return [_steps(draw) for _ in range(draw(st.integers(1, 3)))]


def _fill(
    records: CaseRecords,
    cases: list[list[tuple[str, dict[str, Any]]]],
    first: int = 0,
    workers: list[str | None] | None = None,
    opened: list[int] | None = None,
) -> None:
    """Open the cases and record their steps; ``opened``: the days after START they are opened
    on, in turn (a case opened after its history began records what happened before)."""
    for n, steps in enumerate(cases, start=first):
        ref = f"D-{n}"
        on = START + timedelta(days=opened[n % len(opened)]) if opened else START
        records.open_case(ref, on, worker=workers[n % len(workers)] if workers else None)
        _record(records, ref, steps)


def _record(records: CaseRecords, ref: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    for event_type, payload in steps:
        try:
            records.record(ref, event_type, payload)
        except VrrulesError:
            continue  # a step the history refuses (a second plan, say): the case stays as it was


# The days asked about: around the events (the first 500 days), long after them, when only
# time has passed (two years from a plan's implementation, twelve months off work, reached
# with nothing recorded), and far on, in a case's last, open-ended span (to 9999-12-31).
LAST_OFFSET = (date.max - START).days
OFFSETS = st.one_of(
    st.integers(-10, 500),
    st.integers(500, 1600),
    st.integers(1600, 40000),
    st.just(LAST_OFFSET),
)
# the days after START the cases are opened on: on START, or after their history began
OPENINGS = st.lists(st.one_of(st.just(0), st.integers(0, 900)), min_size=1, max_size=3)


def _days_at(offsets: list[int]) -> list[date]:
    return [START + timedelta(days=min(o, LAST_OFFSET)) for o in offsets]


@settings(max_examples=20, deadline=None)
@given(
    first=stores(),
    later=stores(),
    offsets=st.lists(OFFSETS, min_size=1, max_size=4),
    within=st.integers(0, 30),
    opened=OPENINGS,
)
@example(  # a plan implemented, then the case opened here with its contact overdue: two years pass
    first=[
        [
            ("plan_development_started", {"commenced_on": _day(0)}),
            (
                "plan_submitted",
                {
                    "submitted_on": _day(30),
                    "received_on": _day(31),
                    "planned_start_on": _day(60),
                    "school": "none",
                    "planned_months": 12,
                },
            ),
            ("plan_implementation_started", {"started_on": _day(60)}),
        ]
    ],
    later=[],
    offsets=[900],
    within=0,
    opened=[200],
)
@example(  # off work and referred, the case opened after three months: twelve months pass
    first=[
        [
            ("referral_received", {"received_on": _day(5), "source": "gp"}),
            ("work_status_changed", {"status": "absent", "effective_on": _day(1), "off_work_since": _day(0)}),
        ]
    ],
    later=[],
    offsets=[400, LAST_OFFSET],
    within=0,
    opened=[120],
)
def test_the_projection_equals_deciding_every_timed_family_on_every_case(
    *, first: list[Any], later: list[Any], offsets: list[int], within: int, opened: list[int]
) -> None:
    with CaseRecords(store="memory", specs=SPECS) as records:
        _fill(records, first, opened=opened)
        projection = DueProjection(records)
        days = _days_at(offsets)
        assert projection.verify(days, within) == []
        _fill(records, later, first=len(first), opened=opened)  # kept current as events are recorded
        assert projection.verify(days, within) == []
        rebuilt = DueProjection(records)
        rebuilt.rebuild()
        assert [rebuilt.due(d, within) for d in days] == [projection.due(d, within) for d in days]


WORKERS: list[str | None] = ["W-1", "W-2", None]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def _sqlite_store() -> Iterator[str]:
    # a fresh file per example (Hypothesis runs many examples in one test function)
    with tempfile.TemporaryDirectory(prefix="vrrules-due-") as folder:
        yield str(Path(folder) / "cases.db")


def _agrees(records: CaseRecords, days: list[date], within: int) -> None:
    for day in days:
        assert records.due(day, within) == due_sweep(records, day, within), day


def _kept_projection_follows_the_log(
    store: str,
    *,
    first: list[Any],
    later: list[Any],
    touched: list[tuple[int, list[tuple[str, dict[str, Any]]]]],
    days: list[date],
    within: int,
    opened: list[int],
) -> None:
    with CaseRecords(store, SPECS) as records:
        _fill(records, first, workers=WORKERS, opened=opened)
        records.due(days[0], within)
        report = records.due_report
        assert report is not None and report.kept and report.rebuilt
        _agrees(records, days, within)
    with CaseRecords(store, SPECS) as records:  # reopened: kept, nothing worked out again
        records.due(days[0], within)
        report = records.due_report
        assert report is not None and (report.rebuilt, report.worked_out) == (False, 0)
        # more history: back-dated steps on existing cases, new cases of the same workers
        for index, steps in touched:
            _record(records, f"D-{index % len(first)}", steps)
        _fill(records, later, first=len(first), workers=WORKERS, opened=opened)
    with CaseRecords(store, SPECS) as records:  # reopened again: caught up from the log
        records.due(days[0], within)
        report = records.due_report
        assert report is not None and not report.rebuilt and report.read > 0
        _agrees(records, days, within)
    path = Path(store)
    with CaseRecords(store, SPECS) as records:  # recorded, but nobody asked since
        _record(records, "D-0", [("plan_development_started", {"commenced_on": _day(3)})])
        _fill(records, later[:1], first=len(first) + len(later), workers=WORKERS)
    before = _digest(path) if path.exists() else None
    with CaseRecords(store, SPECS, read_only=True) as records:  # read-only: caught up in memory
        records.due(days[0], within)
        report = records.due_report
        assert report is not None and not report.kept and not report.rebuilt and report.read > 0
        _agrees(records, days, within)
    if before is not None:
        assert _digest(path) == before
    with CaseRecords(store, SPECS) as records:  # the kept one still follows on
        _agrees(records, days, within)
        rebuilt = DueProjection(records)
        rebuilt.rebuild()
        assert [rebuilt.due(d, within) for d in days] == [records.due(d, within) for d in days]


@st.composite
def touches(draw: st.DrawFn) -> list[tuple[int, list[tuple[str, dict[str, Any]]]]]:
    """Steps recorded later on cases that exist: their business dates fall anywhere, so many
    are back-dated (recorded after, dated before what the case had)."""
    return [(draw(st.integers(0, 10)), _steps(draw)) for _ in range(draw(st.integers(1, 3)))]


KEPT = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.lists(OFFSETS, min_size=1, max_size=3)
# the histories the kept-projection properties draw, the same on every backend
KEPT_HISTORIES = {
    "first": stores(),
    "later": stores(),
    "touched": touches(),
    "offsets": DAYS,
    "within": st.integers(0, 30),
    "opened": OPENINGS,
}


@KEPT
@given(**KEPT_HISTORIES)
def test_the_kept_projection_equals_the_sweep_on_sqlite(
    *,
    first: list[Any],
    later: list[Any],
    touched: list[Any],
    offsets: list[int],
    within: int,
    opened: list[int],
) -> None:
    days = _days_at(offsets)
    with _sqlite_store() as store:
        _kept_projection_follows_the_log(
            store, first=first, later=later, touched=touched, days=days, within=within, opened=opened
        )


@pytest.mark.postgres
def test_the_kept_projection_equals_the_sweep_on_postgres(postgres_url: str) -> None:
    @KEPT
    @given(**KEPT_HISTORIES)
    def check(
        *,
        first: list[Any],
        later: list[Any],
        touched: list[Any],
        offsets: list[int],
        within: int,
        opened: list[int],
    ) -> None:
        _reset_postgres(postgres_url)
        days = _days_at(offsets)
        _kept_projection_follows_the_log(
            postgres_url, first=first, later=later, touched=touched, days=days, within=within, opened=opened
        )

    check()


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
