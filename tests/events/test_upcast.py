"""Old events keep working: a store written before schema 2 is read through an upcast."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

from tests.conftest import SPECS, _reset_postgres
from vrrules import CaseRecords
from vrrules.audit import verify_store
from vrrules.events.domain import Case, case_id
from vrrules.policies.engine import ENGINE_NAME

FIXTURE = Path(__file__).parent.parent / "fixtures" / "store-schema-1.sqlite"
# what `vrrules audit digest` gave on the day the fixture was written (tests/fixtures/README.md)
DIGEST_WHEN_WRITTEN = "3145d2f53cd61f9587e894a7992d1a594bbfa1a1e412c5c8c3248d0c46609d30"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, target)
    return target


def _decision_states(records: CaseRecords, case_ref: str) -> list[dict[str, object]]:
    topic = "DecisionRecorded"
    return [
        json.loads(stored.state)
        for stored in records.store.records_of(case_id(case_ref))
        if stored.topic.endswith(topic)
    ]


def test_a_schema_1_store_verifies_and_replays_with_its_original_digest(tmp_path: Path) -> None:
    before = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    with CaseRecords(_copy(tmp_path)) as records:
        report = verify_store(records, expected_digest=DIGEST_WHEN_WRITTEN)
    assert report.ok, report.render()
    assert report.decisions == 41 and report.cases == 12
    # the digest kept then is of the older form (chain heads only): still recognised, and said so
    assert report.digest_matches and report.kept_digest_is_legacy
    assert report.legacy_digest == DIGEST_WHEN_WRITTEN != report.digest
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == before


def test_old_decisions_are_upcast_not_rewritten(tmp_path: Path) -> None:
    with CaseRecords(_copy(tmp_path)) as records:
        events = [e for e in records.history("VR-2025-0102") if isinstance(e, Case.DecisionRecorded)]
        assert events and all(e.engine is None for e in events)
        states = _decision_states(records, "VR-2025-0102")
        assert all("engine" not in s and "class_version" not in s for s in states)


def test_a_new_decision_on_an_old_case_carries_the_engine_and_keeps_the_chain(tmp_path: Path) -> None:
    store = _copy(tmp_path)
    with CaseRecords(store, SPECS) as records:
        made = records.decide("VR-2025-0101", "tiers", as_of=date(2025, 10, 9))
        last = records.history("VR-2025-0101")[-1]
        assert isinstance(last, Case.DecisionRecorded) and last.engine == ENGINE_NAME
        assert _decision_states(records, "VR-2025-0101")[-1]["class_version"] == 2
        report = verify_store(records, expected_digest=DIGEST_WHEN_WRITTEN)
        assert not report.ok and report.digest_matches is False, report.render()
        assert report.decisions == 42 and not report.broken and not report.failures
        assert made.case_version == last.originator_version
        assert report.legacy_digest != DIGEST_WHEN_WRITTEN  # the store grew; the old digest no longer fits


def test_the_schema_1_events_read_the_same_from_postgresql(tmp_path: Path, postgres_url: str) -> None:
    """The same stored bytes, moved as they are into PostgreSQL, upcast and verify alike."""
    _reset_postgres(postgres_url)
    with CaseRecords(_copy(tmp_path)) as old:
        stored = list(old.store.records())
    with CaseRecords(postgres_url) as records:
        records.store.insert_records(stored)
        report = verify_store(records, expected_digest=DIGEST_WHEN_WRITTEN)
        assert report.ok and report.kept_digest_is_legacy, report.render()
        assert report.decisions == 41
        assert all("engine" not in s for s in _decision_states(records, "VR-2025-0102"))
