"""Personal data at rest: an encrypted store is unreadable without its key, replayable with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import CaseRecords, StoreKeyError
from vrrules.audit import verify_store
from vrrules.cli import main
from vrrules.events.domain import case_id
from vrrules.events.importer import import_case, load_case_file
from vrrules.events.persistence import new_store_key
from vrrules.samples import SAMPLE_CASES

CASES = load_case_file(SAMPLE_CASES).cases[:3]
# what a sample case stores that identifies or describes a person
PERSONAL = [b"VR-2025-0101", b"back pain", b"vcm_okafor", b"presenteeism", b"ot_silva"]


def _fill(records: CaseRecords) -> None:
    for history in CASES:
        import_case(records, history)


def test_an_encrypted_store_shows_nothing_personal_and_verifies_with_its_key(store_location: str) -> None:
    key = new_store_key()
    with CaseRecords(store_location, SPECS, encryption_key=key) as records:
        _fill(records)
        stored = [s for h in CASES for s in records.store.records_of(case_id(h.case_ref))]
        assert stored
        for record in stored:
            state = bytes(record.state)
            with pytest.raises(ValueError):
                json.loads(state)  # not plain JSON: ciphertext
            assert not any(word in state for word in PERSONAL)
        report = verify_store(records)
        assert report.ok and report.decisions > 0
    if store_location == "memory":
        return  # the in-memory store lives and dies with its one handle
    with CaseRecords(store_location, SPECS, encryption_key=key) as again:
        assert verify_store(again).digest == report.digest
    with pytest.raises(StoreKeyError, match="no key"):
        CaseRecords(store_location, SPECS)
    with pytest.raises(StoreKeyError, match="decrypts none"):
        CaseRecords(store_location, SPECS, encryption_key=new_store_key())


def test_the_sqlite_file_itself_holds_no_personal_text(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS, encryption_key=new_store_key()) as records:
        _fill(records)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert not any(word in raw for word in PERSONAL)
    # the same cases without a key: the words are there, so the check above can fail
    plain = tmp_path / "plain.db"
    with CaseRecords(plain, SPECS) as records:
        _fill(records)
    assert all(word in plain.read_bytes() for word in PERSONAL[:2])


def test_a_malformed_key_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    for bad in ("", "not base64!", "c2hvcnQ="):
        with pytest.raises(StoreKeyError) as caught:
            CaseRecords(tmp_path / "x.db", SPECS, encryption_key=bad)
        assert caught.value.code == "store_key_invalid"
        assert "16, 24 or 32 bytes" in str(caught.value)
    assert not (tmp_path / "x.db").exists()


def test_a_changed_byte_in_an_encrypted_record_is_found(tmp_path: Path) -> None:
    import sqlite3  # noqa: PLC0415

    store = tmp_path / "cases.db"
    key = new_store_key()
    with CaseRecords(store, SPECS, encryption_key=key) as records:
        _fill(records)
    with sqlite3.connect(store) as db:
        rowid, state = db.execute(
            "SELECT rowid, state FROM stored_events ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        flipped = bytes([state[0], state[1] ^ 1]) + bytes(state[2:])
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (flipped, rowid))
    with CaseRecords(store, SPECS, encryption_key=key) as records:
        report = verify_store(records)
    assert not report.ok
    assert any("cannot be read" in (c.reason or "") for c in report.broken)


def test_the_demo_with_a_key_writes_an_encrypted_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["key"]) == 0
    key = capsys.readouterr().out.strip()
    monkeypatch.setenv("VRRULES_STORE_KEY", key)
    store = tmp_path / "demo.db"
    assert main(["demo", "--store", str(store)]) == 0
    assert not any(word in store.read_bytes() for word in PERSONAL)
    assert main(["audit", "verify", "--store", str(store)]) == 0
    assert "intact and reproduced" in capsys.readouterr().out
    monkeypatch.delenv("VRRULES_STORE_KEY")
    # without the key the log alone is checked (it hashes the ciphertext): never "verified"
    assert main(["audit", "verify", "--store", str(store), "--html", str(tmp_path / "r.html")]) == 1
    ran = capsys.readouterr()
    assert "error[not_replayed]" in ran.err and "decisions NOT replayed" in ran.out
    assert "reproduced" not in ran.out.splitlines()[-1]
    assert main(["cases", "--store", str(store)]) != 0  # reading the cases needs the key
    assert "store_key_invalid" in capsys.readouterr().err
