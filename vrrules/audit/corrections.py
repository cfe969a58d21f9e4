"""Corrections: events recorded after a decision about days on or before its date.

A decision as of ``D`` reads the case up to the version it read and keeps what had happened
by ``D``. An event recorded *later* whose business date is on or before ``D`` is a
**correction** of what the decision read: a late report, a back-dated fix. An event recorded
later and dated after ``D`` is ordinary **progress**: it could not have been known on ``D``
and says nothing about that decision.

:func:`corrections` lists the decisions whose outcome the corrections alone would change. It
decides each one twice with the release that made it: on the history it read, and on that
history plus its corrections (later progress left out), both read the way it read its case
(what had happened by ``D`` for a decision asked for as of ``D``; everything it read, plus
the corrections, for one asked for with no date). The recorded outcome itself is not the baseline: a
decision stored before vrrules kept the two times apart may differ from either reading for
that reason alone, which is not a correction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from vrrules.audit.replay import Replayer
from vrrules.errors import VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.events.decider import corrected_history, corrections_to, decide_with, given_facts_of
from vrrules.policies.decision import Decision
from vrrules.policies.wording import outcome_text

__all__ = [
    "CorrectingEvent",
    "Correction",
    "CorrectionsReport",
    "corrected_history",
    "corrections",
    "corrections_of",
]


@dataclass(frozen=True)
class CorrectingEvent:
    """One event recorded after a decision, dated on or before the decision's date."""

    version: int
    event_type: str
    happened_on: date | None
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.version,
            "type": self.event_type,
            "happened_on": self.happened_on.isoformat() if self.happened_on else None,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class Correction:
    """A recorded decision whose outcome its corrections alone would change."""

    case_ref: str
    case_version: int  # the decision's own version in the case
    family: str
    as_of: date
    version_read: int
    recorded_outcome: dict[str, Any] | None
    outcome_then: dict[str, Any] | None  # on the history it read
    outcome_corrected: dict[str, Any] | None  # on that history plus its corrections
    rules_then: tuple[str, ...]
    rules_corrected: tuple[str, ...]
    events: tuple[CorrectingEvent, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_ref,
            "event": self.case_version,
            "family": self.family,
            "as_of": self.as_of.isoformat(),
            "version_read": self.version_read,
            "recorded": self.recorded_outcome,
            "then": {"outcome": self.outcome_then, "rules": list(self.rules_then)},
            "corrected": {"outcome": self.outcome_corrected, "rules": list(self.rules_corrected)},
            "corrections": [e.as_dict() for e in self.events],
        }

    def render(self) -> str:
        events = ", ".join(
            f"{e.event_type}@{e.version} (happened {e.happened_on}, recorded {e.recorded_at:%Y-%m-%d})"
            for e in self.events
        )
        return (
            f"{self.case_ref}@{self.case_version} {self.family} as of {self.as_of}: was "
            f"{outcome_text(self.outcome_then)} ({', '.join(self.rules_then) or 'no rule'}), corrected "
            f"{outcome_text(self.outcome_corrected)} ({', '.join(self.rules_corrected) or 'no rule'}); "
            f"corrected by {events}"
        )


@dataclass
class CorrectionsReport:
    """Every decision its corrections would change, and what could not be decided again."""

    changed: list[Correction] = field(default_factory=list)
    corrected_unchanged: int = 0  # decisions with corrections that change nothing
    without_corrections: int = 0
    not_decidable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": [c.as_dict() for c in self.changed],
            "corrected_unchanged": self.corrected_unchanged,
            "without_corrections": self.without_corrections,
            "not_decidable": self.not_decidable,
        }

    def render(self) -> str:
        lines = [
            f"decisions changed by corrections: {len(self.changed)}; corrected but unchanged: "
            f"{self.corrected_unchanged}; without corrections: {self.without_corrections}"
        ]
        lines.extend(f"  {c.render()}" for c in self.changed)
        lines.extend(f"  not decidable: {reason}" for reason in self.not_decidable)
        return "\n".join(lines)


def _same(a: Decision, b: Decision) -> bool:
    return a.outcome == b.outcome and a.fired_rule_ids == b.fired_rule_ids


def corrections_of(
    records: CaseRecords,
    case_ref: str,
    replayer: Replayer | None = None,
    report: CorrectionsReport | None = None,
) -> CorrectionsReport:
    """The corrections report of one case (added to ``report`` when given)."""
    replayer = replayer or Replayer(records.store)
    report = report if report is not None else CorrectionsReport()
    case = records.case(case_ref)
    for version, record in case.decisions:
        fixes = corrections_to(case, record)
        if not fixes:
            report.without_corrections += 1
            continue
        try:
            compiled = replayer.release(record.spec_sha256)
            given = given_facts_of(compiled, record)
            dated = record.reads_business_time
            then_case = records.store.case(case_ref, record.case_version_read)
            then = decide_with(compiled, then_case, record.as_of, given, happened_only=dated)
            now = decide_with(
                compiled, corrected_history(case, record), record.as_of, given, happened_only=dated
            )
        except VrrulesError as error:
            report.not_decidable.append(
                f"{case_ref}@{version} {record.family}: [{error.code}] {error.message}"
            )
            continue
        if _same(then, now):
            report.corrected_unchanged += 1
            continue
        report.changed.append(
            Correction(
                case_ref,
                version,
                record.family,
                record.as_of,
                record.case_version_read,
                record.outcome,
                then.outcome,
                now.outcome,
                then.fired_rule_ids,
                now.fired_rule_ids,
                tuple(
                    CorrectingEvent(r.version, r.event_type, r.payload.business_date, r.recorded_at)
                    for r in fixes
                ),
            )
        )
    return report


def corrections(records: CaseRecords, case_refs: Iterable[str] | None = None) -> CorrectionsReport:
    """The decisions whose outcome the corrections alone would change, over the store
    (or over ``case_refs``).

    A correction is an event recorded after a decision (a later version than the one it
    read) whose business date is on or before the decision's date. Each decision with
    corrections is decided again with its own stored release and the caller's facts it
    recorded, on the history it read and on that history plus the corrections; later progress
    (events dated after the decision's date) is left out, so ordinary progress is never
    reported as a correction. Writes nothing. For the CLI: ``vrrules audit corrections``.
    """
    replayer = Replayer(records.store)
    report = CorrectionsReport()
    for case_ref in case_refs if case_refs is not None else records.case_refs():
        corrections_of(records, case_ref, replayer, report)
    return report
