"""Audit bundles: some cases exported exactly as stored, checkable with no access to the store."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from uuid import UUID

from vrrules.audit.chain import check_chain
from vrrules.audit.verify import AuditReport, verify_store
from vrrules.events.application import CaseRecords
from vrrules.events.domain import case_id, release_id
from vrrules.events.store import StoredRecord

__all__ = ["BUNDLE_FORMAT", "export_bundle", "verify_bundle"]

BUNDLE_FORMAT = "vrrules-audit-bundle/1"


def _stored_as_data(stored: StoredRecord) -> dict[str, Any]:
    return {
        "originator_id": str(stored.stored_id),
        "originator_version": stored.version,
        "topic": stored.topic,
        "state": base64.b64encode(stored.state).decode("ascii"),
    }


def export_bundle(records: CaseRecords, case_refs: list[str]) -> bytes:
    """A self-contained file of some cases: their stored events exactly as stored, the policy
    releases their decisions used, and each case's chain head, so that it can be checked on
    a machine with no access to the store."""
    cases = []
    releases: set[str] = set()
    for case_ref in case_refs:
        check = check_chain(records, case_ref)
        cases.append(
            {
                "case_ref": case_ref,
                "events": [_stored_as_data(s) for s in records.store.records_of(case_id(case_ref))],
                "chain_head": check.head,
                "chain_intact": check.intact,
            }
        )
        releases.update(record.spec_sha256 for _, record in records.case(case_ref).decisions)
    release_records = [
        _stored_as_data(stored)
        for sha in sorted(releases)
        for stored in records.store.records_of(release_id(sha))
    ]
    body = json.dumps(
        {"format": BUNDLE_FORMAT, "cases": cases, "releases": release_records}, sort_keys=True, indent=1
    ).encode()
    # The first line commits to every byte after it, so changing any byte of the file shows.
    return f"{BUNDLE_FORMAT} sha256={hashlib.sha256(body).hexdigest()}\n".encode() + body


def verify_bundle(raw: bytes) -> tuple[AuditReport, list[str]]:
    """Check a bundle on its own: its digest, every chain, every decision replayed."""
    problems: list[str] = []
    head, _, body = raw.partition(b"\n")
    expected_head = f"{BUNDLE_FORMAT} sha256=".encode()
    if not head.startswith(expected_head):
        problems.append(f"expected a file starting '{BUNDLE_FORMAT} sha256=', got {head[:60]!r}")
        return AuditReport(), problems
    if head[len(expected_head) :].decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        problems.append("the bundle's digest does not match its content: it was changed after export")
    try:
        data = json.loads(body)
        assert data.get("format") == BUNDLE_FORMAT
    except (ValueError, AssertionError, AttributeError):
        problems.append("expected the bundle's body to be the JSON written by 'vrrules audit bundle'")
        return AuditReport(), problems
    try:
        stored = [
            StoredRecord(
                0,
                UUID(item["originator_id"]),
                int(item["originator_version"]),
                str(item["topic"]),
                base64.b64decode(item["state"], validate=True),
            )
            for item in [*data["releases"], *(e for case in data["cases"] for e in case["events"])]
        ]
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"expected the bundle's records as exported, got a malformed record: {error}")
        return AuditReport(), problems
    with CaseRecords(store="memory") as records:
        try:
            records.store.insert_records(stored)
        except Exception as error:  # e.g. two records claiming the same place in a case
            problems.append(f"the bundle's records do not fit together: {error}")
            return AuditReport(), problems
        try:
            report = verify_store(records)
        except Exception as error:  # whatever a damaged record breaks, it is a finding, not a crash
            problems.append(f"the bundle's records cannot be read: {error}")
            return AuditReport(), problems
        for case in data["cases"]:
            reference = case.get("case_ref") if isinstance(case, dict) else None
            if not isinstance(reference, str):
                problems.append(f"expected each exported case to name its reference, got {str(case)[:80]}")
                continue
            if check_chain(records, reference).head != case.get("chain_head"):
                problems.append(f"case {reference}: its chain head differs from the one exported")
    return report, problems
