"""Every kind of tampering with stored records is found, on SQLite and on PostgreSQL;
and, as properties, an untouched log always verifies while any single changed byte does not."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS, TIER2_ASSESSMENT, _reset_postgres
from vrrules import CaseRecords
from vrrules.audit import export_bundle, make_checkpoint, verify_bundle, verify_store
from vrrules.events.domain import case_id


def _fill(location: str | Path) -> None:
    with CaseRecords(location, SPECS) as records:
        for ref in ("A-1", "B-2"):
            records.open_case(ref, date(2025, 11, 3))
            records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
            records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
            records.decide(ref, "tiers")


class _Rows:
    """Raw access to the stored rows, as someone with the database password would have."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgres = location.startswith("postgresql://")

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        if self.postgres:
            import psycopg  # noqa: PLC0415

            with psycopg.connect(self.location, autocommit=True) as db:
                cursor = db.execute(
                    sql.replace("?", "%s").replace("stored_events", "vrrulescases_events"), params
                )
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.location) as db:
            return db.execute(sql, params).fetchall()

    def _id(self, ref: str) -> Any:
        return case_id(ref) if self.postgres else case_id(ref).hex

    def read(self, ref: str) -> dict[int, bytes]:
        rows = self._run(
            "SELECT originator_version, state FROM stored_events WHERE originator_id = ?", (self._id(ref),)
        )
        return {int(v): bytes(s) for v, s in rows}

    def write(self, ref: str, version: int, state: bytes) -> None:
        self._run(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self._id(ref), version),
        )

    def delete(self, ref: str, version: int) -> None:
        self._run(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (self._id(ref), version),
        )


@pytest.fixture(params=["sqlite", "postgres"])
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        location = str(tmp_path / "cases.db")
    else:
        location = request.getfixturevalue("postgres_url")
        _reset_postgres(location)
    _fill(location)
    yield location


def _first_broken(location: str) -> tuple[bool, Any]:
    with CaseRecords(location, SPECS) as records:
        report = verify_store(records)
    return report.ok, [(c.case_ref, c.broken_at) for c in report.broken]


def test_the_untouched_store_verifies(filled: str) -> None:
    assert _first_broken(filled) == (True, [])


def test_one_flipped_byte_is_found_and_named(filled: str) -> None:
    rows = _Rows(filled)
    state = bytearray(rows.read("B-2")[3])
    at = state.index(b'"physical"') + 2
    state[at] ^= 0x01  # "physical" -> "qhysical"
    rows.write("B-2", 3, bytes(state))
    assert _first_broken(filled) == (False, [("B-2", 3)])


def test_a_deleted_record_is_found(filled: str) -> None:
    _Rows(filled).delete("A-1", 3)
    assert _first_broken(filled) == (False, [("A-1", 3)])


def test_reordered_records_are_found(filled: str) -> None:
    rows = _Rows(filled)
    stored = rows.read("A-1")
    rows.write("A-1", 2, stored[3])
    rows.write("A-1", 3, stored[2])
    assert _first_broken(filled) == (False, [("A-1", 2)])


def test_a_record_copied_from_another_case_is_found(filled: str) -> None:
    rows = _Rows(filled)
    rows.write("A-1", 2, rows.read("B-2")[2])  # same type, same version, another case's chain
    assert _first_broken(filled) == (False, [("A-1", 2)])


# ----------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cases.db"
    _fill(str(path))
    return path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_changed_byte_in_any_record_is_detected(
    template: Path, tmp_path: Path, data: st.DataObject
) -> None:
    copy = Path(tempfile.mkdtemp(dir=tmp_path)) / "cases.db"
    shutil.copy(template, copy)
    rows = _Rows(str(copy))
    ref = data.draw(st.sampled_from(["A-1", "B-2"]))
    stored = rows.read(ref)
    version = data.draw(st.sampled_from(sorted(stored)))
    state = bytearray(stored[version])
    at = data.draw(st.integers(0, len(state) - 1))
    state[at] = data.draw(st.integers(0, 255).filter(lambda b: b != state[at]))
    rows.write(ref, version, bytes(state))
    ok, broken = _first_broken(str(copy))
    assert not ok and broken and broken[0][1] <= version
    assert broken[0][0] in (ref, f"<unreadable case {case_id(ref)}>")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_untouched_log_always_verifies(tmp_path: Path, data: st.DataObject) -> None:
    copy = Path(tempfile.mkdtemp(dir=tmp_path)) / "fresh.db"  # a new store for every example
    with CaseRecords(copy, SPECS) as records:
        for index in range(data.draw(st.integers(1, 3))):
            ref = f"P-{index}"
            records.open_case(ref, date(2025, 11, 3))
            for _ in range(data.draw(st.integers(0, 3))):
                records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
                records.decide(ref, data.draw(st.sampled_from(["tiers", "assessment-first"])))
        assert verify_store(records).ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bundle_fails_when_any_value_in_it_changes(template: Path, data: st.DataObject) -> None:
    with CaseRecords(template, SPECS, read_only=True) as records:
        checkpoint = make_checkpoint(records)
        bundle = json.loads(export_bundle(records, ["A-1"], checkpoint))
    assert verify_bundle(json.dumps(bundle).encode(), checkpoint=checkpoint).verified
    part = data.draw(st.sampled_from(["records", "heads"]))
    item = data.draw(st.sampled_from(bundle[part]))
    key = data.draw(st.sampled_from(sorted(k for k in item if k != "proof" or item["proof"])))
    value = item[key]
    if isinstance(value, int):
        item[key] = value + data.draw(st.sampled_from([-1, 1, 7]))
    elif isinstance(value, list):
        at = data.draw(st.integers(0, len(value) - 1))
        raw = bytearray(base64.b64decode(value[at]))
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        value[at] = base64.b64encode(bytes(raw)).decode()
    elif key == "state":
        raw = bytearray(base64.b64decode(value))
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        item[key] = base64.b64encode(bytes(raw)).decode()
    else:
        item[key] = value + data.draw(st.sampled_from(["x", "0", " "]))
    assert not verify_bundle(json.dumps(bundle).encode(), checkpoint=checkpoint).verified
