"""The auditor's workflow end to end, through the command line: keep a checkpoint, let the
store grow a week, verify since it, find a tampered row by name, share a verify among hosts,
hand over an anchored bundle; and no audit command ever changes the store file."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.cli.conftest import Files, Ran, assert_clean_failure, run
from tests.conftest import SPECS
from vrrules.events.tlog import leaf_hash, record_bytes

# a full audit's verdict, as the merge of its shares must give it
VERDICT_KEYS = (
    "ok",
    "cases",
    "decisions",
    "digest",
    "families",
    "broken_chains",
    "not_reproduced",
    "log",
)


def _store(files: Files, tmp_path: Path) -> Path:
    """A copy of the demo store under the name it had (a checkpoint's origin names the file)."""
    folder = tmp_path / "store"
    folder.mkdir(parents=True)
    copy = folder / files.store.name
    shutil.copy(files.store, copy)
    return copy


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ok(args: list[str]) -> Ran:
    ran = run(args)
    assert ran.code == 0, (args, ran.err)
    assert "Traceback" not in ran.out + ran.err
    return ran


def _rows(store: Path) -> list[tuple[int, str, int, str, bytes]]:
    with closing(sqlite3.connect(store)) as db:
        return list(
            db.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                "ORDER BY rowid"
            )
        )


def _flip(store: Path, rowid: int, *, reseal: bool = False) -> bytes:
    """Flip one byte of a stored record's state; ``reseal`` also rewrites its stored leaf, as a
    thorough insider would. Returns the new state."""
    db = sqlite3.connect(store)
    try:
        (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (rowid,)).fetchone()
        changed = bytearray(state)
        changed[len(changed) // 2] ^= 0x01
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(changed), rowid))
        if reseal:
            _, stored_id, version, topic, _ = next(r for r in _rows(store) if r[0] == rowid)
            leaf = leaf_hash(record_bytes(UUID(stored_id), version, topic, bytes(changed)))
            db.execute("UPDATE stored_events_leaves SET leaf = ? WHERE position = ?", (leaf, rowid))
        db.commit()
    finally:
        db.close()
    return bytes(changed)


def _leaf_index(store: Path, rowid: int) -> int:
    return [r[0] for r in _rows(store)].index(rowid)


def test_the_weekly_audit_verifies_only_what_came_after_the_kept_checkpoint(
    files: Files, tmp_path: Path
) -> None:
    store = _store(files, tmp_path)
    keys = tmp_path / "auditor"
    _ok(["key", "--signing", "auditor.example", "--out", str(keys)])
    signed = ["--signing-key", f"{keys}.key"]
    week48, week49 = tmp_path / "week-48.checkpoint", tmp_path / "week-49.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), *signed, "--out", str(week48)])
    assert Path(f"{week48}.leaves").is_file()
    before = run(["audit", "verify", "--store", str(store), "--json"]).json()
    # a week of appends: two new cases, one of them decided
    _ok(["import", str(files.cases), "--store", str(store)])
    _ok(["audit", "checkpoint", "--store", str(store), *signed, "--out", str(week49)])
    since = _ok(
        [
            "audit",
            "verify",
            "--store",
            str(store),
            "--since",
            str(week48),
            "--public-key",
            f"{keys}.pub",
            "--json",
        ]
    ).json()
    assert since["ok"] and since["anchored"]
    assert since["since"] == int(week48.read_text().splitlines()[1])
    assert since["cases"] == 2 < before["cases"]  # only the cases the week added were walked
    assert since["log"]["checkpoints"][0]["consistent"]
    full = _ok(
        ["audit", "verify", "--store", str(store), "--checkpoint", str(week48), "--checkpoint", str(week49)]
    )
    assert "2 of 2 checkpoint(s) extended append-only" in full.out
    assert "verdict: intact and reproduced, append-only since every checkpoint given" in full.out
    # an unanchored verify of the same intact store still passes, and says so
    plain = _ok(["audit", "verify", "--store", str(store)])
    assert "not anchored" in plain.out.splitlines()[-1]
    assert run(["audit", "verify", "--store", str(store), "--json"]).json()["anchored"] is False


@pytest.mark.parametrize("reseal", [False, True], ids=["careless", "resealed-leaf"])
def test_a_tampered_row_fails_verify_naming_the_first_bad_record(
    files: Files, tmp_path: Path, reseal: bool
) -> None:
    store = _store(files, tmp_path)
    kept = tmp_path / "kept.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), "--out", str(kept)])
    rows = _rows(store)
    rowid, _, version, _, _ = rows[len(rows) // 2]
    _flip(store, rowid, reseal=reseal)
    index = _leaf_index(store, rowid)
    ran = run(["audit", "verify", "--store", str(store), "--checkpoint", str(kept)])
    assert_clean_failure(ran, 1, "not_verified")
    assert f"version {version}, leaf {index}" in ran.error_lines[0], ran.err
    assert f"leaf {index}" in ran.out and "verdict: NOT verified" in ran.out
    document = run(["audit", "verify", "--store", str(store), "--checkpoint", str(kept), "--json"]).json()
    assert document["ok"] is False
    assert document["log"]["findings"][0]["leaf_index"] == index
    assert document["log"]["findings"][0]["position"] == rowid
    assert document["log"]["findings"][0]["version"] == version


@pytest.mark.parametrize("kept_file", [".leaves", ".heads"])
def test_a_kept_file_that_is_not_its_checkpoints_is_reported_not_silently_dropped(
    files: Files, tmp_path: Path, kept_file: str
) -> None:
    """A leaves or heads file edited (or another checkpoint's) cannot name the record: the
    audit still judges the store by the checkpoint alone, and says the file was not used."""
    store = _store(files, tmp_path)
    kept = tmp_path / "kept.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), "--out", str(kept)])
    beside = Path(f"{kept}{kept_file}")
    edited = bytearray(beside.read_bytes())
    edited[len(edited) // 2] ^= 0x01
    beside.write_bytes(bytes(edited))
    intact = _ok(["audit", "verify", "--store", str(store), "--checkpoint", str(kept), "--json"]).json()
    assert intact["ok"] is True
    (note,) = intact["log"]["notes"]
    assert f"the {kept_file[1:]} file kept beside the checkpoint" in note and "not used" in note
    shown = _ok(["audit", "verify", "--store", str(store), "--checkpoint", str(kept)])
    assert f"note: the {kept_file[1:]} file" in shown.out
    page = tmp_path / "report.html"
    _ok(["audit", "verify", "--store", str(store), "--checkpoint", str(kept), "--html", str(page)])
    assert f"Note: the {kept_file[1:]} file" in page.read_text()
    _flip(store, _rows(store)[20][0])
    failed = run(["audit", "verify", "--store", str(store), "--checkpoint", str(kept), "--json"])
    assert failed.code == 1 and failed.json()["log"]["notes"] == [note]
    # the file as written is used without a word
    _ok(["audit", "checkpoint", "--store", str(store), "--out", str(kept), "--force"])
    again = run(["audit", "verify", "--store", str(store), "--checkpoint", str(kept), "--json"])
    assert again.json()["log"]["notes"] == []


def test_a_rollback_to_an_older_copy_is_found(files: Files, tmp_path: Path) -> None:
    store = _store(files, tmp_path)
    older = tmp_path / "older.db"
    shutil.copy(store, older)
    _ok(["import", str(files.cases), "--store", str(store)])
    kept = tmp_path / "after.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), "--out", str(kept)])
    shutil.copy(older, store)  # the operator restores last week's copy
    ran = run(["audit", "verify", "--store", str(store), "--checkpoint", str(kept)])
    assert_clean_failure(ran, 1, "not_verified")
    assert "rolled back" in ran.error_lines[0]


def _verdict(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in VERDICT_KEYS}


@pytest.mark.parametrize("tampered", [False, True], ids=["intact", "tampered"])
def test_shards_merged_equal_one_full_verify(files: Files, tmp_path: Path, tampered: bool) -> None:
    store = _store(files, tmp_path)
    kept = tmp_path / "kept.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), "--out", str(kept)])
    if tampered:
        _flip(store, _rows(store)[40][0])
    base = [
        "audit",
        "verify",
        "--store",
        str(store),
        "--checkpoint",
        str(kept),
        "--digest",
        str(files.digest),
    ]
    full = run([*base, "--json"])
    parts = [tmp_path / f"part-{k}.json" for k in range(2)]
    for share, part in enumerate(parts):
        ran = run([*base, "--shard", f"{share}/2", "--out", str(part)])
        assert ran.code in (0, 1) and "Traceback" not in ran.err, ran.err
        assert json.loads(part.read_text())["shard"] == f"{share}/2"
    merged = run(["audit", "merge", *map(str, parts), "--json"])
    assert merged.code == full.code == (1 if tampered else 0), (merged.err, full.err)
    assert _verdict(merged.json()) == _verdict(full.json())
    assert merged.json()["anchored"] == full.json()["anchored"] is True
    merged_text = run(["audit", "merge", *map(str, parts)])
    assert merged_text.code == full.code
    assert merged_text.out.splitlines()[-1] == run(base).out.splitlines()[-1]  # the same verdict line


def _bundle_records(bundle: Path) -> dict[str, Any]:
    return dict(json.loads(bundle.read_text()))


def test_a_bundle_anchored_to_a_kept_checkpoint_verifies_offline_and_its_forgeries_are_refused(
    files: Files, tmp_path: Path
) -> None:
    store = _store(files, tmp_path)
    keys = tmp_path / "auditor"
    _ok(["key", "--signing", "auditor.example", "--out", str(keys)])
    kept = tmp_path / "kept.checkpoint"
    _ok(["audit", "checkpoint", "--store", str(store), "--signing-key", f"{keys}.key", "--out", str(kept)])
    _ok(["import", str(files.cases), "--store", str(store)])  # the store grows after the checkpoint
    bundle = tmp_path / "case.bundle.json"
    _ok(
        [
            "audit",
            "bundle",
            "VR-2025-0102",
            "--store",
            str(store),
            "--checkpoint",
            str(kept),
            "--out",
            str(bundle),
        ]
    )
    store.unlink()  # offline: the auditor has the bundle and the checkpoint, not the store
    verified = _ok(["audit", "verify-bundle", str(bundle), "--checkpoint", str(kept)])
    assert "verdict: verified against the trusted checkpoint" in verified.out
    by_key = _ok(["audit", "verify-bundle", str(bundle), "--public-key", f"{keys}.pub", "--json"]).json()
    assert by_key["verified"] and by_key["anchored"] and by_key["ok"]
    # with no anchor: consistent, never "verified", exit 1
    alone = run(["audit", "verify-bundle", str(bundle)])
    assert_clean_failure(alone, 1, "not_anchored")
    assert "internally consistent, not anchored" in alone.out and "verified against" not in alone.out
    # forged: one record's bytes changed
    data = _bundle_records(bundle)
    state = bytearray(base64.b64decode(data["records"][2]["state"]))
    state[len(state) // 2] ^= 0x01
    data["records"][2]["state"] = base64.b64encode(bytes(state)).decode()
    forged = tmp_path / "forged.bundle.json"
    forged.write_text(json.dumps(data))
    assert_clean_failure(
        run(["audit", "verify-bundle", str(forged), "--checkpoint", str(kept)]), 1, "bundle_invalid"
    )
    # truncated: the case's last record dropped
    data = _bundle_records(bundle)
    data["records"] = data["records"][:-1]
    truncated = tmp_path / "truncated.bundle.json"
    truncated.write_text(json.dumps(data))
    assert_clean_failure(
        run(["audit", "verify-bundle", str(truncated), "--checkpoint", str(kept)]), 1, "bundle_invalid"
    )
    # resealed: exported afresh from a tampered copy, so it carries a checkpoint of its own
    tampered = _store(files, tmp_path / "t")
    _flip(tampered, _rows(tampered)[3][0], reseal=True)
    resealed = tmp_path / "resealed.bundle.json"
    _ok(["audit", "bundle", "VR-2025-0102", "--store", str(tampered), "--out", str(resealed)])
    for anchor in (["--checkpoint", str(kept)], ["--public-key", f"{keys}.pub"]):
        ran = run(["audit", "verify-bundle", str(resealed), *anchor])
        assert_clean_failure(ran, 1, "bundle_invalid")


def _audits(store: Path, files: Files, out: Path) -> list[list[str]]:
    """Every command that reads a store (and never writes it), with fresh outputs under ``out``."""
    s = ["--store", str(store)]
    kept = out / "kept.checkpoint"
    return [
        ["audit", "checkpoint", *s, "--out", str(kept)],
        [
            "audit",
            "checkpoint",
            *s,
            "--signing-key",
            str(files.signer),
            "--out",
            str(out / "signed.checkpoint"),
        ],
        ["audit", "verify", *s],
        ["audit", "verify", *s, "--checkpoint", str(kept), "--html", str(out / "report.html")],
        ["audit", "verify", *s, "--since", str(kept), "--per-case"],
        ["audit", "verify", *s, "--shard", "0/2", "--out", str(out / "p0.json")],
        ["audit", "verify", *s, "--workers", "2"],
        ["audit", "digest", *s, "--out", str(out / "kept.digest")],
        ["audit", "case", "VR-2025-0102", *s, "--as-of", "2025-11-30"],
        ["audit", "what-if", *s, "--current-facts", "--html", str(out / "what-if.html")],
        ["audit", "corrections", *s],
        ["audit", "due", *s, "--as-of", "2026-02-02", "--within", "30"],
        ["audit", "bundle", *s, "--checkpoint", str(kept), "--out", str(out / "all.bundle.json")],
        ["audit", "migrate", *s],  # the log is built: left as it is
        ["replay", *s],
        ["cases", *s],
        ["case", "show", "VR-2025-0102", *s],
        ["decide", "VR-2025-0102", "tiers", *s, "--dry-run"],
        ["diff", str(SPECS), str(SPECS), *s],
    ]


def test_no_audit_command_changes_the_store_file(files: Files, tmp_path: Path) -> None:
    store = _store(files, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = _sha256(store)
    wal = Path(f"{store}-wal")
    for args in _audits(store, files, out):
        _ok(args)
        assert _sha256(store) == before, args
        # SQLite opens a WAL-mode file read-only beside an empty -wal (and its -shm index);
        # nothing is ever written into it
        assert not wal.exists() or wal.stat().st_size == 0, args
        assert not Path(f"{store}-journal").exists(), args


def _database(path: Path, create: str, insert: str, *row: object) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute(create)
        db.execute(insert, row)
        db.commit()
    return path


def _foreign_sqlite(path: Path) -> Path:
    return _database(
        path, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('not a vrrules store')"
    )


# databases that are not vrrules stores: another database, another application's
# eventsourcing store (the same table, none of vrrules' events), another stored_events layout
_HOSTILE_DATABASES: dict[str, Callable[[Path], Path]] = {
    "foreign-sqlite": _foreign_sqlite,
    "other-event-store": lambda path: _database(
        path,
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
        "state BLOB, PRIMARY KEY (originator_id, originator_version))",
        "INSERT INTO stored_events VALUES (?, 1, 'kennel.domain:Dog.Registered', ?)",
        "0" * 32,
        b'{"name":"fido"}',
    ),
    "other-layout": lambda path: _database(
        path, "CREATE TABLE stored_events (x TEXT)", "INSERT INTO stored_events VALUES ('not an event')"
    ),
}


@pytest.mark.parametrize("kind", ["empty", "text", "bytes", *_HOSTILE_DATABASES])
@pytest.mark.parametrize(
    "command",
    [
        ["audit", "checkpoint", "--out", "{out}/c"],
        ["audit", "verify"],
        ["audit", "verify", "--checkpoint", "{checkpoint}"],
        ["audit", "digest"],
        ["audit", "bundle", "--out", "{out}/b.json"],
        ["audit", "migrate"],
        ["audit", "corrections"],
        ["due", "--as-of", "2026-02-02"],
        ["audit", "due", "--as-of", "2026-02-02"],
        ["replay"],
    ],
    ids=lambda c: " ".join(w for w in c if not w.startswith(("-", "{"))),
)
def test_a_hostile_store_file_is_a_coded_error_and_left_untouched(
    files: Files, tmp_path: Path, kind: str, command: list[str]
) -> None:
    hostile = tmp_path / "hostile.db"
    if kind in _HOSTILE_DATABASES:
        _HOSTILE_DATABASES[kind](hostile)
    else:
        hostile.write_bytes({"empty": b"", "text": b"meeting notes\n", "bytes": bytes(range(256)) * 8}[kind])
    before = _sha256(hostile)
    out = tmp_path / "out"
    out.mkdir()
    args = [a.replace("{out}", str(out)).replace("{checkpoint}", str(files.checkpoint)) for a in command]
    ran = run([*args, "--store", str(hostile)])
    assert_clean_failure(ran, 3, "store_not_vrrules")
    assert _sha256(hostile) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.db", "out"]
    assert not any(out.iterdir())  # nothing was written


_OUTPUTS = {
    "the-store": "{store}",
    "existing": "{existing}",
    "a-folder": "{folder}",
    "no-folder": "{tmp}/no/such/c",
    "under-a-file": "{tmp}/a-file/c",
    "leaves-exist": "{existing-leaves}",  # only a checkpoint writes OUT.leaves beside OUT
}
_WRITERS = [
    ["audit", "checkpoint"],
    ["audit", "bundle"],
    ["audit", "digest"],
    ["audit", "verify", "--shard", "0/2"],
]


@pytest.mark.parametrize(
    ("command", "out"),
    [
        pytest.param(command, out, id=f"{' '.join(command[:2])}-{name}")
        for command in _WRITERS
        for name, out in _OUTPUTS.items()
        if name != "leaves-exist" or command == ["audit", "checkpoint"]
    ],
)
def test_a_hostile_output_path_is_a_usage_error_and_nothing_is_written(
    files: Files, tmp_path: Path, out: str, command: list[str]
) -> None:
    store = _store(files, tmp_path)
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    (tmp_path / "taken.checkpoint.leaves").write_bytes(b"keep me")
    (tmp_path / "a-file").write_text("a file")
    (tmp_path / "folder").mkdir()
    target = (
        out.replace("{store}", str(store))
        .replace("{existing}", str(existing))
        .replace("{folder}", str(tmp_path / "folder"))
        .replace("{tmp}", str(tmp_path))
        .replace("{existing-leaves}", str(tmp_path / "taken.checkpoint"))
    )
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    before = _sha256(store)
    force = ["--force"] if out == "{store}" else []
    ran = run([*command, "--store", str(store), "--out", target, *force])
    assert_clean_failure(ran, 2, "usage")
    assert "--out" in ran.error_lines[0]
    assert _sha256(store) == before and existing.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing
    if out == "{store}":  # without --force: refused too, and not told that --force would do
        ran = run([*command, "--store", str(store), "--out", target])
        assert_clean_failure(ran, 2, "usage")
        assert "--force" not in ran.error_lines[0], ran.err
        assert _sha256(store) == before


def test_migrate_builds_the_log_of_an_old_store_and_refuses_a_broken_one(
    files: Files, tmp_path: Path
) -> None:
    old = _store(files, tmp_path)
    with closing(sqlite3.connect(old)) as db:
        db.execute("DELETE FROM stored_events_leaves")  # as a store written before the log
        db.commit()
    broken = tmp_path / "broken" / old.name
    broken.parent.mkdir()
    shutil.copy(old, broken)
    _flip(broken, _rows(broken)[5][0])
    without_table = tmp_path / "without-table" / old.name
    without_table.parent.mkdir()
    shutil.copy(broken, without_table)
    with closing(sqlite3.connect(without_table)) as db:
        db.execute("DROP TABLE stored_events_leaves")  # as a store written before the log was
        db.commit()
    for refusing in (broken, without_table):
        before = _sha256(refusing)
        refused = run(["audit", "migrate", "--store", str(refusing)])
        assert_clean_failure(refused, 3, "log_migration_refused")
        assert _sha256(refusing) == before  # nothing was written, not even the leaves' table
    assert "run `vrrules audit migrate`" in run(["audit", "verify", "--store", str(old)]).out
    done = _ok(["audit", "migrate", "--store", str(old), "--json"]).json()
    assert done["status"] == "migrated" and done["records"] == len(_rows(old)) - 1  # and its own record
    again = _ok(["audit", "migrate", "--store", str(old), "--json"]).json()
    assert again["status"] == "already built"
    verified = _ok(["audit", "verify", "--store", str(old), "--json"]).json()
    assert verified["ok"] and verified["log"]["built"]


# ------------------------------------------------ a damaged store: every command stays coded

_DAMAGES: dict[str, list[str]] = {
    "id-not-hex-in-first-rows": ["UPDATE stored_events SET originator_id = 'X' WHERE rowid = 3"],
    "id-null": ["UPDATE stored_events SET originator_id = NULL WHERE rowid = 2"],
    "id-upper-case": ["UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = 1"],
    "state-null": ["UPDATE stored_events SET state = NULL WHERE rowid = 4"],
    "state-not-json": ["UPDATE stored_events SET state = X'00ff00' WHERE rowid = 1"],
    "version-null": ["UPDATE stored_events SET originator_version = NULL WHERE rowid = 5"],
    "version-text": ["UPDATE stored_events SET originator_version = 'two' WHERE rowid = 2"],
    "topic-foreign": ["UPDATE stored_events SET topic = 'this:s' WHERE rowid = 3"],
    "row-deleted": ["DELETE FROM stored_events WHERE rowid = 2"],
}


@pytest.mark.parametrize("damage", sorted(_DAMAGES))
def test_every_command_on_a_damaged_store_gives_a_coded_answer_and_changes_nothing(
    files: Files, tmp_path: Path, damage: str
) -> None:
    store = _store(files, tmp_path)
    with closing(sqlite3.connect(store)) as db:
        for statement in _DAMAGES[damage]:
            db.execute(statement)
        db.commit()
    out = tmp_path / "out"
    out.mkdir()
    before = _sha256(store)
    for args in _audits(store, files, out):
        if "--workers" in args:
            continue  # the same reading as one worker's, in other processes
        ran = run(args)
        assert "Traceback" not in ran.out + ran.err, (args, ran.err)
        assert not any(line.startswith("error[internal]") for line in ran.error_lines), (args, ran.err)
        assert ran.code in (0, 1, 2, 3), (args, ran.code, ran.err)
        if ran.code:
            assert len(ran.error_lines) == 1, (args, ran.err)
        assert _sha256(store) == before, args
