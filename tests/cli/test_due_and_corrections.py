"""`vrrules due`, `vrrules audit corrections`, what `audit case` shows of each decision, and
the one outcome formatter every command prints outcomes through."""

from __future__ import annotations

import hashlib
import json
import shlex
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.conftest import Files, run
from tests.conftest import SPECS
from vrrules import CaseRecords
from vrrules.cli import output
from vrrules.cli.schemas import cli_json_schemas
from vrrules.events.due import DueItem
from vrrules.policies import wording

ITEMS = [
    DueItem(
        date(2026, 1, 20),
        "B-2",
        "plan-timeframes",
        "plan-due",
        "plan_due",
        "due",
        -5,
        "RCW 51.32.096",
        "submit",
    ),
    DueItem(date(2026, 1, 5), "A-1", "early-intervention", "alert-due", "alert", "alert", 10, "", "refer"),
    DueItem(
        date(2026, 1, 15), "C-3", "tier-review", "review-due", "review", "review_due", 0, "WAC", "review"
    ),
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(store: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        return [tuple(row) for row in db.execute(query)]


def _without_due_list(store: Path) -> Path:
    """The store as it was before it kept a due list (the demo builds one)."""
    with closing(sqlite3.connect(store)) as db:
        for kind in ("state", "cases", "items", "texts"):
            db.execute(f"DROP TABLE IF EXISTS stored_events_due_{kind}")
        db.commit()
    return store


def _events_and_leaves(store: Path) -> list[list[tuple[Any, ...]]]:
    return [
        _rows(store, "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"),
        _rows(store, "SELECT position, leaf FROM stored_events_leaves"),
    ]


def test_due_keeps_its_projection_beside_the_events_and_changes_no_record(files: Files) -> None:
    store = _without_due_list(files.store_copy("due-kept.db"))
    records_before = _events_and_leaves(store)
    args = ["due", "--store", str(store), "--as-of", "2026-02-02", "--within", "14", "--json"]
    first = run(args)
    assert first.code == 0, first.err
    document = first.json()
    jsonschema.validate(document, cli_json_schemas()["due.schema.json"])
    assert (document["as_of"], document["within"], document["rebuilt"]) == ("2026-02-02", 14, True)
    assert document["kept_in_store"] and document["cases_worked_out"] > 0
    assert document["rebuild_reason"] == "none was built in this store yet"
    assert "built the due list from the log" in first.err
    tables = {row[0] for row in _rows(store, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"stored_events_due_items", "stored_events_due_state", "stored_events_due_cases"} <= tables
    assert _events_and_leaves(store) == records_before  # derived data only: no record, no leaf
    again = run(args).json()  # kept: nothing recorded since, nothing worked out
    assert (again["rebuilt"], again["cases_worked_out"], again["records_read"]) == (False, 0, 0)
    assert again["items"] == document["items"]
    rebuilt = run([*args, "--rebuild"]).json()
    assert rebuilt["rebuilt"] and rebuilt["rebuild_reason"] == "asked for"
    assert rebuilt["items"] == document["items"]
    verified = run(["audit", "verify", "--store", str(store), "--json"])
    assert verified.code == 0 and verified.json()["ok"], verified.err  # the log still verifies
    checked = run(["audit", "due", "--store", str(store), "--as-of", "2026-02-02", "--within", "14"])
    assert checked.code == 0 and "the due list agrees" in checked.out, checked.out + checked.err


def test_audit_due_leaves_the_store_byte_for_byte_and_agrees(files: Files) -> None:
    store = files.store_copy("due-audit.db")
    assert run(["due", "--store", str(store), "--as-of", "2026-01-10"]).code == 0
    with CaseRecords(store, SPECS) as records:  # recorded after the kept position
        records.record(
            "VR-2025-0102",
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-12-01", "off_work_since": "2025-11-20"},
        )
    before = _digest(store)
    ran = run(["audit", "due", "--store", str(store), "--as-of", "2026-02-02", "--within", "30", "--json"])
    assert ran.code == 0, ran.err
    document = ran.json()
    jsonschema.validate(document, cli_json_schemas()["audit-due.schema.json"])
    assert document["ok"] and document["caught_up"] == 1 and document["library_matches"]
    assert document["listed"] == document["expected"] > 0
    assert _digest(store) == before


def test_audit_due_finds_a_projection_changed_by_hand(files: Files) -> None:
    store = files.store_copy("due-tampered.db")
    args = ["--store", str(store), "--as-of", "2026-02-02", "--within", "14"]
    listed = run(["due", *args, "--json"]).json()["items"]
    assert listed
    victim = listed[0]
    with closing(sqlite3.connect(store)) as db:
        # the first listed item's case loses its items: the list now misses its deadlines
        db.execute("DELETE FROM stored_events_due_items WHERE ref = ?", (victim["case"],))
        db.commit()
    ran = run(["audit", "due", *args])
    assert ran.code == 1, ran.err
    assert ran.error_lines and ran.error_lines[0].startswith("error[due_list_differs]: ")
    assert "decided but not listed" in ran.out and victim["case"] in ran.out
    document = run(["audit", "due", *args, "--json"]).json()
    jsonschema.validate(document, cli_json_schemas()["audit-due.schema.json"])
    assert not document["ok"] and victim in document["missing"] and not document["unexpected"]
    other = next(item["case"] for item in listed if item["case"] != victim["case"])
    with closing(sqlite3.connect(store)) as db:  # a changed due date is found too
        db.execute("UPDATE stored_events_due_items SET due = 1 WHERE ref = ?", (other,))
        db.commit()
    found = run(["audit", "due", *args, "--json"]).json()
    assert not found["ok"]
    assert {(i["case"], i["due_on"]) for i in found["unexpected"]} == {(other, "0001-01-01")}
    with closing(sqlite3.connect(store)) as db:  # and rows that no longer read back
        db.execute("UPDATE stored_events_due_items SET text = 99999")
        db.commit()
    unreadable = run(["audit", "due", *args, "--json"]).json()
    assert not unreadable["ok"] and "changed by hand" in unreadable["problems"][0]


@pytest.mark.parametrize("as_of", ["2024-06-01", "2025-06-01", "2025-10-01", "2025-11-10"])
def test_due_as_of_a_day_lists_only_the_cases_opened_by_then(files: Files, as_of: str) -> None:
    store = files.store_copy(f"due-opened-{as_of}.db")
    cases = run(["cases", "--store", str(store), "--json"]).json()["cases"]
    opened = {c["case"]: c["opened_on"] for c in cases}
    args = ["due", "--store", str(store), "--as-of", as_of, "--within", "30", "--json"]
    worked_out = run([*args, "--rebuild"])  # the cases worked out (the library's projection)
    kept = run(args)  # the list the store keeps, read with one query
    assert worked_out.code == kept.code == 0, worked_out.err + kept.err
    assert not kept.json()["rebuilt"] and kept.json()["cases_worked_out"] == 0
    for ran in (worked_out, kept):
        late = [i["case"] for i in ran.json()["items"] if opened[i["case"]] > as_of]
        assert not late, f"listed as of {as_of}, opened later: {late}"
    assert kept.json()["items"] == worked_out.json()["items"]
    checked = run(["audit", "due", "--store", str(store), "--as-of", as_of, "--within", "30", "--json"])
    assert checked.code == 0 and checked.json()["ok"], checked.out + checked.err
    assert checked.json()["listed"] == checked.json()["expected"] == len(kept.json()["items"])
    text = run(args[:-1]).out
    assert not [ref for ref in opened if opened[ref] > as_of and ref in text], text


# Findings that time alone brings on the demo's cases, with nothing recorded after: VR-2025-0104
# (referred, no provider) becomes the twelve-month urgent alert due on 2026-05-02, listed from
# that day; WA-2024-0311's two years end on 2026-07-07, the plan is past them (listed) from the
# next day. The kept list once ended its last span (to 9999-12-31)
# with the earlier items, so `due` left them out and `audit due` failed from 2026-05-02 on.
TIME_ALONE = {  # (case, rule): (due on, first day listed)
    ("VR-2025-0104", "referred-twelve-months-without-provider"): ("2026-05-02", "2026-05-02"),
    ("WA-2024-0311", "plan-past-two-years"): ("2026-07-07", "2026-07-08"),
}


@pytest.mark.parametrize(
    "as_of",
    ["2026-05-01", "2026-05-02", "2026-07-07", "2026-07-08", "2026-08-01", "2027-01-01", "9999-12-31"],
)
def test_the_kept_due_list_gives_what_time_alone_brings(files: Files, as_of: str) -> None:
    store = files.store_copy(f"due-time-{as_of}.db")
    args = ["due", "--store", str(store), "--as-of", as_of, "--json"]
    kept = run(args)  # the list the store keeps, read with one query
    assert kept.code == 0 and not kept.json()["rebuilt"] and kept.json()["cases_worked_out"] == 0, kept.err
    listed = {(i["case"], i["rule"]): i["due_on"] for i in kept.json()["items"]}
    for (case, rule), (due_on, listed_from) in TIME_ALONE.items():
        if listed_from <= as_of:
            assert listed.get((case, rule)) == due_on, (case, rule, sorted(listed))
        else:
            assert (case, rule) not in listed, (case, rule)
    if as_of >= "2026-05-02":  # the three-month follow-up gave way to the urgent one
        assert ("VR-2025-0104", "referred-three-months-without-provider") not in listed
    rebuilt = run([*args, "--rebuild"])
    assert rebuilt.code == 0 and rebuilt.json()["items"] == kept.json()["items"], rebuilt.err
    checked = run(["audit", "due", "--store", str(store), "--as-of", as_of, "--json"])
    assert checked.code == 0 and checked.json()["ok"], checked.out + checked.err
    assert checked.json()["listed"] == checked.json()["expected"] == len(listed)


PAST_CASES = """\
cases:
  - case_ref: PAST-1
    opened_on: 2025-11-03
    steps:
      - record: work_status_changed
        payload: {status: absent, effective_on: 2025-06-02, off_work_since: 2025-06-01}
"""


def test_a_kept_position_past_the_end_of_the_log_is_a_damaged_list(files: Files) -> None:
    store = files.store_copy("due-past.db")
    with closing(sqlite3.connect(store)) as db:  # as a hand edit (or a list copied from elsewhere) leaves it
        db.execute("UPDATE stored_events_due_state SET position = 9999")
        db.commit()
    cases = files.tmp / "past-cases.yaml"
    cases.write_text(PAST_CASES)
    assert run(["import", str(cases), "--store", str(store)]).code == 0
    as_of = ["--as-of", "2026-02-02"]
    checked = run(["audit", "due", "--store", str(store), *as_of])
    assert checked.code == 1 and "PAST THE END OF THE LOG" in checked.out, checked.out + checked.err
    document = run(["audit", "due", "--store", str(store), *as_of, "--json"]).json()
    assert not document["ok"] and document["position"] == 9999 > document["store_position"]
    assert any("past the log's last position" in p for p in document["problems"]), document["problems"]
    assert "PAST-1" in {i["case"] for i in document["missing"]}  # the new case never reached the list
    shown = run(["due", "--store", str(store), *as_of, "--json"])  # writable: built again, and said
    assert shown.code == 0 and shown.json()["rebuilt"], shown.err
    assert "past the log's last position" in shown.json()["rebuild_reason"]
    assert "past the log's last position" in shown.err
    assert "PAST-1" in {i["case"] for i in shown.json()["items"]}
    again = run(["audit", "due", "--store", str(store), *as_of, "--json"]).json()
    assert again["ok"] and again["position"] == again["store_position"], again


def test_audit_due_without_a_kept_list_is_a_finding(files: Files) -> None:
    store = _without_due_list(files.store_copy("due-none.db"))
    ran = run(["audit", "due", "--store", str(store), "--as-of", "2026-02-02"])
    assert ran.code == 1 and "keeps no due list" in ran.out, ran.out + ran.err
    assert ran.error_lines[0].startswith("error[due_list_differs]: ")


def test_due_lists_items_by_due_date_with_days_overdue_or_left(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[Any, ...]] = []

    def due(
        self: CaseRecords,
        as_of: date,
        within: int = 0,
        *,
        rebuild: bool = False,
        progress: Any = None,
        workers: Any = None,
    ) -> list[DueItem]:
        asked.append((as_of, within, rebuild))
        return sorted(ITEMS)

    monkeypatch.setattr(CaseRecords, "due", due)
    store = _without_due_list(files.store_copy("due-listed.db"))  # so that it is worked out
    args = ["due", "--store", str(store), "--as-of", "2026-01-15", "--within", "7"]
    ran = run(args)
    assert ran.code == 0, ran.err
    assert asked == [(date(2026, 1, 15), 7, False)]
    lines = ran.out.splitlines()
    assert "1 overdue, 2 coming" in lines[0]
    header = lines[1]
    for column in ("due", "overdue / left", "case", "family", "rule", "reference", "what to do"):
        assert column in header
    rows = [line for line in lines[2:] if line.strip()]
    assert [row.split()[0] for row in rows] == ["2026-01-05", "2026-01-15", "2026-01-20"]
    assert "10 days overdue" in rows[0] and "due today" in rows[1] and "5 days left" in rows[2]
    assert "alert-due" in rows[0] and "RCW 51.32.096" in rows[2]
    document = run([*args, "--json"]).json()
    jsonschema.validate(document, cli_json_schemas()["due.schema.json"])
    assert [i["due_on"] for i in document["items"]] == ["2026-01-05", "2026-01-15", "2026-01-20"]
    assert (document["overdue"], document["coming"]) == (1, 2)
    assert document["items"][0]["days_overdue"] == 10 and document["items"][2]["days_left"] == 5


def test_nothing_due_says_so(files: Files) -> None:
    ran = run(["due", "--store", str(files.store), "--as-of", "2026-02-02"])
    assert ran.code == 0 and ran.out.strip(), ran.err


@pytest.fixture
def corrected_store(tmp_path: Path) -> Path:
    """A decision as of 3 November, then an event recorded later saying the worker had been off
    work since 1 July: a correction that turns 'no alert' into an alert."""
    path = tmp_path / "corrected.db"
    with CaseRecords(path, SPECS) as records:
        records.open_case("C-9", date(2025, 11, 3))
        records.record(
            "C-9",
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-11-03", "off_work_since": "2025-08-04"},
        )
        records.decide("C-9", "early-intervention", as_of=date(2025, 11, 3))
        records.record(
            "C-9",
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-11-03", "off_work_since": "2025-07-01"},
        )
    return path


def test_audit_corrections_lists_the_decision_a_correction_changes(corrected_store: Path) -> None:
    before = _digest(corrected_store)
    ran = run(["audit", "corrections", "--store", str(corrected_store)])
    assert ran.code == 0, ran.err  # a list of corrections is information, not a failure
    assert "decisions changed by corrections: 1" in ran.out
    assert "C-9 event 3: early-intervention as of 2025-11-03" in ran.out
    assert "No alert" in ran.out and "Alert" in ran.out and "{'" not in ran.out
    assert "by event 4 work_status_changed" in ran.out
    document = run(["audit", "corrections", "C-9", "--store", str(corrected_store), "--json"]).json()
    jsonschema.validate(document, cli_json_schemas()["audit-corrections.schema.json"])
    [changed] = document["changed"]
    assert changed["then"]["outcome"]["verdict"] == "no_alert"  # with the date the alert falls due
    assert changed["then"]["text"] == wording.outcome_text(changed["then"]["outcome"])
    assert changed["corrected"]["outcome"]["verdict"] == "alert"
    assert [c["event"] for c in changed["corrections"]] == [4]
    assert _digest(corrected_store) == before


def test_audit_case_shows_the_rules_fired_and_the_facts(files: Files) -> None:
    ran = run(["audit", "case", "VR-2025-0102", "--store", str(files.store)])
    assert ran.code == 0, ran.err
    assert "facts:" in ran.out and "    - " in ran.out
    assert "{'" not in ran.out and "decision tier_assigned" not in ran.out
    document = run(["audit", "case", "VR-2025-0102", "--store", str(files.store), "--json"]).json()
    for row in document["decisions"]:
        for fired in row["fired"]:
            assert f"- {fired['rule_id']}: " in ran.out
        assert wording.outcome_text(row["outcome"]) in ran.out


OUTCOMES: list[Any] = [
    None,
    {},
    {
        "decision": "tier_assigned",
        "tier": 2,
        "focus": "targeted_assessment_and_recommendations",
        "max_months": 6,
    },
    {"verdict": "refused", "cap": "19802.63", "cap_provisional": False},
    {"verdict": "violation", "findings": [{"finding": "plan_late"}]},
]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_the_cli_outcome_formatter_is_the_librarys(outcome: Any) -> None:
    assert output.outcome_text(outcome) == wording.outcome_text(outcome)


@pytest.mark.parametrize(
    "args",
    [
        ["cases", "--store", "{store}"],
        ["case", "show", "VR-2025-0102", "--store", "{store}"],
        ["decide", "VR-2025-0102", "tiers", "--store", "{store}", "--dry-run"],
        ["audit", "case", "VR-2025-0102", "--store", "{store}"],
        ["replay", "--store", "{store}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_no_command_shows_an_outcome_as_code(files: Files, args: list[str]) -> None:
    ran = run(files.fill(args))
    assert ran.code == 0, ran.err
    for code_text in ("{'", "decision tier_assigned", "tier 2;", "verdict on_time"):
        assert code_text not in ran.out, code_text


def test_demo_shows_a_due_list(files: Files, tmp_path: Path) -> None:
    ran = run(["demo", "--store", str(tmp_path / "my demo.db")])  # a name the shell must have quoted
    assert ran.code in (0, 1), ran.err
    assert "due list       as of 2026-02-02, the cases' latest date, and 14 days on: " in ran.out
    assert "the full list: vrrules due --as-of 2026-02-02 --within 14" in ran.out
    assert "tiers: Tier 2" in ran.out  # outcomes counted by the formatter's words
    # each command the demo prints runs as printed (the due hint said '--store (below)')
    lines = ran.out.splitlines()
    printed = [line.split(": ", 1)[1] for line in lines if "the full list: vrrules " in line]
    printed += [line.split("with: ", 1)[1].rstrip(")") for line in lines if "again with: " in line]
    assert len(printed) == 2
    for command in printed:
        words = shlex.split(command)
        assert words[0] == "vrrules" and "(below)" not in command, command
        assert run(words[1:]).code == 0, command
    document = json.loads(run(["demo", "--store", str(tmp_path / "e.db"), "--json"]).out)
    assert document["due"]["as_of"] == "2026-02-02" and document["due"]["within"] == 14


def test_demo_due_table_stays_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CaseRecords, "due", lambda self, as_of, within=0, **_: sorted(ITEMS))
    ran = run(["demo", "--store", str(tmp_path / "d.db")])
    assert ran.code in (0, 1), ran.err
    block = ran.out.split("due list       ")[1].split("the full list")[0]
    assert "1 overdue, 2 coming" in block and "alert-due" in block and "10 days overdue" in block
    assert all(len(line) < 100 for line in block.splitlines())
