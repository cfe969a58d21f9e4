"""The vrrules command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import PolicyLibrary
from vrrules.cli import main
from vrrules.events.importer import iter_decide_steps, load_case_file
from vrrules.samples import SAMPLE_CASES


def test_demo_records_replays_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "demo.db"
    assert main(["demo", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    steps = sum(1 for _ in iter_decide_steps(load_case_file(SAMPLE_CASES)))
    cases = len(load_case_file(SAMPLE_CASES).cases)
    undecided = int(out.split("not decided    ")[1].split()[0]) if "not decided" in out else 0
    assert f"cases          {cases}\n" in out
    assert f"decisions      {steps - undecided}\n" in out
    assert f"reproduced     {steps - undecided}\n" in out
    assert "differences    0" in out and "time taken" in out
    assert str(store.resolve()) in out and store.exists()


def test_demo_sample_cases_exercise_every_family(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo", "--store", str(tmp_path / "demo.db")])
    out = capsys.readouterr().out
    for family in PolicyLibrary(SPECS).families():
        assert f"  {family}: " in out or f" {family}: [parameter_missing]" in out, family


def test_demo_refuses_to_overwrite_a_store_it_did_not_make(tmp_path: Path) -> None:
    store = tmp_path / "precious.db"
    store.write_text("keep me")
    assert main(["demo", "--store", str(store)]) == 2
    assert store.read_text() == "keep me"


def test_replay_json_lists_every_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "demo.db"
    main(["demo", "--store", str(store)])
    capsys.readouterr()
    assert main(["replay", "--store", str(store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["decisions"] == report["reproduced"] == len(report["results"]) > 0


def test_check_reports_problems_with_their_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(SPECS)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text((Path(__file__).parent.parent / "bad_specs" / "condition_fact_unknown.yaml").read_text())
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "condition_fact_unknown" in err and "levle" in err


def test_console_script_runs_from_another_folder(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "vrrules.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "vrrules-demo.db").exists()
