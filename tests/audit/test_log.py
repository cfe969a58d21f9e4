"""The store's Merkle log, attacked as an insider with the database password would attack it.

Each attack rewrites the stored rows (and, for the thorough attacker, every stored leaf so
they fit the new rows); with a checkpoint kept apart, every attack is found, on SQLite and
on PostgreSQL, and the report names the first bad record by its leaf index.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS, TIER2_ASSESSMENT, _reset_postgres
from vrrules import CaseRecords
from vrrules.audit import store_digest, verify_store
from vrrules.audit.chain import case_index, release_hashes, walk_case
from vrrules.audit.log import (
    StoreLog,
    checkpoint_heads,
    checkpoint_leaves,
    load_checkpoint,
    make_checkpoint,
    migrate_log,
    store_origin,
    verify_log,
)
from vrrules.events.payloads import Referral
from vrrules.events.tlog import record_leaf_hash
from vrrules.policies.library import PolicyLibrary


def _fill(records: CaseRecords, refs: tuple[str, ...] = ("A-1", "B-2", "C-3")) -> None:
    for ref in refs:
        records.open_case(ref, date(2025, 11, 3))
        records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
        records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
        records.decide(ref, "tiers")


def _publish(records: CaseRecords) -> None:
    compiled = PolicyLibrary(SPECS).versions("tiers")[-1]
    records.publish(compiled, "Policy Lead", "in force")


@dataclass(frozen=True)
class Row:
    position: int
    stored_id: Any  # as the backend stores it: hex text on SQLite, UUID on PostgreSQL
    version: int
    topic: str
    state: bytes

    def leaf(self) -> bytes:
        stored = self.stored_id if isinstance(self.stored_id, UUID) else UUID(self.stored_id)
        return record_leaf_hash(stored, self.version, self.topic, self.state)


class Database:
    """Raw access to a store's tables."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgres = location.startswith("postgresql://")
        self.events = "vrrulescases_events" if self.postgres else "stored_events"
        self.position = "notification_id" if self.postgres else "rowid"

    def _run(self, sql: str, params: Any = (), many: bool = False) -> list[Any]:
        if self.postgres:
            import psycopg  # noqa: PLC0415

            with psycopg.connect(self.location, autocommit=True) as db, db.cursor() as cursor:
                sql = sql.replace("?", "%s")
                if many:
                    cursor.executemany(sql, params)
                    return []
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.location) as db:
            if many:
                db.executemany(sql, params)
                return []
            return db.execute(sql, params).fetchall()

    def rows(self) -> list[Row]:
        found = self._run(
            f"SELECT {self.position}, originator_id, originator_version, topic, state FROM {self.events} "
            f"ORDER BY {self.position}"
        )
        return [Row(int(p), i, int(v), str(t), bytes(s)) for p, i, v, t, s in found]

    def leaves(self) -> dict[int, bytes]:
        return {
            int(p): bytes(leaf)
            for p, leaf in self._run(f"SELECT position, leaf FROM {self.events}_leaves")
        }

    def rewrite(self, rows: list[Row], leaves: dict[int, bytes]) -> None:
        """Replace every row and every leaf (positions as given)."""
        self._run(f"DELETE FROM {self.events}")
        self._run(f"DELETE FROM {self.events}_leaves")
        self._run(
            f"INSERT INTO {self.events} ({self.position}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            [(r.position, r.stored_id, r.version, r.topic, r.state) for r in rows],
            many=True,
        )
        self._run(
            f"INSERT INTO {self.events}_leaves (position, leaf) VALUES (?, ?)",
            list(leaves.items()),
            many=True,
        )


# ----------------------------------------------------------------------------- the attacks


def _json_edit(state: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    data = json.loads(state)
    change(data)
    return json.dumps(data).encode()


def _flip(rows: list[Row], at: int) -> tuple[list[Row], int]:
    state = bytearray(rows[at].state)
    state[len(state) // 2] ^= 0x01
    return [*rows[:at], replace(rows[at], state=bytes(state)), *rows[at + 1 :]], at


def _delete(rows: list[Row], at: int) -> tuple[list[Row], int]:
    return [*rows[:at], *rows[at + 1 :]], at


def _insert(rows: list[Row], at: int) -> tuple[list[Row], int]:
    # a forged record put into a case's history before record `at`; the case's later versions
    # are renumbered so that nothing clashes
    victim = rows[at]
    forged = replace(victim, state=victim.state + b" ")  # valid JSON, other bytes
    shifted = [
        replace(r, version=r.version + 1)
        if r.stored_id == victim.stored_id and r.version >= victim.version
        else r
        for r in rows
    ]
    return [*shifted[:at], forged, *shifted[at:]], at


def _reorder(rows: list[Row], at: int) -> tuple[list[Row], int]:
    at = min(at, len(rows) - 2)
    return [*rows[:at], rows[at + 1], rows[at], *rows[at + 2 :]], at


def _swap_ids(rows: list[Row], at: int) -> tuple[list[Row], int]:
    first = rows[0].stored_id
    other = next(r.stored_id for r in rows if r.stored_id != first and r.version == 1)
    swap = {first: other, other: first}
    swapped = [replace(r, stored_id=swap.get(r.stored_id, r.stored_id)) for r in rows]
    return swapped, 0


def _truncate_case(rows: list[Row], at: int) -> tuple[list[Row], int]:
    victim = rows[at].stored_id
    last = max(i for i, r in enumerate(rows) if r.stored_id == victim)
    return [*rows[:last], *rows[last + 1 :]], last


def _truncate_log(rows: list[Row], at: int) -> tuple[list[Row], int]:
    return rows[: len(rows) - 2], len(rows) - 2


def _rewrite_decision(rows: list[Row], at: int) -> tuple[list[Row], int]:
    index = next(i for i, r in enumerate(rows) if r.topic.endswith("DecisionRecorded") and i >= at // 2)

    def change(data: dict[str, Any]) -> None:
        decision = data["decision"]["_data_"]
        decision["outcome"]["tier"] = 1
        decision["facts"] = {**decision["facts"], "support_needed": []}

    return [
        *rows[:index],
        replace(rows[index], state=_json_edit(rows[index].state, change)),
        *rows[index + 1 :],
    ], index


def _forge_release(rows: list[Row], at: int) -> tuple[list[Row], int]:
    index = next(i for i, r in enumerate(rows) if "PolicyRelease" in r.topic)

    def change(data: dict[str, Any]) -> None:
        data["text"] = data["text"].replace("tier", "tyer", 1)

    return [
        *rows[:index],
        replace(rows[index], state=_json_edit(rows[index].state, change)),
        *rows[index + 1 :],
    ], index


def _edit_publication(rows: list[Row], at: int) -> tuple[list[Row], int]:
    index = next(i for i, r in enumerate(rows) if "VersionPublication" in r.topic)

    def change(data: dict[str, Any]) -> None:
        data["published_by"] = "Someone Else"

    return [
        *rows[:index],
        replace(rows[index], state=_json_edit(rows[index].state, change)),
        *rows[index + 1 :],
    ], index


def _delete_publication(rows: list[Row], at: int) -> tuple[list[Row], int]:
    index = next(i for i, r in enumerate(rows) if "VersionPublication" in r.topic)
    return [*rows[:index], *rows[index + 1 :]], index


ATTACKS: dict[str, Callable[[list[Row], int], tuple[list[Row], int]]] = {
    "flipped byte": _flip,
    "deleted record": _delete,
    "inserted record": _insert,
    "reordered records": _reorder,
    "swapped case ids": _swap_ids,
    "case tail truncated": _truncate_case,
    "log tail truncated": _truncate_log,
    "decision facts and outcome rewritten": _rewrite_decision,
    "forged policy release": _forge_release,
    "publication edited": _edit_publication,
    "publication deleted": _delete_publication,
}


def _attack(database: Database, name: str, at: int, thorough: bool) -> int:
    """Apply an attack; return the index of the first leaf it changed."""
    rows = database.rows()
    changed, first = ATTACKS[name](rows, at % len(rows))
    renumbered = [replace(r, position=n) for n, r in enumerate(changed, start=1)]
    # thorough: every leaf recomputed to fit the new rows, so only a checkpoint can tell;
    # careless: the rows changed, the stored leaves left as they were
    leaves = {r.position: r.leaf() for r in renumbered} if thorough else database.leaves()
    database.rewrite(renumbered, leaves)
    return first


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "cases.db")
    else:
        url: str = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
        yield url


def _kept(location: str) -> tuple[Any, bytes]:
    with CaseRecords(location, SPECS) as records:
        _fill(records)
        _publish(records)
        return load_checkpoint(make_checkpoint(records)), checkpoint_leaves(records)


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_attack_is_found_against_a_kept_checkpoint(
    location: str, attack: str, thorough: bool
) -> None:
    checkpoint, leaves = _kept(location)
    first = _attack(Database(location), attack, 3, thorough)
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[(checkpoint, leaves)])
    assert not report.ok
    assert report.log is not None and report.log.findings, report.render()
    named = [f.leaf_index for f in report.log.findings if f.leaf_index is not None]
    assert named and min(named) == first, report.render()


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
def test_a_case_truncated_is_named_by_the_heads_kept_beside_the_checkpoint(
    location: str, thorough: bool
) -> None:
    """The checkpoint's case-heads root proves a case's head changed but not whose: with the
    heads kept beside it (C.heads), the case that lost its last records is named, with the
    version the checkpoint held it to and the leaf of that record."""
    with CaseRecords(location, SPECS) as records:
        _fill(records)
        _publish(records)
        log = StoreLog(records.store)
        checkpoint = load_checkpoint(make_checkpoint(records, log=log))
        kept = (checkpoint, checkpoint_leaves(records, log=log), checkpoint_heads(records, log=log))
    database = Database(location)
    victim = database.rows()[4].stored_id  # A-1's decision (leaf 3 is the release)
    last = max(r.version for r in database.rows() if r.stored_id == victim)
    _attack(database, "case tail truncated", 4, thorough)
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[kept])
        without_heads = verify_store(records, checkpoints=[kept[:2]])
    assert not report.ok and report.log is not None and without_heads.log is not None
    named = [f for f in report.log.findings if "case heads hold this record" in f.problem]
    assert [(f.aggregate, f.version) for f in named] == [("case A-1", last)], report.render()
    assert f"up to version {last}, the store up to version {last - 1}" in named[0].problem
    assert not any("case heads hold" in f.problem for f in without_heads.log.findings)


def test_heads_kept_beside_another_checkpoint_are_not_believed(tmp_path: Path) -> None:
    """Heads that are not the ones the checkpoint commits to name nothing."""
    store = str(tmp_path / "cases.db")
    with CaseRecords(store, SPECS) as records:
        _fill(records, ("A-1",))
        early = load_checkpoint(make_checkpoint(records))
        _fill(records, ("B-2",))
        later_heads = checkpoint_heads(records)
    _attack(Database(store), "case tail truncated", 1, thorough=True)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[(early, None, later_heads)])
    assert not report.ok and report.log is not None
    assert not any("case heads hold" in f.problem for f in report.log.findings)


def test_an_untouched_store_extends_its_checkpoints_append_only(location: str) -> None:
    with CaseRecords(location, SPECS) as records:
        _fill(records, ("A-1",))
        week_1 = load_checkpoint(make_checkpoint(records))
        _fill(records, ("B-2", "C-3"))
        week_2 = load_checkpoint(make_checkpoint(records))
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[week_1, week_2])
        assert report.ok and report.anchored, report.render()
        assert [c["consistent"] for c in report.log.checkpoints] == [True, True]  # type: ignore[union-attr]
        full = verify_store(records)
        weekly = verify_store(records, since=week_1)
    assert weekly.ok and weekly.since == week_1.checkpoint.size
    assert weekly.cases == 2 and weekly.decisions == 2  # only the new part was replayed
    assert full.cases == 3 and full.decisions == 3
    # the weekly verdict claims only what it checked: the old part's bytes were not read again
    verdict = weekly.render().splitlines()[-1]
    assert f"after the first {week_1.checkpoint.size}" in verdict and "not read again" in verdict
    assert "not read again" not in full.render()


def test_a_store_rolled_back_to_an_older_copy_is_found(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records, ("A-1",))
    shutil.copy(store, tmp_path / "old.db")
    with CaseRecords(store, SPECS) as records:
        _fill(records, ("B-2",))
        kept = load_checkpoint(make_checkpoint(records))
    shutil.copy(tmp_path / "old.db", store)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[kept])
    assert not report.ok
    assert any("rolled back" in f.problem for f in report.log.findings)  # type: ignore[union-attr]


def test_without_a_checkpoint_a_careless_edit_is_still_found_by_its_stored_leaf(tmp_path: Path) -> None:
    store = str(tmp_path / "cases.db")
    with CaseRecords(store, SPECS) as records:
        _fill(records)
    first = _attack(Database(store), "flipped byte", 4, thorough=False)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records)
    assert not report.ok
    finding = report.log.findings[0]  # type: ignore[union-attr]
    assert finding.leaf_index == first and finding.aggregate == "case A-1" and finding.version == 4


def test_a_difference_from_the_checkpoint_says_what_became_of_its_record(tmp_path: Path) -> None:
    """With the checkpoint's leaves at hand the finding says whether its record at the
    first differing leaf moved (records inserted, removed or moved before it) or is gone,
    and a release is named as one."""
    said = {}
    for attack in ("reordered records", "flipped byte"):
        store = str(tmp_path / f"{attack}.db")
        checkpoint, leaves = _kept(store)
        _attack(Database(store), attack, 3, thorough=True)
        with CaseRecords(store, SPECS, read_only=True) as records:
            report = verify_store(records, checkpoints=[(checkpoint, leaves)])
        said[attack] = next(f for f in report.log.findings if f.problem.startswith("the log differs"))  # type: ignore[union-attr]
    assert "is now leaf 4: records before it were inserted or moved" in said["reordered records"].problem
    assert "is nowhere in the store" in said["flipped byte"].problem
    assert said["flipped byte"].aggregate is not None
    assert said["flipped byte"].aggregate.startswith("policy release tiers 2025.1")


def test_a_checkpoint_of_another_store_is_refused(tmp_path: Path) -> None:
    with CaseRecords(tmp_path / "one.db", SPECS) as one, CaseRecords(tmp_path / "two.db", SPECS) as two:
        _fill(one, ("A-1",))
        _fill(two, ("A-1",))
        report = verify_log(two, [load_checkpoint(make_checkpoint(one))])
    assert not report.ok and "another log" in report.findings[0].problem
    assert store_origin(str(tmp_path / "one.db")) != store_origin(str(tmp_path / "two.db"))


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
def test_a_copy_of_a_tampered_store_under_another_name_still_names_the_first_bad_record(
    tmp_path: Path, thorough: bool
) -> None:
    """The origin comes from the file's name; an auditor checking a copy (a backup, a copy
    made for the audit) is told the names differ and still gets the first bad record."""
    store = str(tmp_path / "cases.db")
    checkpoint, leaves = _kept(store)
    first = _attack(Database(store), "flipped byte", 4, thorough=thorough)
    copy = tmp_path / "cases-copy-2026-12-01.db"
    with sqlite3.connect(store) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the committed pages, whether or not still in the WAL
    with CaseRecords(copy, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[(checkpoint, leaves)])
    assert not report.ok and report.log is not None
    assert any("another log" in f.problem for f in report.log.findings) == thorough
    named = [f for f in report.log.findings if f.leaf_index is not None]
    assert named and min(f.leaf_index for f in named) == first, report.render()  # type: ignore[type-var]
    assert {f.aggregate for f in named if f.leaf_index == first} == {"case A-1"}, report.render()


def test_a_payload_that_gains_an_optional_field_still_verifies(tmp_path: Path, monkeypatch: Any) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records)
        kept = load_checkpoint(make_checkpoint(records))
    # A later schema adds an optional field with a default: every decoded referral now has it.
    # The log hashes the bytes as stored, so nothing about the old records changes.
    dump = Referral.model_dump

    def with_new_field(self: Referral, **kwargs: Any) -> dict[str, Any]:
        return {**dump(self, **kwargs), "urgency": None}

    monkeypatch.setattr(Referral, "model_dump", with_new_field)
    assert Referral(received_on=date(2025, 1, 1), source="gp").model_dump()["urgency"] is None
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[kept])
    assert report.ok, report.render()


def test_migrate_builds_the_log_of_an_old_store_once_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records)
    Database(str(store))._run("DELETE FROM stored_events_leaves")  # as written before the log
    with CaseRecords(store, SPECS, read_only=True) as records:
        before = verify_store(records)
        assert before.ok and before.log is not None and not before.log.built
    with CaseRecords(store, SPECS) as records:
        done = migrate_log(records)
        assert done.status == "migrated" and done.chains_checked == 3
        assert migrate_log(records).status == "already built"
        assert any(r.topic.endswith("LogMigration.Migrated") for r in records.store.records())
    with CaseRecords(store, SPECS, read_only=True) as records:
        after = verify_store(records)
    assert after.ok and after.log is not None and after.log.built, after.render()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attack=st.sampled_from(sorted(ATTACKS)),
    at=st.integers(0, 10_000),
    thorough=st.booleans(),
    cases=st.integers(1, 4),
)
def test_any_one_random_change_to_a_random_store_is_found(
    tmp_path: Path, attack: str, at: int, thorough: bool, cases: int
) -> None:
    folder = tmp_path / f"{attack}-{at}-{thorough}-{cases}".replace(" ", "_")
    folder.mkdir()
    location = str(folder / "cases.db")
    with CaseRecords(location, SPECS) as records:
        _fill(records, tuple(f"R-{n}" for n in range(max(cases, 2))))
        _publish(records)
        kept = load_checkpoint(make_checkpoint(records))
    _attack(Database(location), attack, at, thorough)
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[kept])
    assert not report.ok


def _sha(path: Path) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_audits_leave_the_store_file_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records)
    before = {p.name: _sha(p) for p in tmp_path.iterdir()}
    with CaseRecords(store, SPECS, read_only=True) as records:
        kept = load_checkpoint(make_checkpoint(records))
        assert verify_store(records, checkpoints=[kept]).ok
        assert verify_store(records, since=kept).ok
        from vrrules.audit import export_bundle  # noqa: PLC0415

        assert export_bundle(records, ["A-1"])
        with pytest.raises(Exception, match="read-only") as refused:
            records.record("A-1", "worker_contacted", {"contacted_on": "2025-11-20"})
        assert getattr(refused.value, "code", None) == "store_read_only"
    assert {p.name: _sha(p) for p in tmp_path.iterdir() if p.name in before} == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "store_not_vrrules"),
        (b"hello, not a database\n", "store_not_vrrules"),
        (None, "store_not_vrrules"),  # a SQLite database of something else
    ],
    ids=["empty", "text", "foreign sqlite"],
)
def test_a_hostile_store_file_is_refused_untouched(tmp_path: Path, content: bytes | None, code: str) -> None:
    path = tmp_path / "suspect.db"
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE payroll (name TEXT, salary INTEGER)")
    else:
        path.write_bytes(content)
    before = _sha(path)
    with pytest.raises(Exception) as refused:
        CaseRecords(path, SPECS, read_only=True)
    assert getattr(refused.value, "code", None) == code
    assert _sha(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["suspect.db"]


def test_a_record_naming_any_module_as_its_topic_is_a_finding_and_nothing_is_imported(tmp_path: Path) -> None:
    import sys  # noqa: PLC0415

    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records, ("A-1", "B-2"))
    database = Database(str(store))
    rows = database.rows()
    victim = next(i for i, r in enumerate(rows) if r.topic.endswith("ReferralReceived"))
    rows[victim] = replace(rows[victim], topic="this:s")  # decoding it would print the Zen of Python
    sys.modules.pop("this", None)
    database.rewrite(rows, {r.position: r.leaf() for r in rows})
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records)
    assert "this" not in sys.modules
    assert not report.ok
    assert [c.case_ref for c in report.broken] == ["A-1"]  # B-2 was audited as usual
    assert "cannot be read" in (report.broken[0].reason or "") and report.broken[0].broken_at == 2
    assert report.decisions == 1 and not report.failures


def test_a_renamed_store_still_proves_its_checkpoints(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        _fill(records)
        kept = load_checkpoint(make_checkpoint(records))
        named = load_checkpoint(make_checkpoint(records, origin="audit.example/vr-cases"))
    moved = tmp_path / "archive-2026.db"
    store.rename(moved)
    with CaseRecords(moved, SPECS, read_only=True) as records:
        report = verify_log(records, [kept, named])
    assert report.ok and [c["consistent"] for c in report.checkpoints] == [True, True]


# ------------------------------------------------------------- the weekly audit: --since

# the attacks that can be aimed at the records appended after a checkpoint alone
AFTER_CHECKPOINT = [
    "case tail truncated",
    "deleted record",
    "flipped byte",
    "inserted record",
    "log tail truncated",
    "reordered records",
]


def _week(location: str) -> tuple[Any, bytes]:
    """A checkpoint kept after the first week, and a second week appended after it."""
    with CaseRecords(location, SPECS) as records:
        _fill(records)
        _publish(records)
        kept = load_checkpoint(make_checkpoint(records)), checkpoint_leaves(records)
        _fill(records, ("D-4", "E-5"))
    return kept


def _named(report: Any, positions: list[int]) -> set[int]:
    """The leaf indices the log findings name (a deleted record's by its leaf's position)."""
    named = set()
    for finding in report.log.findings:
        if finding.leaf_index is not None:
            named.add(finding.leaf_index)
        elif finding.position is not None:
            named.add(positions.index(finding.position))
    return named


@pytest.mark.parametrize("attack", AFTER_CHECKPOINT)
def test_since_finds_a_careless_change_after_its_checkpoint(location: str, attack: str) -> None:
    checkpoint, _ = _week(location)
    database = Database(location)
    positions = [row.position for row in database.rows()]
    first = _attack(database, attack, checkpoint.checkpoint.size + 2, thorough=False)
    assert first >= checkpoint.checkpoint.size  # the attack is on the new part only
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, since=checkpoint)
    assert not report.ok, report.render()
    assert min(_named(report, positions)) == first, report.render()


@pytest.mark.parametrize("attack", sorted(set(ATTACKS) - {"log tail truncated"}))
def test_since_finds_a_thorough_rewrite_of_what_its_checkpoint_covers(location: str, attack: str) -> None:
    checkpoint, leaves = _week(location)
    first = _attack(Database(location), attack, 3, thorough=True)
    assert first < checkpoint.checkpoint.size
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, since=(checkpoint, leaves))
    assert not report.ok, report.render()
    named = [f.leaf_index for f in report.log.findings if f.leaf_index is not None]  # type: ignore[union-attr]
    assert named and min(named) == first, report.render()


def test_since_reads_only_the_new_part_a_full_verify_reads_the_rest(tmp_path: Path) -> None:
    """The weekly audit proves the old part unchanged through its stored leaves; a record
    whose bytes changed under an untouched leaf, in a case with nothing new, is what the
    full audit (every leaf recomputed) is for."""
    store = str(tmp_path / "cases.db")
    checkpoint, _ = _week(store)
    first = _attack(Database(store), "flipped byte", 4, thorough=False)  # case A-1, week one
    with CaseRecords(store, SPECS, read_only=True) as records:
        weekly = verify_store(records, since=checkpoint)
        full = verify_store(records, checkpoints=[checkpoint])
    assert weekly.ok and weekly.cases == 2  # D-4 and E-5 only
    assert not full.ok
    assert min(f.leaf_index for f in full.log.findings if f.leaf_index is not None) == first  # type: ignore[union-attr]


# ------------------------------------------- hostile rows: a finding, never a crash or a pass

# Each edits a filled SQLite store (3 cases, a publication; rowid 13 is C-3's decision, 14
# the publication) the way a hand with the database open could.
HOSTILE_ROWS = {
    "version NULL": ["UPDATE stored_events SET originator_version = NULL WHERE rowid = 13"],
    "version past 2**31": ["UPDATE stored_events SET originator_version = 1099511627776 WHERE rowid = 13"],
    "version text": ["UPDATE stored_events SET originator_version = 'x' WHERE rowid = 13"],
    "state NULL": ["UPDATE stored_events SET state = NULL WHERE rowid = 13"],
    "state text": ["UPDATE stored_events SET state = 'hello' WHERE rowid = 13"],
    "state not UTF-8 text": ["UPDATE stored_events SET state = CAST(x'ff00' AS TEXT) WHERE rowid = 13"],
    "topic NULL": ["UPDATE stored_events SET topic = NULL WHERE rowid = 13"],
    "topic not UTF-8": ["UPDATE stored_events SET topic = CAST(x'ff00' AS TEXT) WHERE rowid = 13"],
    "id upper case": ["UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = 13"],
    "id of a whole case upper case": [
        "UPDATE stored_events SET originator_id = upper(originator_id) "
        "WHERE originator_id = (SELECT originator_id FROM stored_events WHERE rowid = 5)"
    ],
    "id NULL": ["UPDATE stored_events SET originator_id = NULL WHERE rowid = 13"],
    "id with dashes": [
        "UPDATE stored_events SET originator_id = '4253fea0-0517-5398-9c08-e566f603d67d' WHERE rowid = 13"
    ],
    "id one byte longer": ["UPDATE stored_events SET originator_id = '00' || originator_id WHERE rowid = 13"],
    "leaf one byte longer": ["UPDATE stored_events_leaves SET leaf = leaf || x'00' WHERE position = 13"],
    "leaf one byte shorter, state edited": [
        "UPDATE stored_events_leaves SET leaf = substr(leaf, 1, 31) WHERE position = 13",
        "UPDATE stored_events SET state = state || ' ' WHERE rowid = 13",
    ],
    "leaf text": ["UPDATE stored_events_leaves SET leaf = 'abc' WHERE position = 13"],
    "leaf a number": ["UPDATE stored_events_leaves SET leaf = 32 WHERE position = 13"],
    "tail deleted, its leaves left": ["DELETE FROM stored_events WHERE rowid >= 13"],
    "a forged record far ahead": [
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
        "SELECT 4611686018427387905, originator_id, 5, topic, state FROM stored_events WHERE rowid = 13"
    ],
}


@pytest.mark.parametrize("edit", sorted(HOSTILE_ROWS))
def test_a_hostile_row_is_a_finding_never_a_crash_or_a_pass(tmp_path: Path, edit: str) -> None:
    store = str(tmp_path / "cases.db")
    checkpoint, leaves = _kept(store)
    with sqlite3.connect(store) as db:
        for statement in HOSTILE_ROWS[edit]:
            db.execute(statement)
    with CaseRecords(store, SPECS, read_only=True) as records:
        full = verify_store(records, checkpoints=[(checkpoint, leaves)])
        two = verify_store(records, checkpoints=[(checkpoint, leaves)], workers=2)
        verify_store(records, since=(checkpoint, leaves))  # it may not see old rows, but never crashes
    assert not full.ok, full.render()
    assert two.render() == full.render()


def test_since_refuses_a_checkpoint_whose_end_was_moved(tmp_path: Path) -> None:
    """The checkpoint's root fixes its leaves' hashes, not their positions: moving its last
    leaf (and dropping the ones after it) must not make --since read nothing new."""
    store = str(tmp_path / "cases.db")
    checkpoint, leaves = _week(store)
    size = checkpoint.checkpoint.size
    database = Database(store)
    last = database.rows()[size - 1].position
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM stored_events_leaves WHERE position > ?", (last,))
        db.execute("UPDATE stored_events_leaves SET position = 1000000 WHERE position = ?", (last,))
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, since=(checkpoint, leaves))
    assert not report.ok, report.render()
    assert any(f.leaf_index == size - 1 for f in report.log.findings), report.render()  # type: ignore[union-attr]


def test_since_walks_a_case_whose_new_record_is_of_another_kind(tmp_path: Path) -> None:
    store = str(tmp_path / "cases.db")
    checkpoint, _ = _week(store)
    database = Database(store)
    rows = database.rows()
    release = next(r for r in rows if "PolicyRelease" in r.topic)
    case = rows[0]  # A-1's opening
    last = max(r.version for r in rows if r.stored_id == case.stored_id)
    forged = Row(rows[-1].position + 1, case.stored_id, last + 1, release.topic, release.state)
    leaves = {**database.leaves(), forged.position: forged.leaf()}  # a thorough hand
    database.rewrite([*rows, forged], leaves)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, since=checkpoint)
    assert not report.ok
    assert [c.case_ref for c in report.broken] == ["A-1"], report.render()


def test_a_store_written_before_the_log_verifies_read_only_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "old.sqlite"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "store-schema-1.sqlite", store)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records)
    assert report.ok, report.render()
    assert report.log is not None and not report.log.built
    assert "written before the log" in report.render()


# ------------------------------------------- an encrypted store, its log checked without the key

# the attacks that edit rows as bytes (the others edit the JSON inside a state, which the
# ciphertext hides from whoever has no key)
BYTE_ATTACKS = [
    "flipped byte",
    "deleted record",
    "inserted record",
    "reordered records",
    "swapped case ids",
    "case tail truncated",
    "log tail truncated",
    "publication deleted",
]


def _encrypted(location: str) -> tuple[str, Any, bytes]:
    from vrrules.events.persistence import new_store_key  # noqa: PLC0415

    key = new_store_key()
    with CaseRecords(location, SPECS, encryption_key=key) as records:
        _fill(records)
        _publish(records)
        return key, load_checkpoint(make_checkpoint(records)), checkpoint_leaves(records)


def test_an_encrypted_store_is_checkpointed_and_its_log_verified_without_the_key(tmp_path: Path) -> None:
    """The leaves hash the ciphertext as stored: an auditor without the key checkpoints the
    same log as one with it and checks it against a kept checkpoint; the decisions are not
    replayed, and the report says so rather than "reproduced"."""
    location = str(tmp_path / "sealed.db")
    key, kept, _ = _encrypted(location)
    with CaseRecords(location, SPECS, read_only=True, sealed=True) as records:
        assert records.store.sealed
        assert load_checkpoint(make_checkpoint(records)).checkpoint == kept.checkpoint
        report = verify_store(records, checkpoints=[kept], workers=2)
    assert report.ok and not report.replayed and report.decisions == 0, report.render()
    verdict = report.render().splitlines()[-1]
    assert "decisions NOT replayed" in verdict and "reproduced" not in verdict
    with CaseRecords(location, SPECS, read_only=True, sealed=True, encryption_key=key) as records:
        assert not records.store.sealed  # with the key nothing is sealed: a full audit
        full = verify_store(records, checkpoints=[kept])
    assert full.ok and full.replayed and full.decisions == 3


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
@pytest.mark.parametrize("attack", BYTE_ATTACKS)
def test_every_byte_attack_on_an_encrypted_store_is_found_without_the_key(
    tmp_path: Path, attack: str, thorough: bool
) -> None:
    location = str(tmp_path / "sealed.db")
    _, kept, leaves = _encrypted(location)
    first = _attack(Database(location), attack, 3, thorough)
    with CaseRecords(location, SPECS, read_only=True, sealed=True) as records:
        report = verify_store(records, checkpoints=[(kept, leaves)])
    assert not report.ok, report.render()
    named = [f.leaf_index for f in report.log.findings if f.leaf_index is not None]  # type: ignore[union-attr]
    assert named and min(named) == first, report.render()


def test_a_sealed_store_is_never_opened_for_writing(tmp_path: Path) -> None:
    from vrrules import ArgumentInvalidError, StoreKeyError  # noqa: PLC0415

    location = str(tmp_path / "sealed.db")
    _encrypted(location)
    with pytest.raises(ArgumentInvalidError, match="read-only"):
        CaseRecords(location, SPECS, sealed=True)
    with CaseRecords(location, SPECS, read_only=True, sealed=True) as records:
        with pytest.raises(StoreKeyError, match="opened sealed"):
            records.case("A-1")
        with pytest.raises(StoreKeyError, match="opened sealed"):
            records.store.decode(next(iter(records.store.records())))


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_attack_changes_the_digest_kept_before_it(tmp_path: Path, attack: str, thorough: bool) -> None:
    """The digest commits to every case's records' bytes (their recomputed leaves), not only
    to the chains' heads: an edit whose leaf was recomputed left every link, and so the old
    digest, as it was."""
    store = str(tmp_path / "cases.db")
    with CaseRecords(store, SPECS) as records:
        _fill(records)
        _publish(records)
        kept = store_digest(records)
    _attack(Database(store), attack, 5, thorough=thorough)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, expected_digest=kept)
    assert not report.ok, report.render()


def test_a_digest_kept_in_the_older_form_still_matches_and_says_what_it_covers(tmp_path: Path) -> None:
    store = str(tmp_path / "cases.db")
    with CaseRecords(store, SPECS) as records:
        _fill(records)
        older_form = hashlib.sha256()  # as vrrules wrote it before: case lines of chain heads
        for stored_id, case_ref in case_index(records.store):
            check = walk_case(records.store, stored_id, case_ref)[0]
            older_form.update(f"case|{check.case_ref}|{check.events}|{check.head}\n".encode())
        for sha in sorted(release_hashes(records.store)):
            older_form.update(f"release|{sha}\n".encode())
        older = older_form.hexdigest()
        assert older != store_digest(records)
    with CaseRecords(store, SPECS, read_only=True) as records:
        report = verify_store(records, expected_digest=older)
    assert report.ok and report.kept_digest_is_legacy
    assert "older form" in report.render()
