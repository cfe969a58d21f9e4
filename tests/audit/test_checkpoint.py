"""Checkpoints and signed notes: Go's own fixed keys and notes reproduced byte for byte, then
round trips, strict parsing and tamper properties, and the case-heads tree.

Vectors, and where they come from:

* ``golang/mod`` ``sumdb/note/note_test.go``: the keys ``PeterNeumann+c74f20a3+…`` (verifier)
  and ``PRIVATE+KEY+PeterNeumann+c74f20a3+…`` (signer), ``EnochRoot+af0cfe78+…``, the signed
  note of ``TestSign`` and the signatures and malformed messages of ``TestOpen``.
* ``golang/mod`` ``sumdb/tlog/note_test.go`` (``TestFormatTree``, ``TestParseTree``): the tree
  note ``go.sum database tree`` / ``123456789012`` / ``RecordHash("hello world")``.
* ``C2SP/C2SP`` ``tlog-checkpoint.md``: the example checkpoint ``example.com/behind-the-sofa``.
"""

from __future__ import annotations

import base64
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrrules.audit.checkpoint import (
    MAX_NOTE_BYTES,
    CaseHead,
    CaseHeads,
    CaseHeadsCommitment,
    Checkpoint,
    NoteSignature,
    SignerKey,
    VerifierKey,
    checkpoints_consistent,
    format_checkpoint,
    generate_signing_key,
    key_hash,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
    verifier_key_from_ed25519,
    verify_case_head,
    verify_checkpoint,
)
from vrrules.errors import (
    CaseHeadsInvalidError,
    CheckpointMalformedError,
    CheckpointSignatureError,
    CheckpointUnverifiedError,
    LogProofMalformedError,
    SigningKeyInvalidError,
    VrrulesError,
)
from vrrules.events.tlog import EMPTY_ROOT, LogTree, leaf_hash

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
PETER_SIG = "— PeterNeumann " + PETER_B64 + "\n"
ENOCH_B64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
ENOCH_SIG = "— EnochRoot " + ENOCH_B64 + "\n"
GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
C2SP_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


# --- Go's fixed keys and notes -----------------------------------------------------------


def test_go_keys_parse_and_agree() -> None:
    verifier = VerifierKey.parse(PETER_VKEY)
    signer = SignerKey.parse(PETER_SKEY)
    assert verifier.name == signer.name == "PeterNeumann"
    assert verifier.key_hash == signer.key_hash == 0xC74F20A3
    assert signer.verifier() == verifier
    assert verifier.encode() == PETER_VKEY
    assert signer.encode() == PETER_SKEY
    assert key_hash("PeterNeumann", b"\x01" + verifier.public_key) == 0xC74F20A3
    assert "seed" not in repr(signer) or "AYEK" not in repr(signer)
    assert VerifierKey.parse(ENOCH_VKEY).key_hash == 0xAF0CFE78


def test_sign_reproduces_go_byte_for_byte() -> None:
    """note_test.go TestSign: Ed25519 is deterministic, so the note is identical."""
    signer = SignerKey.parse(PETER_SKEY)
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG
    # An existing signature by the same key is replaced.
    old = NoteSignature("PeterNeumann", 0xC74F20A3, b"bad")
    assert sign_note(TEXT, [signer], existing=[old]) == TEXT + "\n" + PETER_SIG
    with pytest.raises(CheckpointMalformedError):
        sign_note("abc", [signer])


def test_open_as_go_does() -> None:
    """note_test.go TestOpen: one verified and one unknown; both; neither; duplicates."""
    peter, enoch = VerifierKey.parse(PETER_VKEY), VerifierKey.parse(ENOCH_VKEY)
    message = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    opened = open_note(message, [peter])
    assert opened.text == TEXT
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [(s.name, s.key_hash) for s in opened.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = open_note(message, [peter, enoch])
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    assert both.unverified == ()
    with pytest.raises(CheckpointUnverifiedError) as none:
        open_note(message, [])
    assert none.value.code == "checkpoint_unverified"
    assert "EnochRoot+af0cfe78" in none.value.message
    with pytest.raises(CheckpointSignatureError, match="EnochRoot\\+af0cfe78 2 times"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch]).verified  # unused duplicate is fine
    # Repeats are dropped; a tampered signature by a known key is an error.
    repeated = open_note(TEXT + "\n" + PETER_SIG * 2 + ENOCH_SIG * 2, [peter])
    assert len(repeated.verified) == 1
    assert len(repeated.unverified) == 1
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(CheckpointSignatureError, match="PeterNeumann\\+c74f20a3 does not verify"):
        open_note(TEXT + "\n" + bad, [peter])


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name " + PETER_B64,
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # fewer than 5 bytes
        TEXT + "\n" + "— PeterNeumann x08go/ZJkuBS9UG\n",  # not base64 with padding
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    """note_test.go TestOpen's badMsgs, and the 101-signature limit."""
    with pytest.raises(CheckpointMalformedError) as caught:
        open_note(message, [VerifierKey.parse(PETER_VKEY)])
    assert caught.value.code == "checkpoint_malformed"


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(CheckpointMalformedError, match="not valid UTF-8"):
        parse_note(b"\xff" + TEXT.encode() + b"\n" + PETER_SIG.encode())


def _manglings(key: str) -> list[str]:
    """note_test.go TestNewVerifier / TestNewSigner: every proper substring and every byte + 1."""
    out = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)} - {key}
    out |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted(out)


def test_mangled_verifier_keys_are_refused() -> None:
    for bad in _manglings(PETER_VKEY):
        with pytest.raises(SigningKeyInvalidError):
            VerifierKey.parse(bad)
    with pytest.raises(SigningKeyInvalidError):  # wrong length, and not canonical base64 either
        VerifierKey.parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(SigningKeyInvalidError, match="unknown algorithm"):
        VerifierKey.parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_mangled_signer_keys_are_refused() -> None:
    for bad in _manglings(PETER_SKEY)[::7]:  # every 7th of ~3,000, to stay quick
        with pytest.raises(SigningKeyInvalidError):
            SignerKey.parse(bad)
    for i in range(len(PETER_SKEY)):
        with pytest.raises(SigningKeyInvalidError):
            SignerKey.parse(PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :])


def test_generated_keys_are_self_consistent() -> None:
    """note_test.go TestGenerateKey and TestFromEd25519."""
    skey, vkey = generate_signing_key("EnochRoot")
    signer, verifier = SignerKey.parse(skey), VerifierKey.parse(vkey)
    assert signer.verifier() == verifier
    assert skey.startswith("PRIVATE+KEY+EnochRoot+") and vkey.startswith("EnochRoot+")
    sig = signer.sign(b"hi")
    assert verifier.verify(b"hi", sig)
    assert not verifier.verify(b"hj", sig)
    assert not verifier.verify(b"hi", bytes([sig[0] ^ 1]) + sig[1:])
    assert not verifier.verify(b"hi", sig[:-1])
    assert verifier_key_from_ed25519("EnochRoot", verifier.public_key) == vkey
    with pytest.raises(SigningKeyInvalidError):
        verifier_key_from_ed25519("EnochRoot", verifier.public_key[:-1])
    for name in ("", "a b", "a+b", "tab\there"):
        with pytest.raises(SigningKeyInvalidError):
            generate_signing_key(name)


# --- checkpoint bodies -------------------------------------------------------------------


def test_go_tree_note_format_and_parse() -> None:
    """tlog/note_test.go TestFormatTree / TestParseTree (RecordHash is the RFC 6962 leaf hash)."""
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.body() == GO_TREE
    assert format_checkpoint(checkpoint) == GO_TREE
    parsed = parse_checkpoint(GO_TREE)
    assert parsed.checkpoint == checkpoint
    assert not parsed.signed
    for bad in (
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
    ):
        with pytest.raises(CheckpointMalformedError):
            parse_checkpoint(bad)
    # Unlike Go's ParseTree, trailing lines are C2SP extension lines, kept, not ignored.
    assert parse_checkpoint(GO_TREE + "JOE\n").checkpoint.extensions == ("JOE",)


def test_c2sp_example_checkpoint_parses() -> None:
    parsed = parse_checkpoint(C2SP_EXAMPLE)
    assert parsed.checkpoint.origin == "example.com/behind-the-sofa"
    assert parsed.checkpoint.size == 20852163
    assert base64.b64encode(parsed.checkpoint.root).decode() == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert parsed.signed
    assert parsed.verified == ()
    assert parsed.signatures[0].name == "example.com/behind-the-sofa"
    with pytest.raises(CheckpointUnverifiedError):
        verify_checkpoint(C2SP_EXAMPLE, [PETER_VKEY])


@pytest.mark.parametrize(
    "body",
    [
        "",
        "origin\n1\n",
        "\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n",
        "origin\n01\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n",
        "origin\n 1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n",
        "origin\n9223372036854775808\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n",
        "origin\n1\n" + base64.b64encode(EMPTY_ROOT).decode(),
        "origin\n1\n" + base64.b64encode(EMPTY_ROOT[:31]).decode() + "\n",
        "origin\n1\n" + base64.b64encode(EMPTY_ROOT).decode().rstrip("=") + "\n",
        "origin\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",
        "origin\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\nvrrules/case-heads 1\n",
        "origin\n1\n"
        + base64.b64encode(EMPTY_ROOT).decode()
        + "\nvrrules/case-heads 01 "
        + base64.b64encode(EMPTY_ROOT).decode()
        + "\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(CheckpointMalformedError):
        parse_checkpoint(body)


def test_size_limits_stop_hostile_input_early() -> None:
    huge = "origin\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n" + "x\n" * MAX_NOTE_BYTES
    with pytest.raises(CheckpointMalformedError, match="more than the"):
        parse_checkpoint(huge)
    many = "origin\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n" + "x\n" * 65
    with pytest.raises(CheckpointMalformedError, match="extension lines"):
        parse_checkpoint(many)
    with pytest.raises(CheckpointMalformedError):
        parse_checkpoint(12345)  # type: ignore[arg-type]


def _signed_checkpoint() -> tuple[str, SignerKey, VerifierKey, Checkpoint]:
    signer = SignerKey.parse(PETER_SKEY)
    tree = LogTree.from_records([b"a", b"b", b"c"])
    heads = CaseHeads([(UUID(int=2), 1, 1), (UUID(int=1), 2, 2)])
    checkpoint = Checkpoint("vrrules.example/store", tree.size, tree.root()).with_case_heads(heads.commitment)
    return format_checkpoint(checkpoint, [signer]), signer, signer.verifier(), checkpoint


def test_signed_checkpoint_round_trip_and_verify() -> None:
    text, _, verifier, checkpoint = _signed_checkpoint()
    assert text.startswith("vrrules.example/store\n3\n")
    assert "\nvrrules/case-heads 2 " in text
    parsed = verify_checkpoint(text, [verifier])
    assert parsed.checkpoint == checkpoint
    assert parsed.signed
    assert [s.name for s in parsed.verified] == ["PeterNeumann"]
    assert parsed.checkpoint.case_heads is not None
    assert parsed.checkpoint.case_heads.count == 2
    assert verify_checkpoint(text.encode(), [PETER_VKEY]).checkpoint == checkpoint
    # Unsigned: still parses, flagged unsigned; refused where a signature is required.
    unsigned = format_checkpoint(checkpoint)
    assert parse_checkpoint(unsigned).checkpoint == checkpoint
    assert not parse_checkpoint(unsigned).signed
    with pytest.raises(CheckpointUnverifiedError, match="unsigned"):
        verify_checkpoint(unsigned, [verifier])
    # Cosigning keeps the existing signature and adds another.
    other = SignerKey.parse(generate_signing_key("witness")[0])
    note = parse_note(text)
    cosigned = sign_note(note.text, [other], existing=note.signatures)
    assert [s.name for s in verify_checkpoint(cosigned, [verifier, other.verifier()]).verified] == [
        "PeterNeumann",
        "witness",
    ]


@given(st.data())
def test_any_changed_character_of_a_signed_checkpoint_is_caught(data: st.DataObject) -> None:
    text, _, verifier, checkpoint = _signed_checkpoint()
    at = data.draw(st.integers(0, len(text) - 1), label="at")
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != text[at]), label="char")
    tampered = text[:at] + replacement + text[at + 1 :]
    try:
        parsed = verify_checkpoint(tampered, [verifier])
    except VrrulesError as error:
        assert error.code in {"checkpoint_malformed", "checkpoint_signature_invalid", "checkpoint_unverified"}
    else:
        # The only change that can still verify is none to the signed text or the signature bytes.
        assert parsed.checkpoint == checkpoint


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=30),
    st.integers(0, 2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=20),
        max_size=4,
    ),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    extensions = [e for e in extensions if e.split(" ", 1)[0] != "vrrules/case-heads"]
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(format_checkpoint(checkpoint)).checkpoint == checkpoint
    signer = SignerKey.parse(PETER_SKEY)
    assert (
        verify_checkpoint(format_checkpoint(checkpoint, [signer]), [signer.verifier()]).checkpoint
        == checkpoint
    )


def test_checkpoint_fields_are_checked_when_made() -> None:
    for kwargs in (
        {"origin": "", "size": 1, "root": EMPTY_ROOT},
        {"origin": "a\nb", "size": 1, "root": EMPTY_ROOT},
        {"origin": "o", "size": -1, "root": EMPTY_ROOT},
        {"origin": "o", "size": 2**63, "root": EMPTY_ROOT},
        {"origin": "o", "size": 1, "root": b"short"},
        {"origin": "o", "size": 1, "root": EMPTY_ROOT, "extensions": ("",)},
    ):
        with pytest.raises(CheckpointMalformedError):
            Checkpoint(**kwargs)  # type: ignore[arg-type]


# --- case heads --------------------------------------------------------------------------


def test_case_heads_prove_each_case_and_nothing_else() -> None:
    heads = [
        CaseHead(uuid4(), version, leaf) for version, leaf in [(3, 10), (1, 2), (7, 40), (2, 5), (5, 33)]
    ]
    tree = CaseHeads(reversed(heads))
    assert [h.stored_id for h in tree.heads] == sorted(h.stored_id for h in heads)
    assert CaseHeads(heads).root == tree.root  # order given does not matter
    commitment = tree.commitment
    for head in heads:
        proof = tree.proof(head.stored_id)
        assert proof.head == head
        assert verify_case_head(proof, commitment, log_size=41)
        assert not verify_case_head(proof, commitment, log_size=head.leaf_index)  # leaf beyond the log
        # A bundle claiming an older last version (a truncated case) does not verify.
        short = CaseHead(head.stored_id, head.last_version - 1, head.leaf_index)
        assert not verify_case_head(type(proof)(short, proof.index, proof.size, proof.path), commitment)
        # Nor does the proof against a commitment with another count.
        assert not verify_case_head(proof, CaseHeadsCommitment(commitment.count + 1, commitment.root))
    # A phantom case has no proof.
    with pytest.raises(CaseHeadsInvalidError):
        tree.proof(uuid4())


def test_case_heads_fixed_encoding_and_refusals() -> None:
    head = CaseHead(UUID(int=1), 2, 3)
    from vrrules.audit.checkpoint import case_head_bytes  # noqa: PLC0415 - one test needs it

    assert case_head_bytes(head) == b"H\x01" + UUID(int=1).bytes + (2).to_bytes(8, "big") + (3).to_bytes(
        8, "big"
    )
    assert CaseHeads([]).root == EMPTY_ROOT
    with pytest.raises(CaseHeadsInvalidError, match="listed twice"):
        CaseHeads([(UUID(int=1), 1, 1), (UUID(int=1), 2, 2)])
    for bad in [("not-a-uuid", 1, 1), (UUID(int=1), -1, 1), (UUID(int=1), 1, True), (UUID(int=1), 1)]:
        with pytest.raises(CaseHeadsInvalidError):
            CaseHeads([bad])  # type: ignore[list-item]


def test_checkpoints_consistent_across_a_week_of_appends() -> None:
    tree = LogTree.from_records([f"r{i}".encode() for i in range(50)])
    monday = Checkpoint("vrrules.example/store", 20, tree.tree_hash(20))
    tree.extend(leaf_hash(f"r{i}".encode()) for i in range(50, 90))
    next_monday = Checkpoint("vrrules.example/store", tree.size, tree.root())
    proof = tree.consistency_proof(monday.size)
    assert checkpoints_consistent(monday, next_monday, proof)
    assert not checkpoints_consistent(Checkpoint("other/log", 20, monday.root), next_monday, proof)
    rolled_back = LogTree.from_records([f"r{i}".encode() for i in range(19)] + [b"edited"] + [b"x"] * 70)
    forged = Checkpoint("vrrules.example/store", rolled_back.size, rolled_back.root())
    assert not checkpoints_consistent(monday, forged, rolled_back.consistency_proof(20))


def test_verify_case_head_refuses_hostile_proofs_with_codes() -> None:
    heads = CaseHeads([(UUID(int=i), i + 1, 10 * i) for i in range(5)])
    proof = heads.proof(UUID(int=3))
    hostile = type(proof)(proof.head, 7, proof.size, proof.path)  # index past the end
    with pytest.raises(LogProofMalformedError):
        verify_case_head(hostile, heads.commitment)
    odd_head = type(proof)(CaseHead(UUID(int=3), "4", 30), proof.index, proof.size, proof.path)  # type: ignore[arg-type]
    with pytest.raises(CaseHeadsInvalidError):
        verify_case_head(odd_head, heads.commitment)
    wrong_size = type(proof)(proof.head, proof.index, "5", proof.path)  # type: ignore[arg-type]
    assert not verify_case_head(wrong_size, heads.commitment)
