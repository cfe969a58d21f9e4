"""The store contract: every backend (memory, SQLite, PostgreSQL) must pass the same tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from tests.conftest import SPECS, TIER2_ASSESSMENT
from vrrules import CaseRecords, CaseUnknownError, EventInvalidError
from vrrules.audit import count_decisions, replay, replay_all


@contextmanager
def _reopened(store_location: str, records: CaseRecords) -> Iterator[CaseRecords]:
    """A second handle on the same store (the in-memory store lives in its one handle)."""
    if store_location == "memory":
        yield records
        return
    with CaseRecords(store_location, SPECS) as again:
        yield again


def _record_case(records: CaseRecords, ref: str = "P-1") -> None:
    records.open_case(ref, date(2025, 11, 3), worker="Sam Example")
    records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
    records.record(ref, "assessment_completed", TIER2_ASSESSMENT)


def test_events_round_trip_with_dates_sets_and_decisions(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as records:
        _record_case(records)
        made = records.decide("P-1", "tiers")
        with _reopened(store_location, records) as reopened:
            case = reopened.case("P-1")
            assert case.opening.opened_on == date(2025, 11, 3)
            assert case.assessments[0].domains_examined == frozenset({"health", "physical"})
            version, decision = case.decisions[0]
            assert version == made.case_version == 4
            assert decision.outcome == made.decision.outcome
            assert decision.outcome is not None and decision.outcome["tier"] == 2
            assert [type(e).__name__ for e in reopened.history("P-1")] == [
                "Opened",
                "ReferralReceived",
                "AssessmentCompleted",
                "DecisionRecorded",
            ]


def test_replay_reproduces_from_a_reopened_store(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as records:
        _record_case(records)
        records.decide("P-1", "tiers")
        records.decide("P-1", "tiers")
        with _reopened(store_location, records) as reopened:
            results = list(replay_all(reopened))
            assert [r.status for r in results] == ["reproduced", "reproduced"]
            assert count_decisions(reopened) == 2


def test_case_as_of_an_earlier_version(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as records:
        _record_case(records)
        assert records.case("P-1", version=2).assessments == []
        assert len(records.case("P-1").assessments) == 1


def test_refused_event_leaves_the_store_unchanged(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as records:
        _record_case(records)
        before = records.history("P-1")
        with pytest.raises(EventInvalidError):
            records.record("P-1", "assessment_completed", {**TIER2_ASSESSMENT, "depth": "deep"})
        with pytest.raises(CaseUnknownError):
            records.record("NOPE", "referral_received", {"received_on": "2025-11-03", "source": "gp"})
        assert records.history("P-1") == before
        assert list(records.case_refs()) == ["P-1"]


def test_cases_listed_in_opening_order(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as records:
        for ref in ["B-2", "A-1", "C-3"]:
            records.open_case(ref, date(2025, 11, 3))
        assert list(records.case_refs()) == ["B-2", "A-1", "C-3"]


def test_a_conflicting_append_is_worked_out_again_and_nothing_is_lost(store_location: str) -> None:
    with CaseRecords(store_location, SPECS) as writer:
        _record_case(writer)
        stale = writer.case("P-1")  # read before another writer appends
        with _reopened(store_location, writer) as other:
            other.record("P-1", "work_status_changed", {"status": "in_work", "effective_on": "2025-11-11"})
        reads = iter([stale])
        fresh = writer.store.case
        writer.store.case = lambda ref, version=None, **kw: next(reads, None) or fresh(ref, version, **kw)  # type: ignore[method-assign]
        made = writer.decide("P-1", "tiers")
        kinds = [type(e).__name__ for e in writer.history("P-1")]
        assert kinds == [
            "Opened",
            "ReferralReceived",
            "AssessmentCompleted",
            "WorkStatusChanged",
            "DecisionRecorded",
        ]
        assert made.case_version == 5
        assert all(r.reproduced for r in replay(writer, "P-1"))


@pytest.mark.parametrize("kind", ["other-event-store", "other-layout", "foreign-sqlite"])
@pytest.mark.parametrize("read_only", [False, True], ids=["writing", "read-only"])
def test_a_database_that_is_not_a_vrrules_store_is_refused_untouched(
    tmp_path: Any, kind: str, read_only: bool
) -> None:
    import hashlib  # noqa: PLC0415

    from tests.cli.test_audit_workflow import _HOSTILE_DATABASES  # noqa: PLC0415
    from vrrules import StoreNotVrrulesError  # noqa: PLC0415

    path = _HOSTILE_DATABASES[kind](tmp_path / "other.db")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreNotVrrulesError) as refused:
        CaseRecords(path, SPECS, read_only=read_only)
    assert refused.value.code == "store_not_vrrules" and str(path) in refused.value.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]
