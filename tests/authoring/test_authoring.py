"""Authors' tools: example runs with coverage, and JSON Schemas an editor can use."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SPECS
from vrrules.authoring import check_examples, check_library, json_schemas, known_error_codes, run_examples
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.library import PolicyLibrary, is_example_file, spec_files
from vrrules.policies.yamlsource import read_yaml

SCHEMAS = json_schemas()


def _data(path: Path) -> object:
    document, problems = read_yaml(path.read_text(), str(path))
    assert document is not None and not problems
    return document.data


@pytest.mark.parametrize("path", spec_files(SPECS), ids=lambda p: p.parent.name)
def test_every_shipped_spec_validates_against_the_schema(path: Path) -> None:
    jsonschema.validate(_data(path), SCHEMAS["vrrules-spec.schema.json"])


@pytest.mark.parametrize(
    "path", sorted(p for p in SPECS.rglob("*.yaml") if is_example_file(p)), ids=lambda p: p.parent.name
)
def test_every_shipped_example_file_validates_against_the_schema(path: Path) -> None:
    jsonschema.validate(_data(path), SCHEMAS["vrrules-examples.schema.json"])


# What JSON Schema cannot say: it validates one value against a shape, and these mistakes relate
# values across the file (a name to its declaration, a value to its fact's type, one date to
# another, one rule to the others). `vrrules check` reports each of them.
CROSS_FIELD = {
    "condition_fact_unknown",
    "condition_operator_mismatch",
    "condition_value_mismatch",
    "derivation_invalid",
    "effective_period_invalid",
    "parameter_unknown",
    "rule_duplicate_id",
    "rule_never_fires",
    "rules_conflict",
    "rules_incomplete",
    "table_periods_invalid",
}
BAD_SPECS = sorted((Path(__file__).parent.parent / "bad_specs").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD_SPECS, ids=lambda p: p.stem)
def test_the_schema_rejects_every_broken_spec_it_can_express(path: Path) -> None:
    document, problems = read_yaml(path.read_text(), str(path))
    if document is None or problems:
        assert path.stem.startswith(("yaml_", "spec_not")), "only YAML-level mistakes stop the reader"
        return  # the YAML itself is refused (as a YAML-aware editor shows it) before any schema
    validator = jsonschema.Draft202012Validator(SCHEMAS["vrrules-spec.schema.json"])
    rejected = any(True for _ in validator.iter_errors(document.data))
    assert rejected == (path.stem not in CROSS_FIELD), (
        f"{path.stem}: the schema {'rejects' if rejected else 'accepts'} it; "
        f"CROSS_FIELD should list exactly the fixtures a JSON Schema cannot reject"
    )


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_coverage_names_the_rules_no_example_fires(tmp_path: Path) -> None:
    family = tmp_path / "tiers"
    family.mkdir()
    (family / "2025.1.yaml").write_text((SPECS / "tiers" / "2025.1.yaml").read_text())
    (family / "examples.yaml").write_text("""family: tiers
examples:
  - name: only tier 1
    at: 2025-11-10
    given: {assessment_completed: true}
    expect: {outcome: {tier: 1}}
""")
    run = run_examples(tmp_path)
    assert not run.failed
    assert run.uncovered() == {
        "tiers 2025.1": [
            "initial-assessment-first",
            "tier-3-integrated-intervention",
            "tier-3-multi-layered-needs",
            "tier-2-targeted-assessment",
        ]
    }
    assert "rule coverage 1/5" in run.report()
    # each uncovered rule comes with facts to write its example from, and they do fire it
    library = PolicyLibrary(family, case_sources=CASE_SOURCES)
    on = date(2025, 11, 10)
    for rule in run.uncovered()["tiers 2025.1"]:
        facts = run.suggestions["tiers 2025.1"][rule]
        assert f"{rule} fires on e.g." in run.report()
        assert library.in_force("tiers", on).decide(facts, on).fired_rule_ids == (rule,)


def test_vrrules_test_command_fails_on_a_wrong_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family = tmp_path / "tiers"
    family.mkdir()
    (family / "2025.1.yaml").write_text((SPECS / "tiers" / "2025.1.yaml").read_text())
    (family / "examples.yaml").write_text("""family: tiers
examples:
  - name: wrong
    at: 2025-11-10
    given: {assessment_completed: true}
    expect: {outcome: {tier: 2}}
""")
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "outcome.tier: expected 2, got 1" in out and "0 passed, 1 failed" in out
    assert main(["test", str(SPECS)]) == 0


TIER_1_ONLY = """family: tiers
examples:
  - name: only tier 1
    at: 2025-11-10
    given: {assessment_completed: true}
    expect: {outcome: {tier: 1}, fired: [tier-1-advice-and-signposting]}
"""


def _two_versions(folder: Path) -> Path:
    """tiers 2025.1, ended, and a copy of it as 2026.1 from 2026-01-01 (the same rule ids)."""
    folder.mkdir()
    text = (SPECS / "tiers" / "2025.1.yaml").read_text()
    ended = text.replace(
        "effective_from: 2025-10-01\n", "effective_from: 2025-10-01\neffective_until: 2025-12-31\n", 1
    )
    copied = text.replace('version: "2025.1"', 'version: "2026.1"', 1).replace(
        "effective_from: 2025-10-01", "effective_from: 2026-01-01", 1
    )
    (folder / "2025.1.yaml").write_text(ended)
    (folder / "2026.1.yaml").write_text(copied)
    return folder


def test_coverage_is_per_version_so_a_copied_version_earns_nothing(tmp_path: Path) -> None:
    family = _two_versions(tmp_path / "tiers")
    (family / "examples.yaml").write_text(TIER_1_ONLY)
    run = run_examples(tmp_path)
    assert not run.failed
    copied = [r.id for r in PolicyLibrary(family).versions("tiers")[1].spec.rules]
    assert run.uncovered()["tiers 2026.1"] == copied  # no example runs on 2026.1
    assert "tier-1-advice-and-signposting" not in run.uncovered()["tiers 2025.1"]
    total = 2 * len(copied)
    assert f"rule coverage 1/{total}" in run.report()


def test_check_examples_names_unknown_facts_rules_and_codes_with_their_place(tmp_path: Path) -> None:
    family = tmp_path / "tiers"
    family.mkdir()
    (family / "2025.1.yaml").write_text((SPECS / "tiers" / "2025.1.yaml").read_text())
    (family / "examples.yaml").write_text("""family: tiers
examples:
  - name: a misspelt fact
    at: 2025-11-10
    given: {assessment_complete: true}
    expect: {outcome: {tier: 1}}
  - name: a rule that does not exist
    at: 2025-11-10
    given: {assessment_completed: true}
    expect: {fired: [tier-one]}
  - name: an error vrrules never raises
    at: 2025-11-10
    given: {assessment_completed: true}
    expect_error: tier_exploded
  - name: an unknown fact is fine where a refusal is expected
    at: 2025-11-10
    given: {salary: 3}
    expect_error: facts_invalid
""")
    checked, found = check_examples(check_library(tmp_path, case_sources=CASE_SOURCES))
    assert checked == 4
    by_code = {d.code: d for d in found}
    assert sorted(by_code) == ["example_error_unknown", "example_fact_unknown", "example_rule_unknown"]
    assert (
        by_code["example_fact_unknown"].line == 5
        and "assessment_complete" in by_code["example_fact_unknown"].message
    )
    assert by_code["example_fact_unknown"].field == "examples.0.given.assessment_complete"
    assert by_code["example_rule_unknown"].line == 10 and by_code["example_rule_unknown"].rule == "tier-one"
    assert by_code["example_error_unknown"].line == 14
    assert all(d.file.endswith("examples.yaml") and d.severity == "error" for d in found)


NESTED_CODES = """family: purchases-and-ojt
examples:
  - name: signatures as a list of lists
    at: 2025-09-01
    given: {ojt_planned: true, ojt_signatures: [[worker]]}
    expect: {fired: [ojt-all-signatures]}
  - name: signatures as a list of mappings
    at: 2025-09-01
    given: {ojt_planned: true, ojt_signatures: [{worker: 1}]}
    expect: {fired: [ojt-all-signatures]}
  - name: a refusal expected may give them
    at: 2025-09-01
    given: {ojt_planned: true, ojt_signatures: [[worker]]}
    expect_error: facts_invalid
"""


def test_check_refuses_an_example_value_its_fact_type_refuses_and_test_runs_it_as_facts_invalid(
    tmp_path: Path,
) -> None:
    family = tmp_path / "purchases-and-ojt"
    shutil.copytree(SPECS / "purchases-and-ojt", family)
    (family / "examples.yaml").write_text(NESTED_CODES)
    checked, found = check_examples(check_library(tmp_path, case_sources=CASE_SOURCES))
    assert checked == 3
    assert [(d.code, d.line, d.field) for d in found] == [
        ("example_fact_invalid", 5, "examples.0.given.ojt_signatures"),
        ("example_fact_invalid", 9, "examples.1.given.ojt_signatures"),
    ]
    assert "'ojt_signatures' expected each element a code" in found[0].message
    assert "got ['worker'] (list)" in found[0].message and "(dict)" in found[1].message
    run = run_examples(tmp_path)  # once a TypeError (unhashable) stopped the run
    results = {result.example.name: result for _, result in run.results}
    assert not results["signatures as a list of lists"].passed
    assert "[facts_invalid]" in results["signatures as a list of lists"].problems[0]
    assert results["a refusal expected may give them"].passed


def test_check_examples_refuses_a_file_of_an_unknown_family(tmp_path: Path) -> None:
    (tmp_path / "2025.1.yaml").write_text((SPECS / "tiers" / "2025.1.yaml").read_text())
    (tmp_path / "examples.yaml").write_text(TIER_1_ONLY.replace("family: tiers", "family: teirs"))
    _, found = check_examples(check_library(tmp_path, case_sources=CASE_SOURCES))
    assert [(d.code, d.line) for d in found] == [("example_family_unknown", 1)]


def test_the_shipped_examples_fit_their_specs() -> None:
    checked, found = check_examples(check_library(SPECS, case_sources=CASE_SOURCES))
    assert checked > 100 and not found, [str(d) for d in found]


def test_known_error_codes_are_the_library_errors() -> None:
    codes = known_error_codes()
    assert {"facts_invalid", "parameter_missing", "policy_not_in_force", "rules_conflict"} <= codes
    assert "vrrules_error" not in codes and "usage" not in codes


def test_vrrules_check_fails_on_a_broken_invariant_and_on_misfit_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family = tmp_path / "tiers"
    family.mkdir()
    text = (SPECS / "tiers" / "2025.1.yaml").read_text()
    rule = text.index("id: tier-3-integrated-intervention")
    slip = text.index("tier: 3", rule)
    (family / "2025.1.yaml").write_text(text[:slip] + "tier: 1" + text[slip + 7 :])
    assert main(["check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert (
        captured.err.startswith("error[invariant_broken]: ") and "tier-3-work-is-never-tier-1" in captured.err
    )
    assert "2025.1.yaml:" in captured.out
    (family / "2025.1.yaml").write_text(text)
    (family / "examples.yaml").write_text(TIER_1_ONLY.replace("tier-1-advice-and-signposting", "tier-zero"))
    assert main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("error[example_rule_unknown]: ")
    assert main(["check", str(tmp_path), "--invariant-examples", "0"]) == 1  # the examples still count
    (family / "examples.yaml").write_text(TIER_1_ONLY)
    assert main(["check", str(tmp_path)]) == 0


def test_hidden_examples_files_are_not_run(tmp_path: Path) -> None:
    shutil.copytree(SPECS / "tiers", tmp_path / "tiers")
    for hidden in (tmp_path / "tiers" / ".old" / "examples.yaml", tmp_path / ".git" / "examples.yaml"):
        hidden.parent.mkdir(parents=True, exist_ok=True)
        hidden.write_text("examples: [\n")  # would be refused as YAML if it were read
    from vrrules.authoring import example_files  # noqa: PLC0415

    assert example_files(tmp_path) == [tmp_path / "tiers" / "examples.yaml"]
    run = run_examples(tmp_path)
    assert run.results and not run.failed
