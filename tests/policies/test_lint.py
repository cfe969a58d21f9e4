"""The lint stage: rules that never fire, conflicting pairs, gaps; found, none or inconclusive;
its claims checked by the engine. Replay (load_release) runs none of it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS
from tests.strategies import FIRST_DAY, family_specs, generated_facts
from vrrules import PolicyLibrary, RulesConflictError, SpecInvalidError, SpecSource
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.compiler import lint_source, load_release
from vrrules.policies.lint import analyse, recorded_example, search_firing
from vrrules.policies.load import load
from vrrules.policies.resolve import parameter_periods, resolve_parameters

REFERENCE = {"document": "Test document", "section": "1"}


def _rule(rule_id: str, when: dict[str, Any], **outcome: Any) -> dict[str, Any]:
    return {"id": rule_id, "when": when, "outcome": outcome, "reason": "r", "reference": dict(REFERENCE)}


def _spec(rules: list[dict[str, Any]], hit_policy: str = "first", **extra: Any) -> dict[str, Any]:
    return {
        "family": "sample",
        "version": "1",
        "title": "Sample",
        "effective_from": "2025-10-01",
        "hit_policy": hit_policy,
        "reference": REFERENCE,
        "facts": {
            "level": {"type": "int", "description": "a level"},
            "kind": {"type": "enum", "description": "a kind", "values": ["small", "large"]},
            "extra": {"type": "int", "description": "more", "default": 0},
            "total": {"type": "int", "description": "level + extra", "derive": {"sum": ["level", "extra"]}},
        },
        "rules": rules,
        **extra,
    }


def _compile(data: dict[str, Any]) -> tuple[Any, list[Any]]:
    return lint_source(SpecSource(yaml.safe_dump(data, sort_keys=False), "sample.yaml"))


def _codes(diagnostics: list[Any]) -> list[tuple[str, str | None, str]]:
    return [(d.code, d.rule, d.severity) for d in diagnostics]


def test_the_shipped_specs_have_no_dead_rules_conflicts_or_gaps() -> None:
    library = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
    for family in library.families():
        for compiled in library.versions(family):
            assert analyse(compiled.spec, parameter_periods(compiled.spec)) == [], family


def test_a_rule_hidden_by_earlier_rules_is_reported_with_the_reason() -> None:
    rules = [
        _rule("big", {"fact": "level", "gte": 5}, result="big"),
        _rule("small", {"fact": "level", "lt": 5}, result="small"),
        _rule("seven", {"fact": "level", "equals": 7}, result="seven"),
    ]
    compiled, diagnostics = _compile(_spec(rules))
    assert compiled is not None
    assert _codes(diagnostics) == [("rule_never_fires", "seven", "warning")]
    assert "earlier rule fires first" in diagnostics[0].message
    # in a collect family nothing hides it
    _, diagnostics = _compile(_spec(rules, hit_policy="collect"))
    assert diagnostics == []


def test_unique_refuses_overlap_and_decides_when_one_rule_applies() -> None:
    rules = [
        _rule("big", {"fact": "level", "gte": 5}, result="big"),
        _rule("large", {"fact": "kind", "equals": "large"}, result="large"),
    ]
    compiled, diagnostics = _compile(_spec(rules, hit_policy="unique"))
    assert compiled is None
    assert _codes(diagnostics) == [("rules_conflict", "large", "error")]
    assert "level=5, kind='large'" in diagnostics[0].message

    rules[1]["when"] = {"all": [{"fact": "kind", "equals": "large"}, {"fact": "level", "lt": 5}]}
    compiled, diagnostics = _compile(_spec(rules, hit_policy="unique"))
    assert diagnostics == []
    decision = compiled.decide({"level": 2, "kind": "large"}, date(2025, 10, 2))
    assert decision.outcome == {"result": "large"}
    assert decision.fired_rule_ids == ("large",)


def test_any_accepts_overlap_only_between_agreeing_rules() -> None:
    agreeing = [
        _rule("big", {"fact": "level", "gte": 5}, result="refer"),
        _rule("large", {"fact": "kind", "equals": "large"}, result="refer"),
    ]
    compiled, diagnostics = _compile(_spec(agreeing, hit_policy="any"))
    assert diagnostics == []
    decision = compiled.decide({"level": 9, "kind": "large"}, date(2025, 10, 2))
    assert decision.outcome == {"result": "refer"}
    assert set(decision.fired_rule_ids) == {"big", "large"}
    agreeing[1]["outcome"] = {"result": "keep"}
    compiled, diagnostics = _compile(_spec(agreeing, hit_policy="any"))
    assert compiled is None
    assert _codes(diagnostics) == [("rules_conflict", "large", "error")]


def test_a_conflict_through_a_derived_fact_warns_and_the_engine_refuses_it_when_real() -> None:
    rules = [
        _rule("total-high", {"fact": "total", "gte": 10}, result="high"),
        _rule("level-high", {"fact": "level", "gte": 8}, result="level"),
    ]
    compiled, diagnostics = _compile(_spec(rules, hit_policy="unique"))
    assert _codes(diagnostics) == [("rules_conflict", "level-high", "warning")]
    assert "derived fact(s) ['total']" in diagnostics[0].message
    assert compiled.decide({"level": 8}, date(2025, 10, 2)).fired_rule_ids == ("level-high",)
    with pytest.raises(RulesConflictError) as caught:
        compiled.decide({"level": 8, "extra": 2}, date(2025, 10, 2))
    assert caught.value.details["rules"] == ["total-high", "level-high"]
    assert "hit policy 'unique'" in str(caught.value)


def test_always_decides_finds_the_gap_and_its_example_is_real() -> None:
    rules = [
        _rule("high", {"fact": "level", "gte": 5}, result="high"),
        _rule("low", {"fact": "level", "lt": 3}, result="low"),
    ]
    compiled, diagnostics = _compile(_spec(rules, always_decides=True))
    assert compiled is None
    (gap,) = diagnostics
    assert gap.code == "rules_incomplete"
    spec_data = _spec(rules)
    compiled, _ = _compile(spec_data)
    (finding,) = analyse(compiled.spec.model_copy(update={"always_decides": True}), [(FIRST_DAY, {})])
    assert finding.example is not None
    assert compiled.decide(finding.example, date(2025, 10, 2)).status == "no_rule_applied"

    rules.append(_rule("middle", {"not": {"fact": "level", "present": True}}, result="unknown"))
    between = {"all": [{"fact": "level", "gte": 3}, {"fact": "level", "lt": 5}]}
    rules.append(_rule("rest", between, result="m"))
    compiled, diagnostics = _compile(_spec(rules, always_decides=True))
    assert diagnostics == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_data=family_specs(), facts=st.lists(generated_facts(), min_size=1, max_size=5))
def test_what_analysis_claims_the_engine_confirms(spec_data: dict[str, Any], facts: list[Any]) -> None:
    """A 'never fires' rule never fires on any facts; every other rule fires on its example."""
    compiled, diagnostics = lint_source(SpecSource(json.dumps(spec_data), "generated.yaml"))
    assert compiled is not None, diagnostics
    assert "lint_inconclusive" not in {d.code for d in diagnostics}
    day = FIRST_DAY
    dead = {d.rule for d in diagnostics if d.code == "rule_never_fires"}
    for given_facts in facts:
        fired = set(compiled.decide(given_facts, day).fired_rule_ids)
        assert not fired & dead, f"analysis said {sorted(dead)} never fire; engine fired {sorted(fired)}"
    params = resolve_parameters(compiled.spec, day, "generated.yaml")
    for index, rule in enumerate(compiled.spec.rules):
        found = search_firing(compiled.spec, params, index)
        assert found.outcome != "inconclusive"
        assert found.proven_none == (rule.id in dead)
        if found.example is not None:
            example = recorded_example(found.example)
            fired_ids = compiled.decide(example, day).fired_rule_ids
            assert rule.id in fired_ids, f"example {example} should fire {rule.id}, fired {fired_ids}"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_data=family_specs(hit_policy="collect"))
def test_every_conflict_and_gap_example_is_confirmed_by_the_engine(spec_data: dict[str, Any]) -> None:
    compiled, diagnostics = lint_source(SpecSource(json.dumps(spec_data), "generated.yaml"))
    assert compiled is not None, diagnostics
    day = FIRST_DAY
    params = resolve_parameters(compiled.spec, day, "generated.yaml")
    strict = compiled.spec.model_copy(update={"hit_policy": "unique", "always_decides": True})
    rules = compiled.spec.rules
    for finding in analyse(strict, [(day, params)]):
        if finding.code == "rule_never_fires":
            continue  # checked by the test above
        assert finding.example is not None
        fired = compiled.decide(finding.example, day).fired_rule_ids
        if finding.code == "rules_conflict":
            assert finding.rule_index is not None and finding.other_index is not None
            both = {rules[finding.rule_index].id, rules[finding.other_index].id}
            assert both <= set(fired), f"{finding.message}: engine fired {fired}"
        elif finding.code == "rules_incomplete":
            assert fired == (), f"{finding.message}: engine fired {fired}"


# ------------------------------------------------------------- inconclusive is not a proof


def test_a_search_out_of_budget_is_inconclusive_never_a_proof() -> None:
    rules = [
        _rule("high", {"fact": "level", "gte": 5}, result="high"),
        _rule("low", {"fact": "level", "lt": 3}, result="low"),
    ]
    compiled, diagnostics = _compile(_spec(rules, always_decides=True))
    assert compiled is None and [d.code for d in diagnostics] == ["rules_incomplete"]  # enough budget: found
    findings = analyse(_loaded_spec(_spec(rules, always_decides=True)), [(FIRST_DAY, {})], budget=1)
    assert {f.code for f in findings} == {"lint_inconclusive"}
    assert all(f.severity == "warning" for f in findings)
    # neither "never fires" (a false proof) nor a passing always_decides (a false silence)
    messages = " ".join(f.message for f in findings)
    assert "'high' can fire" in messages and "every combination of facts" in messages
    found = search_firing(_loaded_spec(_spec(rules)), {}, 0, budget=1)
    assert found.outcome == "inconclusive" and not found.proven_none and found.example is None


def test_vrrules_check_reports_inconclusive_as_a_located_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from vrrules.policies import lint  # noqa: PLC0415

    monkeypatch.setattr(lint, "SEARCH_BUDGET", 1)
    rules = [_rule("high", {"fact": "level", "gte": 5}, result="high")]
    compiled, diagnostics = _compile(_spec(rules, always_decides=True))
    assert compiled is not None  # warnings only: nothing was proven against the spec
    assert {(d.code, d.severity) for d in diagnostics} == {("lint_inconclusive", "warning")}
    assert all(d.line is not None and d.file == "sample.yaml" for d in diagnostics)


def _loaded_spec(data: dict[str, Any]) -> Any:
    loaded, diagnostics = load(SpecSource(yaml.safe_dump(data, sort_keys=False), "sample.yaml"))
    assert loaded is not None, diagnostics
    return loaded.spec


# ------------------------------------------------------------ replay runs no lint and no check


def test_a_release_with_a_lint_only_finding_still_loads_for_replay_and_decides() -> None:
    rules = [
        _rule("big", {"fact": "level", "gte": 5}, result="big"),
        _rule("large", {"fact": "kind", "equals": "large"}, result="large"),
    ]
    text = yaml.safe_dump(_spec(rules, hit_policy="unique"), sort_keys=False)
    source = SpecSource(text, "stored.yaml")
    refused, diagnostics = lint_source(source)
    assert refused is None and [d.code for d in diagnostics] == ["rules_conflict"]  # lint finds it
    release = load_release(source)  # replay: load, then resolve, lower, evaluate on demand
    assert release.sha256 == source.sha256
    decision = release.decide({"level": 2, "kind": "large"}, date(2025, 10, 2))
    assert decision.fired_rule_ids == ("large",) and decision.outcome == {"result": "large"}


def test_a_release_is_not_checked_against_todays_case_schema() -> None:
    data = _spec([_rule("big", {"fact": "level", "gte": 5}, result="big")])
    data["facts"]["level"]["source"] = "a.path.renamed.since"
    source = SpecSource(yaml.safe_dump(data, sort_keys=False), "stored.yaml")
    compiled, diagnostics = lint_source(source)
    assert compiled is None and [d.code for d in diagnostics] == ["fact_source_unknown"]
    assert load_release(source).decide({"level": 7}, date(2025, 10, 2)).outcome == {"result": "big"}


def test_a_release_whose_text_does_not_load_is_refused() -> None:
    with pytest.raises(SpecInvalidError) as caught:
        load_release(SpecSource("family: [", "broken.yaml"))
    assert caught.value.codes == ["yaml_syntax"]


def test_a_set_holding_every_code_of_a_group_is_searched() -> None:
    """`contains_all` of two codes no other test names: the set holding both must be tried
    (the search once capped a group at one code and called the rule dead)."""
    spec = {
        "family": "generated",
        "version": "t0",
        "title": "generated family",
        "effective_from": "2025-10-01",
        "hit_policy": "first",
        "reference": {"document": "test document", "section": "1"},
        "facts": {
            "tags": {"type": "set", "description": "several codes", "values": ["alpha", "beta", "gamma"]}
        },
        "parameters": {
            "some_codes": {
                "type": "codes",
                "description": "a code list",
                "reference": {"document": "test document", "section": "1"},
                "values": {"2025-10-01": ["alpha", "beta"]},
            }
        },
        "rules": [
            {
                "id": "rule-0",
                "when": {"all": [{"fact": "tags", "contains_all": {"param": "some_codes"}}]},
                "outcome": {"rule": 0},
                "reason": "reason 0",
                "reference": {"document": "test document", "section": "1"},
            }
        ],
    }
    compiled, diagnostics = lint_source(SpecSource(json.dumps(spec), "generated.yaml"))
    assert compiled is not None
    assert "rule_never_fires" not in {d.code for d in diagnostics}
    assert compiled.decide({"tags": ["alpha", "beta"]}, FIRST_DAY).fired_rule_ids == ("rule-0",)
