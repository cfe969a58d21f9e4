"""Properties: the engine agrees with the condition semantics; decisions are deterministic,
independent of fact order, and every recorded decision replays."""

from __future__ import annotations

import json
import random
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from tests.conftest import SPECS
from vrrules import CaseRecords, FactsInvalidError, PolicyLibrary, SpecSource, compile_or_raise
from vrrules.audit import replay_all
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.engine import encode_rules
from vrrules.policies.evaluate import PlainEvaluator
from vrrules.policies.facts import typed_facts
from vrrules.policies.lower import lower
from vrrules.policies.model import FamilySpec
from vrrules.policies.resolve import resolve_parameters

TIERS = PolicyLibrary(SPECS, case_sources=CASE_SOURCES).in_force("tiers", gen.FIRST_DAY)


class _PlainDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the loader refuses aliases, as it should


def _compile(spec_data: dict[str, Any]) -> Any:
    text = yaml.dump(spec_data, Dumper=_PlainDumper, sort_keys=False)
    return compile_or_raise(SpecSource(text, "generated.yaml"))


@given(spec_data=gen.family_specs(), facts=st.lists(gen.generated_facts(), min_size=1, max_size=8))
def test_engine_fires_exactly_the_rules_the_semantics_give(
    spec_data: dict[str, Any], facts: list[dict[str, Any]]
) -> None:
    compiled = _compile(spec_data)
    for one in facts:
        decision = compiled.decide(one, gen.FIRST_DAY)
        lowered = compiled.lowered_on(gen.FIRST_DAY)
        typed = typed_facts(compiled.spec.facts, compiled.check_facts(one))
        wanted = list(PlainEvaluator().fired(lowered, typed))
        assert list(decision.fired_rule_ids) == wanted
        assert decision.status == ("decided" if wanted else "no_rule_applied")


@given(facts=gen.tier_facts, seed=st.integers(0, 2**32))
def test_tier_decision_does_not_depend_on_fact_order(facts: dict[str, Any], seed: int) -> None:
    shuffler = random.Random(seed)
    items = list(facts.items())
    shuffler.shuffle(items)
    reordered = {k: (shuffler.sample(v, len(v)) if isinstance(v, list) else v) for k, v in items}
    first = TIERS.decide(facts, gen.FIRST_DAY)
    second = TIERS.decide(reordered, gen.FIRST_DAY)
    assert first == second


@given(facts=gen.tier_facts)
def test_tier_family_always_decides_exactly_one_rule(facts: dict[str, Any]) -> None:
    decision = TIERS.decide(facts, gen.FIRST_DAY)
    assert len(decision.fired) == 1
    assert decision.outcome is not None
    assert decision.outcome["decision"] in {"assessment_required", "tier_assigned"}
    if facts.get("assessment_completed") is not True:
        assert decision.outcome == {"decision": "assessment_required"}


@given(spec_data=gen.family_specs())
def test_lowering_is_deterministic(spec_data: dict[str, Any]) -> None:
    spec = FamilySpec.model_validate(spec_data)
    params = resolve_parameters(spec, gen.FIRST_DAY, "x")
    one = lower(spec, params, "0" * 64)
    two = lower(FamilySpec.model_validate(json.loads(json.dumps(spec_data))), params, "0" * 64)
    assert one == two
    assert json.dumps(encode_rules(one), sort_keys=True) == json.dumps(encode_rules(two), sort_keys=True)
    assert one.name == two.name


@given(spec_data=gen.family_specs())
def test_spec_round_trips_through_yaml(spec_data: dict[str, Any]) -> None:
    spec = _compile(spec_data).spec
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    again = _compile(dumped).spec
    assert again == spec


@given(
    junk=st.dictionaries(
        st.sampled_from(["assessment_completed", "support_needed", "client_groups", "obstacles", "x"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=5),
            st.lists(st.text(max_size=5), max_size=3),
            st.booleans(),
        ),
    )
)
def test_any_facts_give_a_decision_or_a_facts_invalid_error(junk: dict[str, Any]) -> None:
    try:
        decision = TIERS.decide(junk, gen.FIRST_DAY)
    except FactsInvalidError as error:
        assert "expected" in error.message and "got" in error.message
    else:
        assert decision.fired


@settings(max_examples=25)
@given(histories=st.lists(gen.case_histories(), min_size=1, max_size=3))
def test_every_recorded_decision_replays_to_the_same_outcome(
    histories: list[list[tuple[str, Any]]],
) -> None:
    with CaseRecords("memory", SPECS) as records:
        made = 0
        for index, steps in enumerate(histories):
            ref = f"H-{index}"
            records.open_case(ref, gen.FIRST_DAY)
            for kind, step in steps:
                if kind == "record":
                    records.record(ref, *step)
                else:
                    records.decide(ref, step)
                    made += 1
        results = list(replay_all(records))
        assert len(results) == made
        assert all(r.status == "reproduced" for r in results), [str(r) for r in results if not r.reproduced]
