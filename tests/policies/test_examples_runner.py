"""Worked examples: a wrong expectation fails readably; an example must expect something."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import PolicyLibrary, SpecInvalidError
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.examples import load_examples, run_example

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)


def _examples(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "examples.yaml"
    path.write_text("family: tiers\nexamples:\n" + body)
    return path


def test_a_wrong_expectation_fails_with_expected_got_and_rules(tmp_path: Path) -> None:
    path = _examples(
        tmp_path,
        """
  - name: claims Tier 1 for an FCE
    at: 2025-11-10
    given: {assessment_completed: true, support_needed: [functional_capacity_evaluation]}
    expect: {outcome: {tier: 1}, fired: [tier-1-advice-and-signposting]}
""",
    )
    example = load_examples(path).examples[0]
    result = run_example(LIBRARY, "tiers", example)
    assert not result.passed
    report = result.report()
    assert "outcome.tier: expected 1, got 2" in report
    assert "fired: expected ['tier-1-advice-and-signposting'], got ['tier-2-targeted-assessment']" in report
    assert "rules fired: ['tier-2-targeted-assessment']" in report


def test_an_expected_error_that_does_not_happen_fails(tmp_path: Path) -> None:
    path = _examples(
        tmp_path,
        """
  - name: expects an error
    at: 2025-11-10
    given: {assessment_completed: true}
    expect_error: facts_invalid
""",
    )
    result = run_example(LIBRARY, "tiers", load_examples(path).examples[0])
    assert not result.passed and "expected error 'facts_invalid'" in result.report()


@pytest.mark.parametrize(
    "body",
    [
        "  - {name: nothing expected, at: 2025-11-10, given: {}}\n",
        "  - {name: empty expect, at: 2025-11-10, given: {}, expect: {}}\n",
        "  - {name: bad date, at: 10/11/2025, given: {}, expect: {status: decided}}\n",
    ],
)
def test_examples_without_a_usable_expectation_are_refused(tmp_path: Path, body: str) -> None:
    with pytest.raises(SpecInvalidError) as caught:
        load_examples(_examples(tmp_path, body))
    assert caught.value.codes == ["example_invalid"] * len(caught.value.codes)


def test_pytest_collects_and_fails_a_wrong_example(tmp_path: Path, pytester: pytest.Pytester) -> None:
    family = pytester.path / "specs" / "tiers"
    shutil.copytree(SPECS / "tiers", family)
    (family / "wrong.examples.yaml").write_text("""family: tiers
examples:
  - name: wrong tier
    at: 2025-11-10
    given: {assessment_completed: true}
    expect: {outcome: {tier: 3}}
""")
    pytester.makeini("[pytest]\nvrrules_specs = specs\n")
    result = pytester.runpytest("-p", "no:cacheprovider", str(family))
    shipped = len(load_examples(SPECS / "tiers" / "examples.yaml").examples)
    result.assert_outcomes(failed=1, passed=shipped)
    result.stdout.fnmatch_lines(["*outcome.tier: expected 3, got 1*"])


def test_the_plugin_leaves_examples_outside_the_named_folders_alone(pytester: pytest.Pytester) -> None:
    """A project that merely installs vrrules keeps its own examples.yaml to itself."""
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "examples.yaml").write_text("not: a vrrules example file\n")
    shutil.copytree(SPECS / "tiers", pytester.path / "specs" / "tiers")
    pytester.makepyfile(test_own="def test_own():\n    assert True\n")
    quiet = pytester.runpytest("-p", "no:cacheprovider")
    quiet.assert_outcomes(passed=1)  # no vrrules_specs: neither data/ nor specs/ is collected
    pytester.makeini("[pytest]\nvrrules_specs = specs\n")
    opted_in = pytester.runpytest("-p", "no:cacheprovider")
    shipped = len(load_examples(SPECS / "tiers" / "examples.yaml").examples)
    opted_in.assert_outcomes(passed=shipped + 1)  # specs/ now collected; data/ still left alone
