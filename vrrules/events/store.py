"""The store: the one place that talks to eventsourcing.

:class:`CaseStore` opens the application's recorder (memory, SQLite or PostgreSQL), checks
the key, appends changes with optimistic concurrency, reads cases at a version and hands the
audit typed, raw stored records. No other module touches eventsourcing's application,
repository, recorder or mapper.

Stored records are decoded only when their topic is one the event registry produced (or an
older name of one): a topic named in stored data is never imported, so a hostile store or
bundle cannot make the reader load a module of its choosing.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent
from eventsourcing.persistence import InternalError as PersistenceInternalError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from eventsourcing.utils import get_topic

from vrrules.errors import CaseConflictError, CaseExistsError, CaseUnknownError, StoreKeyError
from vrrules.events.domain import Case, PolicyRelease, VersionPublication, case_id, publication_id, release_id
from vrrules.events.persistence import cipher_settings, register_transcodings, store_environment
from vrrules.events.registry import EVENT_TYPES, event_class_name

__all__ = ["CaseStore", "StoreHandle", "StoredRecord", "known_topics"]

_SAVE_ATTEMPTS = 5
_OPEN_ATTEMPTS = 5
_T = TypeVar("_T")


class _CaseLog(Application[UUID]):
    name = "VrrulesCases"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


@dataclass(frozen=True)
class StoredRecord:
    """One stored record exactly as the store holds it.

    ``position`` is its place in the store's total order (eventsourcing's notification id:
    increasing, with gaps on PostgreSQL); ``state`` the bytes as stored (ciphertext when the
    store is encrypted).
    """

    position: int
    stored_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class StoreHandle:
    """What another process needs to open the same store (the key is never printed)."""

    location: str | None
    encryption_key: str | None = field(default=None, repr=False)

    def open(self) -> CaseStore:
        return CaseStore(self.location, encryption_key=self.encryption_key)


def known_topics() -> frozenset[str]:
    """The topics a vrrules store may hold: the registry's events, their former names, and
    the opening, decision, release and publication events."""
    module = Case.__module__
    topics = {
        get_topic(Case.Opened),
        get_topic(Case.DecisionRecorded),
        get_topic(PolicyRelease.Released),
        f"{module}:PolicyRelease.Published",
        get_topic(VersionPublication.Published),
    }
    for event_type, payload in EVENT_TYPES.items():
        topics.add(f"{module}:Case.{event_class_name(event_type)}")
        topics.update(f"{module}:Case.{former}" for former in payload.former_event_names)
    return frozenset(topics)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


class CaseStore:
    """Cases, policy releases and publications in one eventsourcing application."""

    def __init__(self, location: str | Path | None, *, encryption_key: str | None = None) -> None:
        self.location = str(location) if location is not None else None
        self._encryption_key = encryption_key
        env = store_environment(location)
        # Cached cases are fast-forwarded with the events other writers appended since, and
        # handed out as copies, so a failed change never touches the cached one.
        env["AGGREGATE_CACHE_MAXSIZE"] = "2000"
        if encryption_key is not None:
            env.update(cipher_settings(encryption_key))
        self._log = self._open(env)
        self._check_key()
        self._writing = threading.RLock()  # one change at a time on the cached cases
        self.conflicts_retried = 0  # appends another writer beat, worked out again

    @staticmethod
    def _open(env: dict[str, str]) -> _CaseLog:
        # Processes opening a new PostgreSQL store at the same moment race to create its
        # tables, and PostgreSQL refuses the loser ("tuple concurrently updated"): try again.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return _CaseLog(env=env)
            except (PersistenceInternalError, PersistenceOperationalError):
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def handle(self) -> StoreHandle:
        """How a worker process opens this same store."""
        return StoreHandle(self.location, self._encryption_key)

    @property
    def encrypted(self) -> bool:
        return self._encryption_key is not None

    def _check_key(self) -> None:
        """Refuse at once a store whose events the key given (or its absence) cannot read."""
        sample = self._log.recorder.select_notifications(start=1, limit=3)
        if not sample:
            return
        readable = 0
        for stored in sample:
            with contextlib.suppress(Exception):
                self._log.mapper.to_domain_event(stored)
                readable += 1
        if readable:
            return  # a damaged record among readable ones is the audit's business
        looks_plain = all(_is_json(bytes(s.state)) for s in sample)
        if self._encryption_key is None and not looks_plain:
            raise StoreKeyError(
                "expected a store this process can read, got encrypted events and no key; "
                "give the store's key (encryption_key=, or VRRULES_STORE_KEY for the command line)"
            )
        if self._encryption_key is not None:
            raise StoreKeyError(
                "expected the key this store was encrypted with, got one that decrypts none of its "
                "first events"
                + (" (the store is not encrypted: open it without a key)" if looks_plain else "")
            )

    def close(self) -> None:
        self._log.close()

    # ------------------------------------------------------------------------- cases

    def exists(self, case_ref: str) -> bool:
        try:
            self._log.repository.get(case_id(case_ref))
        except AggregateNotFoundError:
            return False
        return True

    def case(self, case_ref: str, version: int | None = None, *, working_copy: bool = False) -> Case:
        """The case as it stands now, or at ``version``; ``working_copy`` hands out the cached
        object itself (for a change that evicts it if anything goes wrong)."""
        try:
            case: Any = self._log.repository.get(
                case_id(case_ref), version=version, deepcopy_from_cache=not working_copy
            )
        except AggregateNotFoundError:
            raise CaseUnknownError(
                f"expected a case opened in this store, got {case_ref!r}; open it with open_case() first",
                case_ref=case_ref,
            ) from None
        if not isinstance(case, Case) or case.case_ref != case_ref:
            # the stored id is derived from the reference: anything else was put there by hand
            raise CaseUnknownError(
                f"expected the case {case_ref!r} under its stored id {case_id(case_ref)}, got "
                f"{getattr(case, 'case_ref', type(case).__name__)!r} there; the store was altered "
                "(run `vrrules audit verify`)",
                case_ref=case_ref,
            )
        return case

    def add_new(self, case: Case) -> None:
        """Store a new case; refused if another writer opened the same reference first."""
        try:
            self._log.save(case)
        except IntegrityError:
            raise CaseExistsError(
                f"expected a new case reference, got {case.case_ref!r}, which another writer just opened",
                case_ref=case.case_ref,
            ) from None

    def add_new_cases(self, cases: Iterable[Case]) -> None:
        """Store new cases built in memory, all or none (one transaction)."""
        cases = list(cases)
        try:
            self._log.save(*cases)
        except IntegrityError:
            taken = [c.case_ref for c in cases if self.exists(c.case_ref)]
            raise CaseExistsError(
                f"expected new case references, got {taken or 'one'} already open (opened by another "
                "writer meanwhile?); nothing of this batch was stored",
                case_ref=taken[0] if taken else None,
            ) from None

    def change(self, case_ref: str, change: Callable[[Case], _T | None]) -> tuple[Case, _T | None]:
        """Load the case, let ``change`` append to it, and save; on a conflict start again.

        Optimistic concurrency: another writer may append between our read and our save,
        which the store refuses; the change is then worked out again on the newer case.
        ``change`` returning ``None`` means nothing to save.
        """
        with self._writing:
            for attempt in range(_SAVE_ATTEMPTS):
                # The cached case itself, not a copy (copying a long history costs more than
                # the change): whatever goes wrong below, it is dropped from the cache.
                case = self.case(case_ref, working_copy=True)
                try:
                    result = change(case)
                    if result is None:
                        return case, result
                    self._log.save(case)
                except IntegrityError:
                    self._forget(case)
                    self.conflicts_retried += 1
                    if attempt == _SAVE_ATTEMPTS - 1:
                        raise CaseConflictError(
                            f"case {case_ref!r}: expected to append after the latest event, but other "
                            f"writers kept appending first ({_SAVE_ATTEMPTS} attempts); nothing of this "
                            "call was stored, try again",
                            case_ref=case_ref,
                        ) from None
                    continue
                except BaseException:
                    self._forget(case)
                    raise
                return case, result
        raise AssertionError("unreachable")  # pragma: no cover

    def _forget(self, case: Case) -> None:
        cache = self._log.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(case.id, evict=True)

    def history(self, case_ref: str) -> list[Any]:
        """Every event of the case as a domain event, oldest first."""
        self.case(case_ref)
        return list(self._log.events.get(case_id(case_ref)))

    # --------------------------------------------------------- releases and publications

    def release(self, sha256: str) -> PolicyRelease | None:
        try:
            stored: Any = self._log.repository.get(release_id(sha256))
        except AggregateNotFoundError:
            return None
        return stored if isinstance(stored, PolicyRelease) and stored.sha256 == sha256 else None

    def publication(self, family: str, version: str) -> VersionPublication | None:
        try:
            stored: Any = self._log.repository.get(publication_id(family, version))
        except AggregateNotFoundError:
            return None
        return stored if isinstance(stored, VersionPublication) else None

    def add(self, aggregate: Aggregate) -> bool:
        """Store a new release or publication; ``False`` when one with its id exists already."""
        try:
            self.save(aggregate)
        except IntegrityError:
            return False
        return True

    def save(self, aggregate: Aggregate) -> None:
        """Append an aggregate's pending events exactly as they are, with no check of ours
        (the tamper tests forge records with it); raises eventsourcing's ``IntegrityError``
        when another writer took the version."""
        self._log.save(aggregate)

    # ----------------------------------------------------------- raw records (for audits)

    def records(
        self, topics: Iterable[str] | None = None, start: int = 1, page: int = 1000
    ) -> Iterator[StoredRecord]:
        """Every stored record in the store's total order (optionally of some topics only)."""
        wanted = list(topics) if topics is not None else None
        while True:
            batch = self._log.recorder.select_notifications(start=start, limit=page, topics=wanted or ())
            if not batch:
                return
            for notification in batch:
                yield StoredRecord(
                    notification.id,
                    _uuid(notification.originator_id),
                    notification.originator_version,
                    notification.topic,
                    bytes(notification.state),
                )
            start = batch[-1].id + 1

    def records_of(self, stored_id: UUID) -> list[StoredRecord]:
        """One aggregate's stored records, oldest first (``position`` is 0: not read here)."""
        return [
            StoredRecord(0, _uuid(s.originator_id), s.originator_version, s.topic, bytes(s.state))
            for s in self._log.recorder.select_events(stored_id)
        ]

    def decode(self, record: StoredRecord) -> Any:
        """A stored record as its domain event.

        Raises ``LookupError`` for a topic the registry does not know (nothing is imported),
        and whatever the mapper raises for a record that no longer decodes.
        """
        if record.topic not in known_topics():
            raise LookupError(f"expected a topic of a vrrules event, got {record.topic[:120]!r}")
        return self._log.mapper.to_domain_event(
            StoredEvent(record.stored_id, record.version, record.topic, record.state)
        )

    def insert_records(self, records: Iterable[StoredRecord]) -> None:
        """Put stored records into this store exactly as they are (to check an audit bundle)."""
        self._log.recorder.insert_events(
            [StoredEvent(r.stored_id, r.version, r.topic, r.state) for r in records]
        )

    def count(self, topic: str) -> int:
        return sum(1 for _ in self.records([topic]))
