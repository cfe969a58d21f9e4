"""``--shard K/N`` on N processes against one store, merged, gives the verdict of one full run."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.audit.test_log import ATTACKS, HOSTILE_ROWS, Database, _attack, _kept
from tests.conftest import SPECS, TIER2_ASSESSMENT, _reset_postgres
from vrrules import ArgumentInvalidError, CaseRecords
from vrrules.audit import make_checkpoint, merge_reports, verify_store
from vrrules.audit.log import load_checkpoint


def _fill(location: str) -> str:
    with CaseRecords(location, SPECS) as records:
        for n in range(7):
            ref = f"S-{n}"
            records.open_case(ref, date(2025, 11, 3))
            records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
            records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
            records.decide(ref, "tiers")
            if n % 2:
                records.decide(ref, "assessment-first")
        return make_checkpoint(records)


def _share(job: tuple[str, str, int, int]) -> str:
    """One host's run: its own process, its own read-only handle, a partial report as JSON."""
    location, checkpoint, k, n = job
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(records, checkpoints=[load_checkpoint(checkpoint)], shard=(k, n))
    return json.dumps(report.as_dict())


def _full(location: str, checkpoint: str) -> dict[str, Any]:
    with CaseRecords(location, SPECS, read_only=True) as records:
        return verify_store(records, checkpoints=[load_checkpoint(checkpoint)]).as_dict()


def _merged(location: str, checkpoint: str, n: int) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(min(n, 3)) as pool:
        partials = [
            json.loads(p) for p in pool.map(_share, [(location, checkpoint, k, n) for k in range(n)])
        ]
    return merge_reports(partials).as_dict()


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "cases.db")
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.mark.parametrize("n", [2, 3])
def test_the_merged_shares_equal_a_full_run(location: str, n: int) -> None:
    checkpoint = _fill(location)
    full = _full(location, checkpoint)
    assert full["ok"] is True and full["decisions"] == 10
    assert _merged(location, checkpoint, n) == full


@pytest.mark.parametrize(
    "attack", ["flipped byte", "decision facts and outcome rewritten", "deleted record"]
)
def test_the_merged_shares_find_what_a_full_run_finds(tmp_path: Path, attack: str) -> None:
    location = str(tmp_path / "cases.db")
    checkpoint = _fill(location)
    _attack(Database(location), attack, 9, thorough=False)
    full = _full(location, checkpoint)
    assert full["ok"] is False
    assert _merged(location, checkpoint, 3) == full


def test_missing_or_repeated_shares_are_refused(tmp_path: Path) -> None:
    location = str(tmp_path / "cases.db")
    checkpoint = _fill(location)
    one = json.loads(_share((location, checkpoint, 0, 2)))
    with pytest.raises(ArgumentInvalidError, match=r"0/2 to 1/2, each once.*missing: 1/2"):
        merge_reports([one])  # a lone share is told which one is missing
    with pytest.raises(ArgumentInvalidError, match=r"0/2 to 1/2, each once.*missing: 1/2"):
        merge_reports([one, one])
    # a share claiming an audit split a hundred billion ways is refused at once
    for hostile in ("0/100000000000", "0/\u00b2", "0/" + "9" * 5000):
        with pytest.raises(ArgumentInvalidError, match="each once"):
            merge_reports([{**one, "shard": hostile}])
    with CaseRecords(location, SPECS, read_only=True) as records, pytest.raises(ArgumentInvalidError):
        verify_store(records, shard=(2, 2))


def _merged_in_one_process(location: str, kept: Any, n: int) -> dict[str, Any]:
    """The shares run one after another here (the N-process runs are above): a partial
    report goes through JSON, as it does between hosts."""
    with CaseRecords(location, SPECS, read_only=True) as records:
        partials = [
            json.loads(json.dumps(verify_store(records, checkpoints=[kept], shard=(k, n)).as_dict()))
            for k in range(n)
        ]
    return merge_reports(partials).as_dict()


@pytest.mark.parametrize("thorough", [False, True], ids=["careless", "thorough"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_attack_merged_from_shares_is_reported_as_a_full_run_reports_it(
    location: str, attack: str, thorough: bool
) -> None:
    """Each share checks the checkpoint against the same logged tree (the stored leaves), and
    its own records against their leaves, so no share sees a checkpoint finding another
    does not, whichever share the attacked records fall in."""
    kept = _kept(location)
    _attack(Database(location), attack, 3, thorough)
    with CaseRecords(location, SPECS, read_only=True) as records:
        full = verify_store(records, checkpoints=[kept]).as_dict()
    assert full["ok"] is False
    for n in (2, 3):
        assert _merged_in_one_process(location, kept, n) == full, n


@pytest.mark.parametrize("edit", sorted(HOSTILE_ROWS))
def test_every_hostile_row_merged_from_shares_is_reported_as_a_full_run_reports_it(
    tmp_path: Path, edit: str
) -> None:
    location = str(tmp_path / "cases.db")
    kept = _kept(location)
    with sqlite3.connect(location) as db:
        for statement in HOSTILE_ROWS[edit]:
            db.execute(statement)
    with CaseRecords(location, SPECS, read_only=True) as records:
        full = verify_store(records, checkpoints=[kept]).as_dict()
    assert full["ok"] is False
    for n in (2, 3):
        assert _merged_in_one_process(location, kept, n) == full, n


def test_shares_of_different_states_of_the_store_are_refused(tmp_path: Path) -> None:
    """A live store grows between two hosts' runs: their shares describe different logs,
    and merging them would give a verdict (and digest) of no state the store was ever in."""
    location = str(tmp_path / "cases.db")
    checkpoint = _fill(location)
    before = json.loads(_share((location, checkpoint, 0, 2)))
    with CaseRecords(location, SPECS) as records:
        records.open_case("S-late", date(2025, 11, 4))
    after = json.loads(_share((location, checkpoint, 1, 2)))
    with pytest.raises(ArgumentInvalidError, match="the store changed between the shares"):
        merge_reports([before, after])


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p.update(cases=-5), "cases as a count"),
        (lambda p: p.update(decisions="13"), "decisions as a count"),
        (lambda p: p.update(decisions=True), "decisions as a count"),
        (lambda p: p["families"]["tiers"].update(reproduced=float("nan")), "families as counts"),
        (lambda p: p.update(case_lines=[["x", "case|..."]]), "case_lines"),
        (lambda p: p.update(releases=[1]), "releases"),
        (lambda p: p["log"]["checkpoints"].append({"size": 1, "root": "00"}), "the checkpoints given"),
        (lambda p: p.update(expected_digest="ab" * 32), "the digest given"),
        (lambda p: p.update(since=3), "--since"),
    ],
)
def test_edited_partial_reports_are_refused(tmp_path: Path, edit: Any, expected: str) -> None:
    location = str(tmp_path / "cases.db")
    checkpoint = _fill(location)
    parts = [json.loads(_share((location, checkpoint, k, 2))) for k in range(2)]
    edit(parts[1])
    with pytest.raises(ArgumentInvalidError, match=expected):
        merge_reports(parts)


def _walked(location: str, checkpoint: str, workers: int, shard: tuple[int, int] | None = None) -> Any:
    lines: list[str] = []
    with CaseRecords(location, SPECS, read_only=True) as records:
        report = verify_store(
            records,
            checkpoints=[load_checkpoint(checkpoint)],
            workers=workers,
            shard=shard,
            on_case=lines.append,
        )
    return report.as_dict(), report.render(), lines


@pytest.mark.parametrize("attack", [None, "flipped byte", "swapped case ids", "case tail truncated"])
def test_workers_handed_cases_as_the_log_is_read_report_what_one_process_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attack: str | None
) -> None:
    """Cases go out in chunks while the log is read, some walked by the pool, the rest by the
    auditing process: one case a chunk, so that both walk and the outcomes arrive out of
    order; they are taken in the store's case order all the same (the per-case lines, the
    failures, the digest), with or without a shard."""
    import vrrules.audit.verify as verify_module  # noqa: PLC0415  (its chunk size is patched)

    monkeypatch.setattr(verify_module, "_CHUNK", 1)
    location = str(tmp_path / "cases.db")
    checkpoint = _fill(location)
    if attack is not None:
        _attack(Database(location), attack, 9, thorough=False)
    one = _walked(location, checkpoint, 1)
    assert len(one[2]) == 7 and (one[0]["ok"] is (attack is None))
    for workers in (2, 3):
        assert _walked(location, checkpoint, workers) == one, workers
        assert _walked(location, checkpoint, workers, (1, 2)) == _walked(location, checkpoint, 1, (1, 2))
