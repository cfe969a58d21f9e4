"""The case commands on the demo store: cases, case show, decide, import, facts."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.conftest import BAD_CASES, Files, assert_clean_failure, run
from vrrules import CaseRecords


def test_cases_lists_each_case_with_its_last_event_and_decisions(files: Files) -> None:
    listed = run(["cases", "--store", str(files.store), "--json"]).json()["cases"]
    with CaseRecords(store=str(files.store)) as records:
        refs = list(records.case_refs())
        assert [c["case"] for c in listed] == refs
        first = records.case(refs[0])
    assert listed[0]["events"] == first.version == listed[0]["last_event"]["event"]
    assert {d["family"] for d in listed[0]["decisions"]} == {d.family for _, d in first.decisions}
    text = run(["cases", "--store", str(files.store)]).out
    assert all(ref in text for ref in refs) and "{'" not in text


def test_case_show_gives_business_dates_and_recording_times(files: Files) -> None:
    shown = run(["case", "show", "VR-2025-0102", "--store", str(files.store), "--json"]).json()
    events = shown["events"]
    assert [e["event"] for e in events] == list(range(1, len(events) + 1))
    referral = next(e for e in events if e["type"] == "referral_received")
    assert referral["business_date"] == referral["payload"]["received_on"]
    assert referral["business_date_field"] == "received_on"
    decisions = [e for e in events if e["decision"] is not None]
    assert decisions and all(e["business_date_field"] == "as_of" for e in decisions)
    assert all(e["recorded_at"] for e in events)
    text = run(["case", "show", "VR-2025-0102", "--store", str(files.store)]).out
    assert "received_on" in text and "decision tiers" in text


def test_decide_dry_run_records_nothing_and_decide_records(files: Files) -> None:
    store = files.store_copy("decide.db")
    args = ["decide", "VR-2025-0102", "tiers", "--store", str(store)]
    with CaseRecords(store=str(store)) as records:
        before = records.case("VR-2025-0102").version
    dry = run([*args, "--dry-run", "--json"]).json()
    assert dry["recorded"] is False and dry["event"] is None
    with CaseRecords(store=str(store)) as records:
        assert records.case("VR-2025-0102").version == before
    made = run([*args, "--json"]).json()
    assert made["recorded"] is True and made["event"] == before + 1
    assert made["outcome"] == dry["outcome"]


def test_decide_as_of_a_day_before_the_opening_decides_and_says_the_case_was_not_open(files: Files) -> None:
    # VR-2025-0107 was opened on 2025-11-17; its history dates the worker off work from before
    args = ["decide", "VR-2025-0107", "early-intervention", "--store", str(files.store), "--dry-run"]
    before = run([*args, "--as-of", "2025-06-01", "--json"])
    assert before.code == 0, before.err
    assert before.json()["as_of"] == "2025-06-01" and before.json()["recorded"] is False
    assert "before case VR-2025-0107 was opened (2025-11-17)" in before.err
    assert "on no due list" in before.err
    on_opening = run([*args, "--as-of", "2025-11-17", "--json"])
    assert on_opening.code == 0 and "opened" not in on_opening.err, on_opening.err


def test_import_is_all_or_nothing(files: Files, tmp_path: Path) -> None:
    store = tmp_path / "imported.db"
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_CASES)
    ran = run(["import", str(bad), "--store", str(store), "--json"])
    assert_clean_failure(ran, 3, "event_invalid")
    assert ran.json()["error"]["details"]["failed"][0]["case"] == "IMP-0003"
    if store.exists():
        with CaseRecords(store=str(store)) as records:
            assert list(records.case_refs()) == []
    done = run(["import", str(files.cases), "--store", str(store), "--json"])
    assert done.code == 0, done.err
    assert done.json()["cases"] == 2
    with CaseRecords(store=str(store)) as records:
        assert sorted(records.case_refs()) == ["IMP-0001", "IMP-0002"]
    again = run(["import", str(files.cases), "--store", str(store)])
    assert_clean_failure(again, 3, "case_exists")


def test_import_reads_json_case_files(files: Files, tmp_path: Path) -> None:
    data = yaml.safe_load(files.cases.read_text())
    source = tmp_path / "cases.json"
    source.write_text(json.dumps(data, default=str))
    done = run(["import", str(source), "--store", str(tmp_path / "j.db")])
    assert done.code == 0, done.err


def test_facts_says_where_each_fact_comes_from() -> None:
    tiers = run(["facts", "tiers", "--json"]).json()
    assert tiers["facts"] and all(f["from"] in ("history", "derived", "caller") for f in tiers["facts"])
    assert any(f["from"] == "history" and f["source"] for f in tiers["facts"])
    billing = run(["facts", "billing", "--json"]).json()
    assert any(f["from"] == "caller" for f in billing["facts"])
    per_diem = run(["facts", "per-diem", "--json"]).json()
    assert any(f["from"] == "derived" for f in per_diem["facts"])
