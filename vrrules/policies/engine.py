"""The one module that talks to durable_rules.

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
from importlib.metadata import version as _package_version
from typing import Any

from durable import engine as _durable

from vrrules.errors import EngineError

__all__ = [
    "ENGINE_NAME",
    "MAX_PRIORITY",
    "MAX_RULES_PER_RULESET",
    "NO_RULE_APPLIED",
    "RuleEngine",
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
            try:
                self._host.register_rulesets({name: definition})
            except Exception as exc:  # durable_rules raises bare Exception with a C error code
                raise EngineError(
                    f"ruleset {name!r}: durable_rules refused the compiled definition: {exc}",
                    ruleset=name,
                ) from exc
            self._registered.add(name)

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
