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
import dataclasses
import hashlib
import itertools
import json
import os
import sqlite3
import stat
import sys
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, StoredEvent
from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import InternalError as PersistenceInternalError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from eventsourcing.persistence import ProgrammingError as PersistenceProgrammingError
from eventsourcing.utils import get_topic

from vrrules.errors import (
    ArgumentInvalidError,
    CaseConflictError,
    CaseExistsError,
    CaseUnknownError,
    StoreDamagedError,
    StoreKeyError,
    StoreNotVrrulesError,
    StoreReadOnlyError,
    StoreUnavailableError,
    VrrulesError,
)
from vrrules.events.domain import (
    Case,
    LogMigration,
    PolicyRelease,
    VersionPublication,
    case_id,
    publication_id,
    release_id,
)
from vrrules.events.persistence import (
    StateTranscoder,
    cipher_settings,
    leaves_table,
    register_transcodings,
    store_environment,
)
from vrrules.events.registry import EVENT_TYPES, event_class_name
from vrrules.events.tlog import record_leaf_hash

__all__ = [
    "CaseStore",
    "LogRow",
    "StoreHandle",
    "StoredRecord",
    "is_plain_state",
    "known_topics",
    "refuse_unless_store",
]

# (position, stored id's 16 bytes, version, topic, state as stored or None, stored leaf or
# None, what is malformed in the row or None)
LogRow = tuple[int, bytes, int, str, bytes | None, bytes | None, str | None]
_LAST_POSITION = 2**63 - 1  # the largest rowid or bigint: "no bound"


def _as_bytes(value: object) -> bytes:
    """A stored column as bytes, whatever a hostile hand put there (text as its UTF-8, NULL
    as nothing, anything else as its text): the leaf over it then shows the change."""
    if type(value) is bytes:  # what a well-formed row gives: nothing to copy
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if value is None:
        return b""
    return str(value).encode("utf-8", "surrogatepass")


def _as_text(value: object) -> object:
    """A column read as a blob back as the text it holds (bytes that are not UTF-8 keep their
    bytes as escapes, so they still differ from every well-formed value)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value


def _id_key(raw: object) -> tuple[bytes, str | None]:
    """A stored id as its 16 bytes, and what is wrong with it. The writer stores ids in one
    form (a UUID, or 32 lowercase hex digits on SQLite); the audit reads a case's records by
    that form, so an id in any other form (upper case, dashes, not hex) is a finding, keyed
    apart from every well-formed id so it is never taken for one."""
    if isinstance(raw, UUID):
        return raw.bytes, None
    if isinstance(raw, str) and len(raw) == 32:
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            key = b""
        if key and key.hex() == raw:
            return key, None
    marker = hashlib.sha256(b"malformed stored id\x00" + repr(raw).encode()).digest()[:16]
    return marker, f"its stored id {str(raw)[:40]!r} is not in the form the store writes"

_SAVE_ATTEMPTS = 5
_IDS_PER_QUERY = 400  # aggregates read in one query (SQLite allows 999 parameters at the least)
_OPEN_ATTEMPTS = 5
_T = TypeVar("_T")


class _GuardedMapper(Mapper[UUID]):
    """eventsourcing's mapper, decoding only the topics a vrrules store may hold.

    eventsourcing resolves a stored topic by importing the module it names; every read goes
    through this mapper (the repository's as well as the audit's), so no stored text can make
    the reader import anything.
    """

    sealed = False  # a store opened without its key, to check its log: nothing decodes

    def to_domain_event(self, stored: StoredEvent) -> Any:
        if self.sealed:
            raise StoreKeyError(
                "expected the store's key to read its events, got a store opened sealed (encrypted, "
                "no key): its log can be checked, its events not; give the key to read them"
            )
        if stored.topic not in known_topics():
            raise LookupError(f"expected a topic of a vrrules event, got {str(stored.topic)[:120]!r}")
        event = super().to_domain_event(stored)
        # eventsourcing builds the event without calling its constructor, so a state edited
        # to lack a field, or to hold a plain mapping where a payload belongs, would decode
        # into an event that breaks whoever reads it later: refused here, at the edge
        for name, expected in _typed_fields(type(event)):
            value = getattr(event, name, _MISSING)
            if value is _MISSING or (expected is not None and not isinstance(value, expected)):
                raise ValueError(
                    f"expected {type(event).__qualname__}.{name} "
                    + (f"of type {expected.__name__}" if expected is not None else "")
                    + f", got {'nothing' if value is _MISSING else type(value).__name__}"
                )
        return event


_MISSING = object()
_UNREAD: Any = object()
_FIELDS: dict[type, list[tuple[str, type | None]]] = {}


def _typed_fields(event_class: type) -> list[tuple[str, type | None]]:
    """The fields of an event class, each with the one class its value must be (None: any)."""
    found = _FIELDS.get(event_class)
    if found is None:
        hints = typing.get_type_hints(event_class)
        found = []
        if dataclasses.is_dataclass(event_class):
            for item in dataclasses.fields(event_class):
                hint = hints.get(item.name)
                found.append((item.name, hint if isinstance(hint, type) else None))
        _FIELDS[event_class] = found
    return found


class _CaseLog(Application[UUID]):
    name = "VrrulesCases"

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=_GuardedMapper)

    def construct_transcoder(self) -> StateTranscoder:
        transcoder = StateTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


@dataclass(frozen=True, slots=True)
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
    stored_leaf: bytes | None = field(default=None, compare=False)

    def leaf_hash(self) -> bytes:
        """This record's leaf in the store's Merkle log (RFC 9162, over the bytes as stored)."""
        return record_leaf_hash(self.stored_id, self.version, self.topic, self.state)


@dataclass(frozen=True)
class StoreHandle:
    """What another process needs to open the same store (the key is never printed)."""

    location: str | None
    encryption_key: str | None = field(default=None, repr=False)
    read_only: bool = False
    sealed: bool = False

    def open(self) -> CaseStore:
        return CaseStore(
            self.location, encryption_key=self.encryption_key, read_only=self.read_only, sealed=self.sealed
        )


def known_topics() -> frozenset[str]:
    """The topics a vrrules store may hold: the registry's events, their former names, and
    the opening, decision, release and publication events."""
    count = len(EVENT_TYPES)
    cached = _KNOWN_TOPICS.get(count)
    if cached is None:
        cached = _KNOWN_TOPICS[count] = _known_topics()
    return cached


# known topics by the number of registered event types (a payload registered later adds one)
_KNOWN_TOPICS: dict[int, frozenset[str]] = {}


def _known_topics() -> frozenset[str]:
    module = Case.__module__
    topics = {
        get_topic(Case.Opened),
        get_topic(Case.DecisionRecorded),
        get_topic(PolicyRelease.Released),
        f"{module}:PolicyRelease.Published",
        get_topic(VersionPublication.Published),
        get_topic(LogMigration.Migrated),
    }
    for event_type, payload in EVENT_TYPES.items():
        topics.add(f"{module}:Case.{event_class_name(event_type)}")
        topics.update(f"{module}:Case.{former}" for former in payload.former_event_names)
    return frozenset(topics)


def _unavailable(location: str | None, error: Exception) -> StoreUnavailableError:
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return StoreUnavailableError(
        f"expected a store that can be opened and written, got {text!r} from {location!r}; check the "
        "location, that the server is up and reachable (5 s connect timeout) and that the disk has room",
        store=location,
    )


_SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_special_file(env: dict[str, str]) -> None:
    """A store is a regular file (or none yet): opening a pipe, a device or a socket would
    block or read without end, so each is refused before anything opens it."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.sqlite":
        return
    path = Path(env["SQLITE_DBNAME"])
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # no such file yet (or unreadable): the open says which
    if not stat.S_ISREG(mode):
        kind = (
            "a folder" if stat.S_ISDIR(mode)
            else "a named pipe" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode)
            else "a device"
        )
        raise StoreNotVrrulesError(
            f"expected a vrrules store (a SQLite file), got {kind} at {str(path)!r}; check that "
            "the location names the store file",
            store=str(path),
        )


def _read_only(env: dict[str, str]) -> dict[str, str]:
    """Settings that open the store for reading only, after checking it is a vrrules store
    (a missing, empty, foreign or non-SQLite file is refused and left untouched)."""
    env = {**env, "CREATE_TABLE": "false"}
    if env["PERSISTENCE_MODULE"] != "eventsourcing.sqlite":
        return env
    path = Path(env["SQLITE_DBNAME"])
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        raise StoreUnavailableError(
            f"expected an existing store file, got no file at {str(path)!r}", store=str(path)
        ) from None
    except OSError as error:
        raise StoreUnavailableError(
            f"expected a store file this process can read, got {error.strerror} for {str(path)!r}",
            store=str(path),
        ) from None
    if not header.startswith(_SQLITE_HEADER):
        what = "an empty file" if not header else "a file that is not SQLite"
        raise StoreNotVrrulesError(
            f"expected a vrrules store (SQLite), got {what} at {str(path)!r}", store=str(path)
        )
    uri = f"file:{quote(path.resolve().as_posix())}?mode=ro"
    writable_folder = os.access(path.resolve().parent, os.W_OK)
    if not writable_folder or header[18:20] != b"\x02\x02":
        # read-only media (no room for SQLite's shared-memory file), or a store not in WAL
        # mode that eventsourcing would otherwise try to switch: read it as immutable
        uri += "&immutable=1"
    tables, columns, topics = _contents(uri, path)
    if "stored_events" not in tables:
        raise StoreNotVrrulesError(
            f"expected a vrrules store, got a SQLite database without its tables (it has "
            f"{sorted(tables)[:5] or 'none'}) at {str(path)!r}",
            store=str(path),
        )
    _refuse_foreign_events(path, columns, topics)
    return {**env, "SQLITE_DBNAME": uri}


_EVENT_COLUMNS = {"originator_id", "originator_version", "topic", "state"}
_TOPICS_SAMPLED = 200  # the first records whose topics say whose store it is


def _contents(uri: str, path: Path) -> tuple[set[str], set[str], set[str]]:
    """What a SQLite file holds, read through ``uri`` (read-only) in one connection: its
    tables, the columns of its ``stored_events`` and the topics of its first records."""
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            columns: set[str] = set()
            topics: set[str] = set()
            if "stored_events" in tables:
                columns = {str(row[1]) for row in connection.execute("PRAGMA table_info(stored_events)")}
            if columns >= _EVENT_COLUMNS:
                topics = {
                    str(_as_text(row[0]))
                    for row in connection.execute(
                        "SELECT CAST(topic AS BLOB) FROM stored_events ORDER BY rowid LIMIT ?",
                        (_TOPICS_SAMPLED,),
                    )
                }
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StoreNotVrrulesError(
            f"expected a vrrules store, got a file SQLite cannot read ({error}) at {str(path)!r}",
            store=str(path),
        ) from None
    return tables, columns, topics


def _refuse_foreign_events(path: Path, columns: set[str], topics: set[str]) -> None:
    """Refuse a ``stored_events`` that is not a vrrules store's: another layout, or another
    application's eventsourcing records (none of its first records has a vrrules topic)."""
    if not columns >= _EVENT_COLUMNS:
        raise StoreNotVrrulesError(
            f"expected a vrrules store, whose stored_events has the columns {sorted(_EVENT_COLUMNS)}, "
            f"got one with {sorted(columns)[:6]} at {str(path)!r}",
            store=str(path),
        )
    if topics and not topics & known_topics():
        raise StoreNotVrrulesError(
            f"expected a vrrules store, got another application's event store (its first records "
            f"are {sorted(t[:60] for t in topics)[:3]}, none a vrrules event) at {str(path)!r}",
            store=str(path),
        )


def _refuse_foreign_database(env: dict[str, str]) -> None:
    """Before a store is opened for writing: an existing SQLite file that is not a vrrules
    store (another database, another application's events) is refused untouched, before
    eventsourcing adds its tables to it."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.sqlite":
        return
    path = Path(env["SQLITE_DBNAME"])
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:  # no file yet (a new store), or one the open reports itself
        return
    if not header:
        return  # an empty file: a new store
    if not header.startswith(_SQLITE_HEADER):
        raise StoreNotVrrulesError(
            f"expected a vrrules store (SQLite), got a file that is not SQLite at {str(path)!r}",
            store=str(path),
        )
    tables, columns, topics = _contents(f"file:{quote(path.resolve().as_posix())}?mode=ro", path)
    if "stored_events" not in tables:
        if tables:
            raise StoreNotVrrulesError(
                f"expected a vrrules store or a new file, got a SQLite database of something else "
                f"(it has {sorted(tables)[:5]}) at {str(path)!r}; give another path",
                store=str(path),
            )
        return
    _refuse_foreign_events(path, columns, topics)


def refuse_unless_store(location: str | Path) -> None:
    """Refuse, untouched, a location that holds something other than a vrrules store or
    nothing yet (an empty file, an empty SQLite database): what a command that deletes a
    store to start it afresh checks first, so it never deletes anything else."""
    env = store_environment(location)
    _refuse_special_file(env)
    _refuse_foreign_database(env)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def is_plain_state(data: bytes) -> bool:
    """Whether a stored state reads as JSON, as every state a store without a key holds (an
    encrypted store's are ciphertext)."""
    try:
        json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested past any real state
        return False
    return True


class CaseStore:
    """Cases, policy releases and publications in one eventsourcing application."""

    def __init__(
        self,
        location: str | Path | None,
        *,
        encryption_key: str | None = None,
        read_only: bool = False,
        sealed: bool = False,
    ) -> None:
        """``sealed``: an encrypted store opened read-only without its key, to check its log.
        The log hashes the states as stored (the ciphertext), so its leaves, tree, case heads
        and checkpoints can be checked; the events cannot be decoded (:meth:`decode` raises
        ``store_key_invalid``). :attr:`sealed` then says so; for a store that is not
        encrypted, or with the key given, it is False and the store reads as usual."""
        if sealed and not read_only:
            raise ArgumentInvalidError(
                "sealed: expected a store opened read-only (sealed=True, read_only=True), got one "
                "opened for writing: a store whose events cannot be read is never written to",
                argument="sealed",
            )
        self.location = str(location) if location is not None else None
        self._encryption_key = encryption_key
        self.read_only = read_only
        self.sealed = sealed and encryption_key is None
        env = store_environment(location)
        _refuse_special_file(env)
        if read_only:
            env = _read_only(env)
        else:
            _refuse_foreign_database(env)
        # Cached cases are fast-forwarded with the events other writers appended since, and
        # handed out as copies, so a failed change never touches the cached one.
        env["AGGREGATE_CACHE_MAXSIZE"] = "2000"
        if encryption_key is not None:
            env.update(cipher_settings(encryption_key))
        self._backend = {"eventsourcing.popo": "memory", "eventsourcing.sqlite": "sqlite"}.get(
            env["PERSISTENCE_MODULE"], "postgres"
        )
        self._log = self._open(env)
        if read_only and self._backend == "postgres":
            # every transaction of this handle is read-only, refused by the server otherwise
            pool = self._log.recorder.datastore.pool  # type: ignore[attr-defined]
            pool.kwargs["options"] = "-c default_transaction_read_only=on"
        self._events_table = str(getattr(self._log.recorder, "events_table_name", "stored_events"))
        try:
            self._check_key()
        except (
            PersistenceOperationalError,
            PersistenceInterfaceError,
            PersistenceProgrammingError,
        ) as error:
            self._log.close()
            raise _unavailable(self.location, error) from None
        if self.sealed:
            self._log.mapper.sealed = True  # type: ignore[attr-defined]
        self._writing = threading.RLock()  # one change at a time on the cached cases
        self.conflicts_retried = 0  # appends another writer beat, worked out again

    @staticmethod
    def _open(env: dict[str, str]) -> _CaseLog:
        # Processes opening a new PostgreSQL store at the same moment race to create its
        # tables, and PostgreSQL refuses the loser ("tuple concurrently updated"): try again.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return _CaseLog(env=env)
            except (
                PersistenceInternalError,
                PersistenceOperationalError,
                PersistenceProgrammingError,
            ) as error:
                # a ProgrammingError: a role that may not create the tables (open it read-only)
                if "concurrently" not in str(error) or attempt == _OPEN_ATTEMPTS - 1:
                    raise _unavailable(
                        env.get("SQLITE_DBNAME") or env.get("POSTGRES_HOST"), error
                    ) from None
                time.sleep(0.05 * (attempt + 1))
            except PersistenceInterfaceError as error:
                raise _unavailable(env.get("SQLITE_DBNAME") or env.get("POSTGRES_HOST"), error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def seal(self) -> None:
        """Read this store from now on as one opened without its key: its log only, nothing
        decoded or written (the records of an encrypted store's audit bundle, put into memory
        to be checked without the key)."""
        self.sealed = self.read_only = True
        self._log.mapper.sealed = True  # type: ignore[attr-defined]

    def handle(self) -> StoreHandle:
        """How a worker process opens this same store."""
        return StoreHandle(self.location, self._encryption_key, self.read_only, self.sealed)

    @property
    def encrypted(self) -> bool:
        return self._encryption_key is not None

    def check_key(self) -> None:
        """Refuse a store whose events the key given (or its absence) cannot read (done when
        a store opens; again after records were put into it as they were stored)."""
        self._check_key()

    def _check_key(self) -> None:
        """Refuse at once a store whose events the key given (or its absence) cannot read."""
        # read raw, as the audit reads: eventsourcing's reader parses each stored id as it
        # reads, so one malformed id among the first rows would stop every command here
        sample = [
            (UUID(bytes=stored_id), version, topic, state)
            for _, stored_id, version, topic, state, _, problem in itertools.islice(
                self.log_rows(states=True, page=20), 20
            )
            if problem is None and state is not None
        ][:3]
        if not sample:
            self.sealed = False
            return
        readable = 0
        for stored_id, version, topic, state in sample:
            with contextlib.suppress(Exception):
                self._log.mapper.to_domain_event(StoredEvent(stored_id, version, topic, state))
                readable += 1
        if readable:
            self.sealed = False  # its events read: nothing is sealed
            return  # a damaged record among readable ones is the audit's business
        looks_plain = all(is_plain_state(state) for _, _, _, state in sample)
        if self._encryption_key is None and not looks_plain:
            if self.sealed:
                return  # opened to check the log only: the states are hashed, never decoded
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
            self._stored(f"case {case_ref!r}", case_id(case_ref))
        except AggregateNotFoundError:
            return False
        return True

    def _stored(self, what: str, aggregate_id: UUID, **options: Any) -> Any:
        """An aggregate rebuilt from its stored records by eventsourcing's repository; records
        that no longer rebuild one (edited, deleted, reordered, under another id) are reported
        as a damaged store, never as the library's own error."""
        try:
            return self._log.repository.get(aggregate_id, **options)
        except (AggregateNotFoundError, VrrulesError):
            raise
        except (PersistenceOperationalError, PersistenceInterfaceError, sqlite3.Error) as error:
            # a lock, a dropped connection, a disk error: the store could not be read now,
            # which says nothing about its records
            raise _unavailable(self.location, error) from None
        except Exception as error:  # whatever a hostile hand made of its records
            raise StoreDamagedError(
                f"expected the stored records of {what} to read as one, got {type(error).__name__}: "
                f"{str(error)[:160] or 'no detail'}; the store was altered or damaged: run `vrrules audit "
                f"verify --store {self.location}` for the first bad record, and restore the store "
                "from a copy you trust",
                store=self.location,
            ) from None

    def case(self, case_ref: str, version: int | None = None, *, working_copy: bool = False) -> Case:
        """The case as it stands now, or at ``version``; ``working_copy`` hands out the cached
        object itself (for a change that evicts it if anything goes wrong)."""
        try:
            case: Any = self._stored(
                f"case {case_ref!r}", case_id(case_ref), version=version, deepcopy_from_cache=not working_copy
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

    def _write(self, *aggregates: Aggregate) -> None:
        """Every write goes through here: refused on a read-only handle; a store that cannot
        take it (a full disk, a server gone) is reported as such, never as a driver error."""
        if self.read_only:
            raise StoreReadOnlyError(
                f"expected a store opened for writing, got {self.location!r} opened read-only "
                "(as audits open it); nothing was written",
                store=self.location,
            )
        try:
            self._log.save(*aggregates)
        except (PersistenceOperationalError, PersistenceInterfaceError) as error:
            raise _unavailable(self.location, error) from None

    def add_new(self, case: Case) -> None:
        """Store a new case; refused if another writer opened the same reference first."""
        try:
            self._write(case)
        except IntegrityError:
            raise CaseExistsError(
                f"expected a new case reference, got {case.case_ref!r}, which another writer just opened",
                case_ref=case.case_ref,
            ) from None

    def add_new_cases(self, cases: Iterable[Case]) -> None:
        """Store new cases built in memory, all or none (one transaction)."""
        cases = list(cases)
        try:
            self._write(*cases)
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
                    self._write(case)
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

    # ------------------------------------------------------------ the due list's tables

    def due_tables(self) -> Any:
        """The tables the due list's projection is kept in, beside the events, through this
        store's own connections (a :class:`vrrules.events.duetables.SqlDueTables`); ``None``
        for an in-memory store, whose projection lives in memory."""
        if self._backend == "memory":
            return None
        from vrrules.events.duetables import SqlDueTables  # noqa: PLC0415  (only the due list needs it)

        return SqlDueTables(
            self._backend,
            self._log.recorder.datastore,  # type: ignore[attr-defined]
            self._events_table,
            read_only=self.read_only,
            encryption_key=self._encryption_key,
            location=self.location,
        )

    def last_position(self) -> int:
        """The position of the latest stored record (0 when there is none): one indexed read,
        so a reader following the records can tell cheaply that nothing is new."""
        return int(self._log.recorder.max_notification_id() or 0)

    # --------------------------------------------------------- releases and publications

    def release(self, sha256: str) -> PolicyRelease | None:
        try:
            stored: Any = self._stored(f"release {sha256[:16]}…", release_id(sha256))
        except AggregateNotFoundError:
            return None
        return stored if isinstance(stored, PolicyRelease) and stored.sha256 == sha256 else None

    def publication(self, family: str, version: str) -> VersionPublication | None:
        try:
            stored: Any = self._stored(f"publication {family} {version}", publication_id(family, version))
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
        self._write(aggregate)

    # ----------------------------------------------------------- raw records (for audits)

    def records(
        self, topics: Iterable[str] | None = None, start: int = 1, page: int = 1000
    ) -> Iterator[StoredRecord]:
        """Every stored record in the store's total order (optionally of some topics only)."""
        wanted = list(topics) if topics is not None else None
        if self._backend == "sqlite":
            yield from self._sqlite_records(wanted, start, max(page, 10_000))
            return
        while True:
            batch = self._log.recorder.select_notifications(start=start, limit=page, topics=wanted or ())
            if not batch:
                return
            for notification in batch:
                record = StoredRecord(
                    notification.id,
                    _uuid(notification.originator_id),
                    notification.originator_version,
                    sys.intern(notification.topic),
                    bytes(notification.state),
                )
                # an in-memory store's records cannot be reached but through this process
                yield (
                    replace(record, stored_leaf=record.leaf_hash())
                    if self._backend == "memory"
                    else record
                )
            start = batch[-1].id + 1

    def _sqlite_records(self, topics: list[str] | None, start: int, page: int) -> Iterator[StoredRecord]:
        # straight from the table, a page at a time in one read transaction each: the audit's
        # hot loop, where eventsourcing's notification objects cost more than the read itself
        where = f" AND topic IN ({', '.join('?' * len(topics))})" if topics else ""
        query = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self._events_table} "
            f"WHERE rowid >= ?{where} ORDER BY rowid LIMIT ?"
        )
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        intern: dict[str, str] = {}
        while True:
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(query, (start, *(topics or ()), page))
                rows = cursor.fetchall()
            if not rows:
                return
            for position, stored_id, version, topic, state in rows:
                # an id edited into another form is keyed apart, as the log's reading keys it
                key = UUID(bytes=_id_key(_as_text(stored_id))[0])
                yield StoredRecord(position, key, version, intern.setdefault(topic, topic), _as_bytes(state))
            start = rows[-1][0] + 1

    def _has_leaves(self) -> bool:
        """Whether the store has its leaves table: a store written before the log, opened
        read-only (so nothing creates it), has none, and reads as a log without leaves."""
        known = getattr(self, "_leaves_known", None)
        if known is None:
            datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
            table = leaves_table(self._events_table)
            with datastore.transaction(commit=False) as cursor:
                if self._backend == "sqlite":
                    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
                    known = cursor.fetchone() is not None
                else:
                    cursor.execute("SELECT to_regclass(%s) AS found", (f"{datastore.schema}.{table}",))
                    known = cursor.fetchone()["found"] is not None
            self._leaves_known = known
        return bool(known)

    def _leaves_sqlite(self) -> str:
        if self._has_leaves():
            return leaves_table(self._events_table)
        return "(SELECT NULL AS position, NULL AS leaf)"

    def _leaves_pg(self) -> Any:
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

        if self._has_leaves():
            datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
            return SQL("{schema}.{leaves}").format(
                schema=Identifier(datastore.schema), leaves=Identifier(leaves_table(self._events_table))
            )
        return SQL("(SELECT NULL::bigint AS position, NULL::bytea AS leaf)")

    def log_rows(
        self, *, states: bool, after: int = 0, upto: int | None = None, page: int = 20_000
    ) -> Iterator[LogRow]:
        """Every stored record in the store's total order as a plain tuple ``(position,
        stored id as 16 bytes, version, topic, state or None, stored leaf or None)``: the audit's
        one full read. Without ``states`` the bytes are not fetched (the log's index: ids,
        versions, topics and the leaves the writer stored, a few dozen bytes a record)."""
        if self._backend == "memory":
            for record in self.records(start=after + 1):
                if upto is not None and record.position > upto:
                    return
                leaf = record.leaf_hash()
                yield (
                    record.position,
                    record.stored_id.bytes,
                    record.version,
                    record.topic,
                    record.state if states else None,
                    leaf,
                    None,
                )
            return
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        # on SQLite a hand can store any column as text, and text that is not UTF-8 fails to
        # read at all: the bytes are read as blobs, and turned into text here
        state = ("CAST(e.state AS BLOB)" if self._backend == "sqlite" else "e.state") if states else "NULL"
        topics: dict[str, str] = {}
        start = after
        last = upto if upto is not None else _LAST_POSITION
        while True:
            if self._backend == "sqlite":
                with datastore.transaction(commit=False) as cursor:
                    cursor.execute(
                        "SELECT e.rowid, CAST(e.originator_id AS BLOB), e.originator_version, "
                        f"CAST(e.topic AS BLOB), {state}, CAST(l.leaf AS BLOB) "
                        f"FROM {self._events_table} e LEFT JOIN {self._leaves_sqlite()} l "
                        "ON l.position = e.rowid WHERE e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?",
                        (start, last, page),
                    )
                    rows = cursor.fetchall()
            else:
                from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

                with datastore.transaction(commit=False) as cursor:
                    cursor.execute(
                        SQL(
                            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
                            + state
                            + ", l.leaf FROM {schema}.{events} e LEFT JOIN {leaves} l "
                            "ON l.position = e.notification_id WHERE e.notification_id > %s "
                            "AND e.notification_id <= %s ORDER BY e.notification_id LIMIT %s"
                        ).format(
                            schema=Identifier(datastore.schema),
                            events=Identifier(self._events_table),
                            leaves=self._leaves_pg(),
                        ),
                        (start, last, page),
                    )
                    rows = [tuple(row.values()) for row in cursor.fetchall()]
            if not rows:
                return
            for position, raw_id, raw_version, raw_topic, data, leaf in rows:
                key, problem = _id_key(_as_text(raw_id))
                version, topic = raw_version, _as_text(raw_topic)
                if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 2**63:
                    problem = problem or f"its version is {str(version)[:40]!r}, not a number from 1"
                    version = -1
                if not isinstance(topic, str):
                    problem = problem or f"its topic is {type(topic).__name__}, not text"
                    topic = f"<not a topic: {str(topic)[:60]!r}>"
                yield (
                    position,
                    key,
                    version,
                    topics.setdefault(topic, topic),
                    _as_bytes(data) if data is not None or states else None,
                    _as_bytes(leaf) if leaf is not None else None,
                    problem,
                )
            start = rows[-1][0]

    def count_records(self, upto: int) -> int:
        """How many records stand at positions up to ``upto``."""
        if self._backend == "memory":
            return sum(1 for r in self.records() if r.position <= upto)
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as cursor:
            if self._backend == "sqlite":
                return self._sqlite_count(cursor, upto)
            from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

            cursor.execute(
                SQL("SELECT count(*) AS held FROM {schema}.{events} WHERE notification_id <= %s").format(
                    schema=Identifier(datastore.schema), events=Identifier(self._events_table)
                ),
                (upto,),
            )
            return int(cursor.fetchone()["held"])

    def _sqlite_count(self, cursor: Any, upto: int) -> int:
        """Counted over the primary key's index (a fifth of the time: the table's pages hold
        the states, the index's only ids), or over the table where a store has no such index."""
        table = self._events_table
        try:
            cursor.execute(
                f"SELECT count(*) FROM {table} INDEXED BY sqlite_autoindex_{table}_1 WHERE rowid <= ?",
                (upto,),
            )
        except Exception:  # a table made without the key: no index to count over
            cursor.execute(f"SELECT count(*) FROM {table} WHERE rowid <= ?", (upto,))
        return int(cursor.fetchone()[0])

    def last_leaf_position(self) -> int:
        """The position of the last stored leaf (0 when there is none)."""
        if self._backend == "memory":
            return self.last_position()
        if not self._has_leaves():
            return 0
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        table = leaves_table(self._events_table)
        with datastore.transaction(commit=False) as cursor:
            if self._backend == "sqlite":
                cursor.execute(f"SELECT max(position) FROM {table}")
                return int(cursor.fetchone()[0] or 0)
            from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

            cursor.execute(
                SQL("SELECT max(position) AS last FROM {schema}.{table}").format(
                    schema=Identifier(datastore.schema), table=Identifier(table)
                )
            )
            return int(cursor.fetchone()["last"] or 0)

    def stored_leaf_rows(self) -> Iterator[tuple[int, bytes]]:
        """Every leaf the writer stored, ``(position, leaf)`` by position (records not read)."""
        for page in self.stored_leaf_pages():
            yield from page

    def stored_leaf_pages(self) -> Iterator[list[tuple[int, bytes]]]:
        """The stored leaves as :meth:`stored_leaf_rows` gives them, a page (a list) at a time:
        a weekly audit's reading of the log's old part, where one Python step per leaf counts."""
        if self._backend == "memory":
            yield [(record.position, record.leaf_hash()) for record in self.records()]
            return
        if not self._has_leaves():
            return
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        leaves = leaves_table(self._events_table)
        start = 0
        while True:  # a page at a time: a million leaves are not all held at once
            with datastore.transaction(commit=False) as cursor:
                if self._backend == "sqlite":
                    cursor.execute(
                        f"SELECT position, CAST(leaf AS BLOB) FROM {leaves} WHERE position > ? "
                        "ORDER BY position LIMIT ?",
                        (start, 50_000),
                    )
                    rows = cursor.fetchall()  # (int, bytes) as SQLite gives them
                else:
                    from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

                    cursor.execute(
                        SQL(
                            "SELECT position, leaf FROM {schema}.{leaves} WHERE position > %s "
                            "ORDER BY position LIMIT %s"
                        ).format(schema=Identifier(datastore.schema), leaves=Identifier(leaves)),
                        (start, 50_000),
                    )
                    rows = [(int(row["position"]), bytes(row["leaf"])) for row in cursor.fetchall()]
            if not rows:
                return
            yield rows
            start = rows[-1][0]

    def record_at(self, position: int) -> StoredRecord | None:
        """The record at one position (None: there is none), with its stored leaf."""
        for row in self.log_rows(states=True, after=position - 1, page=1):
            if row[0] != position:
                return None
            found, stored_id, version, topic, state, leaf, _ = row
            return StoredRecord(found, UUID(bytes=stored_id), version, topic, state or b"", leaf)
        return None

    def orphan_leaves(self) -> list[int]:
        """Positions holding a stored leaf but no record (a record deleted from under its leaf)."""
        if self._backend == "memory" or not self._has_leaves():
            return []
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        leaves = leaves_table(self._events_table)
        if self._backend == "sqlite":
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT l.position FROM {leaves} l WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {self._events_table} e WHERE e.rowid = l.position) ORDER BY l.position"
                )
                return [int(row[0]) for row in cursor.fetchall()]
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

        with datastore.transaction(commit=False) as cursor:
            cursor.execute(
                SQL(
                    "SELECT l.position FROM {schema}.{leaves} l WHERE NOT EXISTS (SELECT 1 FROM "
                    "{schema}.{events} e WHERE e.notification_id = l.position) ORDER BY l.position"
                ).format(
                    schema=Identifier(datastore.schema),
                    events=Identifier(self._events_table),
                    leaves=Identifier(leaves),
                )
            )
            return [int(row["position"]) for row in cursor.fetchall()]

    def records_of(self, stored_id: UUID, upto: int | None = None) -> list[StoredRecord]:
        """One aggregate's stored records, oldest first, each with its position and the leaf
        stored beside it (``None`` for a record written before the store had a log); with
        ``upto``, only those at positions up to it (what an audit's reading of the log saw)."""
        return self.records_of_many([stored_id], upto)[stored_id]

    def records_of_many(
        self, stored_ids: Iterable[UUID], upto: int | None = None
    ) -> dict[UUID, list[StoredRecord]]:
        """:meth:`records_of` for many aggregates in one reading (a query per few hundred):
        the audit's case walks read a chunk of cases at a time."""
        found: dict[UUID, list[StoredRecord]] = {stored_id: [] for stored_id in stored_ids}
        if self._backend == "memory":
            for record in self.records():
                if record.stored_id in found and (upto is None or record.position <= upto):
                    found[record.stored_id].append(record)
            return found
        wanted = list(found)
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            batch = wanted[start : start + _IDS_PER_QUERY]
            ids: dict[object, UUID | None] = {}  # each raw id read once: a case has many records
            for position, raw_id, version, topic, state, leaf in self._rows_of(batch, upto):
                stored_id = ids.get(raw_id, _UNREAD) if type(raw_id) is str else _UNREAD
                if stored_id is _UNREAD:
                    key, problem = _id_key(raw_id)
                    stored_id = UUID(bytes=key) if problem is None else None
                    if type(raw_id) is str:
                        ids[raw_id] = stored_id
                if stored_id is not None and stored_id in found:
                    found[stored_id].append(
                        StoredRecord(
                            int(position),
                            stored_id,
                            version if isinstance(version, int) else -1,
                            str(_as_text(topic)),
                            _as_bytes(state),
                            _as_bytes(leaf) if leaf is not None else None,
                        )
                    )
        return found

    def _rows_of(self, stored_ids: list[UUID], upto: int | None) -> list[tuple[Any, ...]]:
        datastore: Any = self._log.recorder.datastore  # type: ignore[attr-defined]
        last = upto if upto is not None else _LAST_POSITION
        if self._backend == "sqlite":
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    "SELECT e.rowid, e.originator_id, e.originator_version, CAST(e.topic AS BLOB), "
                    "CAST(e.state AS BLOB), CAST(l.leaf AS BLOB) "
                    f"FROM {self._events_table} e LEFT JOIN {self._leaves_sqlite()} l "
                    "ON l.position = e.rowid "
                    f"WHERE e.originator_id IN ({', '.join('?' * len(stored_ids))}) AND e.rowid <= ? "
                    "ORDER BY e.originator_id, e.originator_version",
                    (*(stored_id.hex for stored_id in stored_ids), last),
                )
                return [tuple(row) for row in cursor.fetchall()]
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

        with datastore.transaction(commit=False) as cursor:
            cursor.execute(
                SQL(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
                    "l.leaf FROM {schema}.{events} e LEFT JOIN {leaves} l "
                    "ON l.position = e.notification_id WHERE e.originator_id = ANY(%s) "
                    "AND e.notification_id <= %s ORDER BY e.originator_id, e.originator_version"
                ).format(
                    schema=Identifier(datastore.schema),
                    events=Identifier(self._events_table),
                    leaves=self._leaves_pg(),
                ),
                (stored_ids, last),
            )
            return [tuple(row.values()) for row in cursor.fetchall()]

    def decode(self, record: StoredRecord) -> Any:
        """A stored record as its domain event.

        Raises ``LookupError`` for a topic the registry does not know (nothing is imported),
        and whatever the mapper raises for a record that no longer decodes.
        """
        return self._log.mapper.to_domain_event(
            StoredEvent(record.stored_id, record.version, record.topic, record.state)
        )

    def insert_records(self, records: Iterable[StoredRecord]) -> None:
        """Put stored records into this store exactly as they are (to check an audit bundle)."""
        if self.read_only:
            raise StoreReadOnlyError(
                f"expected a store opened for writing, got {self.location!r} read-only"
            )
        self._log.recorder.insert_events(
            [StoredEvent(r.stored_id, r.version, r.topic, r.state) for r in records]
        )

    def count(self, topic: str) -> int:
        return sum(1 for _ in self.records([topic]))

    # ------------------------------------------------------------------ the Merkle log

    def add_leaves(self, leaves: Iterable[tuple[int, bytes]]) -> None:
        """Store leaf hashes for records that have none (``vrrules audit migrate`` only)."""
        rows = list(leaves)
        if self.read_only:
            raise StoreReadOnlyError(
                f"expected a store opened for writing, got {self.location!r} read-only"
            )
        if self._backend == "memory" or not rows:
            return
        table = leaves_table(self._events_table)
        if self._backend == "sqlite":
            with self._log.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
                cursor.executemany(f"INSERT INTO {table} (position, leaf) VALUES (?, ?)", rows)
            return
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

        with self._log.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.executemany(
                SQL("INSERT INTO {schema}.{table} (position, leaf) VALUES (%s, %s)").format(
                    schema=Identifier(self._log.recorder.datastore.schema),  # type: ignore[attr-defined]
                    table=Identifier(table),
                ),
                rows,
            )
