"""The store's Merkle log, as the auditor checks it: checkpoints kept apart, and verification.

Every stored record (case events, decisions, policy releases, publications) is a leaf of one
append-only RFC 9162 tree (:mod:`vrrules.events.tlog`), in the store's total order (the
records' positions, eventsourcing's notification ids). The writer stores each leaf in the
same transaction as its record; the auditor recomputes every leaf from the bytes as stored
and needs nothing else but checkpoints kept apart from the store:

* :func:`make_checkpoint` writes a C2SP checkpoint (origin, size, root, and the root of a
  second tree over every stored aggregate's head: its last version and the leaf of its last
  record), signed with an Ed25519 key when one is given;
* :func:`verify_log` proves the store is an append-only extension of every checkpoint given
  (the first ``size`` recomputed leaves hash to its root, which is what a consistency proof
  proves when the verifier holds the leaves), that each record still hashes to the leaf
  stored with it, that no leaf lost its record, and that each aggregate's versions run 1, 2,
  3 … in log order. Every finding names the first bad record: leaf index, position, the
  aggregate (a case's reference when its opening still reads) and version.

What it cannot see: records appended after the newest checkpoint and then removed together
with their leaves leave no trace; keep checkpoints often (``vrrules audit checkpoint``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlparse
from uuid import UUID

from eventsourcing.utils import get_topic

from vrrules.audit.chain import case_index, record_leaf, walk_case
from vrrules.audit.checkpoint import (
    MAX_NOTE_BYTES,
    CaseHead,
    CaseHeads,
    CaseHeadsCommitment,
    Checkpoint,
    ParsedCheckpoint,
    SignerKey,
    format_checkpoint,
    parse_checkpoint,
    verify_checkpoint,
)
from vrrules.errors import (
    CaseHeadsInvalidError,
    CheckpointMalformedError,
    LogMigrationRefusedError,
    VrrulesError,
)
from vrrules.events.application import CaseRecords
from vrrules.events.domain import Case, LogMigration, PolicyRelease, VersionPublication
from vrrules.events.store import CaseStore, LogRow, StoredRecord
from vrrules.events.tlog import (
    EMPTY_ROOT,
    HASH_SIZE,
    UNMATCHED_LEAF,
    LogTree,
    TreeHasher,
    find_first_mismatch,
    record_leaf_hash,
)

__all__ = [
    "KeptCheckpoint",
    "LogEntry",
    "LogFinding",
    "LogReport",
    "Migration",
    "SinceLog",
    "StoreLog",
    "check_migration",
    "checkpoint_heads",
    "checkpoint_leaves",
    "kept_files",
    "load_checkpoint",
    "make_checkpoint",
    "migrate_log",
    "read_checkpoint_file",
    "store_origin",
    "verify_log",
]


def store_origin(location: str | None) -> str:
    """The checkpoint origin of a store: stable for the store, whoever opens it."""
    if location is None or location in ("memory", ":memory:"):
        return "vrrules.local/memory"
    if location.startswith(("postgresql://", "postgres://")):
        url = urlparse(location)
        return f"vrrules.local/postgresql/{url.hostname}/{url.path.lstrip('/')}"
    return f"vrrules.local/sqlite/{Path(location.removeprefix('sqlite:///')).name}"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One leaf of the log: the record at that place, its recomputed and its stored leaf."""

    index: int
    record: StoredRecord
    leaf: bytes
    stored_leaf: bytes | None


@dataclass(frozen=True)
class LogFinding:
    """One thing the log check found, naming the first record it concerns."""

    problem: str
    leaf_index: int | None = None
    position: int | None = None
    aggregate: str | None = None
    version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "leaf_index": self.leaf_index,
            "position": self.position,
            "record": self.aggregate,
            "version": self.version,
        }

    @property
    def stage(self) -> int:
        """Where in the checks it was found (a merged report orders its findings by it)."""
        for rank, start in enumerate(_STAGES):
            if self.problem.startswith(start):
                return rank
        return len(_STAGES)

    def __str__(self) -> str:
        where = []
        if self.aggregate is not None:
            where.append(
                self.aggregate + (f" version {self.version}" if self.version is not None else "")
            )
        if self.leaf_index is not None:
            where.append(f"leaf {self.leaf_index}")
        if self.position is not None:
            where.append(f"position {self.position}")
        return f"{self.problem}" + (f" ({', '.join(where)})" if where else "")


# the log checks, in the order they run
_STAGES = (
    "record has no leaf",
    "record changed",
    "record deleted",
    "record malformed",
    "records not reached",
    "the store holds",
    "the record at the checkpoint's last leaf",
    "expected version",
    "checkpoint of another log",
    "the log differs",
    "log truncated",
    "the checkpoint's case heads",
)


class PackedIds(Sequence[UUID]):
    """Stored ids packed 16 bytes each (a list of UUID objects costs some 150 bytes an id)."""

    __slots__ = ("_packed",)

    def __init__(self) -> None:
        self._packed = bytearray()

    def append(self, raw: bytes) -> None:
        self._packed += raw

    def __len__(self) -> int:
        return len(self._packed) // 16

    @overload
    def __getitem__(self, index: int) -> UUID: ...
    @overload
    def __getitem__(self, index: slice) -> list[UUID]: ...
    def __getitem__(self, index: int | slice) -> UUID | list[UUID]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return UUID(bytes=bytes(self._packed[index * 16 : index * 16 + 16]))


class StoreLog:
    """The log of one store as its rows give it (read once; nothing is written).

    Kept compact, so that the log of a large store fits in memory: per record its position,
    version, aggregate number and topic number in arrays and its leaf in the tree's packed
    leaves, about 50 bytes a record whatever the size of its state. A leaf the writer stored
    is kept apart only where it is not the recomputed one.
    """

    def __init__(
        self,
        store: CaseStore,
        share: tuple[int, int] | None = None,
        *,
        recompute: bool = True,
        roots_at: Iterable[int] = (),
        upto: int | None = None,
        announce: tuple[str, Callable[[UUID], None]] | None = None,
    ) -> None:
        """``upto``: only the records at positions up to it (an audit fixes it first).
        ``announce`` ``(topic, callback)``: the callback is given each aggregate's stored id
        at its first record of ``topic``, as the rows are read (the audit hands its case
        walks out while the log is still being read).

        With ``recompute`` every leaf is recomputed from the bytes as stored as they are
        read. Without it the states are not read and the leaves are the ones the writer
        stored: the caller recomputes them (``vrrules audit verify`` does in its case walks,
        spread over its workers) and hands back with :meth:`recomputed` each that differs,
        and :meth:`complete` recomputes whatever it left. ``share`` ``(k, n)``: recompute only
        the records of the aggregates whose stored id is ``k`` modulo ``n`` (one host's share
        of ``vrrules audit verify --shard``); the others are taken as the writer stored them,
        and their own shares check them.

        Without ``recompute`` the leaves are not kept either (32 bytes a record): the tree
        hashes at the sizes ``roots_at`` and at the whole log are taken as the leaves stream
        past, and stand as long as no recomputed leaf differs; otherwise (a store that
        fails) the tree is built from the stored leaves, read again, and the recomputed ones."""
        self._start(store, share, keep_from=0 if recompute else _NEVER, roots_at=roots_at)
        self._read(store.log_rows(states=recompute, upto=upto), trusted=not recompute, announce=announce)
        self._finish_read()
        last = upto if upto is not None else self.last_position
        # positions whose leaf lost its record
        self.orphans = [p for p in store.orphan_leaves() if upto is None or p <= last]

    def _start(
        self, store: CaseStore, share: tuple[int, int] | None, *, keep_from: int, roots_at: Iterable[int]
    ) -> None:
        self.store = store
        self.share = share
        self.positions = array("q")
        self.versions = array("q")
        self.aggregates = array("i")  # per record: its aggregate's number, an index into ids
        self.topic_codes = array("I")  # per record: an index into topic_names
        self.ids = PackedIds()  # aggregates in the order of their first records
        self.first_index = array("q")  # per aggregate: the leaf index of its first record
        self.counts = array("q")  # per aggregate: how many records the index holds
        self.malformed: dict[int, str] = {}  # leaf index -> what is malformed in its row
        self.unread: set[int] = set()  # aggregates whose records, read by id, are not all here
        self.boundary_problem: str | None = None  # SinceLog: the checkpoint's end does not fit
        self.topic_names: list[str] = []
        # where the leaf stored beside a record is not its recomputed leaf: leaf index -> the
        # stored leaf (None: the writer stored none)
        self.stored_differs: dict[int, bytes | None] = {}
        self.unchecked: set[int] = set()  # aggregates whose leaves are still the stored ones
        self.first_stored: int | None = None  # the first leaf index with a stored leaf
        self.known_from = 0  # the first leaf index whose record was read (SinceLog: later)
        self.versions_before: dict[int, int] = {}  # SinceLog: aggregate -> its version then
        self._numbers: dict[bytes, int] = {}  # stored id's bytes -> aggregate number
        self._topics: dict[str, int] = {}
        self._tree_leaves = bytearray()  # the leaves from leaf index _keep_from on, packed
        self._keep_from = keep_from
        self._tree: LogTree | None = None
        self._logged: LogTree | None = None  # the logged tree, once asked for
        self._names: dict[UUID, str] = {}
        # the tree hashes taken while reading, valid while no leaf is recomputed otherwise
        self._hasher = TreeHasher()
        self._roots_at = set(roots_at)
        self._roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self._streamed = True  # the roots taken are the recomputed tree's
        self._logged_streamed = True  # the roots taken are the logged tree's
        # aggregates with a record that has no well-formed stored leaf: recomputed by every
        # share, since the logged tree needs their leaves
        self.lacking_leaves: set[int] = set()
        self._patches: dict[int, bytes] = {}  # leaf index -> recomputed leaf, below _keep_from

    def _add_leaf(self, leaf: bytes, logged: bytes | None) -> None:
        """The leaves of the record just added to ``positions``: ``leaf`` for the recomputed
        tree, ``logged`` for the logged one (None: it has no well-formed stored leaf and its
        recomputed one is not known yet)."""
        if len(self.positions) > self._keep_from:
            self._tree_leaves += leaf
            if not self._keep_from:  # every leaf kept: the trees will be built from them
                self._streamed = self._logged_streamed = False
                return
        if logged is None:
            self._streamed = self._logged_streamed = False
            logged = leaf
        elif logged != leaf:
            self._streamed = False  # the roots taken are the logged tree's only
        hasher = self._hasher
        hasher.append(logged)
        if hasher.size in self._roots_at:
            self._roots[hasher.size] = hasher.root()

    def _finish_read(self) -> None:
        if self._logged_streamed:
            self._roots[self._hasher.size] = self._hasher.root()

    def _read(
        self,
        rows: Iterable[LogRow],
        *,
        trusted: bool,
        announce: tuple[str, Callable[[UUID], None]] | None = None,
    ) -> None:
        """Add the records ``rows`` gives; ``trusted``: their leaves are the stored ones, to
        be recomputed later (the aggregates are marked unchecked)."""
        numbers, topics, share, add_leaf = self._numbers, self._topics, self.share, self._add_leaf
        announced_topic, tell = announce if announce is not None else (None, None)
        announced: set[int] = set()
        for index, (position, stored_id, version, topic, state, stored_leaf, problem) in enumerate(
            rows, start=self.size
        ):
            number = numbers.get(stored_id)
            if number is None:
                number = numbers[stored_id] = len(self.ids)
                self.ids.append(stored_id)
                self.first_index.append(index)
                self.counts.append(0)
                if trusted:
                    self.unchecked.add(number)
            self.counts[number] += 1
            if problem is not None:
                self.malformed.setdefault(index, problem)
            well_formed = stored_leaf is not None and len(stored_leaf) == HASH_SIZE
            if stored_leaf is not None and not well_formed:
                self.malformed.setdefault(index, f"its stored leaf is {len(stored_leaf)} bytes, not 32")
            code = topics.get(topic)
            if code is None:
                code = topics[topic] = len(self.topic_names)
                self.topic_names.append(topic)
            self.positions.append(position)
            self.versions.append(version)
            self.aggregates.append(number)
            self.topic_codes.append(code)
            if topic == announced_topic and number not in announced and tell is not None:
                announced.add(number)
                tell(UUID(bytes=stored_id))
            if stored_leaf is not None and self.first_stored is None:
                self.first_stored = index
            if state is not None and (
                stored_leaf is None
                or share is None
                or int.from_bytes(stored_id, "big") % share[1] == share[0]
            ):
                try:
                    leaf = record_leaf_hash(UUID(bytes=stored_id), version, topic, state)
                except VrrulesError:  # a malformed row (a finding above): a leaf nothing matches
                    leaf = UNMATCHED_LEAF
                if leaf != stored_leaf:
                    self.stored_differs[index] = stored_leaf
            elif stored_leaf is not None and well_formed:
                leaf = stored_leaf
            else:  # no stored leaf (or a malformed one), the state unread: recomputed later
                leaf = _NO_LEAF
                self.stored_differs[index] = stored_leaf
            if not well_formed:
                self.lacking_leaves.add(number)
            add_leaf(leaf, stored_leaf if well_formed else (None if leaf is _NO_LEAF else leaf))

    # ------------------------------------------------------------------ the records

    @property
    def size(self) -> int:
        return len(self.positions)

    @property
    def last_position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def stored_id(self, index: int) -> UUID:
        return self.ids[self.aggregates[index]]

    def topic(self, index: int) -> str:
        return self.topic_names[self.topic_codes[index]]

    def record(self, index: int) -> StoredRecord:
        """The record at leaf ``index`` as the log knows it: without its state."""
        return StoredRecord(
            self.positions[index],
            self.stored_id(index),
            self.versions[index],
            self.topic(index),
            b"",
            self.stored_leaf(index),
        )

    def leaf(self, index: int) -> bytes:
        """The recomputed leaf at ``index``."""
        if self._tree is None and 0 <= index - self._keep_from < self.size - self._keep_from:
            at = (index - self._keep_from) * HASH_SIZE
            return bytes(self._tree_leaves[at : at + HASH_SIZE])
        return self.tree.leaf(index)

    def tree_hash(self, size: int) -> bytes:
        """``MTH`` of the first ``size`` recomputed leaves (the tree is built only if need be)."""
        if self._tree is None:
            self.complete()
            if self._streamed and size in self._roots:
                return self._roots[size]
        return self.tree.tree_hash(size)

    def stored_leaf(self, index: int) -> bytes | None:
        """The leaf the writer stored beside the record at ``index`` (None: none)."""
        return self.stored_differs[index] if index in self.stored_differs else self.leaf(index)

    @property
    def built(self) -> bool:
        """Whether the writer stored any leaves (a store written before the log has none;
        an empty store has nothing to build)."""
        return self.first_stored is not None or bool(self.orphans) or not self.size

    def number_of(self, stored_id: UUID) -> int | None:
        """The aggregate number of ``stored_id`` in this index (None: it has no record here)."""
        return self._numbers.get(stored_id.bytes)

    def indices_of(self, wanted: Iterable[UUID], size: int | None = None) -> list[int]:
        """The leaf indices (below ``size``) of the records of the aggregates ``wanted``."""
        numbers = {self._numbers[i.bytes] for i in wanted if i.bytes in self._numbers}
        aggregates = self.aggregates
        return [i for i in range(self.size if size is None else size) if aggregates[i] in numbers]

    # --------------------------------------------------------- leaves recomputed later

    def recomputed(
        self,
        position_leaves: Iterable[tuple[int, bytes, bytes | None]],
        checked: Iterable[tuple[UUID, int]],
    ) -> None:
        """The leaves the caller recomputed for the records of the aggregates ``checked``
        (each with how many records it read by the aggregate's id), ``(position, recomputed
        leaf, stored leaf or None)`` wherever they are not the stored ones (or none was
        stored). An aggregate read with fewer or more records than the log's index holds is
        marked unread: a record the index has but reading by id does not reach (a stored id
        edited out of its form, say) keeps its stored leaf, and is a finding."""
        self._patch({position: (leaf, stored) for position, leaf, stored in position_leaves})
        for stored_id, read in checked:
            number = self._numbers.get(stored_id.bytes)
            if number is not None:
                self.unchecked.discard(number)
                if read != self._expected_count(number):
                    self.unread.add(number)

    def _expected_count(self, number: int) -> int:
        return self.counts[number]

    def trust(self, numbers: Iterable[int]) -> None:
        """Take these aggregates' leaves as the writer stored them (someone else, or a
        consistency proof, vouches for them). An aggregate with a record that has no
        well-formed stored leaf is still recomputed here: the logged tree needs that leaf."""
        for number in numbers:
            if number not in self.lacking_leaves:
                self.unchecked.discard(number)

    def complete(self) -> None:
        """Recompute here the leaves no one recomputed yet: what the case walks did not cover."""
        chosen = sorted(self.unchecked)
        found: dict[int, tuple[bytes, bytes | None]] = {}
        upto = self.last_position
        for number in chosen:
            records = self.store.records_of(self.ids[number], upto=upto)
            for record in records:
                leaf = record_leaf(record)
                if leaf != record.stored_leaf:
                    found[record.position] = (leaf, record.stored_leaf)
            self.unchecked.discard(number)
            if len(records) != self._expected_count(number):
                self.unread.add(number)
        self._patch(found)

    def _patch(self, found: dict[int, tuple[bytes, bytes | None]]) -> None:
        if not found:
            return
        if self._tree is not None:
            raise RuntimeError("the log's tree is built: recomputed leaves come before it")
        positions = self.positions
        for position, (leaf, stored) in found.items():
            index = bisect_left(positions, position)
            if index == len(positions) or positions[index] != position:
                continue  # not a record this reading of the log saw
            self._streamed = False
            if leaf == stored:
                self.stored_differs.pop(index, None)
            else:
                self.stored_differs[index] = stored
            if index >= self._keep_from:
                at = (index - self._keep_from) * HASH_SIZE
                self._tree_leaves[at : at + HASH_SIZE] = leaf
            else:
                self._patches[index] = leaf

    @property
    def tree(self) -> LogTree:
        """The tree of the recomputed leaves (built on first use)."""
        if self._tree is None:
            self.complete()
            packed = self._stored_prefix(min(self._keep_from, self.size))
            for index, leaf in self._patches.items():
                packed[index * HASH_SIZE : (index + 1) * HASH_SIZE] = leaf
            packed += self._tree_leaves
            self._tree_leaves = bytearray()
            self._keep_from = _NEVER
            self._tree = LogTree.from_packed(packed, copy=False)
        return self._tree

    def _stored_prefix(self, count: int) -> bytearray:
        """The stored leaves of the first ``count`` records, read again, by position (zeros
        where a record has none: its recomputed leaf is a patch)."""
        packed = bytearray(HASH_SIZE * count)
        if not count:
            return packed
        positions = self.positions
        index = 0
        for position, leaf in self.store.stored_leaf_rows():
            while index < count and positions[index] < position:
                index += 1
            if index >= count:
                break
            if positions[index] == position:
                fits = len(leaf) == HASH_SIZE  # a malformed stored leaf is a finding already
                packed[index * HASH_SIZE : (index + 1) * HASH_SIZE] = leaf if fits else UNMATCHED_LEAF
                index += 1
        return packed

    def logged_tree(self) -> LogTree:
        """The tree of the log as the writer kept it: each record's stored leaf, or its
        recomputed leaf where it has no well-formed one (a store written before the log, a
        record inserted outside vrrules).

        Checkpoints are checked against this tree, as a log monitor checks a log's tree
        heads, while each record is checked against its own stored leaf: together they say
        what checking the recomputed tree would, and both depend on one record at a time,
        so the shares of ``--shard`` reach the verdict of one full run.
        """
        if self._logged is None:
            overlay = {
                index: stored
                for index, stored in self.stored_differs.items()
                if stored is not None and len(stored) == HASH_SIZE
            }
            self._logged = self.tree  # built first: no leaf is recomputed after it
            if overlay:
                packed = bytearray(self._logged.leaf_hashes())
                for index, stored in overlay.items():
                    packed[index * HASH_SIZE : (index + 1) * HASH_SIZE] = stored
                self._logged = LogTree.from_packed(packed, copy=False)
        return self._logged

    def logged_hash(self, size: int) -> bytes:
        """``MTH`` of the first ``size`` leaves of :meth:`logged_tree` (built only if need be)."""
        if self._tree is None:
            self.complete()
            if self._logged_streamed and size in self._roots:
                return self._roots[size]
        return self.logged_tree().tree_hash(size)

    # ------------------------------------------------------------ heads and findings

    def case_heads(self, size: int | None = None) -> CaseHeads:
        """Every aggregate's head as of ``size`` leaves: last version and its leaf index."""
        last = array("q", [-1]) * len(self.ids)
        aggregates = self.aggregates
        for index in range(self.size if size is None else size):
            last[aggregates[index]] = index
        return CaseHeads(
            CaseHead(self.ids[n], self.versions[index], index)
            for n, index in enumerate(last)
            if index >= 0
        )

    def name(self, stored_id: UUID) -> str:
        """A readable name for an aggregate: a case's reference when its opening reads."""
        name = self._names.get(stored_id)
        if name is None:
            name = f"record {stored_id}"
            records = self.store.records_of(stored_id, upto=self.last_position)
            try:
                event = self.store.decode(records[0]) if records else None
            except Exception:  # a damaged first record, or a sealed store: named by its stored id
                event = None
            reference = getattr(getattr(event, "opening", None), "case_ref", None)
            if isinstance(event, Case.Opened) and isinstance(reference, str):
                name = f"case {reference}"
            elif isinstance(event, PolicyRelease.Released | VersionPublication.Published):
                kind = "policy release" if isinstance(event, PolicyRelease.Released) else "publication of"
                name = f"{kind} {event.family} {event.spec_version} ({stored_id})"
            self._names[stored_id] = name
        return name

    def finding(self, problem: str, index: int) -> LogFinding:
        if index >= self.size:
            return LogFinding(problem, leaf_index=index)
        if index < self.known_from:  # a record this reading did not read: look it up
            record = self.store.record_at(self.positions[index])
            if record is None:
                return LogFinding(problem, index, self.positions[index])
            return LogFinding(problem, index, record.position, self.name(record.stored_id), record.version)
        stored_id = self.stored_id(index)
        return LogFinding(problem, index, self.positions[index], self.name(stored_id), self.versions[index])


_OPENED = get_topic(Case.Opened)
_NO_LEAF = bytes(HASH_SIZE)
_NEVER = 2**62  # a leaf index no log reaches: keep no leaves


# the aggregate the records before a --since checkpoint stand for (they are not read)
_NOT_READ = UUID(int=0)
_CASE_TOPICS = get_topic(Case).replace(":Case", ":Case.")


class SinceLog(StoreLog):
    """The log as ``vrrules audit verify --since`` reads it, the way a transparency-log
    monitor follows a log from the last tree head it checked: the leaves the writer stored
    up to the checkpoint, which its root then proves unchanged, and every record after it,
    read and hashed. Reading costs the stored leaves (32 bytes each) and the new records.

    What it does not look at is what a full ``vrrules audit verify`` checks besides: the
    old records' bytes against their stored leaves (except in the cases that gained
    records, which are walked whole), the versions of the old records, and the checkpoint's
    case heads.
    """

    def __init__(
        self,
        store: CaseStore,
        since: int,
        share: tuple[int, int] | None = None,
        *,
        roots_at: Iterable[int] = (),
    ) -> None:
        self._start(store, share, keep_from=since, roots_at=(since, *roots_at))
        later: set[int] = set()  # positions of the stored leaves after the checkpoint's last
        last_leaf = b""
        # the checkpoint's leaves are hashed as they stream past, not kept (the loop is the
        # whole cost of a weekly audit's old part: it appends to the hasher itself)
        positions, hasher = self.positions, self._hasher
        # the sizes at which a root is wanted, in order: each page is hashed in runs cut there
        cuts = sorted(size for size in self._roots_at if 0 < size <= since)
        for page in store.stored_leaf_pages():
            room = since - len(positions)
            before, after = (page[:room], page[room:]) if room > 0 else ([], page)
            later.update(position for position, _ in after)
            if not before:
                continue
            positions.extend(position for position, _ in before)
            leaves = [leaf if len(leaf) == HASH_SIZE else UNMATCHED_LEAF for _, leaf in before]
            last_leaf = before[-1][1]
            at = 0
            while at < len(leaves):
                size = hasher.size
                cut = next((c for c in cuts if c > size), None)
                end = len(leaves) if cut is None else min(len(leaves), at + cut - size)
                hasher.extend(leaves[at:end])
                at = end
                if hasher.size in self._roots_at:
                    self._roots[hasher.size] = hasher.root()
        self.known_from = self._keep_from = known = len(self.positions)
        boundary = self.positions[-1] if self.positions else 0
        self._check_boundary(known, boundary, last_leaf)
        # the records before the checkpoint all stand as one aggregate, "not read"
        self.versions.extend(array("q", bytes(8 * known)))
        self.aggregates.extend(array("i", bytes(4 * known)))
        self.topic_codes.extend(array("I", bytes(4 * known)))
        self.ids.append(_NOT_READ.bytes)
        self.first_index.append(0)
        self.counts.append(known)
        self.topic_names.append("(a record before the checkpoint, not read)")
        self._numbers[_NOT_READ.bytes] = 0
        self.first_stored = 0 if known else None
        self._read(store.log_rows(states=True, after=boundary), trusted=False)
        self._finish_read()
        self.orphans = sorted(later.difference(self.positions[known:]))
        # every aggregate that gained records is read by its id: where it stood at the
        # checkpoint, and whether it is a case (its first record an opening), to be walked
        self._cases: dict[UUID, int] = {}  # cases with records after it: their first new version
        self._old_counts: dict[int, int] = {}
        with_case_events = {
            self.aggregates[i] for i in range(known, self.size) if self.topic(i).startswith(_CASE_TOPICS)
        }
        for number in range(1, len(self.ids)):
            stored_id = self.ids[number]
            old = store.records_of(stored_id, upto=boundary)
            self.versions_before[number] = max((r.version for r in old), default=0)
            self._old_counts[number] = len(old)
            first_topic = old[0].topic if old else self.topic(self.first_index[number])
            if first_topic == _OPENED or number in with_case_events:
                self._cases[stored_id] = self.versions[self.first_index[number]]

    def _check_boundary(self, known: int, boundary: int, last_leaf: bytes) -> None:
        """The checkpoint's root fixes its leaves' hashes, not where they stand: the store must
        hold exactly ``known`` records up to the last of them, and that record must still
        hash to it, or the new part read from there on is not what follows the checkpoint."""
        if not known:
            return
        record = self.store.record_at(boundary)
        try:
            fits = record is not None and record.leaf_hash() == last_leaf
        except VrrulesError:
            fits = False
        held = self.store.count_records(boundary)
        if held != known:
            self.boundary_problem = (
                f"the store holds {held} records up to the checkpoint's last leaf, the checkpoint "
                f"{known}: records before it were removed or inserted (a full verify names them)"
            )
        elif not fits:
            self.boundary_problem = (
                "the record at the checkpoint's last leaf no longer hashes to it: the records "
                "before it were changed, moved or removed (a full verify names them)"
            )

    def _expected_count(self, number: int) -> int:
        return self.counts[number] + self._old_counts.get(number, 0)

    def cases_to_walk(self) -> list[tuple[UUID, int]]:
        """The cases with records after the checkpoint, each with its first new version."""
        return list(self._cases.items())

    def case_heads(self, size: int | None = None) -> CaseHeads:
        raise NotImplementedError("--since does not read the old records: a full verify checks the heads")


def make_checkpoint(
    records: CaseRecords,
    signer: str | None = None,
    *,
    origin: str | None = None,
    log: StoreLog | None = None,
) -> str:
    """A checkpoint of the store as it is now (or of ``log``, read once for both this and
    :func:`checkpoint_leaves`), as text to keep apart from the store."""
    log = log or StoreLog(records.store)
    checkpoint = Checkpoint(
        origin or store_origin(records.store.location), log.size, log.tree.root()
    ).with_case_heads(log.case_heads().commitment)
    signers = [SignerKey.parse(signer)] if signer is not None else []
    return format_checkpoint(checkpoint, signers)


def load_checkpoint(text: bytes | str, trusted_keys: Sequence[str] = ()) -> ParsedCheckpoint:
    """A kept checkpoint, its signature checked against ``trusted_keys`` when any are given."""
    return verify_checkpoint(text, trusted_keys) if trusted_keys else parse_checkpoint(text)


@dataclass
class LogReport:
    """What the log check found; ``ok`` only when nothing was."""

    size: int = 0
    root: str = ""
    built: bool = True
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    findings: list[LogFinding] = field(default_factory=list)
    # about the files given, not the store: a leaves or heads file kept beside a checkpoint
    # that is not the checkpoint's (it is not used; the verdict does not depend on it)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root,
            "built": self.built,
            "checkpoints": self.checkpoints,
            "findings": [f.as_dict() for f in self.findings],
            "notes": self.notes,
        }


# a checkpoint alone, or with the leaf hashes (C.leaves) and the case heads (C.heads) kept beside it
KeptCheckpoint = (
    ParsedCheckpoint
    | Checkpoint
    | tuple[ParsedCheckpoint | Checkpoint, bytes | None]
    | tuple[ParsedCheckpoint | Checkpoint, bytes | None, bytes | None]
)


def checkpoint_leaves(records: CaseRecords, *, log: StoreLog | None = None) -> bytes:
    """The log's leaf hashes as of now, packed (32 bytes each): kept beside a checkpoint, they
    let a later audit name the exact first record that differs, whatever else was rewritten.
    Give the ``log`` the checkpoint was made from, so both describe the same records."""
    return (log or StoreLog(records.store)).tree.leaf_hashes()


_HEAD_SIZE = 32  # stored id (16), last version (u64 BE), leaf index (u64 BE)


def checkpoint_heads(records: CaseRecords, *, log: StoreLog | None = None) -> bytes:
    """Every aggregate's head as of now, packed (32 bytes each, sorted by stored id): kept
    beside a checkpoint (``C.heads``), they let a later audit name the case that lost its
    last records, which the checkpoint's case-heads root alone cannot say. Give the ``log``
    the checkpoint was made from."""
    heads = (log or StoreLog(records.store)).case_heads()
    return b"".join(
        head.stored_id.bytes + head.last_version.to_bytes(8, "big") + head.leaf_index.to_bytes(8, "big")
        for head in heads.heads
    )


def _kept_heads(kept: bytes, checkpoint: Checkpoint) -> list[CaseHead] | None:
    """The heads kept beside a checkpoint, when they are the ones its case-heads root commits to."""
    if len(kept) % _HEAD_SIZE or checkpoint.case_heads is None:
        return None
    heads = [
        CaseHead(
            UUID(bytes=kept[at : at + 16]),
            int.from_bytes(kept[at + 16 : at + 24], "big"),
            int.from_bytes(kept[at + 24 : at + 32], "big"),
        )
        for at in range(0, len(kept), _HEAD_SIZE)
    ]
    try:
        fits = CaseHeads(heads).commitment == checkpoint.case_heads
    except (CaseHeadsInvalidError, ValueError):
        fits = False
    return heads if fits else None


def _shortened_case(log: StoreLog, checkpoint: Checkpoint, heads: list[CaseHead]) -> LogFinding | None:
    """The case (or other aggregate) that lost its last records since the checkpoint, by the
    heads kept beside it: the one whose head the checkpoint holds with a version the store
    no longer reaches, first by the checkpoint's leaf of it."""
    reached = array("q", [0]) * len(log.ids)
    versions, aggregates = log.versions, log.aggregates
    for index in range(log.size):
        number = aggregates[index]
        reached[number] = max(reached[number], versions[index])
    short = []
    for head in heads:
        known = log.number_of(head.stored_id)
        now = reached[known] if known is not None else 0
        if now < head.last_version:
            short.append((head.leaf_index, head, now))
    if not short:
        return None
    leaf_index, head, now = min(short, key=lambda item: item[0])
    return LogFinding(
        f"the checkpoint's case heads hold this record, the store no longer does: its last "
        f"records were removed (the checkpoint holds it up to version {head.last_version}, the "
        f"store up to version {now})",
        leaf_index,
        None,
        log.name(head.stored_id),
        head.last_version,
    )


def verify_log(
    records: CaseRecords | CaseStore,
    checkpoints: Iterable[KeptCheckpoint] = (),
    *,
    log: StoreLog | None = None,
) -> LogReport:
    """Check the store's log on its own and against every checkpoint given.

    A checkpoint may come with the leaf hashes kept beside it (:func:`checkpoint_leaves`);
    when they reproduce its root, a difference is named to the exact leaf, else to the
    span of leaves the roots at hand can tell apart.
    """
    store = records.store if isinstance(records, CaseRecords) else records
    log = log or StoreLog(store)
    log.complete()  # every leaf recomputed from here on
    report = LogReport(size=log.size, root=log.logged_hash(log.size).hex(), built=log.built)
    findings = report.findings
    # 1. each record still hashes to the leaf stored with it; none lost its leaf or record.
    # Records older than the first stored leaf predate the log (a store written before it,
    # later written to): `vrrules audit migrate` gives them their leaves.
    if log.built:
        first = log.first_stored if log.first_stored is not None else log.size
        report.built = first == 0
        lacking = [i for i, stored in log.stored_differs.items() if stored is None and i >= first]
        if lacking:
            findings.append(
                log.finding("record has no leaf: it was inserted outside vrrules", min(lacking))
            )
        changed = [i for i, stored in log.stored_differs.items() if stored is not None]
        if changed:
            findings.append(
                log.finding("record changed: its stored bytes no longer hash to its leaf", min(changed))
            )
        if log.orphans:
            findings.append(
                LogFinding(
                    f"record deleted: its leaf remains at position {log.orphans[0]}",
                    position=log.orphans[0],
                )
            )
    findings.extend(_row_findings(log))
    # 2. each aggregate's versions run 1, 2, 3 … in log order
    last = array("q", [0]) * len(log.ids)
    for number, version in log.versions_before.items():
        last[number] = version
    versions, aggregates = log.versions, log.aggregates
    for index in range(log.known_from, log.size):
        number = aggregates[index]
        if versions[index] != last[number] + 1:
            findings.append(
                log.finding(
                    f"expected version {last[number] + 1} of this record next, found version "
                    f"{versions[index]}",
                    index,
                )
            )
            break
        last[number] = versions[index]
    # 3. the log extends every checkpoint: same origin, prefix hashing to its root, same heads
    # (and, with the heads kept beside a checkpoint, no case shorter than it held it)
    origin = store_origin(store.location)
    shortened_cases: list[LogFinding] = []
    for item in checkpoints:
        checkpoint, kept_leaves, kept_heads = kept_files(item)
        extends = checkpoint.size <= log.size and log.logged_hash(checkpoint.size) == checkpoint.root
        leaves, held_heads = _usable_kept_files(
            checkpoint,
            kept_leaves,
            kept_heads,
            report.notes,
            since=isinstance(log, SinceLog),
            extends=extends,
        )
        if held_heads is not None:
            shortened = _shortened_case(log, checkpoint, held_heads)
            if shortened is not None and shortened not in shortened_cases:
                shortened_cases.append(shortened)
        summary = {"size": checkpoint.size, "root": checkpoint.root.hex(), "consistent": False}
        report.checkpoints.append(summary)
        # The origin only names the log: a checkpoint written under another origin (`--origin`)
        # or before the store file was renamed still proves this log if its root does.
        # A store audited under another file name (a copy, a backup) is still named to the
        # record: the first difference follows the origin's.
        if checkpoint.origin != origin and not extends:
            findings.append(
                LogFinding(
                    f"checkpoint of another log: origin {checkpoint.origin!r}, this store's is {origin!r}, "
                    "and the store does not extend it (a copy of the store under another name is "
                    "checked all the same: see the next finding)"
                )
            )
        if not extends:
            findings.append(_first_difference(log, checkpoint, leaves))
            continue
        heads = checkpoint.case_heads
        if (
            heads is not None
            and not isinstance(log, SinceLog)  # it reads no old records: a full verify checks them
            and heads != _heads_commitment(log, checkpoint.size)
        ):
            findings.append(
                LogFinding("the checkpoint's case heads do not match the store's records up to its size")
            )
            continue
        summary["consistent"] = True
    findings.extend(sorted(shortened_cases, key=lambda f: f.leaf_index or 0))
    if findings:
        report.root = ""  # no root is vouched for a log that did not verify
    return report


def kept_files(item: KeptCheckpoint) -> tuple[Checkpoint, bytes | None, bytes | None]:
    """A kept checkpoint with the leaves and the heads kept beside it (each None: not kept)."""
    given, leaves, heads = (*item, None, None)[:3] if isinstance(item, tuple) else (item, None, None)
    return (given.checkpoint if isinstance(given, ParsedCheckpoint) else given), leaves, heads


def _heads_commitment(log: StoreLog, size: int) -> CaseHeadsCommitment | None:
    """The commitment to the case heads as of ``size``; None when a head cannot be one (a
    malformed version, a finding of its own), so that it matches no checkpoint's."""
    try:
        return log.case_heads(size).commitment
    except CaseHeadsInvalidError:
        return None


def _row_findings(log: StoreLog) -> list[LogFinding]:
    """Rows the audit could not take at face value: malformed ones, aggregates whose records
    reading by id does not reach, and (``--since``) a checkpoint whose end no longer fits."""
    found = []
    if log.malformed:
        first = min(log.malformed)
        found.append(log.finding(f"record malformed: {log.malformed[first]}", first))
    if log.unread:
        first = min(log.first_index[n] for n in log.unread)
        found.append(
            log.finding(
                "records not reached by their id: reading this record's aggregate by its stored id "
                "does not give the records the log holds for it (an id edited out of its form?)",
                first,
            )
        )
    if log.boundary_problem is not None:
        end = log.known_from - 1
        found.append(LogFinding(log.boundary_problem, end, log.positions[end]))
    return found


def _leaves_fit(kept: bytes, checkpoint: Checkpoint) -> bool:
    """Whether the leaves kept beside a checkpoint hash to its root (its first leaves do)."""
    if len(kept) % HASH_SIZE or len(kept) < checkpoint.size * HASH_SIZE:
        return False
    hasher = TreeHasher()
    hasher.extend([kept[at : at + HASH_SIZE] for at in range(0, checkpoint.size * HASH_SIZE, HASH_SIZE)])
    return hasher.root() == checkpoint.root


def _usable_kept_files(
    checkpoint: Checkpoint,
    kept_leaves: bytes | None,
    kept_heads: bytes | None,
    notes: list[str],
    *,
    since: bool,
    extends: bool,
) -> tuple[bytes | None, list[CaseHead] | None]:
    """The leaves and the heads kept beside a checkpoint where they are the checkpoint's
    (None: not kept, not read, or not its own), with a note in ``notes`` on each that is not:
    edited, or another checkpoint's, it is not used, and the auditor is told, since it was kept to name
    the exact record that differs or the case that lost its records. Each is checked once,
    where it is read: ``--since`` reads the leaves only to name a difference, and no heads."""
    where = f"the checkpoint of {checkpoint.size} records (root {checkpoint.root.hex()[:16]}…)"
    leaves = None
    if kept_leaves is not None and not (since and extends):
        if _leaves_fit(kept_leaves, checkpoint):
            leaves = kept_leaves
        else:
            notes.append(
                f"the leaves file kept beside {where} does not hash to its root, so it was not used: "
                "a difference from it is named to a span of leaves, not to the exact record; it was "
                "edited or belongs to another checkpoint (keep the file `vrrules audit checkpoint` "
                "wrote with it)"
            )
    heads = None
    if kept_heads is not None and not since and checkpoint.case_heads is not None:
        heads = _kept_heads(kept_heads, checkpoint)
        if heads is None:
            notes.append(
                f"the heads file kept beside {where} is not the one its case-heads root commits to, "
                "so it was not used: a case that lost its last records is found but not named; it "
                "was edited or belongs to another checkpoint (keep the file `vrrules audit "
                "checkpoint` wrote with it)"
            )
    return leaves, heads


def _first_difference(log: StoreLog, checkpoint: Checkpoint, kept: bytes | None) -> LogFinding:
    """``kept``: the checkpoint's own leaves, when kept beside it (the caller checked them)."""
    logged = log.logged_tree()
    common = min(log.size, checkpoint.size)
    trusted = LogTree.from_packed(kept) if kept is not None else None
    if trusted is not None:
        if logged.tree_hash(common) != trusted.tree_hash(common):
            mismatch = find_first_mismatch(logged, [(common, trusted.tree_hash(common))], trusted)
            if mismatch is not None and mismatch.index is not None:
                return log.finding(
                    "the log differs from the checkpoint from this record on: "
                    + _where_it_went(logged, trusted.leaf(mismatch.index), mismatch.index),
                    mismatch.index,
                )
    elif checkpoint.size <= log.size:
        mismatch = find_first_mismatch(logged, [(checkpoint.size, checkpoint.root)])
        start, end = (mismatch.start, mismatch.end) if mismatch is not None else (0, checkpoint.size)
        return log.finding(
            f"the log differs from the checkpoint somewhere in leaves {start}-{end - 1} (keep the leaves "
            "file beside each checkpoint to have the exact record named)",
            start,
        )
    return log.finding(
        f"log truncated or rolled back: the checkpoint holds {checkpoint.size} records, the store "
        f"{log.size}; the first missing record is leaf {log.size}",
        log.size,
    )


def _where_it_went(logged: LogTree, kept: bytes, index: int) -> str:
    """What became of the checkpoint's record at leaf ``index``, which the store no longer
    holds there: found later (records were inserted before it), earlier (records before
    it were removed), or nowhere (it was changed, or removed)."""
    packed = logged.leaf_hashes()
    at = packed.find(kept)
    while at != -1 and at % HASH_SIZE:  # only whole leaves count
        at = packed.find(kept, at + 1)
    if at == -1:
        return (
            "the checkpoint's record at this leaf is nowhere in the store: it was changed or removed "
            "(the record named is the one that stands there now)"
        )
    now = at // HASH_SIZE
    return (
        f"the checkpoint's record at this leaf is now leaf {now}: records before it were "
        + ("inserted or moved" if now > index else "removed or moved")
    )


def read_checkpoint_file(path: Path, trusted_keys: Sequence[str] = ()) -> ParsedCheckpoint:
    """A checkpoint file, refused with a coded error when it is not one."""
    try:
        with path.open("rb") as handle:  # bounded: a device or a pipe never ends
            data = handle.read(MAX_NOTE_BYTES + 1)
    except OSError as error:
        raise CheckpointMalformedError(
            "expected a checkpoint file written by `vrrules audit checkpoint`, "
            f"got {error.strerror} for {str(path)!r}"
        ) from None
    try:
        return load_checkpoint(data, trusted_keys)
    except VrrulesError:
        raise
    except ValueError as error:
        raise CheckpointMalformedError(
            f"{path}: expected a checkpoint, got unreadable text ({error})"
        ) from None


@dataclass(frozen=True)
class Migration:
    """What ``vrrules audit migrate`` did."""

    status: str  # "migrated", "already built"
    records: int
    chains_checked: int
    root: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "records": self.records,
            "chains_checked": self.chains_checked,
            "root": self.root,
        }


def check_migration(records: CaseRecords) -> Migration:
    """What :func:`migrate_log` would do, checked on a store opened read-only: ``already
    built`` or ``to migrate``; refused (``log_migration_refused``) as it would be. The
    command line checks first, so a store that is refused is never even opened for writing
    (opening for writing adds the leaves' table)."""
    checked = _checked_for_migration(records.store)
    if isinstance(checked, Migration):
        return checked
    log, _, chains = checked
    return Migration("to migrate", log.size, chains, log.tree.root().hex())


def migrate_log(records: CaseRecords, migrated_by: str = "vrrules audit migrate") -> Migration:
    """Build the log of a store written before it: check every case's old hash chain first,
    then store the leaves of the records that have none, and record in the log that it did.

    Refused, with nothing written, when a chain is broken, when the records without leaves
    are not all older than the log (someone inserted them since), or when the log's stored
    leaves do not fit their records. A store is never silently re-sealed.
    """
    store = records.store
    checked = _checked_for_migration(store)
    if isinstance(checked, Migration):
        return checked
    log, lacking, chains = checked
    store.add_leaves((log.positions[i], log.leaf(i)) for i in lacking)
    root = log.tree.root().hex()
    store.add(LogMigration(records=log.size, root=root, chains_checked=chains, migrated_by=migrated_by))
    return Migration("migrated", log.size, chains, root)


def _checked_for_migration(store: CaseStore) -> Migration | tuple[StoreLog, list[int], int]:
    """The log, the records lacking leaves and the chains checked; or, for a store whose
    log is built, what says so. Raises when the log cannot be built."""
    log = StoreLog(store)
    lacking = sorted(i for i, stored in log.stored_differs.items() if stored is None)
    if not lacking:
        return Migration("already built", log.size, 0, log.tree.root().hex())
    report = verify_log(store, log=log)
    if not report.ok:
        raise LogMigrationRefusedError(
            f"expected a store whose log can be built, got: {report.findings[0]}; nothing was written. "
            "Run `vrrules audit verify` to see every finding",
            finding=str(report.findings[0]),
        )
    checked = 0
    for stored_id, reference in case_index(store):
        check = walk_case(store, stored_id, reference)[0]
        checked += 1
        if not check.intact:
            raise LogMigrationRefusedError(
                f"expected every case's hash chain intact before the log is built over it, got case "
                f"{check.case_ref} broken at event {check.broken_at} ({check.reason}); nothing was written",
                case_ref=check.case_ref,
            )
    return log, lacking, checked
