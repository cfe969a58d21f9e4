"""The due list: every deadline passed or coming on every case, as of a business date.

A **timed family** is one whose rules report a ``due_on`` date (the plan due date, the next
contact, the three-month alert, the Option 2 window...). A **due item** is one fired rule of a
timed family with its ``due_on``, decided on a case as of a day ``D``: it is listed by
``due(D, within)`` when ``due_on <= D + within`` (overdue items included). Only the cases
that existed on ``D`` are asked: those opened on or before it (the opening's business date,
``opened_on``). A case opened later is on no list as of ``D``, even when its history records
events dated earlier (a plan submitted before the case was opened here).

:func:`due_sweep` is the definition: decide every timed family on every case open on ``D``
as of ``D``.
:class:`DueProjection` answers the same question without deciding anything at query time.
For each case it works out, once per change of the case, the due items of every timed family
on every span of days over which they stay the same: what a decision as of ``D`` reports
changes only on the business dates of the case's events, on the dates its findings report
(a deadline flips from coming to passed the day after it) and on the dates a family's
versions and parameters change, so the decisions are taken on those days alone (the case is
read once a day for all the families, and a family whose facts did not change since an
earlier day of the case is not asked again).

**Kept in the store.** The spans live beside the events (:mod:`vrrules.events.duetables`;
an in-memory store keeps them in memory), with the store position they were worked out to,
a fingerprint of the policy library and the deciding code they were worked out with, and one
of the spec files it was read from. Asking is then one indexed query for the spans that
contain the day asked about: its cost follows the items listed, not the number of cases.
When the spec files are those and nothing was recorded since, :func:`kept_due_list` answers
with nothing else: no spec is loaded, no case read, none of the policy stack imported.

**Following the log.** Before it answers, the projection reads the store's records after
that position (``CaseStore.records``, in the store's total order, as eventsourcing's
projections follow a notification log), works out again the cases they touched (and the
other cases of their workers, whose facts they read), and stores the new spans with the new
position in one transaction; when nothing was recorded since, that costs one indexed read.
Two writers cannot both move it on from the same state: the loser starts again from the
winner's. A projection worked out with other specs or another vrrules (the fingerprint
differs), or asked to (:meth:`DueProjection.rebuild`, ``vrrules due --rebuild``), is built
again from the first record, sharing the cases among processes when there are many. A store
opened read-only is caught up in memory and answered the same, with nothing written.

**Checked.** :func:`check_due` (``vrrules audit due``) compares what the projection lists on a
day with :func:`due_sweep`; :meth:`DueProjection.verify` does the same for several days.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from eventsourcing.utils import get_topic

from vrrules.errors import (
    DueProjectionConflictError,
    DueProjectionInvalidError,
    FileNotRegularError,
    VrrulesError,
)
from vrrules.events.domain import Case
from vrrules.events.duetables import (
    FORMAT,
    CaseEntry,
    DueState,
    DueTables,
    Item,
    Listed,
    MemoryDueTables,
    OverlayDueTables,
    Span,
    Text,
)
from vrrules.policies.reading import SOURCE_FILE_LIMIT, read_at_most
from vrrules.policies.specfiles import spec_files
from vrrules.policies.values import parse_iso_date

if TYPE_CHECKING:  # the facade holds a projection; the projection reads through the facade
    from vrrules.events.application import CaseRecords, RecordsHandle
    from vrrules.events.store import CaseStore
    from vrrules.policies.library import PolicyLibrary

# The decider and the case view (and through them the whole policy stack and the engine) are
# imported where cases are worked out, not with this module: a due list that is current is
# answered by one query, and `vrrules due` should not pay for loading what it does not run.

__all__ = [
    "DueCheck",
    "DueItem",
    "DueProjection",
    "DueReport",
    "KeptDueList",
    "check_due",
    "due_sweep",
    "kept_due_list",
    "library_fingerprint",
    "timed_families",
]

_MAX_ROUNDS = 6  # passes adding the dates findings report (each pass only adds later dates)
_ATTEMPTS = 5  # catch-ups started again after another writer moved the projection on first
PARALLEL_FROM = 400  # cases to work out before the work is shared among processes
_SHARE = 100  # cases a worker process is handed at a time
_LAST_DAY = date.max.toordinal()


class DueItem(NamedTuple):
    """One deadline on one case: passed (``days`` > 0 overdue) or coming (``days`` <= 0 left).

    A named tuple (immutable, ordered field by field: by due date, then case, family, rule,
    finding): a due list can hold a hundred thousand of them, and a tuple is made several
    times faster than a frozen dataclass."""

    due_on: date
    case_ref: str
    family: str
    rule_id: str
    finding: str
    verdict: str
    days: int  # days overdue as of the day asked about: negative when days are left
    reference: str
    what_to_do: str

    @property
    def overdue(self) -> bool:
        return self.days > 0

    def as_dict(self) -> dict[str, Any]:
        due_on, case_ref, family, rule_id, finding, verdict, days, reference, what_to_do = self
        return _document(
            case_ref, due_on.isoformat(), days, (family, rule_id, finding, verdict, reference, what_to_do)
        )


def _document(case_ref: str, due_on: str, days: int, text: Text) -> dict[str, Any]:
    """An item as JSON (:meth:`DueItem.as_dict`, and a kept list's documents made straight
    from its rows)."""
    family, rule_id, finding, verdict, reference, what_to_do = text
    return {
        "case": case_ref,
        "family": family,
        "rule": rule_id,
        "finding": finding,
        "verdict": verdict,
        "due_on": due_on,
        "days_overdue": days if days > 0 else 0,
        "days_left": -days if days < 0 else 0,
        "reference": reference,
        "what_to_do": what_to_do,
    }


def _item(due: int, text: Text, case_ref: str, day: int) -> DueItem:
    family, rule_id, finding, verdict, reference, what_to_do = text
    return DueItem(
        date.fromordinal(due), case_ref, family, rule_id, finding, verdict, day - due, reference, what_to_do
    )


def _horizon(as_of: date, within: int) -> int:
    return min(as_of.toordinal() + within, _LAST_DAY)


def timed_families(library: PolicyLibrary) -> list[str]:
    """The families some version of which reports a ``due_on`` in a rule's outcome."""
    found = set()
    for family in library.families():
        for compiled in library.versions(family):
            if any("due_on" in rule.outcome for rule in compiled.spec.rules):
                found.add(family)
    return sorted(found)


def _reference(reference: Any) -> str:
    if not isinstance(reference, Mapping):
        return ""
    return ", ".join(str(reference[k]) for k in ("document", "section") if reference.get(k))


def _found(family: str, fired: Iterable[Any]) -> tuple[list[Item], set[date]]:
    """The due items among a decision's fired rules, and every date they report."""
    items: list[Item] = []
    dates: set[date] = set()
    for rule in fired:
        outcome = dict(rule.outcome)
        for key, value in outcome.items():
            if key.endswith("_on") and isinstance(value, str):
                try:
                    dates.add(parse_iso_date(value))
                except ValueError:
                    continue
        due_on = outcome.get("due_on")
        if not isinstance(due_on, str):
            continue
        text = (
            family,
            rule.rule_id,
            str(outcome.get("finding", "")),
            str(outcome.get("verdict", "")),
            _reference(rule.reference),
            rule.fix or rule.reason,
        )
        items.append((parse_iso_date(due_on).toordinal(), text))
    return items, dates


def _decided(
    library: PolicyLibrary, case: Case, others: list[Case], families: list[str], day: date
) -> tuple[list[Item], set[date]]:
    """The due items of ``families`` on ``case`` as of ``day`` by the definition (one
    :func:`~vrrules.events.decider.decide` per family), and every date they report."""
    from vrrules.events.decider import decide  # noqa: PLC0415  (see the imports)

    items: list[Item] = []
    dates: set[date] = set()
    for family in families:
        try:
            made = decide(library, case, family, as_of=day, others=others)
        except VrrulesError:
            continue  # not decidable on that day (not in force, a value unpublished): no items
        found, reported = _found(family, made.decision.fired)
        items += found
        dates |= reported
    return items, dates


def _open_on(case: Case, day: date) -> bool:
    """Whether ``case`` existed on business date ``day``: it was opened on or before it. A
    case opened later is on no due list as of ``day`` (:func:`due_sweep` skips it, and the
    projection's spans start on its opening day)."""
    return case.opening.opened_on <= day


def due_sweep(
    records: CaseRecords, as_of: date, within: int = 0, families: list[str] | None = None
) -> list[DueItem]:
    """The due list by definition: every timed family decided as of ``as_of`` on every case
    open by then (:func:`_open_on`).

    Costs one decision per case and family; :class:`DueProjection` gives the same list."""
    library = records.policies
    wanted = families if families is not None else timed_families(library)
    horizon, day = _horizon(as_of, within), as_of.toordinal()
    items: list[DueItem] = []
    for case_ref in records.case_refs():
        case = records.case(case_ref)
        if not _open_on(case, as_of):
            continue  # not opened yet on that day: nothing of it is due
        found, _ = _decided(library, case, records.worker_cases(case), wanted, as_of)
        items.extend(_item(due, text, case_ref, day) for due, text in found if due <= horizon)
    return sorted(items)


# ---------------------------------------------------------------------- working a case out


def _breakpoints(case: Case, library: PolicyLibrary, families: list[str]) -> set[date]:
    """The days from the case's opening on where what is due on it may change: its opening,
    the business dates of its events and decisions, and the days the families' versions and
    parameters change. Before its opening the case is on no list (:func:`_open_on`), so the
    days before it are not asked about: its first span starts on its opening day, which reads
    every event dated before it."""
    opened = case.opening.opened_on
    days = {opened}
    for recorded in case.recorded:
        happened = recorded.payload.business_date
        if happened is not None:
            days.add(happened)
    for _, decision in case.decisions:
        days.add(decision.as_of)
    for family in families:
        for compiled in library.versions(family):
            days.add(compiled.spec.effective_from)
            if compiled.spec.effective_until is not None:
                days.add(compiled.spec.effective_until + timedelta(days=1))
            for param in compiled.spec.parameters.values():
                days.update(param.values)
    return {d for d in days if d >= opened}


class _CaseDecider:
    """Decides the timed families on one case, day after day: the case is read once a day for
    every family (the same sourcing step a decision takes), and a family whose version,
    parameter period and facts are those of an earlier day gives that day's answer again
    (a decision is a function of exactly these)."""

    def __init__(self, library: PolicyLibrary, case: Case, others: list[Case], families: list[str]) -> None:
        self._library = library
        self._case = case
        self._others = others
        self._families = families
        self._known: dict[tuple[str, str, int, str], tuple[list[Item], set[date]] | None] = {}
        self._views: dict[date, dict[str, Any]] = {}
        self._facts: dict[tuple[str, date], Mapping[str, Any] | None] = {}
        self._tests: dict[int, list[_Compared]] = {}

    def _view(self, day: date) -> dict[str, Any]:
        from vrrules.events.caseview import case_view  # noqa: PLC0415  (see the imports)

        view = self._views.get(day)
        if view is None:
            view = self._views[day] = case_view(self._case, day, happened_only=True, others=self._others)
        return view

    def on(self, day: date) -> tuple[list[Item], set[date]]:
        from vrrules.events.decider import decide_sourced, sourced_facts  # noqa: PLC0415

        items: list[Item] = []
        dates: set[date] = set()
        for family in self._families:
            try:
                compiled = self._library.in_force(family, day)
                facts = sourced_facts(compiled, self._view(day), {}, self._case.case_ref)
            except VrrulesError:
                continue
            key = (family, compiled.version, compiled.period_of(day), repr(sorted(facts.items())))
            if key in self._known:
                answer = self._known[key]
            else:
                try:
                    decision = decide_sourced(compiled, facts, day, self._case.case_ref)
                except VrrulesError:
                    answer = None  # not decidable on that day (a value unpublished): no items
                else:
                    answer = _found(family, decision.fired)
                self._known[key] = answer
            if answer is not None:
                items += answer[0]
                dates |= answer[1]
        return items, dates

    # ------------------------------------------------- what the passage of time alone changes

    def _typed(self, family: str, compiled: Any, day: date) -> Mapping[str, Any] | None:
        """The facts ``compiled`` compares on ``day``, sourced and derived, typed as the rules
        compare them (unknown facts absent); ``None`` when they cannot be had that day."""
        key = (family, day)
        if key in self._facts:
            return self._facts[key]
        from vrrules.events.decider import sourced_facts  # noqa: PLC0415  (see the imports)
        from vrrules.policies.facts import typed_facts  # noqa: PLC0415

        typed: Mapping[str, Any] | None = None
        try:
            given = sourced_facts(compiled, self._view(day), {}, self._case.case_ref)
            try:
                recorded = compiled.check_facts(given, None, day)
            except VrrulesError:  # a value unpublished: the derivations that need none
                recorded = compiled.check_facts(given, None)
            typed = typed_facts(compiled.spec.facts, recorded)
        except (VrrulesError, ArithmeticError, ValueError, TypeError):
            typed = None
        self._facts[key] = typed
        return typed

    def _stands(self, family: str, compiled: Any, fact: str, threshold: Any, day: date) -> Any:
        """Where ``fact`` stands against ``threshold`` on ``day`` (:func:`_relation`)."""
        typed = self._typed(family, compiled, day)
        return _relation(_UNREADABLE if typed is None else typed.get(fact, _ABSENT), threshold)

    def _compared(self, compiled: Any) -> list[_Compared]:
        tests = self._tests.get(id(compiled))
        if tests is None:
            tests = self._tests[id(compiled)] = _comparisons(compiled)
        return tests

    def time_changes(self, first: date, last: date) -> set[date]:
        """The days in ``first + 1 .. last``, a run of days on which nothing happens on the case
        and no family's version or parameters change, where the passage of time alone may change
        what a timed family decides: the days a fact some rule compares (an elapsed count of
        days or months, a date the decision date moves against, one derived from them) crosses
        a value the rule compares it with, or becomes known.

        Within such a run a fact counted from the decision date only moves one way, so
        whether it is below, at or above a value changes at most twice, and each change is
        found by bisection (a few dozen readings of the case, not one a day)."""
        found: set[date] = set()
        for family in self._families:
            try:
                compiled = self._library.in_force(family, first)
            except VrrulesError:
                continue
            tests = self._compared(compiled)
            if not tests:
                continue
            at_first = self._typed(family, compiled, first)
            at_last = self._typed(family, compiled, last)
            if at_first is None and at_last is None:
                continue
            for fact, thresholds in tests:
                start = None if at_first is None else at_first.get(fact, _ABSENT)
                end = None if at_last is None else at_last.get(fact, _ABSENT)
                if start == end and at_first is not None and at_last is not None:
                    continue  # the same at both ends: it does not move with time in this run

                for threshold in thresholds:
                    found |= _changes(partial(self._stands, family, compiled, fact, threshold), first, last)
        return found


_ABSENT: Any = object()  # a fact not known on a day
_UNREADABLE: Any = object()  # the facts could not be read on a day
_Compared = tuple[str, tuple[Any, ...]]  # a fact a rule compares, and the values it is compared with
_NO_VALUE: Any = object()  # stands for "is it known" among a fact's values
_MAX_CHANGES = 16  # changes of one relation looked for in one run (it changes at most twice)


def _comparisons(compiled: Any) -> list[_Compared]:
    """Every fact the rules of ``compiled`` compare, with the values it is compared with:
    literals, and every value any period gives a parameter (a value too many only costs a
    reading); whether it is known stands for a comparison whose values cannot be had."""
    from vrrules.policies.conditions import expand_codes, operand_items, operand_type, walk  # noqa: PLC0415
    from vrrules.policies.model import ParamRef  # noqa: PLC0415
    from vrrules.policies.values import typed_scalar  # noqa: PLC0415

    spec = compiled.spec
    compared: dict[str, set[Any]] = {}
    for rule in spec.rules:
        for comparison, _ in walk(rule.when, ()):
            decl = spec.facts.get(comparison.fact)
            if decl is None:
                continue
            values = compared.setdefault(comparison.fact, {_NO_VALUE})
            op = comparison.operator
            if op == "present" or op.startswith(("count_", "contains")):
                continue  # a code set or a presence: known or not, moved by events alone
            kind = operand_type(op, decl)
            for item in operand_items(comparison):
                raws: list[Any] = [item]
                if isinstance(item, ParamRef):
                    param = spec.parameters.get(item.param)
                    raws = list(param.values.values()) if param is not None else []
                for raw in raws:
                    for one in expand_codes([raw], {}) if isinstance(raw, list) else [raw]:
                        try:
                            values.add(typed_scalar(kind, one))
                        except (ValueError, TypeError, ArithmeticError):
                            continue
    return [(fact, tuple(values)) for fact, values in sorted(compared.items())]


def _relation(value: Any, threshold: Any) -> Any:
    """Where ``value`` stands against ``threshold``: unknown, below, at or above it (for a
    value that cannot be ordered against it: equal or not); for ``_NO_VALUE``, known or not."""
    if value is _UNREADABLE or value is _ABSENT or value is None:
        return value if value is _UNREADABLE else 0
    if threshold is _NO_VALUE:
        return 1
    try:
        if value == threshold:
            return 2
        return 1 if value < threshold else 3
    except TypeError:
        return 4


def _changes(relation: Callable[[date], Any], first: date, last: date) -> set[date]:
    """The days in ``first + 1 .. last`` on which ``relation`` differs from the day before,
    for a relation that, once it has left a value, does not come back to it."""
    found: set[date] = set()
    at, final = first, relation(last)
    current = relation(first)
    while current != final and len(found) < _MAX_CHANGES:
        low, high = at.toordinal(), last.toordinal()  # relation(low) == current != relation(high)
        while high - low > 1:
            middle = (low + high) // 2
            if relation(date.fromordinal(middle)) == current:
                low = middle
            else:
                high = middle
        at = date.fromordinal(high)
        found.add(at)
        current = relation(at)
    return found


def _spans(library: PolicyLibrary, case: Case, others: list[Case], families: list[str]) -> list[Span]:
    """The spans of days, from the case's opening day on, over which its due items stay the
    same (those with items). No span holds a day before the opening: the case did not exist
    yet (:func:`_open_on`).

    The days decided are the breakpoints (:func:`_breakpoints`), the dates the findings report
    and the day after each, and in every run of days between them (the last one up to
    9999-12-31) the days the passage of time alone changes a decision
    (:meth:`_CaseDecider.time_changes`): a finding that appears only when a count of days or
    months reaches a limit is found whether or not an earlier finding reported its date."""
    opened = case.opening.opened_on
    starts = _breakpoints(case, library, families)
    decider = _CaseDecider(library, case, others, families)
    decided: dict[date, list[Item]] = {}
    runs_checked: list[tuple[date, date]] = []
    for round_ in range(_MAX_ROUNDS + len(starts) + 8):
        fresh = sorted(d for d in starts if d not in decided)
        if not fresh:
            ordered = sorted(decided)
            added: set[date] = set()
            for index, day in enumerate(ordered):
                last = ordered[index + 1] - timedelta(days=1) if index + 1 < len(ordered) else date.max
                if day < last and not any(a <= day and last <= b for a, b in runs_checked):
                    runs_checked.append((day, last))
                    added |= decider.time_changes(day, last)
            starts |= added - set(decided)
            if not starts - set(decided):
                break
            continue
        for day in fresh:
            items, dates = decider.on(day)
            decided[day] = items
            if round_ >= _MAX_ROUNDS:
                continue  # the chain of reported dates is cut here; time changes still count
            # a deadline flips on the day after it; other reported dates on the day itself
            for reported in dates:
                if opened <= reported < date.max:  # (one before the opening flips on it: a start)
                    starts.update({reported, reported + timedelta(days=1)})
    ordered = sorted(decided)
    spans: list[Span] = []
    for index, day in enumerate(ordered):
        last = ordered[index + 1] - timedelta(days=1) if index + 1 < len(ordered) else date.max
        items = sorted(decided[day])
        if spans and spans[-1][1] + 1 == day.toordinal() and spans[-1][2] == items:
            spans[-1] = (spans[-1][0], last.toordinal(), items)  # the same items: one span
        elif items:
            spans.append((day.toordinal(), last.toordinal(), items))
    return spans


# ----------------------------------------------------------------------- fingerprints

# The modules whose code decides what a decision reports: the policy stages, the case view
# and the decider, the events and their payloads. A change to any of them may change the
# spans, so it changes the fingerprint and the projection is built again. How this module
# works spans out from decisions is versioned by hand instead (duetables.FORMAT), so that
# editing how a list is printed or asked for does not rebuild every store's list.
_DECIDING_CODE = (
    "policies",
    "events/caseview.py",
    "events/decider.py",
    "events/domain.py",
    "events/payloads.py",
    "events/registry.py",
)
_code: list[str] = []


def _code_fingerprint() -> str:
    if not _code:
        package = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256(b"vrrules deciding code\x00")
        for part in _DECIDING_CODE:
            where = package / part
            for path in sorted(where.rglob("*.py")) if where.is_dir() else [where]:
                digest.update(path.relative_to(package).as_posix().encode() + b"\x00")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        _code.append(digest.hexdigest())
    return _code[0]


def library_fingerprint(library: PolicyLibrary, families: Sequence[str]) -> str:
    """What the spans depend on besides the records: the format, the deciding code, the timed
    families and, for each, the text (SHA-256) of every version."""
    digest = hashlib.sha256(f"vrrules due library\x00{FORMAT}\x00{_code_fingerprint()}\x00".encode())
    for family in families:
        for compiled in library.versions(family):
            digest.update(f"{family}\x00{compiled.version}\x00{compiled.sha256}\x00".encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def _sources_fingerprint(root: Path, families: Sequence[str] | None) -> str | None:
    """The spec files a library would be loaded from, by content, with the deciding code: two
    equal fingerprints load the same library, checked the same (a cheap stand-in for loading
    it when nothing changed). ``None`` when the folder cannot be read."""
    digest = hashlib.sha256(f"vrrules due sources\x00{FORMAT}\x00{_code_fingerprint()}\x00".encode())
    digest.update(repr(None if families is None else sorted(families)).encode() + b"\x00")
    try:
        base = root if root.is_dir() else root.parent
        for path in spec_files(root):
            digest.update(path.relative_to(base).as_posix().encode() + b"\x00")
            # read as the library reads it: a pipe or a device among the specs is never read
            # here (the library, loaded instead, refuses it with its code)
            digest.update(hashlib.sha256(read_at_most(path, SOURCE_FILE_LIMIT + 1, "spec file")).digest())
    except (OSError, FileNotRegularError):
        return None
    return digest.hexdigest()


def _read(store: CaseStore, case_ref: str) -> Case:
    # the store's own cached case, not a copy: working a case out only reads it (deciding
    # reads copies made by happened_by), and a copy of a long history costs more than a day
    return store.case(case_ref, working_copy=True)


# -------------------------------------------------------------------- worker processes

_child: dict[str, Any] = {}


def _child_start(handle: RecordsHandle, families: list[str]) -> None:
    records = handle.open()
    _child.update(records=records, library=records.policies, families=families)


def _child_work(share: list[tuple[str, list[str]]]) -> list[tuple[str, list[Span]]]:
    records: CaseRecords = _child["records"]
    out = []
    for case_ref, peer_refs in share:
        case = _read(records.store, case_ref)
        others = [_read(records.store, ref) for ref in peer_refs]
        out.append((case_ref, _spans(_child["library"], case, others, _child["families"])))
    return out


# ------------------------------------------------------------------------- the projection


@dataclass
class DueReport:
    """What the projection did the last time it caught up."""

    rebuilt: bool = False
    reason: str | None = None  # why it was built again from the first record
    read: int = 0  # records read after the position it had (a rebuild: the openings it read)
    worked_out: int = 0  # cases worked out
    position: int = 0  # the store position it stands at
    kept: bool = False  # whether it is kept in the store (else in this process's memory)
    note: str | None = None  # why it is not kept in the store, when it could have been

    def as_dict(self) -> dict[str, Any]:
        return {
            "rebuilt": self.rebuilt,
            "rebuild_reason": self.reason,
            "records_read": self.read,
            "cases_worked_out": self.worked_out,
            "position": self.position,
            "kept_in_store": self.kept,
            "note": self.note,
        }


@dataclass
class DueProjection:
    """The due list kept current by following the store's records (see the module).

    ``families`` fixes the timed families (default: every family reporting a ``due_on``);
    ``workers`` is how many processes share a rebuild or a large catch-up (default: the
    cores); ``progress`` is told ``(done, total)`` as cases are worked out."""

    records: CaseRecords
    families: list[str] | None = None
    workers: int | None = None
    progress: Callable[[int, int], None] | None = None
    report: DueReport = field(default_factory=DueReport)
    cases_worked_out: int = 0  # over the projection's life (for tests)
    _given: list[str] | None = field(default=None, init=False, repr=False)
    _tables: DueTables | None = field(default=None, init=False, repr=False)
    _unkept: str | None = field(default=None, init=False, repr=False)  # why the store would not keep it

    def __post_init__(self) -> None:
        self._given = sorted(self.families) if self.families is not None else None

    # ---------------------------------------------------------------------- where it lives

    def tables(self) -> DueTables:
        """Where the spans are kept: the store's tables (or, opened read-only, those with this
        process's changes over them), or memory for an in-memory store."""
        if self._tables is None:
            found = self.records.store.due_tables()
            if found is None:
                self._tables = MemoryDueTables()
            elif self.records.store.read_only:
                self._tables = OverlayDueTables(found)
            else:
                self._tables = found
        return self._tables

    @property
    def position(self) -> int:
        state = self.tables().state()
        return state.position if state is not None else 0

    # ----------------------------------------------------------------- following the log

    def catch_up(self, *, rebuild: bool = False) -> DueReport:
        """Read what was recorded since the position the projection stands at, work out again
        the cases it touched and keep the result; build it all again first when it was worked
        out with another library or code, or when ``rebuild`` asks."""
        for _ in range(_ATTEMPTS):
            tables = self.tables()
            state = tables.state()
            reason = "asked for" if rebuild else self.stale(state)
            done = self._rebuild(tables, reason) if reason is not None else self._follow(tables, state)
            if done:
                self._note_kept()
                return self.report
        raise DueProjectionConflictError(
            f"expected to catch the due list up, got other processes moving it on first {_ATTEMPTS} "
            "times; nothing of this run was kept: ask again"
        )

    def rebuild(self) -> DueReport:
        """Forget everything and work every case out again from the store's first record."""
        return self.catch_up(rebuild=True)

    def _sources(self) -> str | None:
        root = self.records.spec_root()
        return _sources_fingerprint(root, self._given) if root is not None else None

    def _library(self) -> PolicyLibrary:
        library = self.records.policies
        library.refresh()  # a long-lived facade sees an author's edit, as a decision does
        return library

    def stale(self, state: DueState | None) -> str | None:
        """Why the kept projection (its ``state``) cannot be followed on; ``None`` when it can.
        Costs no loading of the specs when their files are the ones it was built from."""
        if state is None:
            return "none was built in this store yet"
        if state.format != FORMAT:
            return f"its tables are of format {state.format}, this vrrules keeps format {FORMAT}"
        last = self.records.store.last_position()
        if state.position > last:
            return _past_the_log(state.position, last)
        if self._given is not None and list(state.families) != self._given:
            return f"it lists the families {list(state.families)}, these ones were asked for: {self._given}"
        sources = self._sources()
        if sources is None or sources != state.sources:
            library = self._library()
            families = self._given if self._given is not None else timed_families(library)
            if library_fingerprint(library, families) != state.library:
                return "the policy library or vrrules' deciding code changed since it was built"
        self.families = list(state.families)
        return None

    def _follow(self, tables: DueTables, state: DueState | None) -> bool:
        assert state is not None
        store = self.records.store
        sources = self._sources()
        if store.last_position() <= state.position:
            if sources is not None and sources != state.sources and tables.persisted:
                # the same library from other files (or a copy): remember these, so the next
                # run need not load the library to know
                self._write(
                    tables,
                    expected=state.generation,
                    state=_moved(state, sources=sources),
                    cases=[],
                    spans={},
                    replace_all=False,
                )
            self.report = DueReport(position=state.position, kept=_answers_as_kept(tables))
            return True
        opened = get_topic(Case.Opened)
        new: dict[str, CaseEntry] = {}
        touched: set[str] = set()
        position = state.position
        read = 0
        for record in store.records(start=state.position + 1):
            read += 1
            position = record.position
            stored_id = record.stored_id.hex
            if record.topic == opened:
                entry = _opening(store, record)
                if entry is not None:
                    new[stored_id] = entry
            touched.add(stored_id)
        known = tables.cases(touched - set(new))
        known.update(new)
        peers = _Peers(tables, new)
        work: dict[str, CaseEntry] = {}
        for stored_id in sorted(touched & set(known)):
            entry = known[stored_id]
            work[stored_id] = entry
            if entry.worker is not None:  # the worker's other cases read this one
                for peer in peers(entry.worker):
                    work.setdefault(peer.case_id, peer)
        spans = self._work_out(list(work.values()), peers)
        moved = _moved(state, position=position, sources=sources or state.sources)
        if not self._write(
            tables,
            expected=state.generation,
            state=moved,
            cases=list(work.values()),
            spans=spans,
            replace_all=False,
        ):
            return False
        self.report = DueReport(
            read=read, worked_out=len(spans), position=position, kept=self.tables().persisted
        )
        return True

    def _rebuild(self, tables: DueTables, reason: str) -> bool:
        store = self.records.store
        library = self._library()
        families = self._given if self._given is not None else timed_families(library)
        self.families = list(families)
        position = store.last_position()  # every case is read after this: none is older
        entries: dict[str, CaseEntry] = {}
        openings = 0
        for record in store.records([get_topic(Case.Opened)]):
            if record.position > position:
                break
            openings += 1
            entry = _opening(store, record)
            if entry is not None:
                entries[entry.case_id] = entry
        peers = _Peers(MemoryDueTables(), entries)
        spans = self._work_out(list(entries.values()), peers)
        old = tables.state()
        state = DueState(
            generation=old.generation if old is not None else 0,
            position=position,
            library=library_fingerprint(library, families),
            sources=self._sources(),
            families=tuple(families),
        )
        self._write(
            tables, expected=None, state=state, cases=list(entries.values()), spans=spans, replace_all=True
        )
        self.report = DueReport(
            rebuilt=True,
            reason=reason,
            read=openings,
            worked_out=len(spans),
            position=position,
            kept=self.tables().persisted,
        )
        return True

    def _write(
        self,
        tables: DueTables,
        *,
        expected: int | None,
        state: DueState,
        cases: list[CaseEntry],
        spans: dict[str, list[Span]],
        replace_all: bool,
    ) -> bool:
        try:
            written = tables.write(
                expected=expected, state=state, cases=cases, spans=spans, replace_all=replace_all
            )
        except VrrulesError as error:
            if isinstance(tables, MemoryDueTables | OverlayDueTables) or isinstance(
                error, DueProjectionInvalidError
            ):
                raise
            # the store would not take it (a read-only role, a full disk): answer from memory,
            # over what it keeps, and say so
            self._tables = OverlayDueTables(tables)
            self._unkept = error.message
            written = self._tables.write(
                expected=expected, state=state, cases=cases, spans=spans, replace_all=replace_all
            )
        return written is not None

    def _note_kept(self) -> None:
        if self._unkept is not None:
            self.report.note = f"the due list was not kept in the store: {self._unkept}"

    def _work_out(self, entries: list[CaseEntry], peers: _Peers) -> dict[str, list[Span]]:
        """Every case in ``entries`` worked out: here, or shared among processes when there are
        many (each reads the store itself)."""
        assert self.families is not None
        library = self.records.policies
        share = [
            (e, [p for p in peers(e.worker) if p.case_id != e.case_id] if e.worker else []) for e in entries
        ]
        total = len(share)
        spans: dict[str, list[Span]] = {}
        workers = self.workers if self.workers is not None else (os.cpu_count() or 1)
        handle = self.records.handle() if total >= PARALLEL_FROM and workers > 1 else None
        if handle is not None:
            ids = {e.case_ref: e.case_id for e in entries}
            tasks = [
                [(e.case_ref, [p.case_ref for p in others]) for e, others in share[start : start + _SHARE]]
                for start in range(0, total, _SHARE)
            ]
            context = multiprocessing.get_context("spawn")
            with context.Pool(min(workers, len(tasks)), _child_start, (handle, self.families)) as pool:
                for done in pool.imap_unordered(_child_work, tasks):
                    for case_ref, worked_out in done:
                        spans[ids[case_ref]] = worked_out
                    self._told(len(spans), total)
        else:
            store = self.records.store
            for entry, others in share:
                case = _read(store, entry.case_ref)
                other_cases = [_read(store, p.case_ref) for p in others]
                spans[entry.case_id] = _spans(library, case, other_cases, self.families)
                self._told(len(spans), total)
        self.cases_worked_out += total
        return spans

    def _told(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    # ------------------------------------------------------------------------ asking

    def due(self, as_of: date, within: int = 0) -> list[DueItem]:
        """Every deadline passed or coming within ``within`` days, as of business date ``as_of``
        (after catching up with the store)."""
        self.catch_up()
        return self.listed(as_of, within)

    def listed(self, as_of: date, within: int = 0) -> list[DueItem]:
        """What the projection lists as it stands, without reading the store's records: one
        query for the spans that contain ``as_of``."""
        return _listed(self.tables(), as_of, within)

    def verify(self, days: Iterable[date], within: int = 0) -> list[str]:
        """Differences between the projection and the sweep on each of ``days`` (none: equal)."""
        problems: list[str] = []
        for day in days:
            projected, swept = self.due(day, within), due_sweep(self.records, day, within, self.families)
            if projected != swept:
                problems.append(
                    f"as of {day.isoformat()}: projection {[i.as_dict() for i in projected]} "
                    f"!= decisions {[i.as_dict() for i in swept]}"
                )
        return problems


def _answers_as_kept(tables: DueTables) -> bool:
    """Whether the list answered is the one the store keeps (a read-only store's is, until
    something is caught up over it in memory)."""
    if isinstance(tables, OverlayDueTables):
        return tables.top.state() is None and not tables.hidden
    return tables.persisted


# (reference, due date, text) sorted by due date, reference, then the text's family, rule,
# finding...: the order of the DueItems they make (whose days follow from the due date)
_IN_ORDER = itemgetter(1, 0, 2)


def _rows(tables: DueTables, as_of: date, within: int) -> list[Listed]:
    day = as_of.toordinal()
    rows = tables.items_on(day, _horizon(as_of, within))
    rows.sort(key=_IN_ORDER)
    return rows


def _items(rows: list[Listed], as_of: date) -> list[DueItem]:
    day = as_of.toordinal()
    dates: dict[int, date] = {}  # many items share a due date: each is made once
    items = []
    make = DueItem
    for case_ref, due, (family, rule_id, finding, verdict, reference, what_to_do) in rows:
        on = dates.get(due)
        if on is None:
            on = dates[due] = date.fromordinal(due)
        items.append(make(on, case_ref, family, rule_id, finding, verdict, day - due, reference, what_to_do))
    return items


def _listed(tables: DueTables, as_of: date, within: int) -> list[DueItem]:
    return _items(_rows(tables, as_of, within), as_of)


@dataclass(frozen=True)
class KeptDueList:
    """The due list as a store keeps it, read as it stands (:func:`kept_due_list`)."""

    as_of: date
    rows: list[Listed]
    report: DueReport

    def items(self) -> list[DueItem]:
        return _items(self.rows, self.as_of)

    def documents(self) -> list[dict[str, Any]]:
        """The items as :meth:`DueItem.as_dict` writes them, made straight from the rows (a
        long list is written as JSON in half the time)."""
        day = self.as_of.toordinal()
        dates: dict[int, str] = {}
        documents = []
        for case_ref, due, text in self.rows:
            on = dates.get(due)
            if on is None:
                on = dates[due] = date.fromordinal(due).isoformat()
            documents.append(_document(case_ref, on, day - due, text))
        return documents

    def overdue(self) -> int:
        day = self.as_of.toordinal()
        return sum(1 for _, due, _ in self.rows if due < day)


def kept_due_list(store: CaseStore, spec_root: Path, as_of: date, within: int = 0) -> KeptDueList | None:
    """The due list the store keeps, when it is current: worked out from these very spec files
    with this vrrules, and nothing recorded since. Then asking is one query and nothing else
    (no specs loaded, no case read); ``None`` otherwise, and a :class:`DueProjection` catches
    it up. ``vrrules due`` asks this first."""
    tables = store.due_tables()
    if tables is None:
        return None
    state = tables.state()
    if state is None or state.format != FORMAT or state.sources is None:
        return None
    # behind the log: caught up by a projection; past its end: damaged, built again by one
    if state.sources != _sources_fingerprint(spec_root, None) or store.last_position() != state.position:
        return None
    return KeptDueList(as_of, _rows(tables, as_of, within), DueReport(position=state.position, kept=True))


def _past_the_log(position: int, last: int) -> str:
    """Why a list kept at ``position``, beyond the log's ``last`` position, is not followed on:
    no record was ever read there, so the records after ``last`` would never be read."""
    return (
        f"it was kept at position {position:,}, past the log's last position {last:,}: the kept "
        "list is damaged (changed by hand, or copied from another store), and the records "
        "recorded from here on would never reach it"
    )


def _moved(state: DueState, **changes: Any) -> DueState:
    return DueState(
        generation=state.generation,
        position=changes.get("position", state.position),
        library=state.library,
        sources=changes.get("sources", state.sources),
        families=state.families,
    )


def _opening(store: Any, record: Any) -> CaseEntry | None:
    try:
        event = store.decode(record)
    except Exception:  # a record that no longer decodes is the audit's business, not the list's
        return None
    if not isinstance(event, Case.Opened):
        return None
    opening = event.opening
    return CaseEntry(record.stored_id.hex, opening.case_ref, record.position, opening.worker)


class _Peers:
    """The cases of a worker, in opening order: those the tables know and those opened since."""

    def __init__(self, tables: DueTables, new: Mapping[str, CaseEntry]) -> None:
        self._tables = tables
        self._new: dict[str, list[CaseEntry]] = {}
        for entry in new.values():
            if entry.worker is not None:
                self._new.setdefault(entry.worker, []).append(entry)
        self._known: dict[str, list[CaseEntry]] = {}

    def __call__(self, worker: str | None) -> list[CaseEntry]:
        if worker is None:
            return []
        found = self._known.get(worker)
        if found is None:
            merged = {e.case_id: e for e in self._tables.peers(worker)}
            merged.update({e.case_id: e for e in self._new.get(worker, [])})
            found = self._known[worker] = sorted(merged.values(), key=lambda e: e.opened)
        return found


# ------------------------------------------------------------------------------ the audit


@dataclass
class DueCheck:
    """What :func:`check_due` found: the kept projection beside the sweep on one day."""

    as_of: date
    within: int
    kept: bool  # whether the store keeps a projection at all
    position: int  # the position it was kept at
    store_position: int
    caught_up: int  # records read after it, in memory
    library_matches: bool
    listed: int
    expected: int
    missing: list[DueItem] = field(default_factory=list)  # decided, but not listed
    unexpected: list[DueItem] = field(default_factory=list)  # listed, but not decided
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.missing or self.unexpected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "as_of": self.as_of.isoformat(),
            "within": self.within,
            "kept_in_store": self.kept,
            "position": self.position,
            "store_position": self.store_position,
            "caught_up": self.caught_up,
            "library_matches": self.library_matches,
            "listed": self.listed,
            "expected": self.expected,
            "missing": [i.as_dict() for i in self.missing],
            "unexpected": [i.as_dict() for i in self.unexpected],
            "problems": list(self.problems),
        }


def check_due(records: CaseRecords, as_of: date, within: int = 0) -> DueCheck:
    """Check the due list the store keeps against deciding every timed family on every case as
    of ``as_of`` (:func:`due_sweep`). Open the store read-only (``CaseRecords(...,
    read_only=True)``): what was recorded after the kept position is read in memory, the way a
    reader catches up, and nothing is written."""
    projection = DueProjection(records)
    tables = projection.tables()
    state = tables.state()
    store_position = records.store.last_position()
    check = DueCheck(
        as_of, within, state is not None, state.position if state else 0, store_position, 0, False, 0, 0
    )
    swept = due_sweep(records, as_of, within)
    check.expected = len(swept)
    if state is None:
        check.problems.append("the store keeps no due list (run `vrrules due` once to build it)")
        return check
    reason = projection.stale(state)
    check.library_matches = reason is None
    try:
        if reason is None:
            projection.catch_up()
            check.caught_up = projection.report.read
        else:
            check.problems.append(f"the kept due list cannot be followed on: {reason}")
            projection.families = list(state.families)
        listed = projection.listed(as_of, within)
    except DueProjectionInvalidError as error:
        check.problems.append(error.message)
        return check
    check.listed = len(listed)
    want, got = Counter(swept), Counter(listed)
    check.missing = sorted((want - got).elements())
    check.unexpected = sorted((got - want).elements())
    return check
