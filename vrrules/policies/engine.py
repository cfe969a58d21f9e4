"""The one module that talks to durable_rules: the engine that decides, behind ``Evaluator``.

:class:`DurableRulesEvaluator` implements :class:`~vrrules.policies.evaluate.Evaluator`. It
alone knows how lowered rules and typed facts are *encoded* for durable_rules, which
compares numbers as C doubles and can serialise neither ``Decimal`` nor ``date``: money
becomes integer cents, dates day numbers (proleptic ordinals), and a set fact one boolean
per code (``fact__code``) plus a count (``fact__count``), which keeps "does not contain"
exact (durable_rules' ``$iall`` is false on an empty list). Every rule also tests a
discriminator (``vr_kind``) that the engine's own session-state message cannot satisfy.

What it guards against (measured on durable-rules 2.0.28, see docs/engine.md):

* The stock ``Host`` starts dispatcher threads that can steal an action in the middle of
  ``post`` (the call then returns ``None``) and crash under threads: ``_QuietHost`` never
  starts them, and one lock serialises every call into the C core.
* Every ``post``/``assert_fact`` creates a session that lives until deleted, and a ruleset
  holds at most 1024: each evaluation uses a fresh session id and deletes it in ``finally``.
* An asserted fact fires a rule once for each satisfied branch of an ``$or``: each rule is
  reported once, in firing (priority) order.
* "No rule matched" is an exception there, and deleting the session of an unmatched
  message then crashes the process (SIGSEGV, measured here). Every ruleset therefore gets
  a catch-all rule at the lowest priority that matches the discriminator alone: some rule
  always matches, the session is always safe to delete, and the catch-all is filtered
  out of the result, which is empty when no rule of the spec applied.
* Actions' exceptions are swallowed into the session state: our actions only append the
  rule name to a list, and the state is checked for ``exception`` all the same.
* ``register_rulesets`` mutates the definition it is given: it gets a deep copy.
* A ruleset name cannot be registered twice and is never freed, so each compiled
  ruleset is registered once per process under a name that includes its content hash.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from importlib.metadata import version as _package_version
from typing import Any

from durable import engine as _durable

from vrrules.errors import EngineError
from vrrules.policies.lower import And, FactTest, LoweredCondition, LoweredFamily, Not, Or
from vrrules.policies.model import FactDecl

__all__ = [
    "DISCRIMINATOR",
    "ENGINE_NAME",
    "MAX_PRIORITY",
    "MAX_RULES_PER_RULESET",
    "NO_RULE_APPLIED",
    "DurableRulesEvaluator",
    "RuleEngine",
    "cents",
    "durable_evaluator",
    "encode_facts",
    "encode_rules",
    "engine_key_count",
    "shared_engine",
]

# 512 alpha branches under one node make durable_rules' create_ruleset spin forever;
# stay well below, leaving room for the tests the rules share.
MAX_RULES_PER_RULESET = 400
# pri is a C unsigned short: larger or negative values wrap silently. The top value is
# reserved for the catch-all rule.
MAX_PRIORITY = 65534
NO_RULE_APPLIED = "__no_rule_applied__"
# recorded with every decision, so an audit knows which engine made it
ENGINE_NAME = f"durable-rules {_package_version('durable-rules')}"
# the property every rule tests and every message carries (see the module docstring)
DISCRIMINATOR = "vr_kind"


# ------------------------------------------------------------------------------ encoding


def cents(amount: Decimal) -> int:
    """Exact conversion of a money amount to integer cents."""
    return int(amount.scaleb(2))


def _flag(fact: str, code: str) -> str:
    return f"{fact}__{code}"


def _count(fact: str) -> str:
    return f"{fact}__count"


def engine_key_count(facts: Mapping[str, FactDecl]) -> int:
    """How many properties a fact message of this family puts on one engine fact."""
    return sum((len(decl.values or ()) + 1) if decl.type == "set" else 1 for decl in facts.values())


def _scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return cents(value)
    if isinstance(value, date):
        return value.toordinal()
    return value


def encode_facts(declared: Mapping[str, FactDecl], facts: Mapping[str, Any]) -> dict[str, Any]:
    """Typed facts as the integers, booleans and text the engine compares."""
    message: dict[str, Any] = {}
    for name, value in facts.items():
        decl = declared[name]
        if decl.type == "set":
            for code in decl.values or ():
                message[_flag(name, code)] = code in value
            message[_count(name)] = len(value)
        else:
            message[name] = _scalar(value)
    return message


def _absent(test: FactTest) -> dict[str, Any]:
    key = _count(test.fact) if test.fact_type == "set" else test.fact
    return {"$nex": {key: 1}}


def _joined(operator: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    # An $and inside an $and (an $or inside an $or) is merged into it: durable_rules refuses
    # nested ones of the same kind sooner (error 113, expression limit; two negated
    # conjunctions side by side were enough), and the meaning is the same.
    merged: list[dict[str, Any]] = []
    for test in tests:
        if len(test) == 1 and operator in test:
            merged.extend(test[operator])
        else:
            merged.append(test)
    return merged[0] if len(merged) == 1 else {operator: merged}


def _any(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return _joined("$or", tests)


def _all(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return _joined("$and", tests)


_COMPLEMENT = {"lt": "$gte", "lte": "$gt", "gt": "$lte", "gte": "$lt"}
_DIRECT = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def _encode_test(test: FactTest, negate: bool) -> dict[str, Any]:
    fact, op = test.fact, test.op
    if op == "present":
        wanted = bool(test.values[0]) != negate
        key = _count(fact) if test.fact_type == "set" else fact
        return {"$ex": {key: 1}} if wanted else {"$nex": {key: 1}}
    items = [_scalar(v) for v in test.values]
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
        positive = {"$lt" if negate else "$gte": {_count(fact): items[0]}}
    elif op == "count_lte":
        positive = {"$gt" if negate else "$lte": {_count(fact): items[0]}}
    else:  # pragma: no cover - the model admits no other operator
        raise AssertionError(op)
    # A comparison on an unknown fact is false, so its negation is true when the fact is unknown.
    return {"$or": [positive, _absent(test)]} if negate else positive


def _encode(condition: LoweredCondition, negate: bool = False) -> dict[str, Any]:
    # durable_rules has no "not": negations are pushed down to the tests (De Morgan)
    if isinstance(condition, And):
        parts = [_encode(c, negate) for c in condition.parts]
        return _any(parts) if negate else _all(parts)
    if isinstance(condition, Or):
        parts = [_encode(c, negate) for c in condition.parts]
        return _all(parts) if negate else _any(parts)
    if isinstance(condition, Not):
        return _encode(condition.part, not negate)
    return _encode_test(condition, negate)


def _ignore(_closure: Any) -> None:
    return None


# durable_rules' refusal of a condition too large for its network (ERR_EXPRESSION_LIMIT_EXCEEDED)
_EXPRESSION_LIMIT = "error code: 113"
# between a rule's name and the number of a part it was split into
_PART_MARK = "\x1f"


def _split_condition(condition: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The condition as alternatives whose union it is: an $or's own, or an $and's with its
    first $or distributed over them; None when it has no $or to split on."""
    if len(condition) != 1:
        return None
    ((operator, parts),) = condition.items()
    if operator == "$or":
        return list(parts)
    if operator != "$and":
        return None
    # an $and's parts are tests and $ors: an $and inside it was merged into it (_joined)
    for index, part in enumerate(parts):
        if len(part) == 1 and "$or" in part:
            return [_all([*parts[:index], alternative, *parts[index + 1 :]]) for alternative in part["$or"]]
    return None


def encode_rules(family: LoweredFamily) -> dict[str, dict[str, Any]]:
    """The family's rules as durable_rules JSON (without actions), priority = spec order."""
    return {
        rule.id: {
            "pri": rule.priority,
            # The discriminator is the positive test every rule needs: without one, a rule made only
            # of negative tests matches durable_rules' own session-state message and loops forever.
            "all": [{"m": _all([{DISCRIMINATOR: family.family}, _encode(rule.when)])}],
        }
        for rule in family.rules
    }


class _QuietHost(_durable.Host):  # type: ignore[misc]
    """A Host without the timer threads: decisions are synchronous and need neither."""

    def _run(self) -> None:
        return None


class RuleEngine:
    """Registers compiled rulesets once and evaluates facts against them, thread-safely."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._registered: set[str] = set()
        self._session_ids = itertools.count(1)
        self._fired: list[str] = []

    def is_registered(self, name: str) -> bool:
        return name in self._registered

    def register(
        self, name: str, rules: Mapping[str, Mapping[str, Any]], discriminator: Mapping[str, Any]
    ) -> None:
        """Register ``rules`` (rule name to durable_rules JSON without ``run``) under ``name``.

        ``discriminator`` is the positive test every rule starts with and every message
        carries; the catch-all rule matches it alone.
        """
        if len(rules) > MAX_RULES_PER_RULESET:
            raise EngineError(
                f"ruleset {name!r}: expected at most {MAX_RULES_PER_RULESET} rules, got {len(rules)}; "
                "split the family into several",
                ruleset=name,
            )
        definition: dict[str, dict[str, Any]] = {}
        for rule_name, rule in rules.items():
            pri = rule.get("pri", 0)
            if not isinstance(pri, int) or not 0 <= pri <= MAX_PRIORITY:
                raise EngineError(
                    f"ruleset {name!r}, rule {rule_name!r}: expected pri in 0..{MAX_PRIORITY}, got {pri!r}",
                    ruleset=name,
                )
            entry = copy.deepcopy(dict(rule))
            entry["run"] = self._recorder(rule_name)
            definition[rule_name] = entry
        definition[NO_RULE_APPLIED] = {
            "pri": MAX_PRIORITY + 1,
            "all": [{"m": dict(discriminator)}],
            "run": self._recorder(NO_RULE_APPLIED),
        }
        with self._lock:
            if name in self._registered:
                return
            try:  # durable_rules takes the actions out of what it is given: it gets copies
                self._host.register_rulesets({name: copy.deepcopy(definition)})
            except Exception as exc:  # durable_rules raises bare Exception with a C error code
                if _EXPRESSION_LIMIT not in str(exc):
                    raise EngineError(
                        f"ruleset {name!r}: durable_rules refused the compiled definition: {exc}",
                        ruleset=name,
                    ) from exc
                self._register_split(name, definition, exc)
            self._registered.add(name)

    def _register_split(self, name: str, definition: dict[str, dict[str, Any]], refusal: Exception) -> None:
        """Register ``definition`` with each rule durable_rules refuses as too large (error
        113) split into rules that each take part of its condition: an $or's alternatives
        each in a rule of their own, an $and split on its first $or. Every part records the
        rule's own name, so the rule fires as before (a fact matching two parts counts once,
        as a double firing of an $or does)."""
        split: dict[str, dict[str, Any]] = {}
        for rule_name, entry in definition.items():
            for number, condition in enumerate(self._parts_taken(name, entry)):
                part = {**entry, "all": [{"m": condition}]}
                split[rule_name if number == 0 else f"{rule_name}{_PART_MARK}{number}"] = part
        if len(split) > MAX_RULES_PER_RULESET:
            raise EngineError(
                f"ruleset {name!r}: durable_rules refused the compiled definition ({refusal}), and "
                f"split into conditions it takes the family needs {len(split)} engine rules, more than "
                f"{MAX_RULES_PER_RULESET}; write the rule with fewer alternatives (fewer 'any' and "
                "negated 'all' side by side), or as several rules",
                ruleset=name,
            ) from refusal
        try:
            self._host.register_rulesets({name: split})
        except Exception as exc:
            raise EngineError(
                f"ruleset {name!r}: durable_rules refused the compiled definition: {exc}", ruleset=name
            ) from exc

    def _parts_taken(self, name: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
        """The rule's condition as conditions durable_rules takes (itself when it is taken)."""
        taken: list[dict[str, Any]] = []
        pending = [entry["all"][0]["m"]]
        while pending:
            condition = pending.pop(0)
            probe = f"{name}{_PART_MARK}probe{next(self._session_ids)}"
            try:  # a ruleset of this condition alone: durable_rules says whether it takes it
                self._host.register_rulesets(
                    {probe: {"probe": {"all": [{"m": copy.deepcopy(condition)}], "run": _ignore}}}
                )
            except Exception as exc:
                parts = _split_condition(condition)
                if parts is None or _EXPRESSION_LIMIT not in str(exc):
                    raise EngineError(
                        f"ruleset {name!r}: durable_rules refused a rule's condition: {exc}", ruleset=name
                    ) from exc
                pending[:0] = parts
                if len(taken) + len(pending) > MAX_RULES_PER_RULESET:
                    break  # refused by the caller, with the count
                continue
            taken.append(condition)
        return taken + pending

    def _recorder(self, rule_name: str) -> Callable[[Any], None]:
        fired = self._fired

        def record(_closure: Any) -> None:
            fired.append(rule_name)

        return record

    def evaluate(self, name: str, fact: Mapping[str, Any], *, every_match: bool) -> tuple[str, ...]:
        """Evaluate one fact; return the names of the rules that fired, in firing order.

        ``every_match`` asserts the fact so that every matching rule fires (in priority
        order); otherwise the fact is posted as an event, which exactly one rule, the
        matching one with the lowest priority, consumes.
        """
        if name not in self._registered:
            raise EngineError(f"ruleset {name!r} is not registered", ruleset=name)
        with self._lock:
            sid = str(next(self._session_ids))
            message = dict(fact)
            message["sid"] = sid
            self._fired.clear()
            try:
                if every_match:
                    state = self._host.assert_fact(name, message)
                else:
                    state = self._host.post(name, message)
            except _durable.MessageNotHandledException as exc:
                # Only a message without the discriminator gets here; its session must not
                # be deleted (that crashes durable_rules), so refuse it loudly instead.
                raise EngineError(
                    f"ruleset {name!r}: expected the message to carry the ruleset's discriminator, "
                    "got a message no rule (not even the catch-all) matched",
                    ruleset=name,
                ) from exc
            except Exception as exc:
                self._delete(name, sid)
                raise EngineError(
                    f"ruleset {name!r}: durable_rules failed while evaluating: {exc}",
                    ruleset=name,
                ) from exc
            self._delete(name, sid)
            if isinstance(state, dict) and state.get("exception"):
                raise EngineError(
                    f"ruleset {name!r}: an action failed inside durable_rules: {state['exception']}",
                    ruleset=name,
                )
            # An asserted fact fires a rule once per satisfied branch of an $or: count it once.
            return tuple(rule for rule in dict.fromkeys(self._fired) if rule != NO_RULE_APPLIED)

    def _delete(self, name: str, sid: str) -> None:
        # error 309: the session was never created, so there is nothing to free
        with contextlib.suppress(Exception):
            self._host.delete_state(name, sid)


_shared: RuleEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> RuleEngine:
    """The process-wide engine: rulesets are never freed, so they are shared, not per object."""
    global _shared  # noqa: PLW0603 - one Host per process is the point
    with _shared_lock:
        if _shared is None:
            _shared = RuleEngine()
        return _shared


class DurableRulesEvaluator:
    """The :class:`~vrrules.policies.evaluate.Evaluator` that decides: durable_rules.

    Each lowered family is encoded and registered once per process (under its name, which
    holds the spec's hash and the parameter values), then every decision is one message.
    """

    name = ENGINE_NAME

    def __init__(self, engine: RuleEngine | None = None) -> None:
        self.engine = engine or shared_engine()

    def fired(self, family: LoweredFamily, facts: Mapping[str, Any]) -> tuple[str, ...]:
        if not self.engine.is_registered(family.name):
            self.engine.register(family.name, encode_rules(family), {DISCRIMINATOR: family.family})
        message = encode_facts(family.facts, facts)
        message[DISCRIMINATOR] = family.family
        return self.engine.evaluate(family.name, message, every_match=family.every_match)


_shared_evaluator: DurableRulesEvaluator | None = None


def durable_evaluator() -> DurableRulesEvaluator:
    """The process-wide durable_rules evaluator, over :func:`shared_engine`."""
    global _shared_evaluator  # noqa: PLW0603 - one Host per process is the point
    engine = shared_engine()
    with _shared_lock:
        if _shared_evaluator is None:
            _shared_evaluator = DurableRulesEvaluator(engine)
        return _shared_evaluator
