"""The tier decision written for each reference the benchmark measures vrrules against.

Every version decides the same table as ``specs/tiers/2025.1.yaml`` (rules in order, the
first that applies wins) and returns the rule id, so the suite can check that they agree
before it times them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

TIER2 = (
    "functional_capacity_evaluation",
    "job_demands_analysis",
    "work_readiness_assessment",
    "workplace_assessment",
    "rtw_planning",
)
TIER3 = (
    "comprehensive_clinical_vocational_assessment",
    "tailored_coaching",
    "work_focused_clinical_input",
    "career_redirection",
)
MULTI_LAYERED_MIN_DOMAINS = 2

Facts = Mapping[str, Any]


def plain_python(facts: Facts) -> str:
    """The floor: the table as hand-written Python, with nothing to explain or record."""
    if facts.get("assessment_completed") is not True:
        return "initial-assessment-first"
    needed = facts.get("support_needed") or ()
    if any(code in TIER3 for code in needed):
        return "tier-3-integrated-intervention"
    if facts.get("client_groups") and len(facts.get("obstacles") or ()) >= MULTI_LAYERED_MIN_DOMAINS:
        return "tier-3-multi-layered-needs"
    if any(code in TIER2 for code in needed):
        return "tier-2-targeted-assessment"
    return "tier-1-advice-and-signposting"


def zen_graph() -> dict[str, Any]:
    """The table as a GoRules JDM decision table (hit policy first)."""

    def codes(values: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"

    rows = [
        ("initial-assessment-first", "assessment_completed != true"),
        ("tier-3-integrated-intervention", f"some(support_needed ?? [], # in {codes(TIER3)})"),
        (
            "tier-3-multi-layered-needs",
            f"len(client_groups ?? []) >= 1 and len(obstacles ?? []) >= {MULTI_LAYERED_MIN_DOMAINS}",
        ),
        ("tier-2-targeted-assessment", f"some(support_needed ?? [], # in {codes(TIER2)})"),
        ("tier-1-advice-and-signposting", "assessment_completed == true"),
    ]
    table = {
        "hitPolicy": "first",
        "inputs": [{"id": "when", "name": "condition"}],
        "outputs": [{"id": "rule", "name": "rule", "field": "rule_id"}],
        "rules": [{"_id": rule, "when": test, "rule": json.dumps(rule)} for rule, test in rows],
    }
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "facts", "position": {"x": 0, "y": 0}},
            {
                "id": "tiers",
                "type": "decisionTableNode",
                "name": "tiers",
                "position": {"x": 300, "y": 0},
                "content": table,
            },
            {"id": "out", "type": "outputNode", "name": "decision", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "in", "targetId": "tiers"},
            {"id": "e2", "type": "edge", "sourceId": "tiers", "targetId": "out"},
        ],
    }


def zen_decider() -> tuple[Callable[[Facts], str], Callable[[list[Facts]], list[str]]]:
    """One evaluation per call, and the batch API that shares the work out in Rust."""
    import zen  # noqa: PLC0415 - an optional benchmark dependency

    graph = zen_graph()
    decision = zen.ZenEngine().create_decision(json.dumps(graph))
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"tiers": graph}}})

    def one(facts: Facts) -> str:
        return str(decision.evaluate(dict(facts))["result"]["rule_id"])

    def batch(many: list[Facts]) -> list[str]:
        answers = engine.evaluate_batch([{"key": "tiers", "context": dict(f)} for f in many])
        return [str(a["data"]["result"]["rule_id"]) for a in answers]

    return one, batch


def business_rules_decider() -> Callable[[Facts], str]:
    """The table for the PyPI ``business-rules`` package (variables, actions, JSON rules)."""
    from business_rules import run_all  # noqa: PLC0415 - an optional benchmark dependency
    from business_rules.actions import BaseActions, rule_action  # noqa: PLC0415
    from business_rules.fields import FIELD_TEXT  # noqa: PLC0415
    from business_rules.variables import (  # noqa: PLC0415
        BaseVariables,
        boolean_rule_variable,
        numeric_rule_variable,
        select_multiple_rule_variable,
    )

    class TierFacts(BaseVariables):  # type: ignore[misc]
        def __init__(self, facts: Facts) -> None:
            self.facts = facts

        @boolean_rule_variable  # type: ignore[misc]
        def assessment_completed(self) -> bool:
            return self.facts.get("assessment_completed") is True

        @select_multiple_rule_variable(options=[*TIER2, *TIER3])  # type: ignore[misc]
        def support_needed(self) -> list[str]:
            return list(self.facts.get("support_needed") or ())

        @numeric_rule_variable  # type: ignore[misc]
        def client_group_count(self) -> int:
            return len(self.facts.get("client_groups") or ())

        @numeric_rule_variable  # type: ignore[misc]
        def obstacle_domain_count(self) -> int:
            return len(self.facts.get("obstacles") or ())

    class Outcome(BaseActions):  # type: ignore[misc]
        def __init__(self) -> None:
            self.rule = ""

        @rule_action(params={"rule_id": FIELD_TEXT})  # type: ignore[misc]
        def decide(self, rule_id: str) -> None:
            self.rule = rule_id

    def test(name: str, operator: str, value: Any = None) -> dict[str, Any]:
        return {"name": name, "operator": operator, "value": value}

    def rule(rule_id: str, *tests: dict[str, Any]) -> dict[str, Any]:
        return {
            "conditions": {"all": list(tests)},
            "actions": [{"name": "decide", "params": {"rule_id": rule_id}}],
        }

    rules = [
        rule("initial-assessment-first", test("assessment_completed", "is_false")),
        rule(
            "tier-3-integrated-intervention",
            test("support_needed", "shares_at_least_one_element_with", list(TIER3)),
        ),
        rule(
            "tier-3-multi-layered-needs",
            test("client_group_count", "greater_than_or_equal_to", 1),
            test("obstacle_domain_count", "greater_than_or_equal_to", MULTI_LAYERED_MIN_DOMAINS),
        ),
        rule(
            "tier-2-targeted-assessment",
            test("support_needed", "shares_at_least_one_element_with", list(TIER2)),
        ),
        rule("tier-1-advice-and-signposting", test("assessment_completed", "is_true")),
    ]

    def decide(facts: Facts) -> str:
        outcome = Outcome()
        run_all(rules, TierFacts(facts), outcome, stop_on_first_trigger=True)
        return outcome.rule

    return decide
