"""Replay: decide a recorded decision again from the stored release and the stored history.

A decision is reproduced when the stored release (the exact spec text, checked against its
hash), the facts the history established at the version the decision read, and the engine
give the recorded outcome and rules again. Replay loads, resolves, lowers and evaluates the
stored text; it never runs the spec checks or the rule analysis, so a lint finding added in
a later version of vrrules cannot turn a reproduced decision into an unreplayable one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from eventsourcing.utils import get_topic

from vrrules.errors import ReleaseUnknownError, SpecInvalidError, VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.events.caseview import case_view, reads_other_cases
from vrrules.events.decider import decide_with, redecide
from vrrules.events.domain import Case
from vrrules.events.payloads import DecisionRecord
from vrrules.events.publishing import release_source
from vrrules.events.store import CaseStore
from vrrules.policies.compiler import CompiledFamily, load_release
from vrrules.policies.decision import Decision
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.wording import outcome_text

__all__ = ["ReplayResult", "Replayer", "redecide_recorded", "replay", "replay_all"]

_MEMO_SIZE = 20_000
# releases loaded in this process, by the hash of their text (oldest dropped first)
_LOADED: dict[str, CompiledFamily] = {}
_LOADED_SIZE = 256
Status = Literal["reproduced", "differs", "unreplayable"]


@dataclass(frozen=True)
class ReplayResult:
    """The verdict of re-deciding one recorded decision from the stored history and policy."""

    case_ref: str
    case_version: int
    family: str
    version: str
    status: Status
    differences: tuple[str, ...] = field(default=())

    @property
    def reproduced(self) -> bool:
        return self.status == "reproduced"

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_ref,
            "event": self.case_version,
            "family": self.family,
            "version": self.version,
            "status": self.status,
            "differences": list(self.differences),
        }

    def __str__(self) -> str:
        head = f"{self.case_ref}@{self.case_version} {self.family} {self.version}: {self.status}"
        return "\n".join([head, *(f"  - {d}" for d in self.differences)])


class Replayer:
    """Replays decisions from one store; stored releases are loaded once per process, and
    each distinct (release, parameter period, given facts) is evaluated once."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store
        self._releases: dict[str, CompiledFamily] = {}
        self._memo: dict[tuple[str, int, str], Decision] = {}
        self._checked: dict[tuple[str, str], dict[str, Any]] = {}
        # per release: its facts read from the case (name, case-view path), and whether
        # they read the worker's other cases; worked out once, as the release loads
        self._sourced: dict[str, tuple[list[tuple[str, str]], bool]] = {}
        self._workers: dict[str, list[str]] | None = None

    def _worker_cases(self, case: Case, decided_at: datetime | None) -> list[Case]:
        """The worker's other cases as they stood when the decision was recorded (the facade
        hands the decider the worker's cases as they stand at that moment)."""
        worker = case.opening.worker
        if worker is None:
            return []
        if self._workers is None:
            self._workers = {}
            for record in self.store.records([get_topic(Case.Opened)]):
                try:
                    event = self.store.decode(record)
                except Exception:
                    continue
                if isinstance(event, Case.Opened) and event.opening.worker is not None:
                    self._workers.setdefault(event.opening.worker, []).append(event.opening.case_ref)
        others = []
        for ref in self._workers.get(worker, []):
            if ref == case.case_ref:
                continue
            known = [e for e in self.store.history(ref) if decided_at is None or e.timestamp <= decided_at]
            if known:
                others.append(self.store.case(ref, known[-1].originator_version))
        return others

    def release(self, sha256: str) -> CompiledFamily:
        """The stored policy release with this hash, loaded for deciding (once per process)."""
        compiled = self._releases.get(sha256)
        if compiled is None:
            source = release_source(self.store, sha256)
            # a release is named by the hash of its text, so one loaded from any store serves
            # every store in this process: an audit repeated often does not parse it again
            loaded = _LOADED.get(sha256)
            if loaded is None or loaded.source.text != source.text:
                loaded = load_release(source)
                if len(_LOADED) >= _LOADED_SIZE:
                    _LOADED.pop(next(iter(_LOADED)))
                _LOADED[sha256] = loaded
            compiled = self._releases[sha256] = loaded
            self._sourced[sha256] = (
                [(name, decl.source) for name, decl in loaded.spec.facts.items() if decl.source],
                reads_other_cases(loaded.sources),
            )
        return compiled

    def _decide_again(self, compiled: CompiledFamily, record: DecisionRecord) -> Decision:
        # A decision is a pure function of the release, the parameter period and the given
        # facts, so each distinct combination goes through the engine once.
        given = compiled.given_facts(record.facts)
        key = (compiled.sha256, compiled.period_of(record.as_of), _facts_key(given))
        replayed = self._memo.get(key)
        if replayed is None:
            replayed = decide_with(compiled, None, record.as_of, given)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()  # bounded memory; a miss only costs one evaluation
            self._memo[key] = replayed
        return replayed

    def _checked_facts(self, compiled: CompiledFamily, sourced: dict[str, Any]) -> dict[str, Any]:
        # The checks are a pure function of the release and the values, and the values a
        # case's history gives repeat across cases as the given facts do: checked once each.
        # The key is the values' repr, which tells a date from its text and 1.0 from 1.00.
        values = tuple(sourced.values())
        if not all(type(v) in _PLAIN or (type(v) in (list, tuple) and _all_plain(v)) for v in values):
            return _checked_from_history(compiled, sourced)  # a repr may not say all of it
        key = (compiled.sha256, repr(values))
        found = self._checked.get(key)
        if found is None:
            found = _checked_from_history(compiled, sourced)
            if len(self._checked) >= _MEMO_SIZE:
                self._checked.clear()
            self._checked[key] = found
        return found

    def _facts_against_history(
        self,
        compiled: CompiledFamily,
        sourced: list[tuple[str, str]],
        then: Case,
        record: DecisionRecord,
        others: list[Case],
    ) -> list[str]:
        """The sourced facts must be the ones the history established at the version read,
        read the way the decision read it (what had happened by its date, or everything
        recorded)."""
        view = case_view(
            then,
            record.as_of,
            happened_only=record.reads_business_time,
            others=others,
            paths=compiled.sources,
        )
        values = {name: view.get(source) for name, source in sourced}
        from_history = self._checked_facts(compiled, values)
        return [
            f"fact {name!r}: recorded {record.facts.get(name)!r}, history at event "
            f"{record.case_version_read} gives {from_history.get(name)!r}"
            for name in values
            if from_history.get(name) != record.facts.get(name)
        ]

    def replay_decision(
        self,
        case: Case,
        case_version: int,
        record: DecisionRecord,
        then: Case | None = None,
        decided_at: datetime | None = None,
    ) -> ReplayResult:
        """Re-decide one recorded decision; ``then`` is the case at the version it read, if
        the caller has it at hand (an audit walking the case does), else it is loaded;
        ``decided_at`` is when the decision was recorded (the worker's other cases are read
        as they stood then)."""

        def result(status: Status, notes: list[str]) -> ReplayResult:
            return ReplayResult(
                case.case_ref, case_version, record.family, record.version, status, tuple(notes)
            )

        try:
            compiled = self.release(record.spec_sha256)
        except (ReleaseUnknownError, SpecInvalidError) as error:
            return result("unreplayable", [str(error)])
        if compiled.sha256 != record.spec_sha256:
            return result("unreplayable", ["stored release text does not hash to the recorded hash"])
        try:
            replayed = self._decide_again(compiled, record)
        except VrrulesError as error:
            return result("unreplayable", [f"[{error.code}] {error.message}"])
        notes = _differences(replayed, record)
        try:
            if then is None or then.version != record.case_version_read:
                then = self.store.case(case.case_ref, record.case_version_read)
            sourced, reads_others = self._sourced[compiled.sha256]
            others = self._worker_cases(then, decided_at) if reads_others else []
            notes.extend(self._facts_against_history(compiled, sourced, then, record, others))
        except VrrulesError as error:
            notes.append(f"facts could not be derived again: [{error.code}] {error.message}")
        return result("differs" if notes else "reproduced", notes)

    def replay_case(self, case_ref: str) -> list[ReplayResult]:
        case = self.store.case(case_ref)
        return [self.replay_decision(case, version, record) for version, record in case.decisions]


# values whose repr is exact and names their type
_PLAIN = frozenset({str, int, bool, float, Decimal, date, type(None)})


def _all_plain(values: list[Any] | tuple[Any, ...]) -> bool:
    return all(type(v) in _PLAIN for v in values)


def _facts_key(facts: Mapping[str, Any]) -> str:
    """The facts as canonical text, for the memo: orjson's (a tenth of the stdlib's time,
    paid once per decision replayed), or, marked with a leading NUL that JSON text never
    has, the stdlib's for what orjson refuses (an integer past 64 bits, a key that is not
    text), so a key of one form never equals a key of the other. orjson's bytes are made
    text: the buffer it returns holds kilobytes whatever the length."""
    try:
        return orjson.dumps(facts, option=orjson.OPT_SORT_KEYS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        return "\x00" + json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)


def _differences(replayed: Decision, record: DecisionRecord) -> list[str]:
    notes: list[str] = []
    if replayed.facts != record.facts:
        changed = sorted(
            k for k in {*replayed.facts, *record.facts} if replayed.facts.get(k) != record.facts.get(k)
        )
        notes.append(f"derived facts: {changed} differ between the record and the replay")
    if replayed.status != record.status:
        notes.append(f"status: recorded {record.status}, replayed {replayed.status}")
    if replayed.outcome != record.outcome:
        notes.append(
            f"outcome: recorded {outcome_text(record.outcome)}, replayed {outcome_text(replayed.outcome)}"
        )
    recorded_fired = [f["rule_id"] for f in record.fired]
    if list(replayed.fired_rule_ids) != recorded_fired:
        notes.append(f"fired rules: recorded {recorded_fired}, replayed {list(replayed.fired_rule_ids)}")
    return notes


def _checked_from_history(compiled: CompiledFamily, sourced: dict[str, Any]) -> dict[str, Any]:
    """The sourced facts as the family's checks take them (a fact they refuse raises, named:
    the facts could not be derived again)."""
    # sourced facts are given facts: only they are compared, so nothing is derived here
    try:
        return compiled.check_facts(sourced, derive=False)
    except VrrulesError:  # find which fact: one at a time
        from_history: dict[str, Any] = {}
        for name, value in sourced.items():
            from_history.update(compiled.check_facts({name: value}, derive=False))
        return from_history


def replay(records: CaseRecords, case_ref: str) -> list[ReplayResult]:
    """Replay every decision recorded on one case."""
    return Replayer(records.store).replay_case(case_ref)


def replay_all(
    records: CaseRecords, progress: Callable[[ReplayResult], None] | None = None
) -> Iterator[ReplayResult]:
    """Replay every decision in the store, case by case."""
    replayer = Replayer(records.store)
    for case_ref in records.case_refs():
        for outcome in replayer.replay_case(case_ref):
            if progress is not None:
                progress(outcome)
            yield outcome


def redecide_recorded(
    records: CaseRecords,
    case_ref: str,
    record: DecisionRecord,
    policies: PolicyLibrary | None = None,
    version: int | None = None,
) -> Decision:
    """A recorded decision decided again, recording nothing: on the case now (or at
    ``version``) with ``policies`` (default: the store's current specs)."""
    return redecide(policies or records.policies, records.store.case(case_ref, version), record)
