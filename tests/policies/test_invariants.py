"""Every invariant a shipped spec declares holds for generated facts (no new Python per family).

The search is the library's (:mod:`vrrules.policies.invariants`), the one ``vrrules check``
runs with a smaller budget; here it runs with :data:`TEST_EXAMPLES` facts per invariant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SPECS
from vrrules import ParameterMissingError, PolicyLibrary
from vrrules.authoring import check_library
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.invariants import TEST_EXAMPLES, find_breach, invariant_cases, search_library
from vrrules.policies.resolve import resolve_parameters

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
CASES = list(invariant_cases(LIBRARY))


def test_every_decidable_family_declares_an_invariant() -> None:
    for family in LIBRARY.families():
        for compiled in LIBRARY.versions(family):
            try:
                resolve_parameters(compiled.spec, compiled.spec.effective_from, "x")
            except ParameterMissingError:
                continue  # nothing can be decided until its missing values are published
            assert compiled.spec.invariants, f"{family} {compiled.version} declares no invariant"


@pytest.mark.parametrize(("compiled", "invariant"), CASES, ids=[f"{c.family}:{i.id}" for c, i in CASES])
def test_no_decision_ever_breaks_a_declared_invariant(compiled: Any, invariant: Any) -> None:
    breach = find_breach(compiled, invariant, max_examples=TEST_EXAMPLES, derandomize=False)
    assert breach is None, str(breach.diagnostic() if breach else "")


def _tiers_with_tier_3_work_in_tier_1(folder: Path) -> Path:
    """The shipped tiers spec with one slip: its Tier 3 rule assigns Tier 1."""
    text = (SPECS / "tiers" / "2025.1.yaml").read_text()
    rule = text.index("id: tier-3-integrated-intervention")
    slip = text.index("tier: 3", rule)
    folder.mkdir()
    (folder / "2025.1.yaml").write_text(text[:slip] + "tier: 1" + text[slip + len("tier: 3") :])
    return folder


def test_a_rule_that_breaks_an_invariant_is_found_and_located(tmp_path: Path) -> None:
    library = check_library(_tiers_with_tier_3_work_in_tier_1(tmp_path / "tiers"), case_sources=CASE_SOURCES)
    searched, found = search_library(library, scratch=True)
    assert searched == len(library.versions("tiers")[0].spec.invariants)
    assert [d.rule for d in found] == ["tier-3-work-is-never-tier-1"]
    diagnostic = found[0]
    assert diagnostic.code == "invariant_broken" and diagnostic.severity == "error"
    assert diagnostic.file.endswith("2025.1.yaml") and diagnostic.line is not None
    assert "tier-3-integrated-intervention" in diagnostic.message  # the rule that fired
    compiled = library.versions("tiers")[0]
    breach = find_breach(compiled, compiled.spec.invariants[1])
    assert breach is not None and breach.outcome is not None and breach.outcome["tier"] == 1
    assert compiled.decide(breach.facts, compiled.spec.effective_from).outcome == breach.outcome


def test_a_false_invariant_is_caught() -> None:
    """The search can fail: an invariant the rules contradict yields a counterexample."""
    compiled = LIBRARY.in_force("tiers", LIBRARY.versions("tiers")[0].spec.effective_from)
    false_invariant = compiled.spec.invariants[0].model_copy(
        update={"id": "claims-no-tier-3-ever", "when": compiled.spec.invariants[1].when, "never": {"tier": 3}}
    )
    breach = find_breach(compiled, false_invariant, max_examples=500)
    assert breach is not None
    assert compiled.decide(breach.facts, compiled.spec.effective_from).outcome["tier"] == 3  # type: ignore[index]


def test_the_search_of_a_check_writes_nothing_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    library = check_library(SPECS / "tiers", case_sources=CASE_SOURCES)
    declared = len(library.versions("tiers")[0].spec.invariants)
    assert search_library(library, max_examples=5, scratch=True) == (declared, [])
    assert list(tmp_path.iterdir()) == []


def test_the_pytest_plugin_collects_each_invariant_when_asked(pytester: pytest.Pytester) -> None:
    specs = pytester.path / "specs"
    specs.mkdir()
    _tiers_with_tier_3_work_in_tier_1(specs / "tiers")
    pytester.makeini("[pytest]\nvrrules_specs = specs\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes()  # off by default
    pytester.makeini("[pytest]\nvrrules_specs = specs\nvrrules_invariant_examples = 40\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*[[]invariant_broken[]]*tier-3-work-is-never-tier-1*"])
