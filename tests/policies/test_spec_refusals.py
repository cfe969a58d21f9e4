"""One malformed spec per refusal: each gives its code, its location and the words that help."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SPECS
from tests.system.test_errors_doc import ROOT, diagnostic_codes
from vrrules import PolicyLibrary, SpecInvalidError, SpecSource
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.compiler import compile_source, lint_source

BAD = Path(__file__).parent.parent / "bad_specs"
POLICIES = ROOT / "vrrules" / "policies"
FIXTURES = sorted(BAD.glob("*.yaml"))
# found only by the lint stage, which deciding and replaying never run
LINT_CODES = {"rule_never_fires", "rules_conflict", "rules_incomplete"}


def _expected_words(path: Path) -> list[str]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# words: "), f"{path.name} must start with '# words: a | b'"
    return [w.strip() for w in first.removeprefix("# words: ").split("|")]


def _index_of(path: Path, rule_id: str) -> int:
    ids = [line.strip().removeprefix("- id: ") for line in path.read_text().splitlines() if "- id: " in line]
    return ids.index(rule_id)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_bad_spec_is_refused_with_its_code_location_and_words(path: Path) -> None:
    # each problem is refused by the stage that owns it: load, check, or (vrrules check) lint
    compiled, diagnostics = lint_source(SpecSource(path.read_text(), str(path)), CASE_SOURCES)
    _, without_lint = compile_source(SpecSource(path.read_text(), str(path)), CASE_SOURCES)
    owned_by_lint = path.stem in LINT_CODES
    assert any(d.code == path.stem for d in without_lint) != owned_by_lint
    matching = [d for d in diagnostics if d.code == path.stem]
    assert matching, f"expected code {path.stem}, got {[d.code for d in diagnostics]}"
    # an error refuses the spec; a warning (a rule that never fires) lets it load
    assert (compiled is None) == (matching[0].severity == "error")
    text = str(matching[0])
    assert path.name in text
    assert matching[0].line is not None
    if matching[0].rule is not None and matching[0].field in (
        None,
        f"rules.{_index_of(path, matching[0].rule)}",
    ):
        lines = path.read_text().splitlines()
        assert lines[matching[0].line - 1].strip() == f"- id: {matching[0].rule}"
    for word in _expected_words(path):
        assert word in text, f"{word!r} missing from: {text}"


def test_the_whole_folder_reports_every_problem_at_once(tmp_path: Path) -> None:
    for path in FIXTURES[:5]:
        (tmp_path / path.name).write_text(path.read_text())
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path, case_sources=CASE_SOURCES, lint=True)
    files = {Path(d.file).name for d in caught.value.diagnostics}
    assert files == {p.name for p in FIXTURES[:5]}
    assert isinstance(caught.value, ValueError)


def test_every_diagnostic_code_has_a_fixture_or_a_test() -> None:
    covered = {p.stem for p in FIXTURES} | {
        "version_duplicate",
        "version_overlap",
        # across files, shown by the tests below: no single fixture can show them
        "version_gap",
        "spec_file_misnamed",
        "family_folder_mismatch",
        "ruleset_too_large",
        "facts_too_many",
        "specs_folder_missing",
        "spec_unreadable",
        "file_not_regular",  # tests/policies/test_spec_files.py: a device, a pipe, a folder
        "file_too_large",
        "yaml_key_invalid",
        "fact_value_invalid",
        "rate_table_invalid",
        "table_period_gap",
        "parameter_value_gap",
        "fact_values_unexpected",
        "example_invalid",
        "lint_inconclusive",  # tests/policies/test_lint.py forces it with a tiny budget
        "invariant_broken",  # tests/policies/test_invariants.py breaks one on purpose
    }
    # the spec pipeline's codes (the command line's own codes are tested in tests/cli)
    assert diagnostic_codes(POLICIES) <= covered


def _sample_spec(version: str, start: str, until: str | None = None) -> str:
    text = (
        (FIXTURES[0].parent / "spec_field_invalid.yaml")
        .read_text()
        .replace("hit_policy: sometimes", "hit_policy: first")
    )
    text = text.replace('version: "1"', f'version: "{version}"').replace(
        "effective_from: 2025-10-01",
        f"effective_from: {start}" + (f"\neffective_until: {until}" if until else ""),
    )
    return text


def test_overlapping_versions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01"))
    (tmp_path / "b.yaml").write_text(_sample_spec("2", "2026-01-01"))
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    assert caught.value.codes == ["version_overlap"]
    assert "end 1 the day before 2026-01-01" in str(caught.value)
    (problem,) = caught.value.diagnostics
    assert problem.line is not None  # open-ended: the line of its effective_from
    assert (tmp_path / "a.yaml").read_text().splitlines()[problem.line - 1].startswith("effective_from:")


def test_duplicate_version_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-31"))
    (tmp_path / "b.yaml").write_text(_sample_spec("1", "2026-01-01"))
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    assert caught.value.codes == ["version_duplicate"]


def test_adjacent_versions_load(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-31"))
    (tmp_path / "b.yaml").write_text(_sample_spec("2", "2026-01-01"))
    library = PolicyLibrary(tmp_path)
    assert [c.version for c in library.versions("sample")] == ["1", "2"]


def test_a_gap_between_versions_is_refused_with_the_days_no_version_covers(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-31"))
    (tmp_path / "b.yaml").write_text(_sample_spec("2", "2026-02-01"))
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.field) == ("version_gap", "effective_until")
    assert problem.file == str(tmp_path / "a.yaml")
    assert "1 ends 2025-12-31, but 2 starts 2026-02-01" in problem.message
    assert "no version is in force on 2026-01-01 to 2026-01-31" in problem.message
    assert problem.hint == "end 1 on 2026-01-31, or start 2 on 2026-01-01"
    assert problem.line is not None
    assert (tmp_path / "a.yaml").read_text().splitlines()[problem.line - 1].startswith("effective_until:")
    with pytest.raises(SpecInvalidError) as caught:  # the versions published in a store too
        PolicyLibrary.from_sources(SpecSource(p.read_text(), str(p)) for p in sorted(tmp_path.iterdir()))
    assert caught.value.codes == ["version_gap"]


def test_a_one_day_gap_is_named_and_a_gap_another_version_covers_is_not(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-30"))
    (tmp_path / "b.yaml").write_text(_sample_spec("2", "2026-01-01"))
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    assert caught.value.codes == ["version_gap"]
    assert "in force on 2025-12-31 (a decision" in str(caught.value)
    # 1 runs past 2's end and 3's start: they overlap, and no day is left uncovered
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01", "2027-12-31"))
    (tmp_path / "b.yaml").write_text(_sample_spec("2", "2026-01-01", "2026-06-30"))
    (tmp_path / "c.yaml").write_text(_sample_spec("3", "2027-01-01"))
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    assert set(caught.value.codes) == {"version_overlap"}


@pytest.mark.parametrize("name", ["2025.1.yml", "2025.1.YAML", "examples.yml"])
def test_a_yaml_file_not_named_dot_yaml_is_refused_not_passed_over(tmp_path: Path, name: str) -> None:
    family = tmp_path / "sample"
    family.mkdir()
    (family / name).write_text(_sample_spec("1", "2025-10-01"))
    (family / "notes.txt").write_text("not YAML: left alone")
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.file) == ("spec_file_misnamed", str(family / name))
    assert f"got {name!r}, which would be passed over" in problem.message
    assert problem.hint == f"rename it to {Path(name).stem + '.yaml'!r}"


def test_a_misnamed_file_added_later_is_refused_by_refresh(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_sample_spec("1", "2025-10-01"))
    library = PolicyLibrary(tmp_path)
    (tmp_path / "b.yml").write_text(_sample_spec("2", "2026-01-01"))
    with pytest.raises(SpecInvalidError) as caught:
        library.refresh()
    assert caught.value.codes == ["spec_file_misnamed"]
    with pytest.raises(SpecInvalidError):
        library.refresh()  # still there: still refused, though no spec file changed
    (tmp_path / "b.yml").unlink()
    library.refresh()
    assert [c.version for c in library.versions("sample")] == ["1"]


def test_a_spec_whose_family_is_not_its_folders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sample").mkdir()
    (tmp_path / "tiers").mkdir()
    (tmp_path / "sample" / "1.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-31"))
    misplaced = tmp_path / "tiers" / "2.yaml"
    misplaced.write_text(_sample_spec("2", "2025-11-01"))  # would overlap 1 if it were taken as sample
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.file, problem.field) == ("family_folder_mismatch", str(misplaced), "family")
    assert "expected the family of the folder the file sits in ('tiers'), got family 'sample'" in str(problem)
    assert problem.line is not None
    assert misplaced.read_text().splitlines()[problem.line - 1] == "family: sample"
    assert "move the file to a folder named 'sample'" in (problem.hint or "")
    # a file directly in the folder given (tests/bad_specs, specs/tiers) names no family folder
    assert PolicyLibrary(tmp_path / "tiers").families() == ["sample"]


def test_too_many_rules_for_the_engine_are_refused() -> None:
    text = _sample_spec("1", "2025-10-01")
    head, rule = text.split("rules:\n")
    rules = "".join(rule.replace("id: high", f"id: r{i}") for i in range(401))
    compiled, diagnostics = compile_source(SpecSource(head + "rules:\n" + rules, "big.yaml"))
    assert compiled is None
    assert [d.code for d in diagnostics] == ["ruleset_too_large"]


def test_too_many_engine_properties_are_refused() -> None:
    codes = ", ".join(f"c{i}" for i in range(260))
    text = _sample_spec("1", "2025-10-01").replace(
        "    values: [small, large]",
        f"    values: [small, large]\n  many:\n    type: set\n    description: many\n    values: [{codes}]",
    )
    compiled, diagnostics = compile_source(SpecSource(text, "wide.yaml"))
    assert compiled is None and [d.code for d in diagnostics] == ["facts_too_many"]


def test_gaps_in_dated_values_are_warnings_that_check_prints(capsys: pytest.CaptureFixture[str]) -> None:
    from vrrules.cli import main  # noqa: PLC0415

    library = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
    codes = sorted(w.code for w in library.warnings)
    assert codes == ["parameter_value_gap", "table_period_gap"]  # the 2016-17 cap, the 2019-24 rates
    assert main(["check", str(SPECS)]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "2016-07-01" in out and "2 warning(s)" in out
