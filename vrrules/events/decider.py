"""The decider: a case, the caller's facts and a date in; a decision and its record out.

Pure: it reads nothing from disk or the store and writes nothing. ``decide`` (the facade),
bulk import, what-if and replay all come through :func:`decide_with`, so the way facts are
sourced from the history and handed to the engine cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from vrrules.errors import FactsInvalidError
from vrrules.events.caseview import case_view, happened_by, latest_business_date
from vrrules.events.domain import Case, Recorded
from vrrules.events.payloads import DecisionRecord
from vrrules.policies.compiler import CompiledFamily
from vrrules.policies.decision import Decision
from vrrules.policies.derive import derived_names
from vrrules.policies.engine import ENGINE_NAME
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.wording import outcome_text

__all__ = [
    "ENGINE_NAME",
    "FactSource",
    "Made",
    "RecordedDecision",
    "corrected_history",
    "corrections_to",
    "decide",
    "decide_sourced",
    "decide_with",
    "effective_date",
    "fact_sources",
    "facts_for",
    "given_facts_of",
    "redecide",
    "sourced_facts",
    "view_as_read",
]


@dataclass(frozen=True)
class RecordedDecision:
    """A decision and where it stands in the case's log."""

    case_ref: str
    case_version: int
    decision: Decision
    previous_outcome: dict[str, Any] | None
    from_caller: tuple[str, ...] = ()
    """The facts the caller gave (not sourced from any history, not derived)."""

    @property
    def changed(self) -> bool:
        return self.previous_outcome is not None and self.previous_outcome != self.decision.outcome

    def explain(self) -> str:
        text = f"case {self.case_ref} (event {self.case_version}): {self.decision.explain()}"
        if self.changed:
            text += f"\n  changed from: {outcome_text(self.previous_outcome)}"
        return text


@dataclass(frozen=True)
class Made:
    """What deciding on a case gives: the decision, the release that made it, and the record
    to append to the case (its ``case_version_read`` is the case's version when decided)."""

    compiled: CompiledFamily
    decision: Decision
    record: DecisionRecord

    def on(self, case: Case) -> RecordedDecision:
        return RecordedDecision(
            case.case_ref,
            case.version,
            self.decision,
            self.record.previous_outcome,
            tuple(self.record.from_caller or ()),
        )


def effective_date(case: Case, family: str, paths: list[str], on: date | None = None) -> date:
    """The first of the family's ``effective_date`` paths that the case knows (by business
    date ``on``, when given: of what had happened by then, the latest of each kind)."""
    view = case_view(case, on, happened_only=on is not None, paths=paths)
    for path in paths:
        value = view.get(path)
        if isinstance(value, date):
            return value
    raise FactsInvalidError(
        f"case {case.case_ref!r}, family {family!r}: expected one of the dates "
        f"{paths} to be known to pick the policy version in force, got none; record the "
        "event that establishes it or pass as_of",
        case_ref=case.case_ref,
    )


def facts_for(
    case: Case,
    compiled: CompiledFamily,
    as_of: date,
    given: Mapping[str, Any],
    others: Sequence[Case] = (),
    *,
    happened_only: bool = True,
) -> dict[str, Any]:
    """The caller's facts plus every fact the history establishes on ``as_of``.

    With ``happened_only`` (the default) only what had happened by ``as_of`` counts; without
    it every recorded event does. ``others`` are the worker's other cases (an explicit input:
    the decider reads no store); "Option 2 elected before" and "earlier plans" read them."""
    _refuse_sourced_from_caller(case.case_ref, compiled, given)
    view = case_view(case, as_of, happened_only=happened_only, others=others, paths=compiled.sources)
    return sourced_facts(compiled, view, given, case.case_ref)


def _refuse_sourced_from_caller(case_ref: str, compiled: CompiledFamily, given: Mapping[str, Any]) -> None:
    sourced = {name for name, decl in compiled.spec.facts.items() if decl.source}
    clash = sorted(sourced & set(given))
    if clash:
        raise FactsInvalidError(
            f"case {case_ref!r}, family {compiled.family!r}: expected facts {clash} "
            "to come from the case history, got them from the caller; record the event "
            "that establishes them instead",
            case_ref=case_ref,
        )


def sourced_facts(
    compiled: CompiledFamily, view: Mapping[str, Any], given: Mapping[str, Any], case_ref: str
) -> dict[str, Any]:
    """The caller's facts plus the facts ``compiled`` sources from a case ``view`` (as
    :func:`~vrrules.events.caseview.case_view` gives it). :func:`facts_for` reads one view per
    decision; the due list reads one per day for every timed family through this same step."""
    _refuse_sourced_from_caller(case_ref, compiled, given)
    facts = dict(given)
    for name, decl in compiled.spec.facts.items():
        if decl.source:
            facts[name] = view[decl.source]
    return facts


def decide_sourced(
    compiled: CompiledFamily, facts: Mapping[str, Any], as_of: date, case_ref: str
) -> Decision:
    """The engine step of :func:`decide_with` on facts already sourced (:func:`sourced_facts`)."""
    return _decided(compiled, facts, as_of, f"case {case_ref!r}, family {compiled.family!r}")


def decide_with(
    compiled: CompiledFamily,
    case: Case | None,
    as_of: date,
    given: Mapping[str, Any],
    others: Sequence[Case] = (),
    *,
    happened_only: bool = True,
) -> Decision:
    """The one path to the engine: facts sourced from ``case`` (when given, with the worker's
    ``others`` cases) plus ``given``; ``happened_only`` as in :func:`facts_for`."""
    if case is None:
        return _decided(compiled, given, as_of, None)
    facts = facts_for(case, compiled, as_of, given, others, happened_only=happened_only)
    return _decided(compiled, facts, as_of, f"case {case.case_ref!r}, family {compiled.family!r}")


def _decided(compiled: CompiledFamily, facts: Mapping[str, Any], as_of: date, where: str | None) -> Decision:
    return compiled.decide(facts, as_of, where=where)


def decide(
    library: PolicyLibrary,
    case: Case,
    family: str,
    *,
    as_of: date | None = None,
    facts: Mapping[str, Any] | None = None,
    others: Sequence[Case] = (),
) -> Made:
    """Decide ``family`` on ``case`` as of a business date, reading only what had happened by
    then (``time_basis`` "business").

    ``others`` are the worker's other cases, which the caller (the facade) loads from the
    store: the decider itself stays pure.

    With ``as_of`` the decision is for that date, with the version in force on it. Without it
    the decision is for the latest business date the case records (:func:`latest_business_date`:
    everything recorded had happened by then, and days are counted up to it), with the version
    in force on the family's effective date (the first of its ``effective_date`` paths the case
    knows, such as the assessment date), which the record keeps as ``version_chosen_on`` when
    it is another day."""
    chosen_on: date | None = None
    if as_of is None:
        as_of = latest_business_date(case)
        versions = library.versions(family)
        if versions:  # an unknown family is reported by in_force below, with the families there are
            chosen_on = effective_date(case, family, versions[-1].spec.effective_date, as_of)
    compiled = library.in_force(family, chosen_on or as_of)
    decision = decide_with(compiled, case, as_of, facts or {}, others)
    previous = case.latest_decision(family)
    record = DecisionRecord(
        family=decision.family,
        version=decision.version,
        spec_sha256=decision.spec_sha256,
        as_of=decision.as_of,
        case_version_read=case.version,
        facts=decision.facts,
        status=decision.status,
        outcome=decision.outcome,
        fired=[rule.as_dict() for rule in decision.fired],
        previous_outcome=previous.outcome if previous is not None else None,
        time_basis="business",
        from_caller=sorted(given_facts_of(compiled, decision.facts)),
        version_chosen_on=chosen_on if chosen_on != as_of else None,
    )
    return Made(compiled, decision, record)


@dataclass(frozen=True)
class FactSource:
    """One fact a family reads and where it comes from.

    ``origin`` is ``"history"`` (read from the case at ``path``: the history vouches for it),
    ``"derived"`` (computed from the facts in ``inputs``) or ``"caller"`` (given by whoever
    asks for the decision: nothing recorded vouches for it)."""

    name: str
    type: str
    description: str
    origin: str
    path: str | None = None
    inputs: tuple[str, ...] = ()
    default: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "origin": self.origin,
            "path": self.path,
            "inputs": list(self.inputs),
            "default": self.default,
        }


def fact_sources(compiled: CompiledFamily) -> list[FactSource]:
    """The facts ``compiled`` reads, in declaration order, each with where it comes from.
    For the CLI: ``vrrules facts FAMILY``."""
    found: list[FactSource] = []
    for name, decl in compiled.spec.facts.items():
        if decl.derive is not None:
            found.append(
                FactSource(name, decl.type, decl.description, "derived", inputs=tuple(decl.derive.inputs))
            )
        elif decl.source:
            found.append(FactSource(name, decl.type, decl.description, "history", path=decl.source))
        else:
            found.append(FactSource(name, decl.type, decl.description, "caller", default=decl.default))
    return found


def given_facts_of(compiled: CompiledFamily, record: DecisionRecord | Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a recorded decision (or of a decision's facts) the caller gave: neither
    sourced from the history nor derived. These are what the history cannot vouch for."""
    derived = derived_names(compiled.spec)
    facts = record.facts if isinstance(record, DecisionRecord) else record
    return {
        name: value
        for name, value in facts.items()
        if name in compiled.spec.facts and not compiled.spec.facts[name].source and name not in derived
    }


def view_as_read(case: Case, record: DecisionRecord) -> dict[str, Any]:
    """The case view a recorded decision read, the way it read it: only what had happened by
    its date for decisions asked for as of a date (``time_basis`` "business"), every
    recorded event for the others (no date asked for, or stored before the two times were
    kept apart). ``case`` is the case at the version
    the decision read. Replay checks sourced facts against this."""
    return case_view(case, record.as_of, happened_only=record.reads_business_time)


def corrections_to(case: Case, record: DecisionRecord) -> list[Recorded]:
    """The corrections of a recorded decision in ``case``: events recorded after the version
    it read whose business date is on or before its date (later-dated ones are progress)."""
    return [
        r
        for r in case.recorded
        if r.version > record.case_version_read
        and (r.payload.business_date is None or r.payload.business_date <= record.as_of)
    ]


def corrected_history(case: Case, record: DecisionRecord) -> Case:
    """The history ``record`` read plus its corrections, later progress left out (a read-only
    copy, read the way the decision read its case). ``case`` at the version read gives it back
    unchanged."""
    fixes = {r.version for r in corrections_to(case, record)}
    corrected = happened_by(case, date.max)  # a copy with every event
    # in the order recorded, as the decision read it (the view puts them in business order
    # when the decision read business time)
    corrected.recorded = [
        r for r in case.recorded if r.version <= record.case_version_read or r.version in fixes
    ]
    corrected.decisions = [(v, d) for v, d in case.decisions if v <= record.case_version_read]
    return corrected


def redecide(library: PolicyLibrary, case: Case, record: DecisionRecord) -> Decision:
    """A recorded decision decided again with ``library``, recording nothing: on the history it
    read plus the corrections ``case`` holds since (:func:`corrected_history`; ordinary later
    progress is left out). With the current case it shows what corrections would change, with
    a draft library what a policy change would."""
    compiled = library.in_force(record.family, record.version_chosen_on or record.as_of)
    return decide_with(
        compiled,
        corrected_history(case, record),
        record.as_of,
        given_facts_of(compiled, record),
        happened_only=record.reads_business_time,
    )
