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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

from eventsourcing.utils import get_topic

from vrrules.audit.chain import case_index, walk_case
from vrrules.audit.checkpoint import (
    CaseHead,
    CaseHeads,
    Checkpoint,
    ParsedCheckpoint,
    SignerKey,
    format_checkpoint,
    parse_checkpoint,
    verify_checkpoint,
)
from vrrules.errors import CheckpointMalformedError, LogMigrationRefusedError, VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.events.domain import Case, LogMigration
from vrrules.events.store import CaseStore, StoredRecord
from vrrules.events.tlog import LogTree, find_first_mismatch

__all__ = [
    "KeptCheckpoint",
    "LogEntry",
    "LogFinding",
    "LogReport",
    "Migration",
    "StoreLog",
    "checkpoint_leaves",
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
    "expected version",
    "checkpoint of another log",
    "the log differs",
    "log truncated",
    "the checkpoint's case heads",
)


class StoreLog:
    """The log of one store as its rows give it (read once; nothing is written)."""

    def __init__(self, store: CaseStore, share: tuple[int, int] | None = None) -> None:
        """``share`` ``(k, n)``: recompute only the leaves whose index is ``k`` modulo ``n``
        (one host's share of ``vrrules audit verify --shard``); the others are taken as the
        writer stored them, and their own shares check them."""
        self.store = store
        stored = store.stored_leaves()
        self.entries: list[LogEntry] = []
        opened = get_topic(Case.Opened)
        for index, record in enumerate(store.records()):
            stored_leaf = stored.pop(record.position, None)
            mine = share is None or index % share[1] == share[0] or stored_leaf is None
            leaf = record.leaf_hash() if mine or stored_leaf is None else stored_leaf
            if leaf == stored_leaf:
                leaf = stored_leaf  # one bytes object for both: half the memory
            # only the openings' bytes are kept (they name the cases): the log of a large store
            # must fit in memory, its states need not
            light = record if record.topic == opened else replace(record, state=b"")
            self.entries.append(LogEntry(index, light, leaf, stored_leaf))
        self.orphans = sorted(stored)  # positions whose leaf lost its record
        self.tree = LogTree(entry.leaf for entry in self.entries)
        self._names: dict[UUID, str] | None = None

    @property
    def size(self) -> int:
        return len(self.entries)

    @property
    def built(self) -> bool:
        """Whether the writer stored any leaves (a store written before the log has none)."""
        return any(e.stored_leaf is not None for e in self.entries) or bool(self.orphans)

    def stored_tree(self) -> LogTree | None:
        """The tree of the leaves the writer stored, when every record has one."""
        if not self.built or any(e.stored_leaf is None for e in self.entries):
            return None
        return LogTree(e.stored_leaf for e in self.entries if e.stored_leaf is not None)

    def case_heads(self, size: int | None = None) -> CaseHeads:
        """Every aggregate's head as of ``size`` leaves: last version and its leaf index."""
        heads: dict[UUID, tuple[int, int]] = {}
        for entry in self.entries[: self.size if size is None else size]:
            heads[entry.record.stored_id] = (entry.record.version, entry.index)
        return CaseHeads(
            CaseHead(stored_id, version, index) for stored_id, (version, index) in heads.items()
        )

    def name(self, stored_id: UUID) -> str:
        """A readable name for an aggregate: a case's reference when its opening reads."""
        if self._names is None:
            self._names = {}
            opened = get_topic(Case.Opened)
            for entry in self.entries:
                if entry.record.topic != opened:
                    continue
                try:
                    event = self.store.decode(entry.record)
                except Exception:  # a damaged opening: named by its stored id
                    continue
                if isinstance(event, Case.Opened):
                    self._names[entry.record.stored_id] = f"case {event.opening.case_ref}"
        return self._names.get(stored_id, f"record {stored_id}")

    def finding(self, problem: str, index: int) -> LogFinding:
        if index >= self.size:
            return LogFinding(problem, leaf_index=index)
        record = self.entries[index].record
        return LogFinding(problem, index, record.position, self.name(record.stored_id), record.version)


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
        }


KeptCheckpoint = ParsedCheckpoint | Checkpoint | tuple[ParsedCheckpoint | Checkpoint, bytes | None]


def checkpoint_leaves(records: CaseRecords, *, log: StoreLog | None = None) -> bytes:
    """The log's leaf hashes as of now, packed (32 bytes each): kept beside a checkpoint, they
    let a later audit name the exact first record that differs, whatever else was rewritten.
    Give the ``log`` the checkpoint was made from, so both describe the same records."""
    return (log or StoreLog(records.store)).tree.leaf_hashes()


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
    report = LogReport(size=log.size, root=log.tree.root().hex(), built=log.built)
    findings = report.findings
    # 1. each record still hashes to the leaf stored with it; none lost its leaf or record.
    # Records older than the first stored leaf predate the log (a store written before it,
    # later written to): `vrrules audit migrate` gives them their leaves.
    if log.built:
        first = next(e.index for e in log.entries if e.stored_leaf is not None) if log.entries else 0
        report.built = first == 0
        for entry in log.entries[first:]:
            if entry.stored_leaf is None:
                findings.append(
                    log.finding("record has no leaf: it was inserted outside vrrules", entry.index)
                )
                break
        for entry in log.entries:
            if entry.stored_leaf is not None and entry.stored_leaf != entry.leaf:
                findings.append(
                    log.finding(
                        "record changed: its stored bytes no longer hash to its leaf", entry.index
                    )
                )
                break
        if log.orphans:
            findings.append(
                LogFinding(
                    f"record deleted: its leaf remains at position {log.orphans[0]}",
                    position=log.orphans[0],
                )
            )
    # 2. each aggregate's versions run 1, 2, 3 … in log order
    last: dict[UUID, int] = {}
    for entry in log.entries:
        record = entry.record
        expected = last.get(record.stored_id, 0) + 1
        if record.version != expected:
            findings.append(
                log.finding(
                    f"expected version {expected} of this record next, found version {record.version}",
                    entry.index,
                )
            )
            break
        last[record.stored_id] = record.version
    # 3. the log extends every checkpoint: same origin, prefix hashing to its root, same heads
    origin = store_origin(store.location)
    stored_tree = log.stored_tree()
    for item in checkpoints:
        given, kept = item if isinstance(item, tuple) else (item, None)
        checkpoint = given.checkpoint if isinstance(given, ParsedCheckpoint) else given
        summary = {"size": checkpoint.size, "root": checkpoint.root.hex(), "consistent": False}
        report.checkpoints.append(summary)
        extends = checkpoint.size <= log.size and log.tree.tree_hash(checkpoint.size) == checkpoint.root
        # The origin only names the log: a checkpoint written under another origin (`--origin`)
        # or before the store file was renamed still proves this log if its root does.
        if checkpoint.origin != origin and not extends:
            findings.append(
                LogFinding(
                    f"checkpoint of another log: origin {checkpoint.origin!r}, this store's is {origin!r}, "
                    "and the store does not extend it"
                )
            )
            continue
        if not extends:
            findings.append(_first_difference(log, checkpoint, kept, stored_tree))
            continue
        heads = checkpoint.case_heads
        if heads is not None and heads != log.case_heads(checkpoint.size).commitment:
            findings.append(
                LogFinding("the checkpoint's case heads do not match the store's records up to its size")
            )
            continue
        summary["consistent"] = True
    if findings:
        report.root = ""  # no root is vouched for a log that did not verify
    return report


def _trusted_copy(
    checkpoint: Checkpoint, kept: bytes | None, stored_tree: LogTree | None
) -> LogTree | None:
    """A tree of leaf hashes that reproduces the checkpoint's root: the ones kept beside it,
    else the ones the writer stored (when they still fit), else none."""
    for candidate in (LogTree.from_packed(kept) if kept is not None else None, stored_tree):
        fits = candidate is not None and candidate.size >= checkpoint.size
        if fits and candidate is not None and candidate.tree_hash(checkpoint.size) == checkpoint.root:
            return candidate
    return None


def _first_difference(
    log: StoreLog, checkpoint: Checkpoint, kept: bytes | None, stored_tree: LogTree | None
) -> LogFinding:
    trusted = _trusted_copy(checkpoint, kept, stored_tree)
    common = min(log.size, checkpoint.size)
    if trusted is not None:
        if log.tree.tree_hash(common) != trusted.tree_hash(common):
            mismatch = find_first_mismatch(log.tree, [(common, trusted.tree_hash(common))], trusted)
            if mismatch is not None and mismatch.index is not None:
                return log.finding(
                    "the log differs from the checkpoint from this record on: it was changed, or a "
                    "record before it was removed or inserted",
                    mismatch.index,
                )
    elif checkpoint.size <= log.size:
        mismatch = find_first_mismatch(log.tree, [(checkpoint.size, checkpoint.root)])
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


def read_checkpoint_file(path: Path, trusted_keys: Sequence[str] = ()) -> ParsedCheckpoint:
    """A checkpoint file, refused with a coded error when it is not one."""
    try:
        data = path.read_bytes()
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


def migrate_log(records: CaseRecords, migrated_by: str = "vrrules audit migrate") -> Migration:
    """Build the log of a store written before it: check every case's old hash chain first,
    then store the leaves of the records that have none, and record in the log that it did.

    Refused, with nothing written, when a chain is broken, when the records without leaves
    are not all older than the log (someone inserted them since), or when the log's stored
    leaves do not fit their records. A store is never silently re-sealed.
    """
    store = records.store
    log = StoreLog(store)
    lacking = [e for e in log.entries if e.stored_leaf is None]
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
    store.add_leaves((e.record.position, e.leaf) for e in lacking)
    root = log.tree.root().hex()
    store.add(LogMigration(records=log.size, root=root, chains_checked=checked, migrated_by=migrated_by))
    return Migration("migrated", log.size, checked, root)
