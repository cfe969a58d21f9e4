"""The evaluate stage: the durable_rules adapter (sessions freed, no dispatcher races, safe under
threads) and the plain evaluator, which must agree with it on every lowered family."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS
from tests.strategies import FIRST_DAY, family_facts
from vrrules import EngineError, ParameterMissingError, PolicyLibrary, compile_or_raise
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.engine import MAX_PRIORITY, NO_RULE_APPLIED, DurableRulesEvaluator, RuleEngine
from vrrules.policies.evaluate import Evaluator, PlainEvaluator
from vrrules.policies.facts import typed_facts

TIERS = PolicyLibrary(SPECS, case_sources=CASE_SOURCES).in_force("tiers", FIRST_DAY)
DISCRIMINATOR = {"vr_kind": "t"}


def _rule(pri: int, test: dict[str, Any]) -> dict[str, Any]:
    return {"pri": pri, "all": [{"m": {"$and": [DISCRIMINATOR, test]}}]}


def test_more_evaluations_than_durable_rules_holds_sessions() -> None:
    # durable_rules keeps at most 1024 live sessions per ruleset; each evaluation frees its own.
    facts = {"assessment_completed": True, "support_needed": ["rtw_planning"]}
    for _ in range(3000):
        assert TIERS.decide(facts, FIRST_DAY).outcome == TIERS.decide(facts, FIRST_DAY).outcome


def test_unmatched_messages_are_an_empty_result_many_times_over() -> None:
    engine = RuleEngine()
    engine.register("unmatched@1", {"r": _rule(1, {"x": 1})}, DISCRIMINATOR)
    for _ in range(2000):
        assert engine.evaluate("unmatched@1", {"vr_kind": "t", "x": 2}, every_match=False) == ()
        assert engine.evaluate("unmatched@1", {"vr_kind": "t", "x": 2}, every_match=True) == ()


def test_post_fires_the_lowest_priority_match_and_assert_fires_all_in_order() -> None:
    engine = RuleEngine()
    rules = {
        "late": _rule(5, {"$gte": {"x": 1}}),
        "early": _rule(2, {"$gte": {"x": 2}}),
        "never": _rule(3, {"x": 9}),
    }
    engine.register("order@1", rules, DISCRIMINATOR)
    assert engine.evaluate("order@1", {"vr_kind": "t", "x": 3}, every_match=False) == ("early",)
    assert engine.evaluate("order@1", {"vr_kind": "t", "x": 3}, every_match=True) == (
        "early",
        "late",
    )
    assert NO_RULE_APPLIED not in engine.evaluate("order@1", {"vr_kind": "t", "x": 0}, every_match=True)


@pytest.mark.parametrize("pri", [-1, MAX_PRIORITY + 1, 70000])
def test_priorities_outside_the_engine_range_are_refused(pri: int) -> None:
    # pri is a C unsigned short in durable_rules: out-of-range values would wrap silently.
    with pytest.raises(EngineError, match="pri"):
        RuleEngine().register("pri@1", {"r": _rule(pri, {"x": 1})}, DISCRIMINATOR)


def test_registering_the_same_name_twice_keeps_the_first() -> None:
    engine = RuleEngine()
    engine.register("twice@1", {"a": _rule(1, {"x": 1})}, DISCRIMINATOR)
    engine.register("twice@1", {"b": _rule(1, {"x": 1})}, DISCRIMINATOR)
    assert engine.evaluate("twice@1", {"vr_kind": "t", "x": 1}, every_match=False) == ("a",)


def test_unknown_ruleset_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="not registered"):
        RuleEngine().evaluate("missing@1", {"vr_kind": "t"}, every_match=False)


def test_concurrent_decisions_from_threads_agree_with_single_threaded_ones() -> None:
    cases = [
        {"assessment_completed": False},
        {"assessment_completed": True},
        {"assessment_completed": True, "support_needed": ["rtw_planning"]},
        {"assessment_completed": True, "support_needed": ["career_redirection"]},
    ]
    expected = [TIERS.decide(c, FIRST_DAY).outcome for c in cases]
    wrong: list[Any] = []

    def work(offset: int) -> None:
        for i in range(400):
            index = (i + offset) % len(cases)
            got = TIERS.decide(cases[index], FIRST_DAY).outcome
            if got != expected[index]:
                wrong.append((index, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert threading.active_count() < 5  # no dispatcher or timer threads were started


# ------------------------------------------------------------- the Evaluator protocol


def _evaluators() -> list[Evaluator]:
    return [DurableRulesEvaluator(), PlainEvaluator()]


def test_both_evaluators_read_the_lowered_rules_and_agree_on_the_tier_family() -> None:
    lowered = TIERS.lowered_on(FIRST_DAY)
    for facts, wanted in [
        ({"assessment_completed": False}, ("initial-assessment-first",)),
        ({"assessment_completed": True, "support_needed": ["functional_capacity_evaluation"]}, None),
    ]:
        typed = typed_facts(TIERS.spec.facts, TIERS.check_facts(facts))
        answers = {evaluator.name: evaluator.fired(lowered, typed) for evaluator in _evaluators()}
        assert len(set(answers.values())) == 1, answers
        if wanted is not None:
            assert next(iter(answers.values())) == wanted


def test_a_family_can_decide_with_the_plain_evaluator_too() -> None:
    plain = compile_or_raise(TIERS.source, evaluator=PlainEvaluator())
    facts = {"assessment_completed": True, "support_needed": ["rtw_planning"]}
    assert plain.decide(facts, FIRST_DAY) == TIERS.decide(facts, FIRST_DAY)


def _decidable(compiled: Any) -> bool:
    try:
        compiled.lowered_on(compiled.spec.effective_from)
    except ParameterMissingError:
        return False
    return True


SHIPPED = PolicyLibrary(SPECS)
DECIDABLE = [
    compiled for family in SHIPPED.families() for compiled in SHIPPED.versions(family) if _decidable(compiled)
]


@pytest.mark.parametrize("compiled", DECIDABLE, ids=[f"{c.family}@{c.version}" for c in DECIDABLE])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_durable_rules_and_the_plain_evaluator_agree_on_every_shipped_family(
    compiled: Any, data: st.DataObject
) -> None:
    day = compiled.spec.effective_from
    lowered = compiled.lowered_on(day)
    facts = data.draw(family_facts(compiled.spec, dict(lowered.params)))
    try:
        typed = typed_facts(compiled.spec.facts, compiled.check_facts(facts, as_of=day))
    except ParameterMissingError:
        return  # a rate the sources do not give: nothing to evaluate
    assert DurableRulesEvaluator().fired(lowered, typed) == PlainEvaluator().fired(lowered, typed)


def test_only_the_engine_adapter_imports_durable_rules() -> None:
    import ast  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    import vrrules  # noqa: PLC0415

    package = Path(vrrules.__file__).parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "durable" or n.startswith(("durable.", "durable_rules")) for n in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"policies/engine.py"}


# ------------------------------------------------------------- conditions durable_rules must take


def _negated_conjunctions(copies: int) -> dict[str, Any]:
    """``copies`` negated three-fact conjunctions side by side (found by Hypothesis: two made
    durable_rules refuse the ruleset, error 113, while the $and inside the $and was nested)."""
    inner = {
        "all": [
            {"fact": "amount", "in": ["0", "0.01"]},
            {"fact": "kind", "in": {"param": "some_codes"}},
            {"fact": "tags", "contains_any": {"param": "some_codes"}},
        ]
    }
    reference = {"document": "test document", "section": "1"}
    codes = ["alpha", "beta", "gamma", "delta"]
    return {
        "family": "negated",
        "version": f"n{copies}",
        "title": "negated conjunctions",
        "effective_from": "2025-10-01",
        "hit_policy": "first",
        "reference": reference,
        "facts": {
            "amount": {"type": "money", "description": "an amount"},
            "kind": {"type": "enum", "description": "one code", "values": codes},
            "tags": {"type": "set", "description": "several codes", "values": codes},
        },
        "parameters": {
            "some_codes": {
                "type": "codes",
                "description": "a code list",
                "reference": reference,
                "values": {"2025-10-01": ["alpha", "beta"]},
            }
        },
        "rules": [
            {
                "id": "negated",
                "when": {"all": [{"not": inner} for _ in range(copies)]},
                "outcome": {"rule": 0},
                "reason": "reason",
                "reference": reference,
            }
        ],
    }


@pytest.mark.parametrize("copies", [2, 3, 4, 5])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_negated_conjunctions_side_by_side_are_taken_and_decided_as_the_plain_evaluator_does(
    copies: int, data: st.DataObject
) -> None:
    import json  # noqa: PLC0415

    from vrrules import SpecSource  # noqa: PLC0415

    compiled = compile_or_raise(SpecSource(json.dumps(_negated_conjunctions(copies)), "negated.yaml"))
    lowered = compiled.lowered_on(FIRST_DAY)
    facts = data.draw(family_facts(compiled.spec, dict(lowered.params)))
    typed = typed_facts(compiled.spec.facts, compiled.check_facts(facts, as_of=FIRST_DAY))
    assert DurableRulesEvaluator().fired(lowered, typed) == PlainEvaluator().fired(lowered, typed)


def test_an_and_inside_an_and_is_merged_into_it_for_the_engine() -> None:
    import json  # noqa: PLC0415

    from vrrules import SpecSource  # noqa: PLC0415
    from vrrules.policies.engine import encode_rules  # noqa: PLC0415

    compiled = compile_or_raise(SpecSource(json.dumps(_negated_conjunctions(2)), "negated.yaml"))
    encoded = json.dumps(encode_rules(compiled.lowered_on(FIRST_DAY)))

    def nested(node: Any) -> bool:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("$and", "$or") and any(isinstance(v, dict) and key in v for v in value):
                    return True
                if nested(value):
                    return True
        if isinstance(node, list):
            return any(nested(item) for item in node)
        return False

    assert not nested(json.loads(encoded))


def test_a_condition_too_large_to_split_within_the_rule_limit_is_refused_with_a_coded_error() -> None:
    import json  # noqa: PLC0415

    from vrrules import SpecSource  # noqa: PLC0415

    compiled = compile_or_raise(SpecSource(json.dumps(_negated_conjunctions(8)), "negated.yaml"))
    with pytest.raises(EngineError) as refused:
        compiled.decide({}, FIRST_DAY)
    assert refused.value.code == "engine_failure"
    assert "error code: 113" in refused.value.message and "fewer alternatives" in refused.value.message
