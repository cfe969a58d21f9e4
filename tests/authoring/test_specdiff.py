"""vrrules diff: rule-by-rule and value-by-value changes, and their effect on past decisions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import CaseRecords
from vrrules.cli import main


def test_diff_names_each_change_and_the_decisions_it_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SPECS / "tiers", old / "tiers")
    shutil.copytree(SPECS / "tiers", new / "tiers")
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
    assert "parameter tier1_max_weeks from 2025-10-01: 4 -> 6" in out
    assert "D-1@3 tiers" in out and "'max_weeks': 4" in out and "'max_weeks': 6" in out
    assert main(["diff", str(old), str(old)]) == 0
    assert "no changes" in capsys.readouterr().out
