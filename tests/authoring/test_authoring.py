"""Authors' tools: example runs with coverage, and JSON Schemas an editor can use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SPECS
from vrrules.authoring import json_schemas, run_examples
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
        "tiers": [
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
    for rule in run.uncovered()["tiers"]:
        facts = run.suggestions["tiers"][rule]
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
