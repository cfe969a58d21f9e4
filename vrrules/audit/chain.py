"""Each case's hash chain, walked from the stored records, and the flat store digest.

Every stored case event after the opening carries a link that commits to the previous link
and to its own type, version and payload (:func:`vrrules.events.domain.link`). Editing,
deleting, inserting or reordering a stored event breaks the chain there. The event's type
in the link is the class name in its stored topic, so a later rename of the class does not
break the chains of events stored before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.utils import get_topic

from vrrules.audit.replay import Replayer, ReplayResult
from vrrules.errors import VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.events.domain import (
    Case,
    PolicyRelease,
    VersionPublication,
    case_id,
    event_content,
    link,
    release_id,
)
from vrrules.events.store import CaseStore, StoredRecord
from vrrules.events.tlog import UNMATCHED_LEAF

__all__ = [
    "ChainCheck",
    "DigestBuilder",
    "check_chain",
    "publication_leaves",
    "record_leaf",
    "release_hashes",
    "store_digest",
    "walk_case",
]


@dataclass(frozen=True)
class ChainCheck:
    """Whether one case's stored events still form an unbroken hash chain."""

    case_ref: str
    events: int
    head: str
    broken_at: int | None = None
    reason: str | None = None
    # SHA-256 over the case's records' leaves, recomputed from the bytes as stored: what the
    # store digest commits to beside the chain's head, so that an edit whose leaf was
    # recomputed, which leaves every chain link as it was, still changes the digest
    content: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _label(stored_id: UUID, case_ref: str | None) -> str:
    return case_ref if case_ref is not None else f"<unreadable case {stored_id}>"


def walk_case(
    store: CaseStore,
    stored_id: UUID,
    label: str | None,
    replayer: Replayer | None = None,
    *,
    replay_from: int = 1,
    upto: int | None = None,
    leaves: list[tuple[int, bytes, bytes | None]] | None = None,
    stored: list[StoredRecord] | None = None,
) -> tuple[ChainCheck, list[ReplayResult]]:
    """Check one case's chain (and with a ``replayer``, replay its decisions), decoding each
    event once; ``label`` names the case, else its opening does.

    To replay, the case is rebuilt event by event as the chain is checked, so each decision
    is replayed against the case exactly as it stood when it was made, without reading it again.

    A record with a leaf in the store's Merkle log is checked against its leaf, over the bytes
    as stored; only a record written before the store had a log is checked against its chain
    link, which commits to the event as decoded today (a later optional payload field would
    break every such link: `vrrules audit migrate` builds the log over them).

    ``upto``: only the records at positions up to it (the audit's reading of the log).
    ``stored``: the case's records, when the caller read them already (up to ``upto``).
    ``leaves`` collects ``(position, leaf, stored leaf)`` for every record of the case whose recomputed
    leaf is not the one stored beside it (or that has none), all of them, however early the
    chain breaks: the audit's log check takes the case's leaves from here.
    """
    head = ""
    name = _label(stored_id, label)
    case: Case | None = None
    replays: list[ReplayResult] = []
    changed: tuple[int, str] | None = None  # a record that reads but no longer fits its leaf

    def broken(version: int, reason: str) -> tuple[ChainCheck, list[ReplayResult]]:
        # the first problem in the case is the one reported
        first_version, first_reason = changed or (version, reason)
        return ChainCheck(name, count, head, first_version, first_reason, content), []

    count = 0
    if stored is None:
        stored = store.records_of(stored_id, upto=upto)
    recomputed = [record_leaf(record) for record in stored]
    content = hashlib.sha256(b"".join(recomputed)).hexdigest()
    if leaves is not None:
        leaves.extend(
            (record.position, leaf, record.stored_leaf)
            for record, leaf in zip(stored, recomputed, strict=True)
            if leaf != record.stored_leaf
        )
    for expected_version, record in enumerate(stored, start=1):
        count += 1
        if record.version != expected_version:
            return broken(
                expected_version,
                f"expected event {expected_version} next, found event {record.version}",
            )
        try:
            event = store.decode(record)
        except Exception as error:  # a record edited into something that no longer decodes
            return broken(expected_version, f"the stored event cannot be read: {_why(error)}")
        kind = record.topic.rsplit(".", 1)[-1]
        if isinstance(event, Case.Opened) != (expected_version == 1):
            return broken(expected_version, f"{kind} out of place in the case")
        if record.stored_leaf is not None:
            expected = str(getattr(event, "chain", ""))
            if record.stored_leaf != recomputed[expected_version - 1] and changed is None:
                # the case is broken here; its decisions are still replayed, to show what changed
                changed = (
                    expected_version,
                    f"{kind} was changed: its stored bytes no longer hash to the leaf stored with it",
                )
        elif (linked := _link_or_none(head, kind, expected_version, event)) is None or getattr(
            event, "chain", None
        ) != (expected := linked):
            return broken(
                expected_version,
                f"{kind} does not match its chain link: it was changed, or an event before it was",
            )
        if expected_version == 1 and isinstance(event, Case.Opened):
            reference = getattr(getattr(event, "opening", None), "case_ref", None)
            if not isinstance(reference, str):  # decoded, but with its opening edited away
                return broken(1, f"{kind} cannot be read: it names no case")
            if case_id(reference) != stored_id:
                return broken(
                    1,
                    f"the case {reference!r} is stored under {stored_id}, "
                    f"not under its own id {case_id(reference)}",
                )
            if label is None:
                name = reference
        if replayer is not None:
            if (
                isinstance(event, Case.DecisionRecorded)
                and case is not None
                and expected_version >= replay_from
            ):
                try:
                    replays.append(
                        replayer.replay_decision(
                            case, expected_version, event.decision, then=case, decided_at=event.timestamp
                        )
                    )
                except Exception as error:  # a record that decodes but no longer makes sense
                    return broken(expected_version, f"cannot replay: {_why(error)}")
            try:
                case = event.mutate(case)
            except Exception as error:  # a record's state under another record's type
                return broken(expected_version, f"{kind} does not fit the case: {_why(error)}")
        head = expected
    if changed is not None:
        return ChainCheck(name, count, head, *changed, content), replays
    return ChainCheck(name, count, head, content=content), replays


def record_leaf(record: StoredRecord) -> bytes:
    """The record's leaf; for a row too malformed to have one, a hash no stored leaf matches."""
    try:
        return record.leaf_hash()
    except VrrulesError:
        return UNMATCHED_LEAF


def _why(error: Exception) -> str:
    return str(error) or type(error).__name__


def _link_or_none(head: str, kind: str, version: int, event: object) -> str | None:
    """The chain link the event should carry; None when its content no longer reads."""
    try:
        return link(head, kind, version, event_content(event))
    except (AttributeError, TypeError, ValueError):
        return None


def check_chain(records: CaseRecords, case_ref: str, stored_id: UUID | None = None) -> ChainCheck:
    """Recompute the chain of one case from its stored events."""
    return walk_case(records.store, stored_id or case_id(case_ref), case_ref)[0]


def case_index(store: CaseStore) -> list[tuple[UUID, str | None]]:
    """Every case's stored id and reference, in opening order (``None``: the opening no longer decodes)."""
    found: list[tuple[UUID, str | None]] = []
    for record in store.records([get_topic(Case.Opened)]):
        try:
            event = store.decode(record)
        except Exception:  # a damaged record: the audit names it by its id
            found.append((record.stored_id, None))
            continue
        found.append(
            (record.stored_id, event.opening.case_ref if isinstance(event, Case.Opened) else None)
        )
    return found


def release_hashes(store: CaseStore) -> list[str]:
    """The SHA-256 of every policy release in the store (damaged ones marked as such)."""
    hashes = []
    for record in store.records(
        [get_topic(PolicyRelease.Released), f"{Case.__module__}:PolicyRelease.Published"]
    ):
        try:
            event = store.decode(record)
        except Exception:  # a damaged release record: it still counts, as damaged
            hashes.append(f"unreadable:{record.stored_id}")
            continue
        if (
            not isinstance(event, PolicyRelease.Released)
            or release_id(event.sha256) != event.originator_id
        ):
            hashes.append(f"mismatched:{record.stored_id}")
            continue
        hashes.append(event.sha256)
    return hashes


def publication_leaves(store: CaseStore) -> list[str]:
    """Every publication record's leaf (hex), recomputed from its bytes as stored: the
    digest commits to them, so an edited or deleted publication changes it."""
    return [record_leaf(record).hex() for record in store.records([get_topic(VersionPublication.Published)])]


class DigestBuilder:
    """Hashes cases as they stream past, in the store's own (opening) order.

    A case's line holds its reference, its number of events, its chain's head and the hash
    of its records' recomputed leaves (``content``). The digest written before the leaves
    were in it (the same lines without them: ``legacy``) is made alongside, so a digest an
    auditor kept then is still recognised; it commits to the chains' heads only.
    """

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self._legacy = hashlib.sha256()
        self.legacy = ""

    @staticmethod
    def line(check: ChainCheck) -> str:
        return f"case|{check.case_ref}|{check.events}|{check.head}|{check.content}"

    def add(self, check: ChainCheck) -> None:
        self.add_line(self.line(check))

    def add_line(self, line: str) -> None:
        self._hasher.update(f"{line}\n".encode())
        self._legacy.update(f"{line.rsplit('|', 1)[0]}\n".encode())

    def finish(self, releases: list[str], publications: Sequence[str] = ()) -> str:
        """The digest, with the releases' hashes and the publications' leaves (the older
        form, ``legacy``, held the releases only)."""
        for sha in sorted(releases):
            self._hasher.update(f"release|{sha}\n".encode())
            self._legacy.update(f"release|{sha}\n".encode())
        for leaf in sorted(publications):
            self._hasher.update(f"publication|{leaf}\n".encode())
        self.legacy = self._legacy.hexdigest()
        return self._hasher.hexdigest()


def store_digest(records: CaseRecords, progress: Callable[[str], None] | None = None) -> str:
    """The digest of the whole store, to keep apart from it."""
    builder = DigestBuilder()
    for stored_id, case_ref in case_index(records.store):
        check = walk_case(records.store, stored_id, case_ref)[0]
        builder.add(check)
        if progress is not None:
            progress(check.case_ref)
    return builder.finish(release_hashes(records.store), publication_leaves(records.store))
