"""The due list: every deadline passed or coming on every case, as of a business date.

A **timed family** is one whose rules report a ``due_on`` date (the plan due date, the next
contact, the three-month alert, the Option 2 window...). A **due item** is one fired rule of a
timed family with its ``due_on``, decided on a case as of a day ``D``: it is listed by
``due(D, within)`` when ``due_on <= D + within`` (overdue items included).

:func:`due_sweep` is the definition: decide every timed family on every case as of ``D``.
:class:`DueProjection` answers the same question without deciding anything at query time.
For each case it works out, once per change of the case, the due items of every timed family
on every span of days over which they stay the same: what a decision as of ``D`` reports
changes only on the business dates of the case's events, on the dates its findings report
(a deadline flips from coming to passed the day after it) and on the dates a family's
versions and parameters change, so the decisions are taken on those days alone. Queries then
look items up in an index sorted by the last day each one is listed, so asking costs in
proportion to the items open on the day asked about, not one decision per case.

The projection follows the store's records in their total order (``CaseStore.records`` from
the position it read last), as eventsourcing's projections follow a notification log: each
query first reads what was recorded since, and works out again the cases it touched (and the
other cases of their workers, whose facts they read). :meth:`DueProjection.rebuild` starts
again from the first record. :meth:`DueProjection.verify` checks it against the sweep.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import get_topic

from vrrules.errors import VrrulesError
from vrrules.events.decider import decide
from vrrules.events.domain import Case
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.values import parse_iso_date

if TYPE_CHECKING:  # the facade holds a projection; the projection reads through the facade
    from vrrules.events.application import CaseRecords

__all__ = ["DueItem", "DueProjection", "due_sweep", "timed_families"]

_MAX_ROUNDS = 6  # passes adding the dates findings report (each pass only adds later dates)


@dataclass(frozen=True, order=True)
class DueItem:
    """One deadline on one case: passed (``days`` > 0 overdue) or coming (``days`` <= 0 left)."""

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
        return {
            "case": self.case_ref,
            "family": self.family,
            "rule": self.rule_id,
            "finding": self.finding,
            "verdict": self.verdict,
            "due_on": self.due_on.isoformat(),
            "days_overdue": max(self.days, 0),
            "days_left": max(-self.days, 0),
            "reference": self.reference,
            "what_to_do": self.what_to_do,
        }


def _order(item: DueItem) -> tuple[date, str, str, str, str]:
    return (item.due_on, item.case_ref, item.family, item.rule_id, item.finding)


def timed_families(library: PolicyLibrary) -> list[str]:
    """The families some version of which reports a ``due_on`` in a rule's outcome."""
    found = set()
    for family in library.families():
        for compiled in library.versions(family):
            if any("due_on" in rule.outcome for rule in compiled.spec.rules):
                found.add(family)
    return sorted(found)


@dataclass(frozen=True)
class _Found:
    """A due item before the day asked about is known (``days`` is filled in then)."""

    due_on: date
    family: str
    rule_id: str
    finding: str
    verdict: str
    reference: str
    what_to_do: str

    def on(self, case_ref: str, day: date) -> DueItem:
        return DueItem(
            self.due_on,
            case_ref,
            self.family,
            self.rule_id,
            self.finding,
            self.verdict,
            (day - self.due_on).days,
            self.reference,
            self.what_to_do,
        )


def _reference(reference: Any) -> str:
    if not isinstance(reference, Mapping):
        return ""
    return ", ".join(str(reference[k]) for k in ("document", "section") if reference.get(k))


def _decided(
    library: PolicyLibrary, case: Case, others: list[Case], families: list[str], day: date
) -> tuple[list[_Found], set[date]]:
    """The due items of ``families`` on ``case`` as of ``day``, and every date they report."""
    found: list[_Found] = []
    dates: set[date] = set()
    for family in families:
        try:
            made = decide(library, case, family, as_of=day, others=others)
        except VrrulesError:
            continue  # not decidable on that day (not in force, a value unpublished): no items
        for rule in made.decision.fired:
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
            found.append(
                _Found(
                    parse_iso_date(due_on),
                    family,
                    rule.rule_id,
                    str(outcome.get("finding", "")),
                    str(outcome.get("verdict", "")),
                    _reference(rule.reference),
                    rule.fix or rule.reason,
                )
            )
    return found, dates


def due_sweep(
    records: CaseRecords, as_of: date, within: int = 0, families: list[str] | None = None
) -> list[DueItem]:
    """The due list by definition: every timed family decided on every case as of ``as_of``.

    Costs one decision per case and family; :class:`DueProjection` gives the same list."""
    library = records.policies
    wanted = families if families is not None else timed_families(library)
    items: list[DueItem] = []
    for case_ref in records.case_refs():
        case = records.case(case_ref)
        found, _ = _decided(library, case, records.worker_cases(case), wanted, as_of)
        items.extend(f.on(case_ref, as_of) for f in found if f.due_on <= as_of + timedelta(days=within))
    return sorted(items, key=_order)


@dataclass
class _Span:
    """Items listed when asked about any day from ``first`` to ``last``."""

    first: date
    last: date
    items: list[_Found]


def _breakpoints(case: Case, library: PolicyLibrary, families: list[str]) -> set[date]:
    days = {case.opening.opened_on}
    for recorded in case.recorded:
        happened = recorded.payload.business_date
        if happened is not None:
            days.add(happened)
    for _, decision in case.decisions:
        days.add(decision.as_of)
    first = min(days)
    for family in families:
        for compiled in library.versions(family):
            changes = {compiled.spec.effective_from}
            if compiled.spec.effective_until is not None:
                changes.add(compiled.spec.effective_until + timedelta(days=1))
            for param in compiled.spec.parameters.values():
                changes.update(param.values)
            # before the first thing that happened on the case nothing is known of it, so
            # policy changes then change nothing (the day before it stands for them all)
            days.update(d for d in changes if d > first)
    return days


def _spans(library: PolicyLibrary, case: Case, others: list[Case], families: list[str]) -> list[_Span]:
    """The spans of days over which the case's due items stay the same."""
    starts = _breakpoints(case, library, families)
    starts.add(min(starts) - timedelta(days=1))  # the days before anything happened
    decided: dict[date, list[_Found]] = {}
    for _ in range(_MAX_ROUNDS):
        fresh = sorted(d for d in starts if d not in decided)
        if not fresh:
            break
        for day in fresh:
            found, dates = _decided(library, case, others, families, day)
            decided[day] = found
            # a deadline flips on the day after it; other reported dates on the day itself
            for reported in dates:
                if date.min < reported < date.max:
                    starts.update({reported, reported + timedelta(days=1)})
    ordered = sorted(decided)
    spans: list[_Span] = []
    for index, day in enumerate(ordered):
        last = ordered[index + 1] - timedelta(days=1) if index + 1 < len(ordered) else date.max
        first = date.min if index == 0 else day
        if decided[day]:
            spans.append(_Span(first, last, decided[day]))
    return spans


@dataclass
class DueProjection:
    """The due list kept current by following the store's records (see the module)."""

    records: CaseRecords
    families: list[str] | None = None
    position: int = 0  # the store position read up to
    _spans: dict[str, list[_Span]] = field(default_factory=dict)
    # one entry per span: (its last day, its earliest due date, case, span number), sorted
    _index: list[tuple[int, int, str, int]] = field(default_factory=list)
    _refs: dict[UUID, str] = field(default_factory=dict)  # stored id -> case ref
    cases_worked_out: int = 0  # how many times a case's spans were worked out (for tests)
    progress: Callable[[str], None] | None = None  # told each case worked out (a progress bar)

    def __post_init__(self) -> None:
        if self.families is None:
            self.families = timed_families(self.records.policies)

    # ------------------------------------------------------------------ following the log

    def catch_up(self) -> int:
        """Read what was recorded since the last read; work out the cases it touched again.
        Returns how many records were read."""
        opened = get_topic(Case.Opened)
        touched: set[str] = set()
        read = 0
        for record in self.records.store.records(start=self.position + 1):
            read += 1
            self.position = record.position
            if record.topic == opened:
                try:
                    event = self.records.store.decode(record)
                except Exception:
                    continue
                if isinstance(event, Case.Opened):
                    self._refs[record.stored_id] = event.opening.case_ref
            ref = self._refs.get(record.stored_id)
            if ref is not None:
                touched.add(ref)
        for ref in sorted(touched):
            self._work_out(ref, peers=True)
            if self.progress is not None:
                self.progress(ref)
        return read

    def rebuild(self) -> None:
        """Forget everything and read the store's records again from the first."""
        self.position = 0
        self._spans.clear()
        self._index.clear()
        self._refs.clear()
        self.catch_up()

    def _work_out(self, case_ref: str, *, peers: bool) -> None:
        case = self.records.case(case_ref)
        others = self.records.worker_cases(case)
        assert self.families is not None
        self._drop(case_ref)
        spans = _spans(self.records.policies, case, others, self.families)
        self._spans[case_ref] = spans
        self.cases_worked_out += 1
        for n, span in enumerate(spans):
            earliest = min(item.due_on for item in span.items).toordinal()
            bisect.insort(self._index, (span.last.toordinal(), earliest, case_ref, n))
        if peers:  # the worker's other cases read this one (Option 2 once per worker, earlier plans)
            for other in others:
                if other.case_ref in self._spans:
                    self._work_out(other.case_ref, peers=False)

    def _drop(self, case_ref: str) -> None:
        if case_ref in self._spans:
            self._index = [entry for entry in self._index if entry[2] != case_ref]
            del self._spans[case_ref]

    # ------------------------------------------------------------------------ asking

    def due(self, as_of: date, within: int = 0) -> list[DueItem]:
        """Every deadline passed or coming within ``within`` days, as of business date ``as_of``."""
        self.catch_up()
        return sorted(self._listed(as_of, within), key=_order)

    def _listed(self, as_of: date, within: int) -> Iterator[DueItem]:
        horizon = as_of + timedelta(days=within)
        index = self._index
        # every span that ends on or after the day asked about: the open ones and later ones
        for position in range(bisect.bisect_left(index, (as_of.toordinal(),)), len(index)):
            _, earliest, case_ref, n = index[position]
            if earliest > horizon.toordinal():
                continue
            span = self._spans[case_ref][n]
            if span.first > as_of:
                continue
            for item in span.items:
                if item.due_on <= horizon:
                    yield item.on(case_ref, as_of)

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
