"""The vrrules command as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import click
import pytest

from tests.cli.conftest import Files, Ran, assert_clean_failure, run
from tests.conftest import SPECS
from vrrules import PolicyLibrary
from vrrules.cli import app, cli, main
from vrrules.events.importer import iter_decide_steps, load_case_file
from vrrules.samples import SAMPLE_CASES

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Ran]:
    store = tmp_path_factory.mktemp("demo") / "demo.db"
    return store, run(["demo", "--store", str(store)])


def test_demo_records_replays_and_summarises(demo: tuple[Path, Ran]) -> None:
    store, ran = demo
    assert ran.code == 0, ran.err
    out = ran.out
    steps = sum(1 for _ in iter_decide_steps(load_case_file(SAMPLE_CASES)))
    cases = len(load_case_file(SAMPLE_CASES).cases)
    undecided = int(out.split("not decided    ")[1].split()[0]) if "not decided" in out else 0
    assert f"cases          {cases}\n" in out
    assert f"decisions      {steps - undecided}\n" in out
    assert f"reproduced     {steps - undecided}\n" in out
    assert "differences    0" in out and "time taken" in out
    assert str(store.resolve()) in out and store.exists()


def test_demo_sample_cases_exercise_every_family(demo: tuple[Path, Ran]) -> None:
    out = demo[1].out
    for family in PolicyLibrary(SPECS).families():
        assert f"  {family}: " in out or f" {family}: [parameter_missing]" in out, family


def test_demo_shows_not_decided_as_expected_information(demo: tuple[Path, Ran]) -> None:
    store, ran = demo
    out = ran.out
    block = out.split("not decided    ")[1].split("Store: ")[0]
    assert "expected" in block.splitlines()[0]
    # short lines, but for those naming the store as given (a path of any length)
    assert all(len(line) < 100 for line in out.splitlines() if str(store) not in line)
    assert str(SPECS) not in block and "specs/" in block  # relative paths, short reasons
    assert demo[1].err == ""  # nothing on stderr when all is well (no progress off a terminal)


def test_demo_refuses_to_overwrite_a_store_it_did_not_make(tmp_path: Path) -> None:
    store = tmp_path / "precious.db"
    store.write_text("keep me")
    assert main(["demo", "--store", str(store)]) == 2
    assert store.read_text() == "keep me"


def test_demo_refuses_to_replace_its_own_store_without_replace(demo: tuple[Path, Ran]) -> None:
    store = demo[0]
    before = store.read_bytes()
    assert_clean_failure(run(["demo", "--store", str(store)]), 2, "store_exists")
    assert store.read_bytes() == before


def test_demo_checks_its_case_file_before_it_touches_the_store(tmp_path: Path) -> None:
    store = tmp_path / "kept.db"
    assert run(["demo", "--store", str(store)]).code in (0, 1) and store.exists()  # 1: see the replay tests
    before = store.read_bytes()
    typo = tmp_path / "typo.yaml"
    typo.write_text("cases:\n  - case_ref: X\n    opened_on: 2025-13-01\n    steps: []\n")
    for cases in (str(typo), str(tmp_path / "nope.yaml")):
        ran = run(["demo", "--replace", "--cases", cases, "--store", str(store)])
        assert ran.code in (2, 3) and "Traceback" not in ran.err
        assert store.read_bytes() == before
    bad_specs = tmp_path / "bad-specs"
    bad_specs.mkdir()
    (bad_specs / "bad.yaml").write_text("family: [\n")
    ran = run(["--specs", str(bad_specs), "demo", "--replace", "--store", str(store)])
    assert_clean_failure(ran, 3, "spec_invalid")
    assert store.read_bytes() == before


def test_demo_replace_starts_afresh(tmp_path: Path) -> None:
    store = tmp_path / "again.db"
    assert run(["demo", "--store", str(store)]).code == 0
    ran = run(["demo", "--store", str(store), "--replace", "--json"])
    assert ran.code == 0, ran.err
    assert ran.json()["differs"] == 0


def _sqlite_of_something_else(path: Path) -> None:
    import sqlite3  # noqa: PLC0415
    from contextlib import closing  # noqa: PLC0415

    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE kept (x)")
        db.execute("INSERT INTO kept VALUES (1)")
        db.commit()


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("notes.txt", lambda p: p.write_text("a note\n"), "store_not_vrrules"),
        ("README.md", lambda p: p.write_bytes(b"# a readme\n" * 50), "store_not_vrrules"),
        ("other.db", _sqlite_of_something_else, "store_not_vrrules"),
        ("folder", lambda p: p.mkdir(), None),
        ("kept.db-wal", lambda p: p.write_bytes(b"\x37\x7f\x06\x82" + bytes(28)), "store_not_vrrules"),
        ("new.db-wal", lambda p: None, "store_config_invalid"),
        ("new.db-journal", lambda p: None, "store_config_invalid"),
    ],
)
def test_demo_replace_deletes_only_a_vrrules_store(
    tmp_path: Path, name: str, make: object, code: str | None
) -> None:
    target = tmp_path / name
    make(target)  # type: ignore[operator]
    before = sorted((p.name, p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*"))
    ran = run(["demo", "--store", str(target), "--replace"])
    assert ran.code in (2, 3), ran.err
    assert not ran.out, ran.out  # refused before anything is recorded
    assert "Traceback" not in ran.err and len(ran.error_lines) == 1, ran.err
    if code is not None:
        assert ran.error_lines[0].startswith(f"error[{code}]"), ran.err
    assert sorted((p.name, p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*")) == before


def test_replay_json_lists_every_decision(demo: tuple[Path, Ran]) -> None:
    ran = run(["replay", "--store", str(demo[0]), "--json"])
    assert ran.code == 0
    report = json.loads(ran.out)
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


def test_test_fails_on_a_missing_path_and_on_no_examples(tmp_path: Path) -> None:
    assert_clean_failure(run(["test", "/nonexistent"]), 2, "usage")
    assert_clean_failure(run(["test", str(tmp_path)]), 1, "examples_missing")
    assert run(["test", str(SPECS / "tiers")]).code == 0


def test_the_global_specs_is_honoured_by_check_test_handbook_and_facts(files: Files, tmp_path: Path) -> None:
    bad = ["--specs", str(files.bad_specs)]
    assert_clean_failure(run([*bad, "check"]), 1, "spec_invalid")
    assert_clean_failure(run([*bad, "handbook", "--out", str(tmp_path / "h")]), 3, "spec_invalid")
    assert_clean_failure(run([*bad, "facts", "tiers"]), 3, "spec_invalid")
    assert_clean_failure(run(["--specs", str(files.empty_folder), "test"]), 1, "examples_missing")
    tiers = ["--specs", str(SPECS / "tiers")]
    checked = run([*tiers, "check", "--json"]).json()
    assert list(checked["families"]) == ["tiers"]
    assert run([*tiers, "test", "--json"]).json()["root"] == str(SPECS / "tiers")
    assert run([*tiers, "facts", "billing"]).code == 3  # not in that folder
    decided = run([*tiers, "decide", "VR-2025-0102", "tiers", "--store", str(files.store), "--dry-run"])
    assert decided.code == 0, decided.err


def test_help_gives_every_option_help_and_every_command_an_example() -> None:
    def walk(command: object, path: list[str]) -> None:
        assert isinstance(command, click.Command)
        assert command.help and "Example" in command.help, path
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (path, param.name)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, ["vrrules"])
    ran = run(["audit", "verify", "--help"])
    assert ran.code == 0 and "\b" not in ran.out and "Examples:\n    vrrules audit verify" in ran.out


def test_version_comes_from_the_package_metadata() -> None:
    ran = run(["--version"])
    assert ran.code == 0 and ran.out.strip() == f"vrrules {version('vrrules')}"


def test_an_unexpected_exception_is_one_internal_line_and_debug_shows_the_traceback(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> object:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(app, "open_records", explode)
    args = ["replay", "--store", str(files.store)]
    ran = run(args)
    assert_clean_failure(ran, 4, "internal")
    assert "--debug" in ran.error_lines[0]
    debug = run(["--debug", *args])
    assert debug.code == 4 and "Traceback" in debug.err and "ZeroDivisionError: boom" in debug.err
    assert run([*args, "--json"]).json()["error"]["code"] == "internal"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (KeyboardInterrupt(), "interrupted"),
        (OSError(28, "No space left on device", "/full/disk.db"), "disk_full"),
        (OSError(30, "Read-only file system", "/ro/store.db"), "read_only"),
        (PermissionError(13, "Permission denied", "/etc/shadow"), "permission_denied"),
        (RecursionError("maximum recursion depth exceeded"), "input_too_deep"),
        (MemoryError(), "input_too_large"),
    ],
)
def test_environment_failures_are_coded_lines(
    files: Files, monkeypatch: pytest.MonkeyPatch, error: BaseException, code: str
) -> None:
    def fail(*_: object, **__: object) -> object:
        raise error

    monkeypatch.setattr(app, "open_records", fail)
    ran = run(["replay", "--store", str(files.store)])
    assert_clean_failure(ran, 130 if code == "interrupted" else 3, code)
    assert ran.err.count("\n") == 1, ran.err  # the one line, and nothing else


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


def test_installed_console_script_version_and_a_usage_error(tmp_path: Path) -> None:
    script = VENV_BIN / "vrrules"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("vrrules ")
    bad = subprocess.run(
        [str(script), "audit", "case", "X", "--store", "memory", "--as-of", "2026-13-01"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error[usage]: ") and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_installed_console_script_debug_shows_the_traceback_above_the_line(files: Files) -> None:
    script = VENV_BIN / "vrrules"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    args = ["audit", "case", "NOPE-1", "--store", str(files.store)]
    plain = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, check=False)
    assert plain.returncode == 3 and plain.stderr.startswith("error[case_unknown]: ")
    assert "Traceback" not in plain.stderr
    debug = subprocess.run(
        [str(script), "--debug", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert debug.returncode == 3 and debug.stderr.startswith("Traceback")
    assert debug.stderr.rstrip().splitlines()[-1].startswith("error[case_unknown]: ")


def test_verify_bundle_verdict_never_contradicts_the_problems_below_it(files: Files) -> None:
    ran = run(["audit", "verify-bundle", str(files.junk)])
    assert ran.code == 1
    assert "intact and reproduced" not in ran.out and "verdict: NOT verified" in ran.out


def test_the_command_listing_shows_every_command_whole() -> None:
    def walk(group: click.Group) -> None:
        for name, command in group.commands.items():
            assert command.short_help and len(command.short_help) <= 62, name
            if isinstance(command, click.Group):
                walk(command)

    walk(cli)
    for args in (["--help"], ["audit", "--help"], ["case", "--help"]):
        listing = run(args).out.split("Commands:")[1].split("\n\n")[0]
        assert "..." not in listing, listing


def test_ctrl_c_in_a_real_process_is_one_line_and_exit_130(tmp_path: Path) -> None:
    script = VENV_BIN / "vrrules"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    step = (
        "[{record: referral_received, payload: {received_on: 2025-11-03, source: employer}}, {decide: tiers}]"
    )
    cases = "".join(
        f"  - {{case_ref: C-{n:04d}, opened_on: 2025-11-03, steps: {step}}}\n" for n in range(1500)
    )
    (tmp_path / "many.yaml").write_text("cases:\n" + cases)
    store = tmp_path / "many.db"
    running = subprocess.Popen(
        [str(script), "import", "many.yaml", "--store", str(store)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not store.exists() and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the store opens once the case file is read: the command is running
    running.send_signal(signal.SIGINT)
    out, err = running.communicate(timeout=60)
    if running.returncode == 0:
        pytest.skip("the import finished before the interrupt arrived")
    assert running.returncode == 130, err
    assert err == "error[interrupted]: interrupted by the user; what was stored before stays stored\n"
    assert out == ""


@pytest.mark.parametrize("code", ["rules_conflict", "rules_incomplete", "rule_never_fires"])
def test_check_runs_the_rule_analysis(code: str) -> None:
    """Found only by the lint, which a library loaded to decide never runs: check runs it."""
    fixture = Path(__file__).parent.parent / "bad_specs" / f"{code}.yaml"
    ran = run(["check", str(fixture), "--json"])
    document = ran.json()
    assert code in {d["code"] for d in document["diagnostics"]}
    if code == "rule_never_fires":  # a warning: printed, not a refusal
        assert ran.code == 0 and document["ok"], ran.err
    else:
        assert_clean_failure(ran, 1, "spec_invalid")
        assert document["ok"] is False


def test_check_searches_every_invariant_and_validates_every_example() -> None:
    document = run(["check", str(SPECS), "--json"]).json()
    library = PolicyLibrary(SPECS)
    declared = sum(len(c.spec.invariants) for f in library.families() for c in library.versions(f))
    assert document["ok"] is True
    assert document["invariants"] == {"searched": declared, "examples_each": 40, "broken": 0}
    assert document["examples"]["checked"] > 100 and document["examples"]["problems"] == 0
    skipped = run(["check", str(SPECS), "--invariant-examples", "0", "--json"]).json()
    assert skipped["invariants"]["searched"] == 0 and skipped["ok"] is True
