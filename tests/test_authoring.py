"""Authors' tools: example runs with coverage, and JSON Schemas an editor can use."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SPECS
from vrrules.authoring import json_schemas, run_examples
from vrrules.cli import main
from vrrules.policies.library import is_example_file, spec_files
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


@pytest.mark.parametrize(
    "fixture",
    # the mistakes a schema can express; the rest need `vrrules check` (they cross fields)
    ["spec_field_missing", "spec_field_unknown", "spec_field_invalid", "condition_not_data"],
)
def test_the_schema_rejects_schema_level_mistakes(fixture: str) -> None:
    data = _data(Path(__file__).parent / "bad_specs" / f"{fixture}.yaml")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMAS["vrrules-spec.schema.json"])


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
