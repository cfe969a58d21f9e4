"""The due list kept in the store: its interval index, its transactions, its fingerprints, its
encryption, its processes and its read-only opening (the property that it equals deciding
every case is in tests/properties/test_due.py)."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import threading
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS, _reset_postgres
from vrrules import CaseRecords, StoreKeyError
from vrrules.errors import StoreUnavailableError
from vrrules.events import due as due_module
from vrrules.events.due import DueProjection, check_due, due_sweep, kept_due_list, timed_families
from vrrules.events.duetables import (
    ROOT,
    CaseEntry,
    DueState,
    MemoryDueTables,
    Span,
    fork_node,
    stab_nodes,
)
from vrrules.events.persistence import new_store_key
from vrrules.events.store import CaseStore

FIRST, LAST = date.min.toordinal(), date.max.toordinal()
TEXT = ("plan-timeframes", "plan-due", "plan_due", "due", "RCW 51.32.096", "Submit the plan.")

# ------------------------------------------------------------------------- the index

ordinals = st.one_of(
    st.integers(FIRST, LAST),
    st.sampled_from([FIRST, FIRST + 1, ROOT - 1, ROOT, ROOT + 1, LAST - 1, LAST]),
    st.integers(739_000, 740_500),  # the years cases live in
)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    first, last = sorted((draw(ordinals), draw(ordinals)))
    dues = draw(st.lists(ordinals, min_size=1, max_size=3))
    return (first, last, [(due, TEXT) for due in dues])


def test_a_span_is_filed_under_a_node_inside_it_on_the_way_to_each_of_its_days() -> None:
    @given(spans(), ordinals)
    def check(span: Span, day: int) -> None:
        first, last, _ = span
        node = fork_node(first, last)
        assert first <= node <= last
        if first <= day <= last:  # every day of the span passes its node on the way down
            left, right = stab_nodes(day)
            assert node in (*left, *right, day)

    check()


def _in_memory(case_spans: list[list[Span]]) -> MemoryDueTables:
    tables = MemoryDueTables()
    entries = [CaseEntry(f"{n:032x}", f"C-{n}", n + 1, None) for n in range(len(case_spans))]
    state = DueState(0, len(entries), "l", None, ("plan-timeframes",))
    tables.write(
        expected=None,
        state=state,
        cases=entries,
        spans={e.case_id: s for e, s in zip(entries, case_spans, strict=True)},
        replace_all=True,
    )
    return tables


def _expected(case_spans: list[list[Span]], day: int, horizon: int) -> list[tuple[str, int]]:
    return sorted(
        (f"C-{n}", due)
        for n, found in enumerate(case_spans)
        for first, last, items in found
        if first <= day <= last
        for due, _ in items
        if due <= horizon
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(spans(), max_size=4), max_size=6), ordinals, st.integers(0, 400))
def test_the_spans_found_on_a_day_are_exactly_those_containing_it(
    case_spans: list[list[Span]], day: int, within: int
) -> None:
    horizon = min(day + within, LAST)
    found = sorted((ref, due) for ref, due, _ in _in_memory(case_spans).items_on(day, horizon))
    assert found == _expected(case_spans, day, horizon)


def test_the_store_finds_the_same_spans_with_its_indexes(tmp_path: Path) -> None:
    store = CaseStore(tmp_path / "index.db")
    tables = store.due_tables()
    assert tables is not None

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.lists(spans(), max_size=4), max_size=6), ordinals, st.integers(0, 400))
    def check(case_spans: list[list[Span]], day: int, within: int) -> None:
        entries = [CaseEntry(f"{n:032x}", f"C-{n}", n + 1, None) for n in range(len(case_spans))]
        state = DueState(0, 0, "l", None, ("plan-timeframes",))
        spans_of = {e.case_id: s for e, s in zip(entries, case_spans, strict=True)}
        tables.write(expected=None, state=state, cases=entries, spans=spans_of, replace_all=True)
        horizon = min(day + within, LAST)
        found = sorted((ref, due) for ref, due, _ in tables.items_on(day, horizon))
        assert found == _expected(case_spans, day, horizon)

    try:
        check()
    finally:
        store.close()


def test_the_query_reads_the_index_not_the_table(tmp_path: Path) -> None:
    import sqlite3  # noqa: PLC0415

    store = CaseStore(tmp_path / "plan.db")
    tables = store.due_tables()
    tables.ensure()
    store.close()
    with sqlite3.connect(tmp_path / "plan.db") as db:
        left, right = stab_nodes(739_600)
        columns = "SELECT ref, due, text FROM stored_events_due_items WHERE node IN "
        plan = db.execute(
            f"EXPLAIN QUERY PLAN {columns} ({', '.join('?' * len(left))}) AND last_day >= ? AND due <= ?",
            (*left, 739_600, 739_614),
        ).fetchall()
        assert "USING COVERING INDEX stored_events_due_items_by_node_last" in str(plan), plan
        plan = db.execute(
            f"EXPLAIN QUERY PLAN {columns} ({', '.join('?' * len(right))}) AND first_day <= ? AND due <= ?",
            (*right, 739_600, 739_614),
        ).fetchall()
        assert "USING COVERING INDEX stored_events_due_items_by_node_first" in str(plan), plan


# ------------------------------------------------------------------- a few cases


def _cases(records: CaseRecords, count: int = 3, worker: str | None = "W-1") -> None:
    for n in range(count):
        ref = f"K-{n}"
        records.open_case(ref, "2025-01-01", worker=worker if n < 2 else None)
        records.record(ref, "plan_development_started", {"commenced_on": f"2025-01-{n + 2:02d}"})
        records.record(
            ref,
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-01-05", "off_work_since": "2025-01-02"},
        )


DAYS = [date(2025, 3, 25), date(2025, 4, 2), date(2025, 9, 1), date(2026, 6, 1)]


def _agrees(records: CaseRecords, within: int = 14) -> None:
    for day in DAYS:
        assert records.due(day, within) == due_sweep(records, day, within), day


def test_a_writer_that_lost_the_race_writes_nothing_and_starts_again(tmp_path: Path) -> None:
    store = tmp_path / "race.db"
    with CaseRecords(store, SPECS) as first, CaseRecords(store, SPECS) as second:
        _cases(first)
        first.due(DAYS[0])
        tables = first.due_projection().tables()
        stale = tables.state()
        assert stale is not None
        first.record("K-0", "plan_approved", {"approved_on": "2025-03-01"})
        second.due(DAYS[0])  # the second moves it on first
        moved = tables.state()
        assert moved is not None and moved.generation == stale.generation + 1
        # the first, working from the state it read before, is refused as a whole
        assert (
            tables.write(expected=stale.generation, state=stale, cases=[], spans={}, replace_all=False)
            is None
        )
        assert tables.state() == moved
        first.record("K-1", "plan_approved", {"approved_on": "2025-03-02"})
        projection = first.due_projection()
        assert projection._follow(tables, stale) is False  # lost: nothing kept
        assert tables.state() == moved
        _agrees(first)  # and it starts again from the winner's state
        _agrees(second)


def test_specs_changed_since_rebuild_the_list_and_the_same_specs_elsewhere_do_not(tmp_path: Path) -> None:
    specs, elsewhere = tmp_path / "specs", tmp_path / "copy"
    shutil.copytree(SPECS, specs)
    shutil.copytree(SPECS, elsewhere)
    store = tmp_path / "specs.db"
    with CaseRecords(store, specs) as records:
        _cases(records)
        records.due(DAYS[0])
        assert records.due_report is not None and records.due_report.rebuilt
    with closing(CaseStore(store)) as opened:
        assert kept_due_list(opened, specs, DAYS[1]) is not None  # current: no specs loaded
        assert kept_due_list(opened, elsewhere, DAYS[1]) is not None  # files of the same content
    with CaseRecords(store, elsewhere) as records:
        records.due(DAYS[0])
        assert records.due_report is not None and not records.due_report.rebuilt
    tiers = specs / "tiers" / "2025.1.yaml"  # not a timed family: the list stands
    tiers.write_text(tiers.read_text() + "\n# an edit that changes nothing due\n")
    with closing(CaseStore(store)) as opened:
        assert kept_due_list(opened, specs, DAYS[1]) is None  # other files: the library is loaded
    with CaseRecords(store, specs) as records:
        records.due(DAYS[0])
        assert records.due_report is not None and not records.due_report.rebuilt
    with closing(CaseStore(store)) as opened:  # and these files are remembered as its own
        assert kept_due_list(opened, specs, DAYS[1]) is not None
    timed = specs / "plan-timeframes" / "2015.1.yaml"
    timed.write_text(timed.read_text() + "\n# an edit to a timed family\n")
    with CaseRecords(store, specs) as records:
        records.due(DAYS[0])
        report = records.due_report
        assert report is not None and report.rebuilt and "policy library" in str(report.reason)
        _agrees(records)


def test_an_encrypted_store_keeps_its_due_list_encrypted(tmp_path: Path) -> None:
    key = new_store_key()
    store = tmp_path / "secret.db"
    with CaseRecords(store, SPECS, encryption_key=key) as records:
        records.open_case("SECRET-REF-0042", "2025-01-01", worker="Worker Wendy Name")
        records.record("SECRET-REF-0042", "plan_development_started", {"commenced_on": "2025-01-01"})
        listed = records.due(date(2025, 4, 2))
        assert [i.case_ref for i in listed] == ["SECRET-REF-0042"]
        assert records.due_report is not None and records.due_report.kept
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("secret.db"))
    for text in (b"SECRET-REF-0042", b"Worker Wendy", b"plan-due", b"Submit"):
        assert text not in raw, text
    with CaseRecords(store, SPECS, encryption_key=key) as records:
        assert records.due(date(2025, 4, 2)) == listed
    with pytest.raises(StoreKeyError):
        CaseRecords(store, SPECS, encryption_key=new_store_key())


def test_a_rebuild_shared_among_processes_equals_one_worked_out_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(due_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(due_module, "_SHARE", 2)
    store = tmp_path / "shared.db"
    with CaseRecords(store, SPECS) as records:
        _cases(records, count=6)
        told: list[tuple[int, int]] = []
        records.due(DAYS[1], 14, rebuild=True, workers=2, progress=lambda d, t: told.append((d, t)))
        assert told[-1] == (6, 6)
        _agrees(records)
        here = DueProjection(records, workers=1)
        here.rebuild()
        assert [here.listed(d, 14) for d in DAYS] == [records.due(d, 14) for d in DAYS]


def test_a_catch_up_works_out_only_the_cases_touched_and_their_workers(tmp_path: Path) -> None:
    with CaseRecords(tmp_path / "touched.db", SPECS) as records:
        _cases(records, count=3)  # K-0 and K-1 share a worker; K-2 has none
        records.due(DAYS[0])
        records.record("K-2", "plan_approved", {"approved_on": "2025-03-01"})
        records.due(DAYS[0])
        assert records.due_report is not None and records.due_report.worked_out == 1
        records.record("K-0", "plan_approved", {"approved_on": "2025-03-01"})
        records.due(DAYS[0])
        assert records.due_report is not None and records.due_report.worked_out == 2  # K-0, K-1
        records.open_case("K-3", "2025-02-01", worker="W-1")  # a new case of the same worker
        records.due(DAYS[0])
        assert records.due_report is not None and records.due_report.worked_out == 3
        _agrees(records)


def _table_creation_race(location: str) -> None:
    stores = [CaseStore(location) for _ in range(4)]
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def create(store: CaseStore) -> None:
        tables: Any = store.due_tables()
        start.wait()
        try:
            tables.ensure()
        except BaseException as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=create, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert not failures


def test_several_writers_create_the_tables_at_once_on_sqlite(tmp_path: Path) -> None:
    location = str(tmp_path / "race-create.db")
    CaseStore(location).close()
    _table_creation_race(location)


@pytest.mark.postgres
def test_several_writers_create_the_tables_at_once_on_postgres(postgres_url: str) -> None:
    _reset_postgres(postgres_url)
    CaseStore(postgres_url).close()
    _table_creation_race(postgres_url)


@pytest.mark.postgres
def test_a_read_only_postgres_role_is_answered_from_memory(postgres_url: str) -> None:
    import psycopg  # noqa: PLC0415  (PostgreSQL tests only)

    _reset_postgres(postgres_url)
    with CaseRecords(postgres_url, SPECS) as records:
        _cases(records)
        records.due(DAYS[0])
        records.record("K-0", "plan_approved", {"approved_on": "2025-03-01"})  # not caught up
    url = urlparse(postgres_url)
    admin = url._replace(netloc=f"postgres@{url.hostname}:{url.port}").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute("DROP ROLE IF EXISTS vrrules_reader")
            conn.execute("CREATE ROLE vrrules_reader LOGIN PASSWORD 'reader'")
    except psycopg.Error as error:
        pytest.skip(f"no superuser to make a read-only role with: {error}")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("GRANT USAGE ON SCHEMA public TO vrrules_reader")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO vrrules_reader")
    reader = url._replace(netloc=f"vrrules_reader:reader@{url.hostname}:{url.port}").geturl()
    with CaseRecords(postgres_url, SPECS) as records:
        expected = {day: due_sweep(records, day, 14) for day in DAYS}
    with pytest.raises(StoreUnavailableError):  # opened for writing, it may not: a coded refusal
        CaseRecords(reader, SPECS).close()
    with CaseRecords(reader, SPECS, read_only=True) as records:  # what the role allows
        for day in DAYS:
            assert records.due(day, 14) == expected[day]
        report = records.due_report
        assert report is not None and not report.kept and not report.rebuilt
    with CaseRecords(postgres_url, SPECS) as records:  # the kept one was left as it was
        state = records.due_projection().tables().state()
        records.due(DAYS[0])
        assert state is not None and records.due_report is not None and records.due_report.read > 0


def test_a_store_with_no_kept_list_is_read_only_answered_in_memory(tmp_path: Path) -> None:
    store = tmp_path / "ro.db"
    with CaseRecords(store, SPECS) as records:
        _cases(records)
    before = store.read_bytes()
    with CaseRecords(store, SPECS, read_only=True) as records:
        records.due(DAYS[0])
        report = records.due_report
        assert report is not None and report.rebuilt and not report.kept
        _agrees(records)
    assert store.read_bytes() == before


def test_a_store_that_will_not_take_the_tables_is_answered_from_memory_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vrrules.errors import StoreUnavailableError  # noqa: PLC0415
    from vrrules.events.duetables import SqlDueTables  # noqa: PLC0415

    def refuse(self: SqlDueTables) -> None:
        raise StoreUnavailableError("expected the store to take the due list's tables, got 'disk full'")

    monkeypatch.setattr(SqlDueTables, "ensure", refuse)
    with CaseRecords(tmp_path / "full.db", SPECS) as records:
        _cases(records)
        records.due(DAYS[0])
        report = records.due_report
        assert report is not None and not report.kept and "disk full" in str(report.note)
        _agrees(records)


def test_a_kept_list_read_as_it_stands_gives_the_projections_items_and_documents(tmp_path: Path) -> None:
    store = tmp_path / "kept.db"
    with CaseRecords(store, SPECS) as records:
        _cases(records, count=4)
        listed = {day: records.due(day, 30) for day in DAYS}
    with closing(CaseStore(store)) as opened:
        for day, items in listed.items():
            kept = kept_due_list(opened, SPECS, day, 30)
            assert kept is not None
            assert kept.items() == items == sorted(items)
            assert kept.documents() == [item.as_dict() for item in items]
            assert kept.overdue() == sum(1 for item in items if item.overdue)
    assert any(listed.values())


# ------------------------------------------------------------- cases opened later


def _late_cases(records: CaseRecords) -> None:
    """EARLY-1 opened on 1 January, LATE-1 on 1 June, with the same history dated January: a
    case may record what happened before it was opened (a plan begun elsewhere)."""
    records.open_case("EARLY-1", "2025-01-01")
    records.open_case("LATE-1", "2025-06-01", worker="W-9")
    records.open_case("LATER-2", "2025-07-01", worker="W-9")  # the worker's other case, later still
    for ref in ("EARLY-1", "LATE-1", "LATER-2"):
        records.record(ref, "plan_development_started", {"commenced_on": "2025-01-02"})
        records.record(
            ref,
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-01-05", "off_work_since": "2025-01-02"},
        )


OPENINGS = {"EARLY-1": date(2025, 1, 1), "LATE-1": date(2025, 6, 1), "LATER-2": date(2025, 7, 1)}
LATE_DAYS = [date(2024, 12, 31), date(2025, 3, 25), date(2025, 5, 31), date(2025, 6, 1), date(2025, 7, 1)]


def _listed_cases(items: list[Any]) -> set[str]:
    return {item.case_ref for item in items}


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_a_case_is_on_no_due_list_as_of_a_day_before_it_was_opened(tmp_path: Path, where: str) -> None:
    store = "memory" if where == "memory" else str(tmp_path / "late.db")
    with CaseRecords(store, SPECS) as records:
        _late_cases(records)
        for day in LATE_DAYS:
            listed = records.due(day, 30)
            assert listed == due_sweep(records, day, 30), day  # the definition leaves them out too
            assert _listed_cases(listed) == {ref for ref, opened in OPENINGS.items() if opened <= day}, day
        # on its opening day a case is listed with what its earlier-dated history makes overdue
        opening_day = {i.rule_id: i.days for i in records.due(date(2025, 6, 1)) if i.case_ref == "LATE-1"}
        assert opening_day == {"off-work-three-months-without-help": 60, "plan-overdue": 60}
    if where == "sqlite":
        with closing(CaseStore(store)) as opened:  # the list the store keeps, read as it stands
            for day in LATE_DAYS:
                kept = kept_due_list(opened, SPECS, day, 30)
                assert kept is not None
                assert all(OPENINGS[ref] <= day for ref, _, _ in kept.rows), day
        with CaseRecords(store, SPECS, read_only=True) as records:  # and the audit agrees with it
            for day in LATE_DAYS:
                check = check_due(records, day, 30)
                assert check.ok and check.listed == check.expected, (day, check.as_dict())


def test_no_span_of_a_case_holds_a_day_before_its_opening() -> None:
    with CaseRecords("memory", SPECS) as records:
        _late_cases(records)
        library = records.policies
        families = timed_families(library)
        for ref, opened in OPENINGS.items():
            case = records.case(ref)
            worked_out = due_module._spans(library, case, records.worker_cases(case), families)
            first = min(first for first, _, _ in worked_out)
            assert first >= opened.toordinal(), ref
            if ref != "EARLY-1":  # opened after its history began: items from the opening day on
                assert first == opened.toordinal(), ref


def test_a_list_kept_in_the_format_that_listed_cases_before_their_opening_is_built_again(
    tmp_path: Path,
) -> None:
    store = tmp_path / "format-1.db"
    with CaseRecords(store, SPECS) as records:
        _late_cases(records)
        records.due(LATE_DAYS[1])
    with closing(sqlite3.connect(store)) as db:  # as a vrrules of format 1 left it
        db.execute("UPDATE stored_events_due_state SET format = 1")
        db.commit()
    with closing(CaseStore(store)) as opened:
        assert kept_due_list(opened, SPECS, LATE_DAYS[1]) is None  # not answered from it
    with CaseRecords(store, SPECS, read_only=True) as records:
        assert not check_due(records, LATE_DAYS[1]).ok  # the audit says it cannot follow it on
        assert _listed_cases(records.due(LATE_DAYS[1], 30)) == {"EARLY-1"}  # caught up in memory
    with CaseRecords(store, SPECS) as records:
        assert _listed_cases(records.due(LATE_DAYS[1], 30)) == {"EARLY-1"}
        report = records.due_report
        assert report is not None and report.rebuilt and "format 1" in str(report.reason)


# ------------------------------------------------------------ what time alone brings


def _time_alone_cases(records: CaseRecords) -> None:
    """Two cases opened here after their history began, past the findings that report the
    dates time brings next: REF-1 referred and off work since January (the three-month
    follow-up, which names no later date; the twelve-month urgent one is due 2 January 2026),
    PLAN-1 implemented on 1 March 2025 with no contact (contact overdue, which names no later
    date; its two years end on 28 February 2027, the plan is past them from 1 March)."""
    records.open_case("REF-1", "2025-10-15")
    records.record("REF-1", "referral_received", {"received_on": "2025-01-20", "source": "gp"})
    records.record(
        "REF-1",
        "work_status_changed",
        {"status": "absent", "effective_on": "2025-01-05", "off_work_since": "2025-01-02"},
    )
    records.open_case("PLAN-1", "2025-06-01")
    records.record("PLAN-1", "plan_development_started", {"commenced_on": "2024-11-01"})
    records.record(
        "PLAN-1",
        "plan_submitted",
        {
            "submitted_on": "2025-01-10",
            "received_on": "2025-01-11",
            "planned_start_on": "2025-03-01",
            "school": "none",
            "planned_months": 12,
        },
    )
    records.record("PLAN-1", "plan_implementation_started", {"started_on": "2025-03-01"})


TIME_DAYS = [
    date(2025, 10, 15),
    date(2026, 1, 1),
    date(2026, 1, 2),
    date(2026, 6, 1),
    date(2027, 2, 28),
    date(2027, 3, 1),
    date(2040, 1, 1),
    date.max,
]


def _rules_listed(items: list[Any]) -> set[tuple[str, str]]:
    return {(item.case_ref, item.rule_id) for item in items}


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_the_due_list_gives_what_the_passage_of_time_alone_brings(tmp_path: Path, where: str) -> None:
    store = "memory" if where == "memory" else str(tmp_path / "time.db")
    with CaseRecords(store, SPECS) as records:
        _time_alone_cases(records)
        for day in TIME_DAYS:
            assert records.due(day, 30) == due_sweep(records, day, 30), day
        listed = {day: _rules_listed(records.due(day)) for day in TIME_DAYS}
    urgent, past = ("REF-1", "referred-twelve-months-without-provider"), ("PLAN-1", "plan-past-two-years")
    assert urgent not in listed[date(2026, 1, 1)] and urgent in listed[date(2026, 1, 2)]
    assert ("REF-1", "referred-three-months-without-provider") not in listed[date(2026, 1, 2)]
    assert past not in listed[date(2027, 2, 28)] and past in listed[date(2027, 3, 1)]
    assert {urgent, past} <= listed[date.max]  # the open-ended last span holds the later items
    if where == "sqlite":
        with closing(CaseStore(store)) as opened:  # the list the store keeps, read as it stands
            for day in TIME_DAYS:
                kept = kept_due_list(opened, SPECS, day)
                assert kept is not None
                assert {(ref, text[1]) for ref, _, text in kept.rows} == listed[day], day
        with CaseRecords(store, SPECS, read_only=True) as records:
            for day in TIME_DAYS:
                check = check_due(records, day, 30)
                assert check.ok, (day, check.as_dict())


def test_a_case_s_spans_end_on_the_days_time_alone_changes_its_items() -> None:
    with CaseRecords("memory", SPECS) as records:
        _time_alone_cases(records)
        library = records.policies
        families = timed_families(library)
        case = records.case("REF-1")
        worked_out = due_module._spans(library, case, records.worker_cases(case), families)
    starts = {date.fromordinal(first) for first, _, _ in worked_out}
    assert date(2026, 1, 2) in starts  # twelve months off work: the urgent alert
    _, last_day, last_items = worked_out[-1]
    assert last_day == date.max.toordinal()
    assert "referred-twelve-months-without-provider" in {text[1] for _, text in last_items}
    # a span per change: two neighbours never hold the same items
    assert all(a[2] != b[2] for a, b in itertools.pairwise(worked_out) if a[1] + 1 == b[0])


# ------------------------------------------------------- a kept position past the log's end


def test_a_kept_position_past_the_end_of_the_log_is_a_damaged_list(tmp_path: Path) -> None:
    store = tmp_path / "past.db"
    with CaseRecords(store, SPECS) as records:
        _late_cases(records)
        records.due(LATE_DAYS[-1])
    with closing(sqlite3.connect(store)) as db:  # a hand edit (or a list copied from a longer log)
        db.execute("UPDATE stored_events_due_state SET position = 9999")
        db.commit()
    with CaseRecords(store, SPECS) as records:  # recorded since: a case the list must come to hold
        records.open_case("NEW-1", "2025-01-01")
        records.record("NEW-1", "plan_development_started", {"commenced_on": "2025-01-02"})
        last = records.store.last_position()
    day = LATE_DAYS[-1]
    with closing(CaseStore(store)) as opened:
        assert kept_due_list(opened, SPECS, day) is None  # not answered from it as it stands
    with CaseRecords(store, SPECS, read_only=True) as records:
        check = check_due(records, day, 30)
        assert not check.ok and check.position == 9999 and check.store_position == last
        assert any("past the log's last position" in p for p in check.problems), check.problems
        listed = records.due(day, 30)  # read-only: worked out again in memory
        assert "NEW-1" in _listed_cases(listed) and listed == due_sweep(records, day, 30)
        report = records.due_report
        assert report is not None and report.rebuilt and not report.kept
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT position FROM stored_events_due_state").fetchone()[0] == 9999
    with CaseRecords(store, SPECS) as records:  # writable: built again, and said why
        listed = records.due(day, 30)
        assert "NEW-1" in _listed_cases(listed) and listed == due_sweep(records, day, 30)
        report = records.due_report
        assert report is not None and report.rebuilt and report.kept
        assert "past the log's last position" in str(report.reason) and report.position == last
    with CaseRecords(store, SPECS, read_only=True) as records:
        assert check_due(records, day, 30).ok


def test_a_pipe_among_the_specs_is_never_read_for_the_due_list_s_fingerprint(tmp_path: Path) -> None:
    import os  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from vrrules.events.due import _sources_fingerprint  # noqa: PLC0415

    shutil.copytree(SPECS / "tiers", tmp_path / "tiers")
    assert _sources_fingerprint(tmp_path, None) is not None
    os.mkfifo(tmp_path / "tiers" / "2026.1.yaml")  # blocks whoever opens it to read
    found: list[str | None] = []
    reader = threading.Thread(target=lambda: found.append(_sources_fingerprint(tmp_path, None)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert found == [None]  # not known: the library is loaded instead, and refuses the pipe
