"""Tamper evidence: editing, deleting, reordering or replacing stored events is found."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SPECS, TIER2_ASSESSMENT
from vrrules import CaseRecords, PolicyLibrary
from vrrules.audit import case_as_of, impact, store_digest, verify_store
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.domain import case_id, link


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "cases.db"
    with CaseRecords(path, SPECS) as records:
        for ref in ("A-1", "B-2"):
            records.open_case(ref, date(2025, 11, 3))
            records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
            records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
            records.decide(ref, "tiers")
    return path


def _rows(path: Path, ref: str) -> dict[int, bytes]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT originator_version, state FROM stored_events WHERE originator_id = ?",
            (case_id(ref).hex,),
        ).fetchall()
    return {version: state for version, state in rows}


def _write(path: Path, ref: str, version: int, state: bytes) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, case_id(ref).hex, version),
        )


def _verify(path: Path, digest: str | None = None) -> dict[str, object]:
    with CaseRecords(path, SPECS) as records:
        return verify_store(records, digest).as_dict()


def test_an_untouched_store_verifies(store: Path) -> None:
    report = _verify(store)
    assert report["ok"] is True and report["decisions"] == 2 and report["broken_chains"] == []


def test_editing_a_stored_event_is_found_at_that_event(store: Path) -> None:
    state = _rows(store, "A-1")[3]
    _write(store, "A-1", 3, state.replace(b'"workplace_assessment"', b'"career_redirection"'))
    report = _verify(store)
    assert report["ok"] is False
    assert report["broken_chains"] == [
        {
            "case": "A-1",
            "first_broken_event": 3,
            "reason": "AssessmentCompleted was changed: its stored bytes no longer hash to the leaf "
            "stored with it",
        }
    ]


def test_deleting_a_stored_event_is_found(store: Path) -> None:
    with sqlite3.connect(store) as db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 2",
            (case_id("B-2").hex,),
        )
    broken = _verify(store)["broken_chains"]
    assert broken[0]["case"] == "B-2" and broken[0]["first_broken_event"] == 2  # type: ignore[index]


def test_reordering_stored_events_is_found(store: Path) -> None:
    rows = _rows(store, "A-1")
    _write(store, "A-1", 2, rows[3])
    _write(store, "A-1", 3, rows[2])
    assert _verify(store)["broken_chains"][0]["first_broken_event"] == 2  # type: ignore[index]


def test_an_unreadable_record_is_found(store: Path) -> None:
    _write(store, "A-1", 2, b"{not json")
    broken = _verify(store)["broken_chains"][0]  # type: ignore[index]
    assert broken["first_broken_event"] == 2 and "cannot be read" in broken["reason"]


def test_a_rewritten_tail_with_a_forged_link_is_caught_by_its_leaf_and_the_digest(store: Path) -> None:
    with CaseRecords(store, SPECS) as records:
        kept = store_digest(records)
        *earlier, last = [records.store.decode(s) for s in records.store.records_of(case_id("B-2"))]
    # A careful forger changes the last decision and recomputes its link (the chain is public).
    forged = last.decision.model_copy(update={"outcome": {**last.decision.outcome, "tier": 1}})
    version = last.originator_version
    data = json.loads(_rows(store, "B-2")[version])
    data["decision"]["_data_"] = forged.model_dump(mode="json")
    content = {"decision": forged, "engine": last.engine, "timestamp": last.timestamp}
    data["chain"] = link(earlier[-1].chain, "DecisionRecorded", version, content)
    _write(store, "B-2", version, json.dumps(data).encode())
    report = _verify(store, kept)
    # the forged link itself is consistent, but the record no longer hashes to its stored leaf
    assert [(c["case"], c["first_broken_event"]) for c in report["broken_chains"]] == [("B-2", version)]
    assert report["digest_matches"] is False and report["ok"] is False  # and the kept digest differs
    assert report["not_reproduced"]  # and replay disagrees with the forged outcome


def test_audit_commands(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "kept.digest"
    assert main(["audit", "digest", "--store", str(store), "--out", str(kept)]) == 0
    assert main(["audit", "verify", "--store", str(store), "--digest", str(kept)]) == 0
    assert "digest matches the one kept" in capsys.readouterr().out
    assert main(["audit", "verify", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["audit", "case", "A-1", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "tier-2-targeted-assessment" in out and "facts:" in out


def test_case_as_known_on_a_day(store: Path) -> None:
    with CaseRecords(store, SPECS) as records:
        case, decisions = case_as_of(records, "A-1", date.today())
        assert case is not None and len(decisions) == 1
        assert case_as_of(records, "A-1", date(2000, 1, 1)) == (None, [])


def test_a_correction_shows_what_was_decided_then_and_what_would_be_now(tmp_path: Path) -> None:
    with CaseRecords(tmp_path / "c.db", SPECS) as records:
        records.open_case("C-9", date(2025, 11, 3))
        records.record(
            "C-9",
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-11-03", "off_work_since": "2025-08-04"},
        )
        first = records.decide("C-9", "early-intervention", as_of=date(2025, 11, 3))
        assert first.decision.outcome is not None and first.decision.outcome["verdict"] == "no_alert"
        assert first.decision.outcome["findings"][0]["due_on"] == "2025-11-04"  # when the alert falls due
        # Found later: the worker had been off since 1 July. A new event corrects it.
        records.record(
            "C-9",
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-11-20", "off_work_since": "2025-07-01"},
        )
        then = impact(records)
        now = impact(records, current_facts=True)
        assert then.changes == [] and then.counts["early-intervention"]["same"] == 1
        [change] = now.changes
        assert (change.recorded_outcome["verdict"], change.new_outcome["verdict"]) == ("no_alert", "alert")
        assert change.new_rules == ("off-work-three-months-without-help",)
        # nothing stored was rewritten: the first status, the decision and the correction all remain
        kinds = [type(e).__name__ for e in records.history("C-9")]
        assert kinds == ["Opened", "WorkStatusChanged", "DecisionRecorded", "WorkStatusChanged"]
        assert verify_store(records).ok


def test_what_if_a_draft_spec_lists_the_decisions_it_would_change(store: Path, tmp_path: Path) -> None:
    draft = tmp_path / "draft"
    shutil.copytree(SPECS / "tiers", draft / "tiers")
    spec = draft / "tiers" / "2025.1.yaml"
    spec.write_text(
        spec.read_text().replace(
            "2025-10-01: [functional_capacity_evaluation, job_demands_analysis, "
            "work_readiness_assessment, workplace_assessment, rtw_planning]",
            "2025-10-01: [functional_capacity_evaluation, job_demands_analysis]",
        )
    )
    before = _rows(store, "A-1")
    with CaseRecords(store, SPECS) as records:
        report = impact(records, PolicyLibrary(draft, case_sources=CASE_SOURCES))
    assert report.counts["tiers"]["changed"] == 2
    assert {c.new_outcome["tier"] for c in report.changes} == {1}
    assert all(c.recorded_rules == ("tier-2-targeted-assessment",) for c in report.changes)
    assert _rows(store, "A-1") == before  # nothing written


def test_a_bundle_verifies_without_the_store_and_reveals_changes(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "kept.checkpoint"
    bundle = tmp_path / "a1.bundle.json"
    assert main(["audit", "checkpoint", "--store", str(store), "--out", str(kept)]) == 0
    assert (
        main(
            [
                "audit",
                "bundle",
                "A-1",
                "--store",
                str(store),
                "--checkpoint",
                str(kept),
                "--out",
                str(bundle),
            ]
        )
        == 0
    )
    store.unlink()  # another machine: no store at all
    capsys.readouterr()
    assert main(["audit", "verify-bundle", str(bundle), "--checkpoint", str(kept)]) == 0
    assert "verified against the trusted checkpoint" in capsys.readouterr().out
    # with no anchor, an intact bundle is only internally consistent, and says so
    assert main(["audit", "verify-bundle", str(bundle)]) == 1
    assert "not anchored" in capsys.readouterr().out
    data = json.loads(bundle.read_bytes())
    assert len(data["heads"]) == 2  # the case and the release its decision used
    records = [r for r in data["records"] if "Case" in r["topic"]]
    records[1]["state"], records[2]["state"] = records[2]["state"], records[1]["state"]
    bundle.write_bytes(json.dumps(data).encode())
    assert main(["audit", "verify-bundle", str(bundle), "--checkpoint", str(kept)]) == 1
    out = capsys.readouterr().out
    assert "version 2 (leaf 1) is not in the checkpoint's log" in out


def test_bundling_an_unknown_case_writes_nothing(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    # an unknown case is an input error (exit 3, case_unknown), and nothing is written
    assert main(["audit", "bundle", "NOPE", "--store", str(store), "--out", str(out)]) == 3
    assert not out.exists()


def test_what_if_a_raised_cap_lists_exactly_the_changed_decisions(tmp_path: Path) -> None:
    """The expected changes are worked out here from the plan costs, not by vrrules."""
    old_cap, new_cap = Decimal("19802.63"), Decimal("21000.00")
    approvals = {"P-1": "2022-08-01", "P-2": "2023-03-15", "P-3": "2023-08-01", "P-4": "2022-07-01"}
    tuition = {"P-1": "19802.63", "P-2": "20500.00", "P-3": "20500.00", "P-4": "21000.01"}
    with CaseRecords(tmp_path / "w.db", SPECS) as records:
        for ref, approved in approvals.items():
            records.open_case(ref, date(2022, 6, 1))
            records.record(
                ref,
                "plan_submitted",
                {
                    "submitted_on": "2022-06-01",
                    "received_on": "2022-06-01",
                    "planned_start_on": "2022-09-01",
                    "school": "public",
                    "planned_months": 12,
                    "costs": {"tuition": tuition[ref]},
                },
            )
            records.record(ref, "plan_approved", {"approved_on": approved})
            records.decide(ref, "retraining-fund-cap")
        draft = tmp_path / "draft"
        shutil.copytree(SPECS / "retraining-fund-cap", draft / "retraining-fund-cap")
        spec = draft / "retraining-fund-cap" / "2015.1.yaml"
        spec.write_text(spec.read_text().replace('2022-07-01: "19802.63"', f'2022-07-01: "{new_cap}"'))
        report = impact(records, PolicyLibrary(draft, case_sources=CASE_SOURCES))

    in_raised_year = {ref for ref, day in approvals.items() if "2022-07-01" <= day <= "2023-06-30"}
    expected_verdict = {
        ref: ("within_cap" if Decimal(tuition[ref]) <= new_cap else "refused") for ref in in_raised_year
    }
    # every decision in the raised year reports a different cap, so all of them change
    assert {c.case_ref for c in report.changes} == in_raised_year
    assert {c.case_ref: c.new_outcome["verdict"] for c in report.changes} == expected_verdict
    assert {c.case_ref: c.new_outcome["cap"] for c in report.changes} == dict.fromkeys(
        in_raised_year, str(new_cap)
    )
    verdict_flips = {
        c.case_ref for c in report.changes if c.recorded_outcome["verdict"] != c.new_outcome["verdict"]
    }
    assert verdict_flips == {ref for ref in in_raised_year if old_cap < Decimal(tuition[ref]) <= new_cap}
    assert report.counts["retraining-fund-cap"]["same"] == len(approvals) - len(in_raised_year)


def test_audit_verify_exits_non_zero_and_names_the_tampered_record(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _rows(store, "B-2")[2]
    _write(store, "B-2", 2, state.replace(b'"employer"', b'"insurer"'))
    assert main(["audit", "verify", "--store", str(store)]) == 1
    out = capsys.readouterr().out
    assert "chain broken: case B-2 at event 2: ReferralReceived" in out and "NOT verified" in out
