"""vrrules diff: rule-by-rule and value-by-value changes in words, and their effect on past decisions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import CaseRecords, PolicyLibrary
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.specdiff import spec_diff


def _copy(tmp_path: Path, family: str) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SPECS / family, old / family)
    shutil.copytree(SPECS / family, new / family)
    return old, new


def test_diff_names_each_change_and_the_decisions_it_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _copy(tmp_path, "tiers")
    spec = new / "tiers" / "2025.1.yaml"
    spec.write_text(spec.read_text().replace("2025-10-01: 4\n", "2025-10-01: 6\n", 1))
    store = tmp_path / "cases.db"
    with CaseRecords(store, old) as records:
        records.open_case("D-1", date(2025, 11, 3))
        records.record(
            "D-1",
            "assessment_completed",
            {
                "assessed_on": "2025-11-10",
                "kind": "initial",
                "depth": "brief",
                "assessor_id": "x",
                "domains_examined": ["health"],
            },
        )
        records.decide("D-1", "tiers")
    assert main(["diff", str(old), str(new), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "parameter tier1_max_weeks from 2025-10-01: was 4 weeks, now 6 weeks" in out
    assert "D-1@3 tiers" in out
    assert "recorded: Tier 1 (advice information signposting), up to 4 weeks" in out
    assert "now:      Tier 1 (advice information signposting), up to 6 weeks" in out
    assert "{'" not in out and "None ->" not in out and " -> " not in out
    assert main(["diff", str(old), str(old)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_a_new_dated_money_value_reads_was_not_set_now_dollars(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "retraining-fund-cap")
    spec = new / "retraining-fund-cap" / "2015.1.yaml"
    text = spec.read_text()
    start = text.index("retraining_fund_cap:")
    values = text.index("values:", start) + len("values:\n")
    indent = text[values:].split("2", 1)[0]
    spec.write_text(f'{text[:values]}{indent}2040-07-01: "20602.65"\n{text[values:]}')
    lines = spec_diff(
        PolicyLibrary(old, case_sources=CASE_SOURCES), PolicyLibrary(new, case_sources=CASE_SOURCES)
    )
    assert "  parameter retraining_fund_cap from 2040-07-01: was not set, now $20,602.65" in lines, lines
    assert not any("None" in line or "->" in line for line in lines)


def test_rule_outcome_and_fact_changes_are_named_in_words(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "tiers")
    spec = new / "tiers" / "2025.1.yaml"
    spec.write_text(spec.read_text().replace("scope: information_only", "scope: information_and_advice", 1))
    lines = spec_diff(
        PolicyLibrary(old, case_sources=CASE_SOURCES), PolicyLibrary(new, case_sources=CASE_SOURCES)
    )
    assert (
        "  rule tier-1-advice-and-signposting: outcome scope was information only, now information and advice"
        in lines
    ), lines
