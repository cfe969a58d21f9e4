"""The application facade: record what happens on a case and decide with the policy in force.

:class:`CaseRecords` is the one object a case system holds. It composes the parts, each of
which does one job and can be read alone:

* :class:`~vrrules.events.store.CaseStore` owns eventsourcing (opening, the key, appends
  with optimistic retries, reads, raw records for audits);
* :class:`~vrrules.policies.library.PolicyLibrary` holds the specs (or, with
  ``published_only``, the :class:`~vrrules.events.publishing.Publisher`'s published versions);
* :mod:`vrrules.events.intake` validates payloads; the :class:`~vrrules.events.domain.Case`
  aggregate checks them against its history;
* :mod:`vrrules.events.decider` decides, purely; this facade stores what it made.

Replaying and auditing recorded decisions is the auditor's business: :mod:`vrrules.audit`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from vrrules._arguments import day_argument, flag_argument, refuse_unless, text_argument
from vrrules.errors import ArgumentInvalidError, CaseExistsError
from vrrules.events.caseview import case_view, reads_other_cases
from vrrules.events.decider import ENGINE_NAME, FactSource, RecordedDecision, decide, fact_sources
from vrrules.events.domain import Case, VersionPublication
from vrrules.events.due import DueItem, DueProjection, DueReport
from vrrules.events.intake import new_case, validated
from vrrules.events.publishing import Publisher, store_release
from vrrules.events.registry import EVENT_TYPES, Payload
from vrrules.events.store import CaseStore, StoreHandle
from vrrules.policies.caseschema import CASE_SOURCES
from vrrules.policies.compiler import CompiledFamily
from vrrules.policies.library import PolicyLibrary, default_specs_dir

__all__ = ["EVENT_TYPES", "CaseRecords", "DueItem", "RecordedDecision", "RecordsHandle"]


@dataclass(frozen=True)
class RecordsHandle:
    """What another process needs to open the same records for reading: the store and where
    the specs come from (the due list shares a rebuild among processes with it)."""

    store: StoreHandle
    specs: str | None
    published_only: bool = False

    def open(self) -> CaseRecords:
        return CaseRecords(
            self.store.location,
            self.specs,
            published_only=self.published_only,
            encryption_key=self.store.encryption_key,
            read_only=True,
        )


class CaseRecords:
    """Record case events, decide with the policy in force, and read cases back.

    ``store`` is ``"memory"``, a SQLite file path (the default ``vrrules.db``), or a
    ``postgresql://`` URL. ``specs`` is a folder of spec files or a loaded
    :class:`PolicyLibrary`. With ``published_only`` decisions use exactly the versions
    published in the store. With ``encryption_key`` every stored event is encrypted. With
    ``read_only`` nothing can be written and the store file is never touched (audits).

    Every method refuses an argument of the wrong type with ``argument_invalid`` before it
    reads or writes anything (a datetime where a date is meant, a number for a store or a
    key, text for a flag), saying what it expected and what it got.
    """

    def __init__(
        self,
        store: str | Path | None = None,
        specs: str | Path | PolicyLibrary | None = None,
        *,
        published_only: bool = False,
        encryption_key: str | None = None,
        read_only: bool = False,
        sealed: bool = False,
    ) -> None:
        refuse_unless(store is None or isinstance(store, str | os.PathLike), "store", store, _STORE_FORM)
        refuse_unless(
            specs is None or isinstance(specs, str | os.PathLike | PolicyLibrary),
            "specs",
            specs,
            "a folder (or file) of specs as text or a Path, or a PolicyLibrary",
        )
        refuse_unless(
            encryption_key is None or isinstance(encryption_key, str),
            "encryption_key",
            encryption_key,
            "the store key as base64 text (make one with `vrrules key`), or None",
        )
        for name, flag in (("published_only", published_only), ("read_only", read_only), ("sealed", sealed)):
            flag_argument(flag, name)
        self.store = CaseStore(store, encryption_key=encryption_key, read_only=read_only, sealed=sealed)
        self.location = self.store.location
        self._specs = specs
        self._library: PolicyLibrary | None = specs if isinstance(specs, PolicyLibrary) else None
        self._published_only = published_only
        self._publisher = Publisher(self.store)
        self._workers: dict[str, list[str]] = {}  # worker identity -> case refs, in opening order
        self._workers_read = 0  # store position the worker index has read to
        self._due: DueProjection | None = None

    @property
    def policies(self) -> PolicyLibrary:
        """The spec library decisions use, loaded on first use."""
        if self._published_only:
            return self._publisher.library()
        if self._library is None:
            self._library = PolicyLibrary(self._specs, case_sources=CASE_SOURCES)  # type: ignore[arg-type]
        return self._library

    def spec_root(self) -> Path | None:
        """The folder (or file) the specs are read from; ``None`` when they are the store's
        published versions or a library given ready-made."""
        if self._published_only or isinstance(self._specs, PolicyLibrary):
            return None
        return Path(self._specs) if self._specs is not None else default_specs_dir()

    def handle(self) -> RecordsHandle | None:
        """How another process opens these records read-only; ``None`` for an in-memory store
        (no other process can reach it) or a library given ready-made."""
        if str(self.location) in ("memory", ":memory:") or isinstance(self._specs, PolicyLibrary):
            return None
        specs = str(self._specs) if self._specs is not None else None
        return RecordsHandle(self.store.handle(), specs, self._published_only)

    @property
    def conflicts_retried(self) -> int:
        """Appends another writer beat, worked out again on the newer case."""
        return self.store.conflicts_retried

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> CaseRecords:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ publishing

    def publish(self, compiled: CompiledFamily, published_by: str, note: str) -> str:
        """Record ``compiled`` as the published content of its version (see the publisher)."""
        refuse_unless(isinstance(compiled, CompiledFamily), "compiled", compiled, "a CompiledFamily")
        return self._publisher.publish(
            compiled, text_argument(published_by, "published_by"), text_argument(note, "note")
        )

    def publications(self) -> list[VersionPublication.Published]:
        return self._publisher.publications()

    def published_policies(self) -> PolicyLibrary:
        """A library of exactly the versions published in this store (drafts on disk are ignored)."""
        return self._publisher.library()

    # ------------------------------------------------------------------ recording events

    def open_case(self, case_ref: str, opened_on: date | str, worker: str | None = None) -> int:
        """Open a case under the case system's own reference; return its version (1)."""
        case = new_case(text_argument(case_ref, "case_ref"), opened_on, worker)
        if self.store.exists(case.case_ref):
            raise CaseExistsError(
                f"expected a new case reference, got {case_ref!r}, which is already open; "
                "record further events on it instead",
                case_ref=case_ref,
            )
        self.store.add_new(case)
        return case.version

    def record(self, case_ref: str, event_type: str, payload: Mapping[str, Any] | Payload) -> int:
        """Validate and append one event to a case; return the case's new version."""
        checked = validated(
            text_argument(case_ref, "case_ref"), text_argument(event_type, "event_type"), payload
        )

        def append(case: Case) -> bool:
            case.record(checked)
            return True

        case, _ = self.store.change(case_ref, append)
        return case.version

    def save_new_cases(self, cases: Sequence[Case]) -> None:
        """Store new cases built in memory, all or none (one transaction)."""
        refuse_unless(
            isinstance(cases, Iterable) and not isinstance(cases, str | bytes | Mapping),
            "cases",
            cases,
            "a sequence of Case objects",
        )
        listed = list(cases)
        for case in listed:
            refuse_unless(isinstance(case, Case), "cases", case, "a sequence of Case objects (each a Case)")
        self.store.add_new_cases(listed)

    # ------------------------------------------------------------------- reading a case

    def case(self, case_ref: str, version: int | None = None) -> Case:
        """The case as it stands now, or as it stood at ``version`` (from 1, its opening, to its
        latest version: a version it has not reached is refused, ``argument_invalid``)."""
        ref = text_argument(case_ref, "case_ref")
        wanted = _version(version)
        if wanted is None:
            return self.store.case(ref)
        if 1 <= wanted <= _MAX_VERSION:
            case = self.store.case(ref, wanted)
            if case.version == wanted:  # the store gives the latest state for a version past it
                return case
        versions = self.store.case(ref).version
        raise ArgumentInvalidError(
            f"version: expected a version of case {ref!r} from 1 to {versions} (the case has {versions} "
            f"version{'s' if versions != 1 else ''}), got {wanted}; leave the version out for the case as "
            "it stands now",
            argument="version",
            case_ref=ref,
            versions=versions,
        )

    def case_view(
        self, case_ref: str, on: date | str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """The facts the case's history establishes, by path, on ``on``: only what had
        happened by then (business dates), of what was recorded by ``version``."""
        day = _day(on, "on")
        case = self.case(case_ref, version)
        return case_view(case, day, happened_only=True, others=self.worker_cases(case))

    def history(self, case_ref: str) -> list[Any]:
        """Every stored event of the case, oldest first."""
        return self.store.history(text_argument(case_ref, "case_ref"))

    def case_refs(self) -> Iterator[str]:
        """Every case in the store, in the order they were opened."""
        for record in self.store.records([get_topic(Case.Opened)]):
            try:
                event = self.store.decode(record)
            except Exception:
                continue
            if isinstance(event, Case.Opened):
                yield event.opening.case_ref

    def worker_cases(self, case: Case) -> list[Case]:
        """The worker's other cases, as they stand now: every case opened with the same
        ``worker`` identity (none when the opening named no worker). The index behind it
        follows the store's openings from where it last read, so each call reads only the
        cases opened since."""
        refuse_unless(isinstance(case, Case), "case", case, "a Case (as case() gives it)")
        worker = case.opening.worker
        if worker is None:
            return []
        for record in self.store.records([get_topic(Case.Opened)], start=self._workers_read + 1):
            self._workers_read = record.position
            try:
                event = self.store.decode(record)
            except Exception:
                continue
            if isinstance(event, Case.Opened) and event.opening.worker is not None:
                self._workers.setdefault(event.opening.worker, []).append(event.opening.case_ref)
        return [self.store.case(ref) for ref in self._workers.get(worker, []) if ref != case.case_ref]

    def due(
        self,
        as_of: date | str,
        within: int = 0,
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        workers: int | None = None,
    ) -> list[DueItem]:
        """Every case's deadlines passed, or coming within ``within`` days, as of ``as_of``
        (business date): family, rule, due date, days overdue or left, reference, what to do.
        Only the cases open on ``as_of`` are listed (opened on or before it): a case opened
        later did not exist yet, whatever its history records as dated earlier.

        Answered by a projection (:class:`~vrrules.events.due.DueProjection`) kept in the store
        beside the events (in memory for an in-memory store): it first reads what was recorded
        since it last did and works out the cases touched, then one query lists the items.
        It is built again from the log when it was worked out with other specs or another
        vrrules, or when ``rebuild`` asks; ``workers`` processes share that (default: the
        cores). A store opened read-only is caught up in memory, nothing written.
        :attr:`due_report` says what was done. For the CLI: ``vrrules due --store S --as-of D
        [--within N] [--rebuild]``; ``progress`` is told ``(done, total)`` as cases are worked
        out (a progress bar)."""
        day = day_argument(as_of, "as_of")
        flag_argument(rebuild, "rebuild")
        refuse_unless(progress is None or callable(progress), "progress", progress, "a function or None")
        if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= 36500:
            raise ArgumentInvalidError(
                f"within: expected a whole number of days from 0 to 36500, got {str(within)[:40]!r}",
                argument="within",
            )
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64
        ):
            raise ArgumentInvalidError(
                f"workers: expected a whole number of processes from 1 to 64, got {str(workers)[:40]!r}",
                argument="workers",
            )
        projection = self.due_projection()
        projection.progress, projection.workers = progress, workers
        try:
            projection.catch_up(rebuild=rebuild)
            return projection.listed(day, within)
        finally:
            projection.progress = None

    def due_projection(self) -> DueProjection:
        """The due list's projection this facade keeps (see :meth:`due`)."""
        if self._due is None:
            self._due = DueProjection(self)
        return self._due

    @property
    def due_report(self) -> DueReport | None:
        """What the last :meth:`due` did: whether it rebuilt and why, the cases worked out, the
        position it stands at, whether it is kept in the store (``None`` before any)."""
        return self._due.report if self._due is not None else None

    def facts(self, family: str, as_of: date | str | None = None) -> list[FactSource]:
        """The facts ``family`` reads (the version in force on ``as_of``, else the latest) and
        where each comes from: the case history (with its path), derived, or the caller."""
        family = text_argument(family, "family")
        day = _day(as_of, "as_of")
        library = self.policies
        if day is None:
            versions = library.versions(family)
            compiled = versions[-1] if versions else library.in_force(family, date.min)
        else:
            compiled = library.in_force(family, day)
        return fact_sources(compiled)

    # -------------------------------------------------------------------------- deciding

    def decide(
        self,
        case_ref: str,
        family: str,
        *,
        as_of: date | str | None = None,
        facts: Mapping[str, Any] | None = None,
        record: bool = True,
    ) -> RecordedDecision:
        """Decide ``family`` on the case with the policy in force on the effective date.

        The effective date is ``as_of`` if given (a ``date`` or ISO text), else the first
        date the family names in ``effective_date`` that the case knows (for example the
        assessment date). Facts with a ``source`` come from the case history; the caller
        supplies only the others. With ``record`` the decision is appended to the case's log.
        """
        case_ref, family = text_argument(case_ref, "case_ref"), text_argument(family, "family")
        day = _day(as_of, "as_of")
        flag_argument(record, "record")
        given = _given_facts(case_ref, family, facts)
        # One look at the specs per call: in published-only mode each look reads the store.
        library = self.policies
        library.refresh()
        made: list[RecordedDecision] = []

        needs_others = any(reads_other_cases(version.sources) for version in library.versions(family))

        def decide_and_append(case: Case) -> bool | None:
            others = self.worker_cases(case) if needs_others else []
            outcome = decide(library, case, family, as_of=day, facts=given, others=others)
            if record:
                store_release(self.store, outcome.compiled)
                case.record_decision(outcome.record, engine=ENGINE_NAME)
            made.append(outcome.on(case))
            return True if record else None

        self.store.change(case_ref, decide_and_append)
        return made[-1]


_STORE_FORM = "'memory', a SQLite file path (text or a Path) or a postgresql:// URL, or None (vrrules.db)"


def _day(value: date | str | None, name: str) -> date | None:
    return None if value is None else day_argument(value, name)


# eventsourcing keeps versions as integers PostgreSQL stores in 8 bytes
_MAX_VERSION = 2**63 - 1


def _version(value: int | None) -> int | None:
    """A version's type checked (its range is the case's: :meth:`CaseRecords.case`)."""
    if value is None:
        return None
    refuse_unless(
        not isinstance(value, bool) and isinstance(value, int),
        "version",
        value,
        "a whole number from 1, or None",
    )
    return value


def _given_facts(case_ref: str, family: str, facts: Mapping[str, Any] | None) -> dict[str, Any]:
    if facts is None:
        return {}
    if not isinstance(facts, Mapping) or not all(isinstance(k, str) for k in facts):
        raise ArgumentInvalidError(
            f"case {case_ref!r}, family {family!r}: expected facts as a mapping of fact names to "
            f"values, got {type(facts).__name__}; nothing was decided or stored",
            case_ref=case_ref,
            argument="facts",
        )
    return dict(facts)
