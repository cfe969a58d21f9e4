"""Audit bundles: some cases exported exactly as stored, anchored to a checkpoint.

A bundle is one JSON document. It carries a checkpoint of the store, every record of the
cases it holds (and of the policy releases their decisions used) with its leaf index and its
RFC 9162 inclusion proof against that checkpoint's root, and for each case the proof that its
head (last version, leaf of its last record) is in the checkpoint's case-heads tree. So a
record that is not in the log, a case missing its last records, a phantom case, a forged or
resealed bundle all fail against a checkpoint the auditor trusts (the one they kept, or any
signed by a key they trust). Checked with no trusted anchor, a bundle can only be
"internally consistent, not anchored", which is never reported as verified.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from vrrules.audit.checkpoint import (
    CaseHead,
    CaseHeadProof,
    Checkpoint,
    ParsedCheckpoint,
    parse_checkpoint,
    verify_case_head,
    verify_checkpoint,
)
from vrrules.audit.log import StoreLog, make_checkpoint
from vrrules.audit.verify import AuditReport, verify_store
from vrrules.errors import CaseUnknownError, VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.events.domain import case_id, release_id
from vrrules.events.store import StoredRecord, is_plain_state
from vrrules.events.tlog import verify_inclusion

__all__ = ["BUNDLE_FORMAT", "BundleCheck", "export_bundle", "verify_bundle"]

BUNDLE_FORMAT = "vrrules-audit-bundle/2"
_MAX_BUNDLE = 512 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def export_bundle(records: CaseRecords, case_refs: list[str], checkpoint: str | None = None) -> bytes:
    """A bundle of some cases, anchored to ``checkpoint`` (text of one kept earlier, which the
    store must still extend) or, without one, to a checkpoint of the store as it is now."""
    log = StoreLog(records.store)
    text = checkpoint or make_checkpoint(records, log=log)
    head = parse_checkpoint(text).checkpoint
    if head.size > log.size or log.tree.tree_hash(head.size) != head.root:
        raise CaseUnknownError(
            f"expected a checkpoint this store extends, got one of size {head.size} the store does not "
            "match (run `vrrules audit verify --checkpoint` on it)"
        )
    heads = log.case_heads(head.size)
    wanted: dict[UUID, str] = {}
    for ref in case_refs:
        case = records.case(ref)  # an unknown case is refused before anything is written
        wanted[case_id(ref)] = ref
        for _, decision in case.decisions:
            wanted.setdefault(release_id(decision.spec_sha256), f"release {decision.spec_sha256}")
    indices = log.indices_of(wanted, head.size)
    entries = [log.record(index) for index in indices]
    present = {record.stored_id for record in entries}
    # the log keeps no states: read the wanted records' bytes, as stored
    states = {
        (r.stored_id, r.version): r.state
        for stored_id in present
        for r in records.store.records_of(stored_id)
    }
    missing = [name for stored_id, name in wanted.items() if stored_id not in present]
    if missing:
        raise CaseUnknownError(
            f"expected {missing} within the checkpoint's {head.size} records, got none of it"
        )
    body = {
        "format": BUNDLE_FORMAT,
        "checkpoint": text,
        "records": [
            {
                "leaf_index": index,
                "stored_id": str(record.stored_id),
                "version": record.version,
                "topic": record.topic,
                "state": _b64(states[record.stored_id, record.version]),
                "proof": [_b64(h) for h in log.tree.inclusion_proof(index, head.size)],
            }
            for index, record in zip(indices, entries, strict=True)
        ],
        "heads": [_head_data(heads.proof(stored_id), name) for stored_id, name in wanted.items()],
    }
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _head_data(proof: CaseHeadProof, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "stored_id": str(proof.head.stored_id),
        "last_version": proof.head.last_version,
        "leaf_index": proof.head.leaf_index,
        "index": proof.index,
        "size": proof.size,
        "path": [_b64(h) for h in proof.path],
    }


@dataclass
class BundleCheck:
    """What checking a bundle found."""

    report: AuditReport = field(default_factory=AuditReport)
    problems: list[str] = field(default_factory=list)
    anchored: bool = False
    checkpoint: Checkpoint | None = None

    @property
    def verified(self) -> bool:
        return self.anchored and not self.problems and self.report.ok and self.report.replayed

    @property
    def verdict(self) -> str:
        if self.problems or not self.report.ok:
            return "NOT verified"
        if not self.report.replayed:
            return (
                "records included and cases complete"
                + (" against the trusted checkpoint" if self.anchored else " (not anchored)")
                + "; decisions NOT replayed: the records are encrypted and no key was given (give "
                "the store's key to replay them)"
            )
        if not self.anchored:
            return "internally consistent, not anchored (give --checkpoint or --public-key)"
        return "verified against the trusted checkpoint"

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "anchored": self.anchored,
            "verdict": self.verdict,
            "problems": self.problems,
            "report": self.report.as_dict(),
        }


def _brief(error: Exception) -> str:
    """An error's words, without the whole record a driver's message may quote."""
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _decode(raw: bytes) -> dict[str, Any]:
    if len(raw) > _MAX_BUNDLE:
        raise ValueError(f"expected a bundle of at most {_MAX_BUNDLE} bytes, got {len(raw)}")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("expected a bundle as exported, got JSON nested too deep") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise ValueError(
            f"expected one JSON document of format {BUNDLE_FORMAT!r}, as `vrrules audit bundle` writes"
        )
    return data


_JSON_KINDS = {
    type(None): "null",
    bool: "true or false",
    int: "a number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "an object",
}


def _kind(value: Any) -> str:
    """What a JSON value is, in JSON's words."""
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _field(item: Any, where: str, name: str, kind: type) -> Any:
    """One field of a bundle's entry, of exactly the JSON type the exporter writes."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object, got {_kind(item)}")
    if name not in item:
        raise ValueError(f"{where}: expected the field {name!r}, got none")
    value = item[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{where}.{name}: expected a whole number from 0, got {str(value)[:60]!r}")
    if kind is not int and not isinstance(value, kind):
        raise ValueError(f"{where}.{name}: expected {_JSON_KINDS[kind]}, got {_kind(value)}")
    return value


def _base64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected base64 text, got {_kind(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError(f"{where}: expected base64 text, got {value[:40]!r}") from None


def _id(value: Any, where: str) -> UUID:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a stored id, got {_kind(value)}")
    try:
        return UUID(value)
    except ValueError:
        raise ValueError(f"{where}: expected a stored id, got {value[:40]!r}") from None


def _hashes(item: Any, where: str, name: str) -> list[bytes]:
    return [_base64(h, f"{where}.{name}[{n}]") for n, h in enumerate(_field(item, where, name, list))]


def _record(item: Any, where: str = "records[?]") -> tuple[int, StoredRecord, list[bytes]]:
    return (
        _field(item, where, "leaf_index", int),
        StoredRecord(
            0,
            _id(_field(item, where, "stored_id", str), f"{where}.stored_id"),
            _field(item, where, "version", int),
            _field(item, where, "topic", str),
            _base64(_field(item, where, "state", str), f"{where}.state"),
        ),
        _hashes(item, where, "proof"),
    )


def _head(item: Any, where: str = "heads[?]") -> tuple[str, CaseHeadProof]:
    head = CaseHead(
        _id(_field(item, where, "stored_id", str), f"{where}.stored_id"),
        _field(item, where, "last_version", int),
        _field(item, where, "leaf_index", int),
    )
    path = tuple(_hashes(item, where, "path"))
    proof = CaseHeadProof(head, _field(item, where, "index", int), _field(item, where, "size", int), path)
    return str(_field(item, where, "name", str)), proof


def verify_bundle(
    raw: bytes,
    *,
    checkpoint: str | bytes | None = None,
    trusted_keys: tuple[str, ...] | list[str] = (),
    expected_cases: tuple[str, ...] | list[str] = (),
    encryption_key: str | None = None,
) -> BundleCheck:
    """Check a bundle with no access to the store: every record's inclusion in the bundle's
    checkpoint, every case complete, every decision replayed; anchored when the bundle's
    checkpoint is the trusted ``checkpoint`` or is signed by one of ``trusted_keys``.

    A bundle proves what it carries, not what it leaves out: ``expected_cases`` are the case
    refs the auditor was to be handed, each refused when the bundle does not carry it whole.
    A bundle carrying no case at all proves nothing and is refused. A bundle of an encrypted
    store is replayed with its ``encryption_key``; without it only its proofs are checked and
    the verdict says the decisions were not replayed."""
    check = BundleCheck()
    problems = check.problems
    try:
        data = _decode(raw)
        carried: ParsedCheckpoint = parse_checkpoint(_field(data, "bundle", "checkpoint", str))
        records = [
            _record(item, f"records[{n}]") for n, item in enumerate(_field(data, "bundle", "records", list))
        ]
        heads = [_head(item, f"heads[{n}]") for n, item in enumerate(_field(data, "bundle", "heads", list))]
    except (KeyError, TypeError, ValueError, VrrulesError) as error:
        problems.append(f"expected a bundle as exported, got a malformed one: {error}")
        return check
    head = carried.checkpoint
    check.checkpoint = head
    _anchor(check, head, str(data["checkpoint"]), checkpoint, trusted_keys)
    # every record included in the checkpoint's tree
    seen: dict[UUID, dict[int, int]] = {}
    for index, record, proof in records:
        try:
            included = verify_inclusion(record.leaf_hash(), index, head.size, proof, head.root)
        except VrrulesError:
            included = False
        if not included:
            problems.append(
                f"record {record.stored_id} version {record.version} (leaf {index}) "
                "is not in the checkpoint's log"
            )
        seen.setdefault(record.stored_id, {})[record.version] = index
    _check_heads(check, head, heads, seen)
    carried_ids = {head_proof.head.stored_id for _, head_proof in heads}
    for stored_id in seen:
        if stored_id not in carried_ids:
            problems.append(f"record {stored_id}: the bundle carries no head proof for it")
    if not any(not str(name).startswith("release ") for name, _ in heads):
        problems.append(
            "expected a bundle carrying at least one case, got none: an empty bundle proves nothing"
        )
    for ref in expected_cases:
        if case_id(ref) not in carried_ids:
            problems.append(f"case {ref}: expected in the bundle, got a bundle without it")
    if problems:
        return check
    # a bundle of an encrypted store carries its records as stored, the states ciphertext:
    # replayed with the store's key, or without it left sealed (the proofs above are over the
    # bytes as stored, so they hold either way)
    encrypted = not any(is_plain_state(record.state) for _, record, _ in records)
    with CaseRecords(store="memory", encryption_key=encryption_key if encrypted else None) as replayed:
        try:
            replayed.store.insert_records(record for _, record, _ in sorted(records, key=lambda r: r[0]))
        except Exception as error:  # records that passed their proofs but do not go together
            problems.append(f"the bundle's records cannot be read together: {_brief(error)}")
            return check
        if encrypted and encryption_key is not None:
            replayed.store.check_key()  # a wrong key is said as such, not as damaged records
        try:
            if encrypted and encryption_key is None:
                replayed.store.seal()
            check.report = verify_store(replayed)
        except Exception as error:  # a record that passed its proof but does not fit: a finding
            problems.append(f"the bundle's records cannot be read together: {_brief(error)}")
    return check


def _anchor(
    check: BundleCheck,
    head: Checkpoint,
    carried_text: str,
    checkpoint: str | bytes | None,
    trusted_keys: tuple[str, ...] | list[str],
) -> None:
    """The anchor: the auditor's own checkpoint, or a signature by a key they trust."""
    if checkpoint is not None:
        trusted = parse_checkpoint(checkpoint).checkpoint
        if (trusted.origin, trusted.size, trusted.root) != (head.origin, head.size, head.root):
            check.problems.append(
                f"the bundle's checkpoint (size {head.size}) is not the trusted one (size {trusted.size}): "
                "ask for a bundle exported against the checkpoint you keep"
            )
        else:
            check.anchored = True
    elif trusted_keys:
        try:
            verify_checkpoint(carried_text, list(trusted_keys))
            check.anchored = True
        except VrrulesError as error:
            check.problems.append(f"the bundle's checkpoint is not signed by a trusted key: {error.message}")


def _check_heads(
    check: BundleCheck,
    head: Checkpoint,
    heads: list[tuple[str, CaseHeadProof]],
    seen: dict[UUID, dict[int, int]],
) -> None:
    """Every case complete: its head in the checkpoint, its records 1 … last, the last at its leaf."""
    commitment = head.case_heads
    problems = check.problems
    for name, head_proof in heads:
        if commitment is None or not _head_holds(head_proof, commitment, head.size):
            problems.append(
                f"{name}: its head is not in the checkpoint's case heads (a phantom or forged case)"
            )
            continue
        last = head_proof.head
        named = release_id(name.removeprefix("release ")) if name.startswith("release ") else case_id(name)
        if named != last.stored_id:
            problems.append(f"{name}: its stored id is not the one its name maps to")
            continue
        versions = seen.get(last.stored_id, {})
        wanted = set(range(1, last.last_version + 1))
        if set(versions) != wanted or versions.get(last.last_version) != last.leaf_index:
            problems.append(
                f"{name}: the bundle does not hold its records 1-{last.last_version} "
                f"(holds {sorted(versions)}): records are missing"
            )


def _head_holds(proof: CaseHeadProof, commitment: Any, size: int) -> bool:
    try:
        return verify_case_head(proof, commitment, size)
    except VrrulesError:
        return False
