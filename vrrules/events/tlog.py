"""The Merkle tree log over a store's records: RFC 9162 hashing, tree heads and proofs.

Pure and storage-independent: this module knows nothing of SQLite, PostgreSQL or
eventsourcing. The store writes each record's :func:`leaf_hash` in the same transaction
as the record; the auditor recomputes the leaf hashes from the stored bytes, builds a
:class:`LogTree` and checks it against a small trusted checkpoint (``checkpoint.py``).

Hashing (RFC 9162 §2.1.1)
    ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``,
    and the hash of the empty tree is ``SHA-256()`` (:data:`EMPTY_ROOT`). The tree hash of
    ``n`` leaves splits at the largest power of two ``k < n``: the left part is always a
    full (perfect) subtree. These are the same hashes as RFC 6962, Certificate
    Transparency, Trillian and Go's checksum database (``golang.org/x/mod/sumdb/tlog``).

Records (:func:`record_bytes`)
    A leaf is the hash of an unambiguous encoding of one stored record: a kind and format
    tag (``b"R\\x01"``), the stored id (16 bytes), the version (8 bytes, big-endian), the
    topic (4-byte length, UTF-8) and the state exactly as stored (8-byte length, then the
    bytes; ciphertext for an encrypted store, so the log is checked without the key).
    Every field has a fixed width or a length prefix, so two different records never share
    bytes (:func:`parse_record_bytes` inverts it, and the tests check the round trip).

Trees (:class:`LogTree`)
    Appending keeps a compact frontier (one hash per set bit of the size, as in a compact
    range), so appends cost amortised two hashes and the current root is at most 64 more.
    For proofs and old roots, the tree keeps every leaf hash in one ``bytearray``
    (32 bytes a leaf) and, like the "tiles" of Go's sumdb, the hash of every full subtree
    whose height is a multiple of :data:`TILE_HEIGHT` (4). Any full subtree's hash is then at
    most 15 hashing steps away, and the memory for 1,000,000 leaves is about 34 MB.

Proofs (RFC 9162 §2.1.3 and §2.1.4)
    :meth:`LogTree.inclusion_proof` and :meth:`LogTree.consistency_proof` follow the
    recursive definitions of §2.1.3.1 and §2.1.4.1 word for word; :func:`verify_inclusion`
    and :func:`verify_consistency` are the verification algorithms of §2.1.3.2 and
    §2.1.4.2. Their contract, decided here:

    * they return ``True`` when the proof proves the statement and ``False`` when it is a
      well-formed proof that does not (a wrong hash, root or leaf);
    * they raise :class:`~vrrules.errors.LogProofMalformedError` (code
      ``log_proof_malformed``) when the arguments cannot be a proof at all: a negative
      size, ``index >= size``, ``old_size > new_size``, a hash that is not 32 bytes, or a
      proof with more or fewer hashes than RFC 9162 prescribes for those sizes.

    Both outcomes mean "not proven"; the split only lets a report say *why*. Edge cases:
    the empty tree has no inclusion proofs; a consistency proof from size 0, or between
    equal sizes, is empty, and then the roots must be the empty root or equal (this module
    insists that a size-0 root is :data:`EMPTY_ROOT`, where some libraries ignore it).

Finding the first leaf that does not fit (:func:`find_first_mismatch`)
    A root commits to every leaf but cannot by itself say *which* leaf changed. The helper
    narrows it down as far as the evidence allows: with several trusted tree heads, to the
    leaves between the last head that still fits and the first that does not; with a
    second tree built from the leaf hashes the writer stored (which is trusted only if it
    reproduces the trusted root), to the exact leaf, by descending into the first subtree
    whose hashes differ (O(log n) subtree hashes). See its docstring for the limits.

Library
    pymerkle 7.0 computes RFC 9162-style trees and proofs, but its storage is its own (an
    in-memory list or its own SQLite file through ``BaseMerkleTree``), so a leaf could not
    be committed in the store's own transaction, and its proofs are its own serialised
    objects rather than the RFC's plain audit paths. The algorithms are short, so they are
    written here from the RFC, tested against the RFC 6962 reference vectors
    (Certificate Transparency's ``merkle_tree_test``, as kept in
    ``transparency-dev/merkle``) and cross-checked against pymerkle's roots in the tests.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from vrrules.errors import (
    LogHashInvalidError,
    LogProofMalformedError,
    LogRecordInvalidError,
    LogSizeError,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "RECORD_FORMAT",
    "TILE_HEIGHT",
    "UNMATCHED_LEAF",
    "LogTree",
    "Mismatch",
    "TreeHasher",
    "consistency_proof_size",
    "find_first_mismatch",
    "inclusion_proof_size",
    "leaf_hash",
    "node_hash",
    "parse_record_bytes",
    "record_bytes",
    "record_leaf_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in every hash of the log (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The tree hash of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1)."""

UNMATCHED_LEAF = hashlib.sha256(b"vrrules: a malformed record, no leaf fits it").digest()
"""The leaf an audit gives a row too malformed to encode: no stored leaf is ever this."""

RECORD_FORMAT = b"R\x01"
"""The kind (``R``, a stored record) and format version (1) that open every record encoding."""

TILE_HEIGHT = 4
"""Full subtrees whose height is a multiple of this are kept; others are recomputed."""

_MAX_UINT64 = 2**64 - 1
_MAX_TOPIC = 2**32 - 1
_sha256 = hashlib.sha256
_LEAF_PREFIX = hashlib.sha256(b"\x00")
_RECORD_HEADER = struct.Struct(">2s16sQI")  # tag, id, version, topic length


def leaf_hash(record: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 || record)`` (RFC 9162 §2.1.1)."""
    hasher = _LEAF_PREFIX.copy()  # saves copying the record behind a prefix byte
    hasher.update(record)
    return hasher.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return _sha256(b"\x01" + left + right).digest()


# --- record encoding -------------------------------------------------------------------


def record_bytes(stored_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The unambiguous bytes of one stored record, which its leaf hashes.

    ``R\\x01 || id (16) || version (u64 BE) || len(topic) (u32 BE) || topic (UTF-8)
    || len(state) (u64 BE) || state``. ``state`` is taken exactly as stored.
    """
    if (
        type(stored_id) is UUID
        and type(version) is int
        and 0 <= version <= _MAX_UINT64
        and type(topic) is str
        and type(state) is bytes
        and topic.isascii()  # the common case: then encoding cannot fail and the length is known
        and len(topic) <= _MAX_TOPIC
    ):
        head = _RECORD_HEADER.pack(RECORD_FORMAT, stored_id.bytes, version, len(topic))
        return b"".join((head, topic.encode("ascii"), len(state).to_bytes(8, "big"), state))
    return _record_bytes_checked(stored_id, version, topic, state)


def record_leaf_hash(stored_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The leaf hash of one stored record: ``leaf_hash(record_bytes(...))``."""
    return leaf_hash(record_bytes(stored_id, version, topic, state))


def _record_bytes_checked(stored_id: object, version: object, topic: object, state: object) -> bytes:
    if not isinstance(stored_id, UUID):
        raise LogRecordInvalidError(
            f"record id: expected a UUID, got {type(stored_id).__name__} {stored_id!r}. "
            "Pass the stored originator id as a uuid.UUID.",
            field="stored_id",
            value=stored_id,
        )
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= _MAX_UINT64:
        raise LogRecordInvalidError(
            f"record {stored_id}: expected a version from 0 to 2**64-1, got {version!r}. "
            "Pass the stored originator version as an int.",
            field="version",
            value=version,
            stored_id=stored_id,
        )
    if not isinstance(topic, str):
        raise LogRecordInvalidError(
            f"record {stored_id} v{version}: expected the topic as a str, got "
            f"{type(topic).__name__}. Pass the stored topic text.",
            field="topic",
            value=topic,
            stored_id=stored_id,
        )
    try:
        topic_bytes = topic.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LogRecordInvalidError(
            f"record {stored_id} v{version}: the topic {topic!r} is not encodable as UTF-8 "
            f"({exc.reason}). Topics are text; check the stored row.",
            field="topic",
            value=topic,
            stored_id=stored_id,
        ) from None
    if len(topic_bytes) > _MAX_TOPIC:
        raise LogRecordInvalidError(
            f"record {stored_id} v{version}: the topic is {len(topic_bytes)} bytes, more than 2**32-1.",
            field="topic",
            stored_id=stored_id,
        )
    if not isinstance(state, bytes | bytearray | memoryview):
        raise LogRecordInvalidError(
            f"record {stored_id} v{version}: expected the state as the stored bytes, got "
            f"{type(state).__name__}. Pass the state column exactly as stored, not a decoded value.",
            field="state",
            stored_id=stored_id,
        )
    state = bytes(state)
    return b"".join(
        (
            RECORD_FORMAT,
            stored_id.bytes,
            version.to_bytes(8, "big"),
            len(topic_bytes).to_bytes(4, "big"),
            topic_bytes,
            len(state).to_bytes(8, "big"),
            state,
        )
    )


def parse_record_bytes(data: bytes) -> tuple[UUID, int, str, bytes]:
    """The (stored id, version, topic, state) that :func:`record_bytes` encoded; strict."""

    def refuse(problem: str) -> LogRecordInvalidError:
        return LogRecordInvalidError(
            f"record encoding: {problem} ({len(data)} bytes given). Expected the bytes "
            "record_bytes() makes: R\\x01, id, version, topic and state, each length-prefixed.",
            field="encoding",
        )

    data = bytes(data)
    if data[:2] != RECORD_FORMAT:
        raise refuse(f"expected the tag {RECORD_FORMAT!r}, got {data[:2]!r}")
    if len(data) < 2 + 16 + 8 + 4:
        raise refuse("too short for the fixed fields")
    stored_id = UUID(bytes=data[2:18])
    version = int.from_bytes(data[18:26], "big")
    topic_len = int.from_bytes(data[26:30], "big")
    end_topic = 30 + topic_len
    if len(data) < end_topic + 8:
        raise refuse(f"the topic length {topic_len} runs past the end")
    try:
        topic = data[30:end_topic].decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("the topic is not UTF-8") from None
    state_len = int.from_bytes(data[end_topic : end_topic + 8], "big")
    if len(data) != end_topic + 8 + state_len:
        raise refuse(f"the state length {state_len} does not match the bytes that follow")
    return stored_id, version, topic, data[end_topic + 8 :]


# --- helpers ---------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray | memoryview) else None
        got = f"{size} bytes" if size is not None else type(value).__name__
        raise LogHashInvalidError(
            f"{what}: expected a {HASH_SIZE}-byte SHA-256 hash, got {got}. "
            "Pass the raw digest (bytes), not hex or base64 text.",
            what=what,
            value=value,
        )
    return bytes(value)


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LogProofMalformedError(
            f"{what}: expected a tree size or index (an int >= 0), got {value!r}.",
            what=what,
            value=value,
        )
    return value


def inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes RFC 9162 §2.1.3.1 puts in the inclusion proof of ``index`` in ``size``."""
    _check_size(index, "leaf index")
    _check_size(size, "tree size")
    if index >= size:
        raise LogProofMalformedError(
            f"inclusion proof: the leaf index {index} is not below the tree size {size}; "
            "a tree of n leaves holds leaves 0..n-1.",
            index=index,
            size=size,
        )
    # The path climbs one level per bit of the last index, except where the leaf's
    # ancestor is the last node of its level with no sibling (the "fn == sn" shortcut).
    length = 0
    fn, sn = index, size - 1
    while sn:
        if fn & 1 or fn != sn:
            length += 1
        fn >>= 1
        sn >>= 1
    return length


def consistency_proof_size(old_size: int, new_size: int) -> int:
    """How many hashes RFC 9162 §2.1.4.1 puts in the consistency proof of ``old_size`` to ``new_size``."""
    _check_size(old_size, "old tree size")
    _check_size(new_size, "new tree size")
    if old_size > new_size:
        raise LogProofMalformedError(
            f"consistency proof: the old size {old_size} is larger than the new size {new_size}; "
            "a log only grows, so give the earlier checkpoint first.",
            old_size=old_size,
            new_size=new_size,
        )
    if old_size in (0, new_size):
        return 0
    length = 0
    m, n, start_full = old_size, new_size, True
    while m != n:
        k = _split(n)
        length += 1
        if m <= k:
            n = k
        else:
            m, n, start_full = m - k, n - k, False
    return length + (0 if start_full else 1)


# --- the tree --------------------------------------------------------------------------


class TreeHasher:
    """The tree hash of a growing sequence of leaf hashes, in O(log n) memory: the compact
    range of the leaves so far (one hash per full subtree the size splits into), as a log
    monitor keeps it. :meth:`root` is ``MTH`` of the leaves appended so far; nothing else of
    them is kept (use :class:`LogTree` for proofs)."""

    __slots__ = ("_frontier", "size")

    def __init__(self) -> None:
        self._frontier: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (32 bytes, not checked: the caller's own hashes)."""
        frontier = self._frontier
        node = leaf
        i = self.size
        while i & 1:
            node = _sha256(b"\x01" + frontier.pop() + node).digest()
            i >>= 1
        frontier.append(node)
        self.size += 1

    def extend(self, leaves: list[bytes]) -> None:
        """Add many leaf hashes: the same as appending each, in a third of the time. Each run
        of leaves that fills a whole subtree the size is aligned to is hashed level by level
        (one pass of C-level hashing per level) and joins the compact range as its root."""
        start, count = 0, len(leaves)
        while start < count:
            size = self.size
            # the largest whole subtree that can start here: aligned to the size, within the rest
            width = (size & -size) if size else 1 << (count - start).bit_length()
            while width > count - start:
                width >>= 1
            level = leaves[start : start + width]
            while len(level) > 1:
                level = [
                    _sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
                ]
            node, height = level[0], width.bit_length() - 1
            frontier, i = self._frontier, size >> height
            while i & 1:
                node = _sha256(b"\x01" + frontier.pop() + node).digest()
                i >>= 1
            frontier.append(node)
            self.size = size + width
            start += width

    def root(self) -> bytes:
        """The tree hash of the leaves appended so far (:data:`EMPTY_ROOT` for none)."""
        if not self._frontier:
            return EMPTY_ROOT
        node = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            node = _sha256(b"\x01" + left + node).digest()
        return node


class LogTree:
    """An append-only RFC 9162 Merkle tree over a sequence of leaf hashes.

    ``LogTree(hashes)`` starts from leaf hashes already computed (for instance the ones the
    store kept); :meth:`from_records` hashes record bytes. Leaves are addressed by index
    from 0; sizes count leaves. Nothing is ever removed or changed.
    """

    __slots__ = ("_frontier", "_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._size = 0
        # _levels[j] holds the hashes of the full subtrees of height j * TILE_HEIGHT,
        # left to right, packed 32 bytes each; _levels[0] holds the leaf hashes.
        self._levels: list[bytearray] = [bytearray()]
        # The roots of the full subtrees the current size splits into, largest first.
        self._frontier: list[bytes] = []
        self.extend(leaf_hashes)

    @classmethod
    def from_records(cls, records: Iterable[bytes]) -> LogTree:
        """A tree whose leaves are the :func:`leaf_hash` of each record, in order."""
        return cls(leaf_hash(record) for record in records)

    @classmethod
    def from_packed(cls, packed: bytes | bytearray, *, copy: bool = True) -> LogTree:
        """A tree from leaf hashes packed back to back (32 bytes each), as a store may keep them
        (with ``copy=False`` a ``bytearray`` given becomes the tree's own: one copy in memory)."""
        if len(packed) % HASH_SIZE:
            raise LogHashInvalidError(
                f"packed leaf hashes: expected a multiple of {HASH_SIZE} bytes, got {len(packed)}.",
                what="packed leaf hashes",
            )
        tree = cls()
        tree._levels[0] = packed if not copy and isinstance(packed, bytearray) else bytearray(packed)
        tree._build_from_leaves()
        return tree

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"LogTree(size={self._size}, root={self.root().hex()[:16]}…)"

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def append(self, leaf: bytes) -> int:
        """Add one leaf hash at the end; returns its index."""
        leaf = _check_hash(leaf, f"leaf hash {self._size}")
        index = self._size
        self._append(leaf)
        return index

    def append_record(self, record: bytes) -> int:
        """Hash ``record`` as a leaf and add it at the end; returns its index."""
        return self.append(leaf_hash(record))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes at the end, in order."""
        if self._size == 0:  # a fresh tree: add the leaves, then hash level by level (faster)
            leaves = self._levels[0]
            try:
                for given in leaf_hashes:
                    if type(given) is bytes and len(given) == HASH_SIZE:
                        leaves += given
                    else:
                        leaves += _check_hash(given, f"leaf hash {len(leaves) // HASH_SIZE}")
            finally:  # a refused leaf leaves the tree holding the leaves before it
                self._build_from_leaves()
            return
        append = self._append
        for given in leaf_hashes:
            if type(given) is bytes and len(given) == HASH_SIZE:
                append(given)
            else:
                append(_check_hash(given, f"leaf hash {self._size}"))

    def _append(self, leaf: bytes) -> None:
        levels = self._levels
        frontier = self._frontier
        levels[0] += leaf
        i = self._size
        node = leaf
        height = 0
        while i & 1:
            node = _sha256(b"\x01" + frontier.pop() + node).digest()
            height += 1
            if height % TILE_HEIGHT == 0:
                level = height // TILE_HEIGHT
                if level == len(levels):
                    levels.append(bytearray())
                levels[level] += node
            i >>= 1
        frontier.append(node)
        self._size += 1

    def _build_from_leaves(self) -> None:
        """Compute the frontier and the kept subtrees of a fresh tree from its leaf hashes."""
        packed = self._levels[0]
        count = len(packed) // HASH_SIZE
        self._size = count
        del self._levels[1:]
        tops: list[bytes] = []  # the frontier, smallest subtree first
        level = packed
        width = count
        height = 0
        # each level packed in one bytearray (half the one below): a million leaves need
        # 16 MB more at the widest, not a list of a million small bytes objects
        while width:
            if width & 1:
                tops.append(bytes(level[(width - 1) * HASH_SIZE : width * HASH_SIZE]))
            if height and height % TILE_HEIGHT == 0:
                self._levels.append(bytearray(level[: width * HASH_SIZE]))
            above = bytearray()
            view = memoryview(level)
            for i in range(0, (width // 2) * 2 * HASH_SIZE, 2 * HASH_SIZE):
                above += _sha256(b"\x01" + view[i : i + 2 * HASH_SIZE]).digest()
            view.release()
            level = above
            width //= 2
            height += 1
        tops.reverse()
        self._frontier = tops

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self._size:
            raise LogSizeError(
                f"leaf {index!r}: the log holds leaves 0 to {self._size - 1}. "
                "Ask for an index below its size.",
                index=index,
                log_size=self._size,
            )
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def leaf_hashes(self) -> bytes:
        """Every leaf hash, packed back to back (32 bytes each)."""
        return bytes(self._levels[0])

    def root(self) -> bytes:
        """The tree hash of every leaf so far (:data:`EMPTY_ROOT` for no leaves)."""
        if not self._frontier:
            return EMPTY_ROOT
        frontier = self._frontier
        node = frontier[-1]
        for left in reversed(frontier[:-1]):
            node = _sha256(b"\x01" + left + node).digest()
        return node

    def tree_hash(self, size: int | None = None) -> bytes:
        """The tree hash ``MTH(D[0:size])`` of the first ``size`` leaves (default: all)."""
        if size is None or size == self._size:
            return self.root()
        self._check_within(size, "tree size")
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves (RFC 9162 §2.1.3.1)."""
        size = self._size if size is None else size
        self._check_within(size, "tree size")
        inclusion_proof_size(index, size)  # refuses index >= size and bad types
        path: list[bytes] = []
        start, end, m = 0, size, index
        # PATH(m, D[start:end]); collected top-down, so reversed at the end.
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start, m = start + k, m - k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of ``new_size`` leaves extends that of ``old_size`` (RFC 9162 §2.1.4.1)."""
        new_size = self._size if new_size is None else new_size
        self._check_within(new_size, "new tree size")
        consistency_proof_size(old_size, new_size)  # refuses old > new and bad types
        if old_size in (0, new_size):
            return []
        path: list[bytes] = []
        start, end, m, whole = 0, new_size, old_size, True
        # SUBPROOF(m, D[start:end], whole), collected top-down.
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            path.append(self._range_hash(start, end))
        path.reverse()
        return path

    # -- internals --

    def _check_within(self, size: object, what: str) -> None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise LogProofMalformedError(f"{what}: expected an int, got {size!r}.", what=what, value=size)
        if size > self._size:
            raise LogSizeError(
                f"{what} {size}: the log holds only {self._size} leaves. Ask for a size the log "
                "has reached; a checkpoint larger than the log means the log was truncated or rolled back.",
                size=size,
                log_size=self._size,
            )
        if size < 0:
            raise LogProofMalformedError(f"{what}: expected a size >= 0, got {size}.", what=what, value=size)

    def _full_hash(self, height: int, index: int) -> bytes:
        """The hash of full subtree ``index`` (0-based, left to right) of ``2**height`` leaves."""
        base = height - height % TILE_HEIGHT
        stored = self._levels[base // TILE_HEIGHT]
        width = 1 << (height - base)
        first = index * width * HASH_SIZE
        if width == 1:
            return bytes(stored[first : first + HASH_SIZE])
        nodes = [bytes(stored[p : p + HASH_SIZE]) for p in range(first, first + width * HASH_SIZE, HASH_SIZE)]
        while len(nodes) > 1:
            nodes = [_sha256(b"\x01" + nodes[j] + nodes[j + 1]).digest() for j in range(0, len(nodes), 2)]
        return nodes[0]

    def _range_hash(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for ``start`` aligned as RFC 9162's recursion makes it."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            height = n.bit_length() - 1
            return self._full_hash(height, start >> height)
        # Split into full subtrees left to right (the bits of n), then fold from the right.
        parts: list[bytes] = []
        pos = start
        while pos < end:
            k = 1 << ((end - pos).bit_length() - 1)
            height = k.bit_length() - 1
            parts.append(self._full_hash(height, pos >> height))
            pos += k
        node = parts[-1]
        for left in reversed(parts[:-1]):
            node = _sha256(b"\x01" + left + node).digest()
        return node


# --- verifiers ------------------------------------------------------------------------


def _check_proof(proof: object, expected: int, what: str) -> list[bytes]:
    if not isinstance(proof, Sequence) or isinstance(proof, bytes | bytearray | str):
        raise LogProofMalformedError(
            f"{what}: expected a list of {HASH_SIZE}-byte hashes, got {type(proof).__name__}.",
            what=what,
        )
    if len(proof) != expected:
        raise LogProofMalformedError(
            f"{what}: expected {expected} hashes for these sizes (RFC 9162), got {len(proof)}. "
            "The proof was made for other sizes, or hashes were added or dropped.",
            what=what,
            expected=expected,
            got=len(proof),
        )
    return [_check_hash(p, f"{what} hash {i}") for i, p in enumerate(proof)]


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root ``proof`` leads to from ``leaf`` at ``index`` of ``size`` (RFC 9162 §2.1.3.2, steps 1-4)."""
    expected = inclusion_proof_size(index, size)
    leaf = _check_hash(leaf, "leaf hash")
    path = _check_proof(proof, expected, "inclusion proof")
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:  # cannot happen after the length check; kept as the RFC writes it
            raise LogProofMalformedError("inclusion proof: more hashes than levels.", what="inclusion proof")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # idem: the length check makes the path reach the root
        raise LogProofMalformedError("inclusion proof: fewer hashes than levels.", what="inclusion proof")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` proves that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2. False for a well-formed proof that does not fit; raises
    :class:`~vrrules.errors.LogProofMalformedError` for one that cannot be a proof (see the module doc).
    """
    root = _check_hash(root, "root hash")
    return root_from_inclusion_proof(leaf, index, size, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` proves that tree ``new_root`` of ``new_size`` extends ``old_root`` of ``old_size``.

    RFC 9162 §2.1.4.2, with its preconditions made explicit: from size 0 the proof is empty
    and ``old_root`` must be :data:`EMPTY_ROOT`; between equal sizes it is empty and the
    roots must be equal. False for a well-formed proof that does not fit; raises
    :class:`~vrrules.errors.LogProofMalformedError` for one that cannot be a proof.
    """
    expected = consistency_proof_size(old_size, new_size)
    old_root = _check_hash(old_root, "old root hash")
    new_root = _check_hash(new_root, "new root hash")
    path = _check_proof(proof, expected, "consistency proof")
    if old_size == 0:
        return old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return old_root == new_root
    # Step 2: when the old tree is a full subtree of the new one, its root starts the path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root  # step 7


# --- locating the first bad leaf --------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """Where the first leaf that does not fit a trusted tree head lies: in ``[start, end)``.

    ``reason`` is ``"changed"`` (a leaf differs from what a trusted head committed to),
    ``"missing"`` (the log is shorter than a trusted head: truncated or rolled back; ``start``
    is the first missing leaf) or ``"unlocated"`` (a leaf in the range differs, and no
    trusted copy of the leaf hashes was at hand to say which).
    """

    start: int
    end: int
    reason: str

    @property
    def index(self) -> int | None:
        """The first bad leaf's index when it is known exactly, else None."""
        return self.start if self.end == self.start + 1 or self.reason == "missing" else None


def find_first_mismatch(
    tree: LogTree,
    trusted: Sequence[tuple[int, bytes]],
    stored: LogTree | None = None,
) -> Mismatch | None:
    """The first leaf of ``tree`` (recomputed from the stored records) that does not fit a trusted head.

    ``trusted`` holds trusted tree heads ``(size, root)``, such as kept checkpoints;
    ``stored`` optionally holds the leaf hashes the writer stored beside the records.
    Returns None when every trusted head is reproduced by ``tree``.

    How far it can narrow the search, and its limits:

    * With heads alone, the first bad leaf lies after the largest trusted size that still
      fits and before the smallest one that does not (``reason="unlocated"``, exact only
      when those sizes are one apart). More checkpoints kept means narrower ranges.
    * If ``tree`` is shorter than a trusted size that all smaller heads fit, the first
      missing leaf is named (``reason="missing"``).
    * With ``stored``, and only if ``stored`` reproduces the failing head's root (so its
      leaf hashes are what the head committed to), the exact leaf is found by descending
      into the leftmost subtree whose hashes differ (``reason="changed"``). If ``stored``
      does not reproduce the root, the stored hashes were altered too and are not used.
    * A head is trusted as given: this function does not check signatures or consistency
      between heads; do that first (``checkpoint.py``, :func:`verify_consistency`).
    """
    heads = sorted(
        {(_check_size(s, "trusted size"), _check_hash(r, f"trusted root at {s}")) for s, r in trusted}
    )
    for (size_a, _), (size_b, _) in itertools.pairwise(heads):
        if size_a == size_b:
            raise LogProofMalformedError(
                f"trusted heads: two different roots for size {size_a}. A log that signed both showed two "
                "views of itself; keep both checkpoints as evidence and trust neither.",
                size=size_a,
            )
    if heads and heads[0][0] == 0 and heads[0][1] != EMPTY_ROOT:
        raise LogProofMalformedError(
            "trusted heads: a head of size 0 whose root is not the empty tree's hash cannot be genuine.",
            size=0,
        )
    previous = 0
    for size, root in heads:
        if size > tree.size:
            # Every smaller head fits: the log stops short of one it once reached.
            return Mismatch(tree.size, size, "missing")
        if tree.tree_hash(size) == root:
            previous = size
            continue
        if stored is not None and stored.size >= size and stored.tree_hash(size) == root:
            index = _first_difference(tree, stored, 0, size)
            if index is not None:
                return Mismatch(index, index + 1, "changed")
        if size == previous + 1:
            return Mismatch(previous, size, "changed")
        return Mismatch(previous, size, "unlocated")
    return None


def _first_difference(a: LogTree, b: LogTree, start: int, end: int) -> int | None:
    """The first leaf index in ``[start, end)`` where ``a`` and ``b`` differ, by descending the tree."""
    while end - start > 1:
        if a._range_hash(start, end) == b._range_hash(start, end):
            return None
        k = _split(end - start)
        if a._range_hash(start, start + k) != b._range_hash(start, start + k):
            end = start + k
        else:
            start += k
    return start if a.leaf(start) != b.leaf(start) else None
