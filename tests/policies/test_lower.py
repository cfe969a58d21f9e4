"""The lower stage: engine-neutral conditions over typed facts; and the fund cap followed from
its YAML text to the outcome, typed Decimal until the engine adapter encodes it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.conftest import SPECS
from tests.policies.samples import SAMPLE
from vrrules import PolicyLibrary, SpecSource
from vrrules.policies import engine
from vrrules.policies.compiler import compile_or_raise
from vrrules.policies.evaluate import PlainEvaluator
from vrrules.policies.facts import typed_facts
from vrrules.policies.load import load
from vrrules.policies.lower import And, FactTest, Not, lower
from vrrules.policies.resolve import ParameterTimeline

APPROVED = date(2020, 9, 1)  # the cap in force: "19033.67" from 2020-07-01


def test_parameters_are_filled_in_typed_and_codes_expanded() -> None:
    compiled = compile_or_raise(SpecSource(SAMPLE, "sample.yaml"))
    over, needs = compiled.lowered_on(date(2026, 1, 5)).rules
    assert over.when == FactTest("cost", "money", "gt", (Decimal("150.50"),))
    assert over.outcome == {"result": "over", "limit": Decimal("150.50")}
    assert isinstance(needs.when, And)
    wanted, seen, not_below = needs.when.parts
    assert wanted == FactTest("needs", "set", "contains_any", ("a", "b"))
    assert seen == FactTest("seen_on", "date", "gte", (date(2025, 10, 2),))
    assert not_below == Not(FactTest("level", "int", "lt", (3,)))


def test_the_lowered_form_knows_nothing_of_the_engine() -> None:
    compiled = compile_or_raise(SpecSource(SAMPLE, "sample.yaml"))
    text = repr(compiled.lowered_on(date(2025, 10, 5)))
    for engine_word in ("vr_kind", "__count", "needs__a", "$and", "$or", "'pri'"):
        assert engine_word not in text
    # the encoding is the engine adapter's: cents, day numbers, one flag per code
    encoded = engine.encode_rules(compiled.lowered_on(date(2025, 10, 5)))
    assert encoded["over"]["all"][0]["m"]["$and"][1] == {"$gt": {"cost": 10000}}
    assert "needs__a" in repr(encoded["needs"]) and str(date(2025, 10, 2).toordinal()) in repr(
        encoded["needs"]
    )


def test_the_fund_cap_stays_decimal_from_load_to_the_engine_and_back_to_the_outcome() -> None:
    path = SPECS / "retraining-fund-cap" / "2015.1.yaml"
    source = SpecSource(path.read_text(encoding="utf-8"), str(path))
    # load: typed once, from the YAML text "19033.67"
    loaded, _ = load(source)
    assert loaded is not None
    cap_values = loaded.spec.parameters["retraining_fund_cap"].values
    assert (
        cap_values[date(2020, 7, 1)] == Decimal("19033.67") and type(cap_values[date(2020, 7, 1)]) is Decimal
    )
    # resolve: the value in force on the approval date, still Decimal
    params = ParameterTimeline(loaded.spec, source.file).on(APPROVED)
    assert params["retraining_fund_cap"] == Decimal("19033.67")
    # lower: in the condition and in the outcome, Decimal
    lowered = lower(loaded.spec, params, source.sha256)
    over = next(r for r in lowered.rules if r.id == "counted-cost-over-cap")
    assert over.when == FactTest("counted_total", "money", "gt", (Decimal("19033.67"),))
    assert over.outcome["cap"] == Decimal("19033.67") and type(over.outcome["cap"]) is Decimal
    # evaluate: only the engine adapter turns it into cents
    encoded = engine.encode_rules(lowered)
    assert {"$gt": {"counted_total": 1903367}} in encoded["counted-cost-over-cap"]["all"][0]["m"]["$and"]
    # ... and the facts too: a cent over the cap is over, the cap itself is within
    compiled = PolicyLibrary(SPECS).in_force("retraining-fund-cap", APPROVED)
    one_cent_over = compiled.decide({"tuition": "19000.00", "books": "33.68"}, APPROVED)
    exactly = compiled.decide({"tuition": "19000.00", "books": "33.67"}, APPROVED)
    assert one_cent_over.fired_rule_ids == ("counted-cost-over-cap",)
    assert exactly.fired_rule_ids == ("counted-cost-within-cap",)
    # outcome: recorded once, as the exact text it was written as (what the store keeps)
    assert one_cent_over.outcome is not None
    assert one_cent_over.outcome["cap"] == "19033.67"
    assert one_cent_over.outcome["over_by"] == "0.01"
    # and the plain evaluator, reading the same Decimal, agrees
    typed = typed_facts(compiled.spec.facts, one_cent_over.facts)
    assert typed["counted_total"] == Decimal("19033.68")
    assert PlainEvaluator().fired(compiled.lowered_on(APPROVED), typed) == one_cent_over.fired_rule_ids


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


def test_the_engine_sees_only_integers_booleans_and_text() -> None:
    compiled = PolicyLibrary(SPECS).in_force("retraining-fund-cap", APPROVED)
    encoded = engine.encode_rules(compiled.lowered_on(APPROVED))
    assert all(isinstance(v, int | bool | str) for v in _walk(encoded))
    message = engine.encode_facts(compiled.spec.facts, typed_facts(compiled.spec.facts, {"tuition": "1.50"}))
    assert message == {"tuition": 150}
