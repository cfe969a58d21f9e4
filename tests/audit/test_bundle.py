"""Anchored audit bundles: a genuine one verifies offline against its checkpoint; forged,
truncated, resealed, swapped and phantom ones, and an inconsistent checkpoint, are refused;
without a trusted anchor a bundle is never "verified"."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest

from tests.conftest import SPECS, TIER2_ASSESSMENT
from vrrules import CaseRecords
from vrrules.audit import export_bundle, make_checkpoint, verify_bundle
from vrrules.audit.checkpoint import generate_signing_key
from vrrules.errors import StoreKeyError
from vrrules.events.persistence import new_store_key


def _store(records: CaseRecords, refs: tuple[str, ...] = ("A-1", "B-2")) -> None:
    for ref in refs:
        records.open_case(ref, date(2025, 11, 3))
        records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "employer"})
        records.record(ref, "assessment_completed", TIER2_ASSESSMENT)
        records.decide(ref, "tiers")


@pytest.fixture(scope="module")
def exported() -> tuple[bytes, str, str, str]:
    """A bundle of A-1, the checkpoint it was exported against, and a key pair that signed it."""
    signer, verifier = generate_signing_key("auditor.example")
    with CaseRecords("memory", SPECS) as records:
        _store(records)
        checkpoint = make_checkpoint(records, signer)
        return export_bundle(records, ["A-1"], checkpoint), checkpoint, signer, verifier


def _edit(raw: bytes, change: Any) -> bytes:
    data = json.loads(raw)
    change(data)
    return json.dumps(data).encode()


def test_a_genuine_bundle_verifies_offline_against_its_checkpoint(
    exported: tuple[bytes, str, str, str],
) -> None:
    raw, checkpoint, _, verifier = exported
    assert not raw.startswith(b"vrrules-audit-bundle")  # one JSON document, no header line
    by_checkpoint = verify_bundle(raw, checkpoint=checkpoint)
    assert by_checkpoint.verified, by_checkpoint.problems
    assert by_checkpoint.report.decisions == 1 and by_checkpoint.report.ok
    assert verify_bundle(raw, trusted_keys=[verifier]).verified


def test_a_bundle_of_an_encrypted_store_verifies_with_its_key_and_says_so_without_it() -> None:
    key = new_store_key()
    with CaseRecords("memory", SPECS, encryption_key=key) as records:
        _store(records)
        checkpoint = make_checkpoint(records)
        raw = export_bundle(records, ["A-1"], checkpoint)
    assert b"Opened" in raw and b"employer" not in raw  # the states travel as ciphertext
    with_key = verify_bundle(raw, checkpoint=checkpoint, encryption_key=key)
    assert with_key.verified, with_key.problems
    assert with_key.report.decisions == 1 and with_key.report.replayed
    # without the key the proofs still hold, over the bytes as stored; nothing is replayed,
    # and the bundle is not called verified
    sealed = verify_bundle(raw, checkpoint=checkpoint)
    assert not sealed.problems and sealed.anchored and sealed.report.ok
    assert not sealed.report.replayed and not sealed.verified
    assert "decisions NOT replayed" in sealed.verdict
    with pytest.raises(StoreKeyError):
        verify_bundle(raw, checkpoint=checkpoint, encryption_key=new_store_key())
    # an edited ciphertext is not in the log, with or without the key
    forged = _edit(raw, lambda d: d["records"][0].update(state=base64.b64encode(b"\x00" * 64).decode()))
    for given in (None, key):
        assert verify_bundle(forged, checkpoint=checkpoint, encryption_key=given).problems


def test_without_an_anchor_a_bundle_is_never_verified(exported: tuple[bytes, str, str, str]) -> None:
    unanchored = verify_bundle(exported[0])
    assert not unanchored.verified and not unanchored.anchored and not unanchored.problems
    assert unanchored.verdict.startswith("internally consistent, not anchored")


def test_a_bundle_proves_only_what_it_carries(exported: tuple[bytes, str, str, str]) -> None:
    """A case left out of a bundle leaves nothing to find in it: the auditor names the cases
    the bundle must carry, and a bundle emptied of every case proves nothing at all."""
    raw, checkpoint, _, _ = exported
    assert verify_bundle(raw, checkpoint=checkpoint, expected_cases=["A-1"]).verified
    missing = verify_bundle(raw, checkpoint=checkpoint, expected_cases=["A-1", "B-2"])
    assert not missing.verified
    assert missing.problems == ["case B-2: expected in the bundle, got a bundle without it"]

    def empty(data: dict[str, Any]) -> None:
        kept = {h["stored_id"] for h in data["heads"] if h["name"].startswith("release ")}
        data["records"] = [r for r in data["records"] if r["stored_id"] in kept]
        data["heads"] = [h for h in data["heads"] if h["stored_id"] in kept]

    emptied = verify_bundle(_edit(raw, empty), checkpoint=checkpoint)
    assert not emptied.verified
    assert any("an empty bundle proves nothing" in p for p in emptied.problems), emptied.problems


def test_a_bundle_forged_from_scratch_is_refused(exported: tuple[bytes, str, str, str]) -> None:
    _, checkpoint, _, verifier = exported
    with CaseRecords("memory", SPECS) as elsewhere:  # the library used to forge a whole store
        _store(elsewhere, ("A-1",))
        forged = export_bundle(elsewhere, ["A-1"])
    assert not verify_bundle(forged, checkpoint=checkpoint).verified
    assert not verify_bundle(forged, trusted_keys=[verifier]).verified


def test_a_truncated_bundle_is_refused_even_resealed(exported: tuple[bytes, str, str, str]) -> None:
    raw, checkpoint, _, verifier = exported

    def drop_last(data: dict[str, Any]) -> None:
        data["records"] = [r for r in data["records"] if not (r["version"] == 4 and "Case" in r["topic"])]

    truncated = _edit(raw, drop_last)
    assert any("records are missing" in p for p in verify_bundle(truncated, checkpoint=checkpoint).problems)
    # resealed: the case rebuilt without its last record and a new checkpoint signed for it
    with CaseRecords("memory", SPECS) as rebuilt:
        rebuilt.open_case("A-1", date(2025, 11, 3))
        rebuilt.record("A-1", "referral_received", {"received_on": "2025-11-03", "source": "employer"})
        rebuilt.record("A-1", "assessment_completed", TIER2_ASSESSMENT)
        resealed = export_bundle(rebuilt, ["A-1"], make_checkpoint(rebuilt))
    assert not verify_bundle(resealed, checkpoint=checkpoint).verified
    assert not verify_bundle(resealed, trusted_keys=[verifier]).verified


def test_a_bundle_with_swapped_ids_or_edited_records_is_refused(
    exported: tuple[bytes, str, str, str],
) -> None:
    raw, checkpoint, _, _ = exported

    def swap(data: dict[str, Any]) -> None:
        first, second = data["records"][1], data["records"][2]
        first["state"], second["state"] = second["state"], first["state"]

    def flip(data: dict[str, Any]) -> None:
        state = bytearray(base64.b64decode(data["records"][0]["state"]))
        state[3] ^= 0x20
        data["records"][0]["state"] = base64.b64encode(bytes(state)).decode()

    def rename(data: dict[str, Any]) -> None:
        other = "00000000-0000-0000-0000-000000000001"
        for record in data["records"]:
            if "Case" in record["topic"]:
                record["stored_id"] = other
        for head in data["heads"]:
            if head["name"] == "A-1":
                head["stored_id"] = other

    for change in (swap, flip, rename):
        check = verify_bundle(_edit(raw, change), checkpoint=checkpoint)
        assert not check.verified and check.problems, change.__name__


def test_a_phantom_case_is_refused(exported: tuple[bytes, str, str, str]) -> None:
    raw, checkpoint, _, _ = exported
    with CaseRecords("memory", SPECS) as elsewhere:
        _store(elsewhere, ("Z-9",))
        phantom = json.loads(export_bundle(elsewhere, ["Z-9"]))

    def add_phantom(data: dict[str, Any]) -> None:
        data["records"] += [r for r in phantom["records"] if "Case" in r["topic"]]
        data["heads"] += [h for h in phantom["heads"] if h["name"] == "Z-9"]

    check = verify_bundle(_edit(raw, add_phantom), checkpoint=checkpoint)
    assert not check.verified
    assert any("Z-9" in p and "phantom" in p for p in check.problems)


def test_a_checkpoint_inconsistent_with_the_trusted_one_is_refused(
    exported: tuple[bytes, str, str, str],
) -> None:
    raw, _, _, _ = exported
    with CaseRecords("memory", SPECS) as other:
        _store(other, ("A-1",))
        trusted = make_checkpoint(other)
    check = verify_bundle(raw, checkpoint=trusted)
    assert not check.verified and any("not the trusted one" in p for p in check.problems)


def test_a_hostile_bundle_is_a_finding_never_a_crash() -> None:
    for raw in (
        b"",
        b"not json",
        b"[" * 100_000,
        json.dumps({"format": "vrrules-audit-bundle/2"}).encode(),
    ):
        check = verify_bundle(raw)
        assert not check.verified and check.problems


@pytest.mark.parametrize("entry", ["records", "heads"])
def test_a_bundle_field_of_the_wrong_type_is_named_where_it_is(
    exported: tuple[bytes, str, str, str], entry: str
) -> None:
    raw, checkpoint, _, _ = exported
    fields = sorted(json.loads(raw)[entry][0])
    for name in fields:
        for wrong in (None, True, -1, "1", [], {}, 1.5):

            def change(data: dict[str, Any], name: str = name, wrong: Any = wrong) -> None:
                data[entry][0][name] = wrong

            edited = _edit(raw, change)
            original = json.loads(raw)[entry][0][name]
            if type(wrong) is type(original) and wrong == original:
                continue
            check = verify_bundle(edited, checkpoint=checkpoint)
            assert not check.verified and check.problems, (name, wrong)
            if check.problems[0].startswith("expected a bundle as exported"):
                # a malformed entry is named where it is, never by a Python error's words
                assert f"{entry}[0]" in check.problems[0], check.problems[0]
                assert "NoneType" not in check.problems[0], check.problems[0]


def test_a_state_nested_past_any_real_one_is_no_crash() -> None:
    from vrrules.events.store import is_plain_state  # noqa: PLC0415

    assert is_plain_state(b'{"a": [1]}') and not is_plain_state(b"[" * 200_000)
    assert not is_plain_state(b"\x00")
