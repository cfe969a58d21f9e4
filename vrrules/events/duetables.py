"""Where the due list is kept: its projection's tables beside the events, or in memory.

:mod:`vrrules.events.due` works out, for each case, the spans of days over which its due items
stay the same. This module keeps those spans so that asking for the due list is one indexed
query, not a decision per case:

``<events>_due_state``
    one row: the store position the projection has read up to, a ``generation`` counter that
    every write moves on (two writers cannot both move it from the same value), the
    fingerprint of the policy library and code the spans were worked out with, the
    fingerprint of the spec files they were read from, the timed families, and the format.
``<events>_due_cases``
    a row per case: its stored id, its reference, the position of its opening, and its
    worker (the cases of one worker read each other).
``<events>_due_items``
    a row per item of each span: the case, the span's number, the span's first and last day
    and its node in an interval tree, the item's due date (day ordinals), the case's
    reference and the item's text by number. Its two indexes hold every column a query
    reads, so asking never reads the table itself.
``<events>_due_texts``
    each distinct (family, rule, finding, verdict, reference, what to do) once; items name
    them by number, so the long texts are not repeated on every item.

The spans of every case and the position move in **one transaction**, so the tables never
claim a position whose spans they lack. They are derived data: not leaves of the store's
Merkle log, never written by an audit, and rebuilt from the log whenever they are in doubt.

Finding the spans that contain a day ``D`` is an interval stabbing query. Each span is filed
under one node of a virtual binary tree over the day ordinals (the relational interval tree
of Kriegel, Pötke and Seidl, 2000): the first node on the way down from the root that lies
inside the span. The spans containing ``D`` are then those filed under the ~22 nodes on the
way down to ``D``: under a node left of ``D`` the ones that end on or after ``D``, under a node
right of it the ones that start on or before it. With an index on (node, last day, ...) and one
on (node, first day, ...) that is a few index range scans that read only the items of spans
containing ``D``: the cost follows the answer, not the number of cases, on SQLite and
PostgreSQL alike.

In an encrypted store (a store key) the references (with each item's text number) and the
texts are encrypted with the store's key (AES-GCM) and the worker is kept as a keyed hash;
only the stored ids (the events table shows them too) and the day numbers of the spans and
due dates are in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from eventsourcing.persistence import PersistenceError

from vrrules.errors import DueProjectionInvalidError, StoreUnavailableError

__all__ = [
    "FORMAT",
    "CaseEntry",
    "DueState",
    "DueTables",
    "MemoryDueTables",
    "OverlayDueTables",
    "SqlDueTables",
    "fork_node",
    "stab_nodes",
]

# The layout of the tables, and how vrrules.events.due works spans out from decisions: move
# it on with any change to either (a kept list of another format is built again).
# 2: a case's spans start on its opening day (format 1 listed it on days before it was opened)
# 3: spans also end on the days the passage of time alone changes a decision (an elapsed count
#    or a date fact crossing a value a rule compares it with); format 2 missed those no finding
#    reported ahead, and a case's last span, to 9999-12-31, kept its earlier items
FORMAT = 3

# The tree's root: every day ordinal (date.min is 1, date.max 3,652,059) is a node below it.
ROOT = 1 << 21

Text = tuple[str, str, str, str, str, str]  # family, rule, finding, verdict, reference, what to do
Item = tuple[int, Text]  # the due date (ordinal) and its text
Span = tuple[int, int, list[Item]]  # first and last day (ordinals) and the items listed then
Listed = tuple[str, int, Text]  # case reference, due date (ordinal), text


def fork_node(first: int, last: int) -> int:
    """The node a span from ``first`` to ``last`` is filed under: the first node on the way
    down from the root that lies inside it."""
    node, step = ROOT, ROOT >> 1
    while not first <= node <= last:
        node = node - step if last < node else node + step
        step >>= 1
    return node


def stab_nodes(day: int) -> tuple[list[int], list[int]]:
    """The nodes on the way down to ``day``: those left of it and those right of it (``day``
    itself is the last node on the way)."""
    left: list[int] = []
    right: list[int] = []
    node, step = ROOT, ROOT >> 1
    while node != day:
        if day < node:
            right.append(node)
            node -= step
        else:
            left.append(node)
            node += step
        step >>= 1
    return left, right


@dataclass(frozen=True)
class DueState:
    """What the projection's state row says."""

    generation: int
    position: int
    library: str
    sources: str | None
    families: tuple[str, ...]
    format: int = FORMAT


@dataclass(frozen=True)
class CaseEntry:
    """A case the projection knows: stored id (hex), reference, opening position, worker."""

    case_id: str
    case_ref: str
    opened: int
    worker: str | None


class DueTables:
    """What the projection needs of wherever its spans are kept (see the module)."""

    persisted = False  # whether writes outlive this process

    def state(self) -> DueState | None:
        raise NotImplementedError

    def cases(self, case_ids: Iterable[str]) -> dict[str, CaseEntry]:
        """The known cases among ``case_ids``."""
        raise NotImplementedError

    def peers(self, worker: str) -> list[CaseEntry]:
        """Every known case of ``worker``, in opening order."""
        raise NotImplementedError

    def items_on(self, day: int, horizon: int) -> list[Listed]:
        """Every item due by ``horizon`` of every span containing ``day``."""
        raise NotImplementedError

    def write(
        self,
        *,
        expected: int | None,
        state: DueState,
        cases: Sequence[CaseEntry],
        spans: Mapping[str, Sequence[Span]],
        replace_all: bool,
    ) -> DueState | None:
        """Store ``cases``, replace the spans of each case in ``spans`` and set ``state``, all
        at once; with ``replace_all`` everything else is dropped first. ``expected`` is the
        generation the work started from: if another writer moved it since, nothing is
        written and ``None`` is returned. Returns the state written (its generation moved on)."""
        raise NotImplementedError


class MemoryDueTables(DueTables):
    """The tables in this process only: an in-memory store's, or a read-only store's changes."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._state: DueState | None = None
        self._cases: dict[str, CaseEntry] = {}
        self._workers: dict[str, list[str]] = {}
        self._spans: dict[str, list[Span]] = {}
        self._by_node: dict[int, dict[tuple[str, int], Span]] = {}

    def state(self) -> DueState | None:
        return self._state

    def cases(self, case_ids: Iterable[str]) -> dict[str, CaseEntry]:
        return {i: self._cases[i] for i in case_ids if i in self._cases}

    def peers(self, worker: str) -> list[CaseEntry]:
        return [self._cases[i] for i in self._workers.get(worker, [])]

    def items_on(self, day: int, horizon: int) -> list[Listed]:
        left, right = stab_nodes(day)
        found: list[Listed] = []
        wanted = [(n, "left") for n in left] + [(n, "right") for n in right] + [(day, "on")]
        for node, side in wanted:
            for (case_id, _), (first, last, items) in self._by_node.get(node, {}).items():
                inside = last >= day if side == "left" else first <= day if side == "right" else True
                if inside:
                    ref = self._cases[case_id].case_ref
                    found.extend((ref, due, text) for due, text in items if due <= horizon)
        return found

    def write(
        self,
        *,
        expected: int | None,
        state: DueState,
        cases: Sequence[CaseEntry],
        spans: Mapping[str, Sequence[Span]],
        replace_all: bool,
    ) -> DueState | None:
        current = self._state.generation if self._state is not None else 0
        if expected is not None and expected != current:
            return None
        if replace_all:
            self._clear()
        for entry in cases:
            new = entry.case_id not in self._cases
            self._cases[entry.case_id] = entry
            if new and entry.worker is not None:
                ids = self._workers.setdefault(entry.worker, [])
                ids.append(entry.case_id)
                ids.sort(key=lambda i: self._cases[i].opened)
        for case_id, worked_out in spans.items():
            for n, old in enumerate(self._spans.pop(case_id, [])):
                self._by_node[fork_node(old[0], old[1])].pop((case_id, n), None)
            kept = [span for span in worked_out if span[2]]
            self._spans[case_id] = kept
            for n, span in enumerate(kept):
                self._by_node.setdefault(fork_node(span[0], span[1]), {})[(case_id, n)] = span
        self._state = replace(state, generation=current + 1)
        return self._state


@dataclass
class OverlayDueTables(DueTables):
    """A read-only store's tables with this process's changes over them: what was persisted,
    caught up in memory, and nothing written (``hidden``: the persisted ones are out of date
    as a whole, and everything is in memory)."""

    base: DueTables
    top: MemoryDueTables = field(default_factory=MemoryDueTables)
    hidden: bool = False
    _replaced: set[str] = field(default_factory=set)  # the references of the cases worked out here

    def state(self) -> DueState | None:
        mine = self.top.state()
        return mine if mine is not None or self.hidden else self.base.state()

    def cases(self, case_ids: Iterable[str]) -> dict[str, CaseEntry]:
        wanted = list(case_ids)
        found = {} if self.hidden else self.base.cases(wanted)
        found.update(self.top.cases(wanted))
        return found

    def peers(self, worker: str) -> list[CaseEntry]:
        found = {} if self.hidden else {e.case_id: e for e in self.base.peers(worker)}
        found.update({e.case_id: e for e in self.top.peers(worker)})
        return sorted(found.values(), key=lambda e: e.opened)

    def items_on(self, day: int, horizon: int) -> list[Listed]:
        below = [] if self.hidden else self.base.items_on(day, horizon)
        kept = [row for row in below if row[0] not in self._replaced]
        return kept + self.top.items_on(day, horizon)

    def write(
        self,
        *,
        expected: int | None,
        state: DueState,
        cases: Sequence[CaseEntry],
        spans: Mapping[str, Sequence[Span]],
        replace_all: bool,
    ) -> DueState | None:
        current = self.state()
        if expected is not None and expected != (current.generation if current is not None else 0):
            return None
        if replace_all:
            self.hidden = True
            self._replaced.clear()
        elif self.top.state() is None and current is not None:
            # the first change over the persisted state: the top starts from its generation
            self.top._state = current
        self._replaced.update(e.case_ref for e in cases if e.case_id in spans)
        self._replaced.update(
            e.case_ref for e in self.cases(set(spans) - {e.case_id for e in cases}).values()
        )
        return self.top.write(expected=None, state=state, cases=cases, spans=spans, replace_all=replace_all)


class _Sealer:
    """Encrypts what an encrypted store must not show (AES-GCM with the store's key); plain
    bytes when the store has no key. Workers are compared, so they are kept as a keyed hash."""

    def __init__(self, key: str | None) -> None:
        self._aead: Any = None
        self._mac = b""
        if key is not None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415  (only with a key)

            raw = base64.b64decode(key)
            self._aead = AESGCM(raw)
            self._mac = hashlib.sha256(b"vrrules due worker\x00" + raw).digest()

    @property
    def sealed(self) -> bool:
        return self._aead is not None

    def seal(self, data: bytes, kind: bytes) -> bytes:
        if self._aead is None:
            return data
        nonce = os.urandom(12)
        return nonce + bytes(self._aead.encrypt(nonce, data, kind))

    def open(self, data: bytes, kind: bytes) -> bytes:
        if self._aead is None:
            return data
        try:
            return bytes(self._aead.decrypt(data[:12], data[12:], kind))
        except Exception:
            raise DueProjectionInvalidError(
                f"expected the due list's {kind.decode()} to decrypt with the store's key, got one that "
                "does not (changed by hand, or written with another key); run `vrrules due --rebuild`"
            ) from None

    def tag(self, worker: str) -> str:
        if self._aead is None:
            return worker
        return "h:" + hmac.new(self._mac, worker.encode("utf-8"), hashlib.sha256).hexdigest()


def _rows(cursor: Any) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in cursor.fetchall()]


def _plain(cursor: Any) -> Any:
    """The cursor itself, giving plain tuples: eventsourcing's SQLite connections make a
    ``sqlite3.Row`` of every row, which triples the cost of reading a long due list."""
    raw = getattr(cursor, "sqlite_cursor", None)
    if raw is not None:
        raw.row_factory = None
        return raw
    return cursor


class SqlDueTables(DueTables):
    """The tables in a SQLite or PostgreSQL store, beside its events (see the module).

    ``datastore`` is the store's own connection pool (the store hands it over), so the due
    list reads and writes through the connections, settings and read-only mode the store
    was opened with."""

    persisted = True

    def __init__(
        self,
        backend: str,
        datastore: Any,
        events_table: str,
        *,
        read_only: bool = False,
        encryption_key: str | None = None,
        location: str | None = None,
    ) -> None:
        self.backend = backend
        self.read_only = read_only
        self._datastore = datastore
        self._location = location
        self._sealer = _Sealer(encryption_key)
        self._names = {kind: f"{events_table}_due_{kind}" for kind in ("state", "cases", "items", "texts")}
        self._ready = False

    # ------------------------------------------------------------------------ statements

    def _sql(self, text: str) -> Any:
        """A statement with the tables named (and schema-qualified on PostgreSQL) and the
        driver's parameter marks (written ``?``)."""
        if self.backend == "sqlite":
            return text.format(**self._names)
        from psycopg.sql import SQL, Identifier  # noqa: PLC0415  the base install has no PostgreSQL driver

        schema = self._datastore.schema
        names: dict[str, Any] = {
            k: SQL("{}.{}").format(Identifier(schema), Identifier(v)) for k, v in self._names.items()
        }
        for suffix in ("by_node_last", "by_node_first", "by_case"):
            names[f"items_{suffix}"] = Identifier(f"{self._names['items']}_{suffix}")
        names["cases_by_worker"] = Identifier(f"{self._names['cases']}_by_worker")
        return SQL(text.replace("%", "%%").replace("?", "%s")).format(**names)

    def _create_statements(self) -> list[str]:
        blob = "BLOB" if self.backend == "sqlite" else "bytea"
        whole = "INTEGER" if self.backend == "sqlite" else "bigint"
        # each index holds every column the query reads (an index-only scan)
        columns = {
            "by_node_last": "(node, last_day, due, first_day, ref, text)",
            "by_node_first": "(node, first_day, due, last_day, ref, text)",
            "by_case": "(case_id)",
        }
        if self.backend == "sqlite":
            indexes = [
                f"CREATE INDEX IF NOT EXISTS {{items}}_{name} ON {{items}} {cols}"
                for name, cols in columns.items()
            ]
            by_worker = "CREATE INDEX IF NOT EXISTS {cases}_by_worker ON {cases} (worker, opened)"
        else:
            indexes = [
                f"CREATE INDEX IF NOT EXISTS {{items_{name}}} ON {{items}} {cols}"
                for name, cols in columns.items()
            ]
            by_worker = "CREATE INDEX IF NOT EXISTS {cases_by_worker} ON {cases} (worker, opened)"
        return [
            f"CREATE TABLE IF NOT EXISTS {{state}} (id {whole} PRIMARY KEY, format {whole} NOT NULL, "
            f"generation {whole} NOT NULL, position {whole} NOT NULL, library text NOT NULL, "
            "sources text, families text NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {{cases}} (case_id text PRIMARY KEY, case_ref {blob} NOT NULL, "
            f"opened {whole} NOT NULL, worker text)",
            f"CREATE TABLE IF NOT EXISTS {{items}} (case_id text NOT NULL, span {whole} NOT NULL, "
            f"node {whole} NOT NULL, first_day {whole} NOT NULL, last_day {whole} NOT NULL, "
            f"due {whole} NOT NULL, ref {blob} NOT NULL, text {whole} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {{texts}} (id {whole} PRIMARY KEY, text {blob} NOT NULL)",
            *indexes,
            by_worker,
            "INSERT INTO {state} (id, format, generation, position, library, sources, families) "
            "VALUES (1, 0, 0, 0, '', NULL, '[]') ON CONFLICT (id) DO NOTHING",
        ]

    def _failed(self, error: Exception) -> StoreUnavailableError:
        text = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        return StoreUnavailableError(
            f"expected the store to take the due list's tables, got {text!r} from {self._location!r}; "
            "check that the store is writable and the disk has room (or open it read-only)",
            store=self._location,
        )

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        if self.backend == "sqlite":
            return (PersistenceError,)
        import psycopg  # noqa: PLC0415  the base install has no PostgreSQL driver

        return (PersistenceError, psycopg.Error)

    def ensure(self) -> None:
        """Create the tables if they are missing: idempotent, and safe when several processes
        do it at once (SQLite serialises the writers; PostgreSQL can refuse one of two
        concurrent ``CREATE ... IF NOT EXISTS`` with "tuple concurrently updated" or a unique
        violation on its catalogue: that one tries again)."""
        if self._ready:
            return
        errors = self._driver_errors()
        for attempt in range(5):
            try:
                with self._datastore.transaction(commit=True) as cursor:
                    for statement in self._create_statements():
                        cursor.execute(self._sql(statement))
            except errors as error:
                text = str(error)
                if attempt < 4 and ("concurrently" in text or "duplicate key" in text or "locked" in text):
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise self._failed(error) from None
            self._ready = True
            return

    def _exists(self, cursor: Any) -> bool:
        if self.backend == "sqlite":
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self._names["state"],)
            )
        else:
            cursor.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                (self._datastore.schema, self._names["state"]),
            )
        return bool(cursor.fetchall())

    @staticmethod
    def _state_of(row: tuple[Any, ...] | None) -> DueState | None:
        if row is None or not row[0]:  # format 0: the tables were made, nothing built yet
            return None
        fmt, generation, position, library, sources, families = row
        return DueState(
            int(generation), int(position), str(library), sources, tuple(orjson.loads(families)), int(fmt)
        )

    def _read_state(self, cursor: Any) -> DueState | None:
        cursor.execute(
            self._sql("SELECT format, generation, position, library, sources, families FROM {state}")
        )
        rows = _rows(cursor)
        return self._state_of(rows[0] if rows else None)

    def _read(self) -> Any:
        """A read transaction that sees one moment of the tables (PostgreSQL's default isolation
        gives each statement its own)."""
        return _Reading(self)

    def state(self) -> DueState | None:
        with self._read() as cursor:
            if not self._exists(cursor):
                return None
            return self._read_state(cursor)

    def _entry(self, row: tuple[Any, ...]) -> CaseEntry:
        case_id, case_ref, opened, worker = row
        ref = self._sealer.open(bytes(case_ref), b"case reference").decode("utf-8")
        return CaseEntry(str(case_id), ref, int(opened), worker)

    def cases(self, case_ids: Iterable[str]) -> dict[str, CaseEntry]:
        wanted = sorted(set(case_ids))
        if not wanted:
            return {}
        with self._read() as cursor:
            if not self._exists(cursor):
                return {}
            return self._cases_in(cursor, wanted)

    def _cases_in(self, cursor: Any, wanted: Sequence[str]) -> dict[str, CaseEntry]:
        found: dict[str, CaseEntry] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            cursor.execute(
                self._sql(
                    f"SELECT case_id, case_ref, opened, worker FROM {{cases}} WHERE case_id IN ({marks})"
                ),
                chunk,
            )
            for row in _rows(cursor):
                entry = self._entry(row)
                found[entry.case_id] = entry
        return found

    def peers(self, worker: str) -> list[CaseEntry]:
        with self._read() as cursor:
            if not self._exists(cursor):
                return []
            cursor.execute(
                self._sql(
                    "SELECT case_id, case_ref, opened, worker FROM {cases} WHERE worker = ? ORDER BY opened"
                ),
                (self._sealer.tag(worker),),
            )
            return [self._entry(row) for row in _rows(cursor)]

    def worker_tag(self, worker: str | None) -> str | None:
        return None if worker is None else self._sealer.tag(worker)

    def _texts(self, cursor: Any) -> dict[int, Text]:
        cursor.execute(self._sql("SELECT id, text FROM {texts}"))
        texts: dict[int, Text] = {}
        for number, sealed in _rows(cursor):
            words = orjson.loads(self._sealer.open(bytes(sealed), b"texts"))
            if not (isinstance(words, list) and len(words) == 6 and all(isinstance(w, str) for w in words)):
                raise DueProjectionInvalidError(
                    f"expected each of the due list's texts to be six strings, got {str(words)[:80]!r} "
                    f"(text {number}); the tables were changed by hand: run `vrrules due --rebuild`"
                )
            texts[int(number)] = tuple(words)
        return texts

    def items_on(self, day: int, horizon: int) -> list[Listed]:
        left, right = stab_nodes(day)
        select = "SELECT ref, due, text FROM {items} WHERE "
        # under a node left of the day, the spans ending on or after it; right of it, those
        # starting on or before it; under the day's own node, all
        parts = [select + "node = ? AND due <= ?"]
        values: list[int] = [day, horizon]
        for nodes, test in ((left, "last_day >= ?"), (right, "first_day <= ?")):
            if nodes:
                parts.append(select + f"node IN ({', '.join('?' * len(nodes))}) AND {test} AND due <= ?")
                values += [*nodes, day, horizon]
        with self._read() as cursor:
            if not self._exists(cursor):
                return []
            texts = self._texts(cursor)
            plain = _plain(cursor)
            plain.execute(self._sql(" UNION ALL ".join(parts)), values)
            rows = plain.fetchall() if plain is not cursor else _rows(cursor)
        try:
            if self._sealer.sealed:
                return [self._unsealed(row, texts) for row in rows]
            return [
                (ref if type(ref) is str else bytes(ref).decode(), due, texts[text])
                for ref, due, text in rows
            ]
        except (KeyError, UnicodeDecodeError, TypeError, ValueError):
            raise DueProjectionInvalidError(
                "expected each of the due list's items to name a case and a known text, got one that "
                "does not; the tables were changed by hand: run `vrrules due --rebuild`"
            ) from None

    def _unsealed(self, row: tuple[Any, ...], texts: dict[int, Text]) -> Listed:
        sealed, due, _ = row
        ref, number = orjson.loads(self._sealer.open(bytes(sealed), b"item"))
        return (str(ref), due, texts[int(number)])

    # ----------------------------------------------------------------------------- write

    def write(
        self,
        *,
        expected: int | None,
        state: DueState,
        cases: Sequence[CaseEntry],
        spans: Mapping[str, Sequence[Span]],
        replace_all: bool,
    ) -> DueState | None:
        self.ensure()
        try:
            with self._datastore.transaction(commit=True) as cursor:
                # the state row first: it takes the write lock, and tells whether another
                # writer moved the projection on since this work started
                values = (
                    state.format,
                    state.position,
                    state.library,
                    state.sources,
                    orjson.dumps(list(state.families)).decode(),
                )
                if expected is None:
                    cursor.execute(
                        self._sql(
                            "UPDATE {state} SET format = ?, generation = generation + 1, position = ?, "
                            "library = ?, sources = ?, families = ? WHERE id = 1"
                        ),
                        values,
                    )
                else:
                    cursor.execute(
                        self._sql(
                            "UPDATE {state} SET format = ?, generation = generation + 1, position = ?, "
                            "library = ?, sources = ?, families = ? WHERE id = 1 AND generation = ?"
                        ),
                        (*values, expected),
                    )
                    if self._changed(cursor) != 1:
                        raise _LostRaceError
                written = self._read_state(cursor)
                if replace_all:
                    for table in ("{items}", "{cases}", "{texts}"):
                        cursor.execute(self._sql(f"DELETE FROM {table}"))
                self._write_cases(cursor, cases)
                self._write_items(cursor, cases, spans)
        except _LostRaceError:
            return None
        except self._driver_errors() as error:
            raise self._failed(error) from None
        assert written is not None
        return written

    def _changed(self, cursor: Any) -> int:
        """Rows the last statement changed (eventsourcing's SQLite cursor shows no rowcount)."""
        if self.backend == "sqlite":
            cursor.execute("SELECT changes()")
            return int(_rows(cursor)[0][0])
        return int(cursor.rowcount)

    def _write_cases(self, cursor: Any, cases: Sequence[CaseEntry]) -> None:
        rows = [
            (
                e.case_id,
                self._sealer.seal(e.case_ref.encode("utf-8"), b"case reference"),
                e.opened,
                self.worker_tag(e.worker),
            )
            for e in cases
        ]
        statement = self._sql(
            "INSERT INTO {cases} (case_id, case_ref, opened, worker) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (case_id) DO UPDATE SET case_ref = excluded.case_ref, opened = excluded.opened, "
            "worker = excluded.worker"
        )
        for start in range(0, len(rows), 5000):
            cursor.executemany(statement, rows[start : start + 5000])

    def _write_items(
        self, cursor: Any, cases: Sequence[CaseEntry], spans: Mapping[str, Sequence[Span]]
    ) -> None:
        if not spans:
            return
        texts = {words: number for number, words in self._texts(cursor).items()}
        refs = {e.case_id: e.case_ref for e in cases}
        missing = sorted(set(spans) - set(refs))
        if missing:
            refs.update({i: e.case_ref for i, e in self._cases_in(cursor, missing).items()})
        fresh: list[tuple[int, bytes]] = []
        rows: list[tuple[Any, ...]] = []
        sealed = self._sealer.sealed
        for case_id, worked_out in spans.items():
            # in the clear, SQLite keeps the reference as text (read back without decoding)
            plain_ref: str | bytes = refs[case_id] if self.backend == "sqlite" else refs[case_id].encode()
            for n, (first, last, items) in enumerate(s for s in worked_out if s[2]):
                node = fork_node(first, last)
                for due, words in items:
                    number = texts.get(words)
                    if number is None:
                        number = texts[words] = max(texts.values(), default=0) + 1
                        fresh.append((number, self._sealer.seal(orjson.dumps(list(words)), b"texts")))
                    if sealed:
                        ref = self._sealer.seal(orjson.dumps([refs[case_id], number]), b"item")
                        rows.append((case_id, n, node, first, last, due, ref, 0))
                    else:
                        rows.append((case_id, n, node, first, last, due, plain_ref, number))
        if fresh:
            cursor.executemany(self._sql("INSERT INTO {texts} (id, text) VALUES (?, ?)"), fresh)
        ids = sorted(spans)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(
                self._sql(f"DELETE FROM {{items}} WHERE case_id IN ({', '.join('?' * len(chunk))})"), chunk
            )
        statement = self._sql(
            "INSERT INTO {items} (case_id, span, node, first_day, last_day, due, ref, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for start in range(0, len(rows), 5000):
            cursor.executemany(statement, rows[start : start + 5000])


class _LostRaceError(Exception):
    """Another writer moved the projection on first (nothing was written)."""


class _Reading:
    """A read-only transaction on the store's connections, one snapshot throughout."""

    def __init__(self, tables: SqlDueTables) -> None:
        self._tables = tables
        self._context: Any = None

    def __enter__(self) -> Any:
        self._context = self._tables._datastore.transaction(commit=False)
        cursor = self._context.__enter__()
        if self._tables.backend == "postgres":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return cursor

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)
