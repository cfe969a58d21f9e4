"""Compile a spec onto durable_rules, in named stages that collect diagnostics.

``parse``    strict YAML to plain data with line numbers
``validate`` pydantic models, then the checks a schema cannot make (unknown facts,
             operators that do not fit a fact's type, unknown parameters, sizes)
``resolve``  parameter values in force on the decision's effective date
``lower``    durable_rules ruleset JSON, one rule per spec rule, priority = spec order

Every problem found in ``parse`` and ``validate`` is collected, and one
:class:`~vrrules.errors.SpecInvalidError` carries them all.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from vrrules.errors import (
    Diagnostic,
    FactsInvalidError,
    ParameterMissingError,
    RulesConflictError,
    SpecInvalidError,
)
from vrrules.policies.analysis import analyse
from vrrules.policies.checks import check_spec
from vrrules.policies.conditions import engine_scalar, expand_codes, operand_items, operand_type, walk
from vrrules.policies.decision import Decision, FiredRule
from vrrules.policies.derive import derive_facts, derived_names
from vrrules.policies.engine import RuleEngine, shared_engine
from vrrules.policies.facts import engine_view, recorded_facts
from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    FactDecl,
    FactRef,
    FamilySpec,
    NotOf,
    Parameter,
    ParamRef,
    Rule,
    parse_money,
)
from vrrules.policies.yamlsource import YamlDocument, read_yaml

__all__ = [
    "CompiledFamily",
    "LoweredRuleset",
    "SpecSource",
    "compile_or_raise",
    "compile_source",
    "lower",
    "parse",
    "resolve_parameters",
    "validate",
]

DISCRIMINATOR = "vr_kind"


@dataclass(frozen=True)
class SpecSource:
    """The exact text of a spec and where it came from; its hash identifies the release."""

    text: str
    file: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- stage 1: parse


def parse(source: SpecSource) -> tuple[YamlDocument | None, list[Diagnostic]]:
    document, diagnostics = read_yaml(source.text, source.file)
    if document is not None and not isinstance(document.data, dict):
        diagnostics.append(
            Diagnostic(
                code="spec_not_mapping",
                message="expected a mapping with family, version, rules…, "
                f"got {type(document.data).__name__}",
                file=source.file,
                line=1,
                hint="start from an existing spec under specs/",
            )
        )
        return None, diagnostics
    return document, diagnostics


# ------------------------------------------------------------------------ stage 2: validate

_PYDANTIC_CODES = {
    "missing": "spec_field_missing",
    "extra_forbidden": "spec_field_unknown",
}


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _yaml_path(raw: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Map a pydantic error location onto the YAML path, dropping union tags on the way."""
    path: list[str | int] = []
    node = raw
    for part in loc:
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue
        found, child = _child(node, part)
        if found:
            path.append(part)
            node = child
        elif isinstance(node, dict) and isinstance(part, str) and path[-1:] != [part]:
            # a missing or unknown key: name it, it is where the problem is
            path.append(part)
            node = None
    return tuple(path)


def _rule_id_at(raw: Any, path: tuple[str | int, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = raw.get("rules") if isinstance(raw, dict) else None
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rule_id = rules[path[1]].get("id")
            return str(rule_id) if rule_id is not None else f"#{path[1] + 1}"
    return None


def _hint_for(code: str, field_name: str | None) -> str:
    hints = {
        "spec_field_missing": f"add '{field_name}'",
        "spec_field_unknown": f"remove '{field_name}' or correct its spelling (see docs/spec-format.md)",
        "date_not_iso": "write the date as YYYY-MM-DD, e.g. 2025-07-01",
        "money_invalid": 'quote the amount with at most two decimals, e.g. "1234.50"',
        "condition_operator_count": "give one test per condition; combine tests with all/any",
    }
    return hints.get(code, "correct the value to the expected form")


def _schema_diagnostics(error: ValidationError, document: YamlDocument, file: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[str, tuple[str | int, ...]]] = set()
    for item in error.errors(include_url=False):
        code = _PYDANTIC_CODES.get(item["type"], item["type"])
        if not code.startswith(
            (
                "spec_",
                "date_",
                "money_",
                "condition_",
                "fact_",
                "name_",
                "parameter_",
                "invariant_",
                "derivation_",
            )
        ):
            code = "spec_field_invalid"
        path = _yaml_path(document.data, tuple(item["loc"]))
        if (code, path) in seen:
            continue  # a union reports one mistake once per alternative
        seen.add((code, path))
        dotted = ".".join(str(p) for p in path) or None
        got = item.get("input")
        message = item["msg"]
        if item["type"] == "missing":
            message = f"expected a value for '{path[-1] if path else '?'}', got nothing"
        elif item["type"] == "extra_forbidden":
            message = f"expected only known fields here, got the unknown field '{path[-1]}'"
        elif code == "spec_field_invalid":
            message = f"{message}; got {_short(got)}"
        out.append(
            Diagnostic(
                code=code,
                message=message,
                file=file,
                line=document.line_of(path),
                rule=_rule_id_at(document.data, path),
                field=dotted,
                hint=_hint_for(code, str(path[-1]) if path else None),
            )
        )
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate(
    document: YamlDocument, file: str, case_sources: Mapping[str, str] | None = None
) -> tuple[FamilySpec | None, list[Diagnostic]]:
    try:
        spec = FamilySpec.model_validate(document.data)
    except ValidationError as error:
        return None, _schema_diagnostics(error, document, file)
    diagnostics = check_spec(spec, document, file, case_sources)
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics.extend(analyse_rules(spec, document, file))
    return spec, diagnostics


def analyse_rules(spec: FamilySpec, document: YamlDocument, file: str) -> list[Diagnostic]:
    """Rules that never fire, conflicting pairs and gaps, as located diagnostics."""
    found = []
    for finding in analyse(spec, parameter_periods(spec)):
        at = finding.rule_index
        path: tuple[str | int, ...] = ("rules",) if at is None else ("rules", at)
        found.append(
            Diagnostic(
                code=finding.code,
                message=finding.message,
                file=file,
                line=document.line_of(path),
                rule=None if finding.rule_index is None else spec.rules[finding.rule_index].id,
                field=".".join(str(p) for p in path),
                hint=finding.hint,
                severity=finding.severity,
            )
        )
    return found


# ------------------------------------------------------------------------- stage 3: resolve


def param_refs(spec: FamilySpec) -> list[str]:
    """The parameters a family's rules use, in conditions and outcomes."""
    names: list[str] = []
    for rule in spec.rules:
        for comparison, _ in walk(rule.when, ()):
            names.extend(i.param for i in operand_items(comparison) if isinstance(i, ParamRef))
        names.extend(v.param for v in rule.outcome.values() if isinstance(v, ParamRef))
    for decl in spec.facts.values():
        derivation = decl.derive
        if derivation is not None:
            items = derivation.sum or derivation.difference or []
            names.extend(i.param for i in items if isinstance(i, ParamRef))
    return sorted(set(names))


def _why_missing(name: str, param: Parameter, start: date | None) -> str:
    if not param.values:
        why = "no value is published"
    elif start is None:
        why = f"before its first value ({min(param.values).isoformat()})"
    else:
        why = f"no value published from {start.isoformat()}"
    if param.unpublished:
        why += f": {param.unpublished}"
    return f"{name!r} ({param.description.rstrip('.')}): {why}"


def resolve_parameters(spec: FamilySpec, as_of: date, file: str) -> dict[str, Any]:
    """The value of each parameter the rules use, as in force on ``as_of``. Never extrapolated.

    Every parameter without a value on that date is named in one error, each with why.
    """
    resolved: dict[str, Any] = {}
    missing: list[str] = []
    for name in param_refs(spec):
        param = spec.parameters[name]
        value: Any = None
        start: date | None = None
        for when, candidate in param.values.items():
            if when <= as_of:
                value, start = candidate, when
        if value is None:
            missing.append(_why_missing(name, param, start))
            continue
        resolved[name] = parse_money(value) if param.type == "money" else value
    if missing:
        raise ParameterMissingError(
            f"{file}: {spec.family} {spec.version} cannot decide on {as_of.isoformat()}: the value "
            f"is unknown for " + "; ".join(missing) + ". Values are never extrapolated or invented; "
            "add the published value, dated, with the reference it comes from.",
            parameters=[m.split("'")[1] for m in missing],
            as_of=as_of,
        )
    return resolved


def parameter_periods(spec: FamilySpec) -> Iterator[tuple[date, dict[str, Any]]]:
    """Each date the rules' constants change on, with the parameters in force from it."""
    starts = {spec.effective_from}
    for name in param_refs(spec):
        starts.update(spec.parameters[name].values)
    until = spec.effective_until
    for start in sorted(starts):
        if start < spec.effective_from or (until is not None and start > until):
            continue
        try:
            yield start, resolve_parameters(spec, start, "")
        except ParameterMissingError:
            continue


# --------------------------------------------------------------------------- stage 4: lower


@dataclass(frozen=True)
class LoweredRuleset:
    name: str
    kind: str
    rules: dict[str, dict[str, Any]]
    outcomes: dict[str, dict[str, Any]]
    fired: dict[str, FiredRule] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    # outcome keys whose value is a fact of the decision, per rule: {rule: {key: fact}}
    fact_refs: dict[str, dict[str, str]] = field(default_factory=dict)


def _flag(fact: str, code: str) -> str:
    return f"{fact}__{code}"


def _absent(fact: str, decl: FactDecl) -> dict[str, Any]:
    key = f"{fact}__count" if decl.type == "set" else fact
    return {"$nex": {key: 1}}


def _any(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$or": tests}


def _all(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$and": tests}


_COMPLEMENT = {"lt": "$gte", "lte": "$gt", "gt": "$lte", "gte": "$lt"}
_DIRECT = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def _lower_comparison(
    comparison: Comparison, decl: FactDecl, params: Mapping[str, Any], negate: bool
) -> dict[str, Any]:
    fact, op = comparison.fact, comparison.operator
    value_type = operand_type(op, decl)

    def value(item: Any) -> Any:
        raw = params[item.param] if isinstance(item, ParamRef) else item
        return engine_scalar(value_type, raw)

    if op == "present":
        wanted = bool(comparison.present) != negate
        key = f"{fact}__count" if decl.type == "set" else fact
        return {"$ex": {key: 1}} if wanted else {"$nex": {key: 1}}

    items = [value(i) for i in expand_codes(operand_items(comparison), params)]
    positive: dict[str, Any]
    if op == "equals":
        positive = {"$neq": {fact: items[0]}} if negate else {fact: items[0]}
    elif op == "not_equals":
        positive = {fact: items[0]} if negate else {"$neq": {fact: items[0]}}
    elif op in _DIRECT:
        positive = {(_COMPLEMENT if negate else _DIRECT)[op]: {fact: items[0]}}
    elif op == "in":
        positive = _all([{"$neq": {fact: v}} for v in items]) if negate else _any([{fact: v} for v in items])
    elif op == "not_in":
        positive = _any([{fact: v} for v in items]) if negate else _all([{"$neq": {fact: v}} for v in items])
    elif op == "contains":
        positive = {_flag(fact, items[0]): not negate}
    elif op == "contains_any":
        flags = [{_flag(fact, c): not negate} for c in items]
        positive = _all(flags) if negate else _any(flags)
    elif op == "contains_all":
        flags = [{_flag(fact, c): not negate} for c in items]
        positive = _any(flags) if negate else _all(flags)
    elif op == "contains_none":
        flags = [{_flag(fact, c): negate} for c in items]
        positive = _any(flags) if negate else _all(flags)
    elif op == "count_gte":
        positive = {"$lt" if negate else "$gte": {f"{fact}__count": items[0]}}
    elif op == "count_lte":
        positive = {"$gt" if negate else "$lte": {f"{fact}__count": items[0]}}
    else:  # pragma: no cover - the model admits no other operator
        raise AssertionError(op)
    # A comparison on an unknown fact is false, so its negation is true when the fact is unknown.
    return {"$or": [positive, _absent(fact, decl)]} if negate else positive


def _lower_condition(
    condition: Condition, spec: FamilySpec, params: Mapping[str, Any], negate: bool = False
) -> dict[str, Any]:
    if isinstance(condition, AllOf):
        parts = [_lower_condition(c, spec, params, negate) for c in condition.all]
        return _any(parts) if negate else _all(parts)
    if isinstance(condition, AnyOf):
        parts = [_lower_condition(c, spec, params, negate) for c in condition.any]
        return _all(parts) if negate else _any(parts)
    if isinstance(condition, NotOf):
        return _lower_condition(condition.not_, spec, params, not negate)
    return _lower_comparison(condition, spec.facts[condition.fact], params, negate)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _outcome(rule: Rule, params: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's outcome with parameters filled in; fact references are filled per decision."""
    return {
        key: _json_value(params[value.param]) if isinstance(value, ParamRef) else value
        for key, value in rule.outcome.items()
        if not isinstance(value, FactRef)
    }


def lower(spec: FamilySpec, params: Mapping[str, Any], sha256: str) -> LoweredRuleset:
    rules: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[str, Any]] = {}
    for priority, rule in enumerate(spec.rules, start=1):
        test = _lower_condition(rule.when, spec, params)
        # The discriminator is the positive test every rule needs: without one, a rule made only
        # of negative tests matches durable_rules' own session-state message and loops forever.
        rules[rule.id] = {
            "pri": priority,
            "all": [{"m": {"$and": [{DISCRIMINATOR: spec.family}, test]}}],
        }
        outcomes[rule.id] = _outcome(rule, params)
    param_digest = hashlib.sha256(
        json.dumps({k: _json_value(v) for k, v in params.items()}, sort_keys=True).encode()
    ).hexdigest()
    name = f"{spec.family}@{spec.version}#{sha256[:16]}/{param_digest[:12]}"
    # Explanations are the same for every decision of this ruleset: build them once, read-only.
    fired = {
        rule.id: FiredRule(
            rule_id=rule.id,
            reason=rule.reason,
            reference=MappingProxyType(rule.reference.model_dump(exclude_none=True)),
            outcome=MappingProxyType(outcomes[rule.id]),
            fix=rule.fix,
        )
        for rule in spec.rules
    }
    fact_refs = {
        rule.id: {k: v.fact for k, v in rule.outcome.items() if isinstance(v, FactRef)} for rule in spec.rules
    }
    return LoweredRuleset(
        name=name,
        kind=spec.family,
        rules=rules,
        outcomes=outcomes,
        fired=fired,
        params=dict(params),
        fact_refs={rule: refs for rule, refs in fact_refs.items() if refs},
    )


# ------------------------------------------------------------------------------ the result


@dataclass
class CompiledFamily:
    """A validated spec, ready to decide; lowers once per distinct set of parameter values."""

    spec: FamilySpec
    source: SpecSource
    engine: RuleEngine = field(default_factory=shared_engine)
    _by_period: dict[int, LoweredRuleset | None] = field(default_factory=dict, repr=False)
    _breaks: list[date] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # Parameter values change only on their dated boundaries: between two boundaries the
        # lowered ruleset is the same, so it is found by bisection instead of re-resolved.
        self._breaks = sorted(
            {when for name in param_refs(self.spec) for when in self.spec.parameters[name].values}
        )

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
        return bisect.bisect_right(self._breaks, as_of)

    def ruleset_for(self, as_of: date) -> LoweredRuleset:
        period = self.period_of(as_of)
        lowered = self._by_period.get(period)
        if lowered is None:
            try:
                params = resolve_parameters(self.spec, as_of, self.source.file)
            except ParameterMissingError:
                self._by_period[period] = None
                raise
            lowered = lower(self.spec, params, self.sha256)
            self.engine.register(lowered.name, lowered.rules, {DISCRIMINATOR: lowered.kind})
            self._by_period[period] = lowered
        return lowered

    def check_facts(
        self, facts: Mapping[str, Any], where: str | None = None, as_of: date | None = None
    ) -> dict[str, Any]:
        """The given facts checked, in recorded form, with the derived facts added.

        Derivations that read parameters need ``as_of`` (the parameters in force then);
        without it they stay unknown.
        """
        place = where or f"{self.family} {self.version}"
        derived = derived_names(self.spec)
        given_derived = sorted(derived & set(facts))
        if given_derived:
            raise FactsInvalidError(
                f"{place}: expected only facts that are given, got derived fact(s) {given_derived}; "
                "they are computed from the others",
                unknown=given_derived,
            )
        base = {k: v for k, v in self.spec.facts.items() if k not in derived}
        recorded = recorded_facts(base, facts, place)
        if not derived:
            return recorded
        params = self.ruleset_for(as_of).params if as_of is not None else {}
        return derive_facts(self.spec, recorded, params)

    @staticmethod
    def _fired(lowered: LoweredRuleset, rule_id: str, facts: Mapping[str, Any]) -> FiredRule:
        refs = lowered.fact_refs.get(rule_id)
        rule = lowered.fired[rule_id]
        return rule if refs is None else _with_facts(rule, refs, facts)

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

    def given_facts(self, recorded: Mapping[str, Any]) -> dict[str, Any]:
        """The facts of a recorded decision without the derived ones (to decide them again)."""
        derived = derived_names(self.spec)
        return {k: v for k, v in recorded.items() if k not in derived}

    def decide(self, facts: Mapping[str, Any], as_of: date, where: str | None = None) -> Decision:
        """Decide on ``facts`` with the parameters in force on ``as_of``."""
        lowered = self.ruleset_for(as_of)
        recorded = self.check_facts(facts, where, as_of)
        message = engine_view(self.spec.facts, recorded)
        message[DISCRIMINATOR] = lowered.kind
        policy = self.spec.hit_policy
        fired_ids = self.engine.evaluate(lowered.name, message, every_match=policy != "first")
        fired = tuple(self._fired(lowered, rule_id, recorded) for rule_id in fired_ids)
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


def _with_facts(rule: FiredRule, refs: Mapping[str, str], facts: Mapping[str, Any]) -> FiredRule:
    outcome = {**rule.outcome, **{key: facts.get(fact) for key, fact in refs.items()}}
    return FiredRule(rule.rule_id, rule.reason, rule.reference, MappingProxyType(outcome), rule.fix)


def compile_source(
    source: SpecSource,
    case_sources: Mapping[str, str] | None = None,
    engine: RuleEngine | None = None,
) -> tuple[CompiledFamily | None, list[Diagnostic]]:
    """Run parse and validate; return the compiled family (or None) and every diagnostic."""
    document, diagnostics = parse(source)
    if document is None or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    spec, more = validate(document, source.file, case_sources)
    diagnostics.extend(more)
    if spec is None or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    compiled = CompiledFamily(spec=spec, source=source, engine=engine or shared_engine())
    return compiled, diagnostics


def compile_or_raise(
    source: SpecSource,
    case_sources: Mapping[str, str] | None = None,
    engine: RuleEngine | None = None,
) -> CompiledFamily:
    compiled, diagnostics = compile_source(source, case_sources, engine)
    if compiled is None:
        raise SpecInvalidError(diagnostics)
    return compiled
