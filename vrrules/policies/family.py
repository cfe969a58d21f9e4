"""A compiled family: one loaded spec, ready to decide on any day it is in force.

It holds the typed spec and its text, a :class:`ParameterTimeline` (resolve, cached per
parameter period), the family lowered once per period (lower), and the evaluator that
decides (evaluate; durable_rules unless told otherwise). Deciding checks the caller's
facts, derives the derived ones with the same resolved parameters the rules use, asks the
evaluator which rules apply, and assembles the :class:`Decision` under the hit policy.

A decision's facts and outcome are in recorded form (JSON-safe: money ``"1234.50"``), the
form it is stored and replayed in; the typed values become text in one place, when the
lower stage writes each rule's explanation, and in the facts check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from vrrules._arguments import day_argument
from vrrules.errors import FactsInvalidError, ParameterMissingError, RulesConflictError
from vrrules.policies.decision import Decision, FiredRule
from vrrules.policies.derive import derive_facts, derived_names
from vrrules.policies.engine import durable_evaluator
from vrrules.policies.evaluate import Evaluator
from vrrules.policies.facts import recorded_facts, typed_facts
from vrrules.policies.load import SpecSource
from vrrules.policies.lower import LoweredFamily, LoweredRule, lower
from vrrules.policies.model import FactDecl, FamilySpec
from vrrules.policies.resolve import ParameterTimeline
from vrrules.policies.unpublished import decide_without_unneeded

__all__ = ["CompiledFamily"]


@dataclass
class CompiledFamily:
    """A loaded spec, ready to decide; lowers once per distinct set of parameter values."""

    spec: FamilySpec
    source: SpecSource
    evaluator: Evaluator = field(default_factory=durable_evaluator)
    _timeline: ParameterTimeline = field(init=False, repr=False)
    _by_period: dict[int, LoweredFamily] = field(default_factory=dict, repr=False)
    _sources: frozenset[str] = field(init=False, repr=False)
    _derived: frozenset[str] = field(init=False, repr=False)
    _given_decls: dict[str, FactDecl] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._timeline = ParameterTimeline(self.spec, self.source.file)
        facts = self.spec.facts
        self._sources = frozenset(decl.source for decl in facts.values() if decl.source)
        # a spec is immutable once loaded: what checking facts needs of it is worked out once
        self._derived = frozenset(derived_names(self.spec))
        self._given_decls = {name: decl for name, decl in facts.items() if name not in self._derived}

    @property
    def sources(self) -> frozenset[str]:
        """The case-view paths the family's facts are sourced from (what a view for it must fill)."""
        return self._sources

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def sha256(self) -> str:
        return self.source.sha256

    def in_force_on(self, day: date) -> bool:
        until = self.spec.effective_until
        return self.spec.effective_from <= day and (until is None or day <= until)

    def period_of(self, as_of: date) -> int:
        """Which of the spans between parameter changes ``as_of`` falls in."""
        return self._timeline.period_of(as_of)

    def parameters_on(self, as_of: date) -> Mapping[str, Any]:
        """The typed parameters in force on ``as_of`` (resolve stage, cached)."""
        return self._timeline.on(as_of)

    def lowered_on(self, as_of: date) -> LoweredFamily:
        """The rules lowered with the parameters in force on ``as_of`` (lower stage, cached)."""
        period = self.period_of(as_of)
        lowered = self._by_period.get(period)
        if lowered is None:
            lowered = lower(self.spec, self.parameters_on(as_of), self.sha256)
            self._by_period[period] = lowered
        return lowered

    # the name before the stages had names; kept for callers that still use it
    ruleset_for = lowered_on

    def check_facts(
        self,
        facts: Mapping[str, Any],
        where: str | None = None,
        as_of: date | None = None,
        *,
        derive: bool = True,
    ) -> dict[str, Any]:
        """The given facts checked, in recorded form, with the derived facts added
        (``derive=False``: the given facts alone, as a replay compares them).

        Derivations that read parameters need ``as_of`` (the parameters in force then);
        without it they stay unknown.
        """
        place = where or f"{self.family} {self.version}"
        derived = self._derived
        given_derived = sorted(derived.intersection(facts))
        if given_derived:
            raise FactsInvalidError(
                f"{place}: expected only facts that are given, got derived fact(s) {given_derived}; "
                "they are computed from the others",
                unknown=given_derived,
            )
        recorded = recorded_facts(self._given_decls, facts, place)
        if not derived or not derive:
            return recorded
        params = self.parameters_on(as_of) if as_of is not None else {}
        return derive_facts(self.spec, recorded, params)

    def given_facts(self, recorded: Mapping[str, Any]) -> dict[str, Any]:
        """The facts of a recorded decision without the derived ones (to decide them again)."""
        derived = self._derived
        return {k: v for k, v in recorded.items() if k not in derived}

    @staticmethod
    def _fired(rule: LoweredRule, facts: Mapping[str, Any]) -> FiredRule:
        explanation = rule.fired
        if not rule.fact_refs:
            return explanation
        outcome = {**explanation.outcome, **{key: facts.get(fact) for key, fact in rule.fact_refs.items()}}
        return FiredRule(
            explanation.rule_id,
            explanation.reason,
            explanation.reference,
            MappingProxyType(outcome),
            explanation.fix,
        )

    @staticmethod
    def _refuse_conflict(fired: tuple[FiredRule, ...], policy: str, as_of: date, place: str) -> None:
        # `vrrules check` proves no conflict on given facts; derived facts can still meet here.
        clashing = len(fired) > 1 and (
            policy == "unique" or any(dict(r.outcome) != dict(fired[0].outcome) for r in fired[1:])
        )
        if clashing:
            raise RulesConflictError(
                f"{place} on {as_of.isoformat()}: expected at most one applying rule "
                f"(or agreeing rules) under hit policy {policy!r}, got {[r.rule_id for r in fired]}; "
                "make their conditions exclude each other (run `vrrules check` for an example)",
                rules=[r.rule_id for r in fired],
            )

    def decide(self, facts: Mapping[str, Any], as_of: date, where: str | None = None) -> Decision:
        """Decide on ``facts`` with the parameters in force on ``as_of``.

        A parameter with no value on ``as_of`` raises ``parameter_missing`` only when a rule
        reading it could apply (:mod:`vrrules.policies.unpublished`)."""
        as_of = day_argument(as_of, "as_of", text=False)
        try:
            return self.decide_exactly(facts, as_of, where)
        except ParameterMissingError as error:
            return decide_without_unneeded(self, facts, as_of, where, error)

    def decide_exactly(self, facts: Mapping[str, Any], as_of: date, where: str | None = None) -> Decision:
        """:meth:`decide`, raising ``parameter_missing`` whenever a parameter has no value."""
        as_of = day_argument(as_of, "as_of", text=False)
        lowered = self.lowered_on(as_of)
        recorded = self.check_facts(facts, where, as_of)
        by_id = {rule.id: rule for rule in lowered.rules}
        fired_ids = self.evaluator.fired(lowered, typed_facts(self.spec.facts, recorded))
        fired = tuple(self._fired(by_id[rule_id], recorded) for rule_id in fired_ids)
        policy = self.spec.hit_policy
        outcome: dict[str, Any] | None
        if not fired:
            outcome = dict(self.spec.no_rule_outcome) if self.spec.no_rule_outcome else None
        elif policy in ("unique", "any"):
            self._refuse_conflict(fired, policy, as_of, place=where or f"{self.family} {self.version}")
            outcome = dict(fired[0].outcome)
        elif policy == "first":
            outcome = dict(fired[0].outcome)
        else:
            outcome = {"findings": [{"rule_id": r.rule_id, **r.outcome} for r in fired]}
            combine = self.spec.combine
            if combine is not None:
                found = {r.outcome.get(combine.key) for r in fired}
                outcome[combine.key] = next(v for v in combine.order if v in found)
        return Decision(
            family=self.family,
            version=self.version,
            spec_sha256=self.sha256,
            as_of=as_of,
            facts=recorded,
            status="decided" if fired else "no_rule_applied",
            outcome=outcome,
            fired=fired,
        )
