"""Checkpoints: signed tree heads an auditor keeps apart from the store.

Formats (text, byte for byte as Go's ``golang.org/x/mod/sumdb/note`` writes them):

Checkpoint body (C2SP ``tlog-checkpoint``, "Note text")
    ``<origin>\\n<tree size>\\n<base64 root>\\n`` then optional non-empty extension lines.
    The size is decimal with no leading zeros; the root is the RFC 9162 tree hash
    (:mod:`vrrules.events.tlog`) in standard base64. vrrules adds one extension,
    ``vrrules/case-heads <count> <base64 root>``: the root of a second Merkle tree over every
    case's head as of that size (:class:`CaseHeads`), so that a bundle can prove, with an
    inclusion proof in that tree, that it carries each of its cases up to its last record,
    and a case that is not in the tree cannot be passed off as one of the store's.

Signed note (C2SP ``signed-note``)
    The body, a blank line, then one line per signature:
    ``— <key name> <base64(key hash (4 bytes, big-endian) || signature)>``. The key hash is
    the first 4 bytes of ``SHA-256(name || 0x0A || 0x01 || public key)``; 0x01 names
    Ed25519 (RFC 8032), signing the body bytes. Verifier keys are written
    ``name+hexhash+base64(0x01 || public key)``, signer keys
    ``PRIVATE+KEY+name+hexhash+base64(0x01 || seed)``. Signatures are made and checked with
    ``cryptography``.

An unsigned checkpoint (the body alone, no blank line) is still a commitment: it parses,
and :attr:`ParsedCheckpoint.signed` is False. Trust comes from where the auditor kept it.

Reading is strict and bounded, as note.go's ``Open`` is: at most :data:`MAX_NOTE_BYTES`
bytes and :data:`MAX_SIGNATURES` signature lines, valid UTF-8 with no control characters
but newline, canonical base64, key names with no spaces or ``+``. Per the spec, signatures
by unknown keys are kept as unverified and ignored; identical repeats are dropped; a
signature by a trusted key that does not verify is an error (never silently skipped);
and when no trusted key signed, :func:`verify_checkpoint` refuses the note.
Every refusal is a :class:`~vrrules.errors.VrrulesError` with a stable code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vrrules.errors import (
    CaseHeadsInvalidError,
    CheckpointMalformedError,
    CheckpointSignatureError,
    CheckpointUnverifiedError,
    SigningKeyInvalidError,
)
from vrrules.events.tlog import HASH_SIZE, LogTree, leaf_hash, verify_consistency, verify_inclusion

__all__ = [
    "ALG_ED25519",
    "CASE_HEADS_EXTENSION",
    "CASE_HEAD_FORMAT",
    "MAX_EXTENSION_LINES",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "CaseHead",
    "CaseHeadProof",
    "CaseHeads",
    "CaseHeadsCommitment",
    "Checkpoint",
    "Note",
    "NoteSignature",
    "OpenedNote",
    "ParsedCheckpoint",
    "SignerKey",
    "VerifierKey",
    "case_head_bytes",
    "checkpoints_consistent",
    "format_checkpoint",
    "generate_signing_key",
    "key_hash",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_note",
    "verifier_key_from_ed25519",
    "verify_case_head",
    "verify_checkpoint",
]

ALG_ED25519 = 0x01
"""The signed-note algorithm byte for Ed25519."""

MAX_NOTE_BYTES = 65_536
"""The largest checkpoint or note read; a checkpoint is a few hundred bytes."""

MAX_SIGNATURES = 100
"""The most signature lines read (note.go's limit)."""

MAX_EXTENSION_LINES = 64
"""The most extension lines a checkpoint body may carry."""

CASE_HEADS_EXTENSION = "vrrules/case-heads"
"""The first word of the extension line committing to every case's head."""

CASE_HEAD_FORMAT = b"H\x01"
"""The kind (``H``, a case head) and format version that open every case-head leaf."""

_SIG_PREFIX = "\u2014 "  # an em dash and a space
_MAX_SIZE = 2**63 - 1
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _malformed(problem: str, fix: str = "", **details: object) -> CheckpointMalformedError:
    fix = (
        fix
        or "Write checkpoints with vrrules (format_checkpoint / vrrules audit checkpoint); do not edit them."
    )
    return CheckpointMalformedError(f"checkpoint: {problem}. {fix}", **details)


def _b64decode(text: str) -> bytes | None:
    """Standard base64, canonical only (the re-encoding must give the same text); None if not."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _valid_name(name: str) -> bool:
    """note.go's isValidName: non-empty, no Unicode space, no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name) and _plain_text(name)


def _plain_text(text: str) -> bool:
    """No control characters but newline, and no unpaired surrogates."""
    return not any((ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) <= 0xDFFF for ch in text)


# --- keys --------------------------------------------------------------------------------


def key_hash(name: str, public_key: bytes) -> int:
    """The signed-note key hash: the first 4 bytes, big-endian, of ``SHA-256(name || "\\n" || public_key)``.

    ``public_key`` includes its algorithm byte (0x01 for Ed25519).
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8") + b"\n" + public_key).digest()[:4], "big")


def _key_error(kind: str, problem: str) -> SigningKeyInvalidError:
    form = "PRIVATE+KEY+name+hash+key" if kind == "signer" else "name+hash+key"
    return SigningKeyInvalidError(
        f"{kind} key: {problem}. Expected the text {form} that `vrrules key --signing` prints "
        "(the hash is 8 hex digits, the key base64 of 0x01 and 32 Ed25519 bytes); "
        "give it whole and unchanged.",
        kind=kind,
    )


@dataclass(frozen=True)
class VerifierKey:
    """A public Ed25519 key a checkpoint's signature can be checked with."""

    name: str
    key_hash: int
    public_key: bytes  # the 32 raw Ed25519 bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read ``name+hexhash+base64(0x01 || public key)``, strictly (note.go ``NewVerifier``)."""
        if not isinstance(text, str) or len(text) > 1024:
            raise _key_error("verifier", "not a key text of a sensible length")
        name, _, rest = text.partition("+")
        hash16, _, key64 = rest.partition("+")
        raw = _b64decode(key64)
        if not _valid_name(name) or not _HEX8.fullmatch(hash16) or not raw:
            raise _key_error(
                "verifier", "it does not have the three parts name, 8-digit hash and canonical base64 key"
            )
        if raw[0] != ALG_ED25519:
            raise _key_error(
                "verifier", f"unknown algorithm byte {raw[0]:#04x} (only 0x01, Ed25519, is known)"
            )
        if len(raw) != 33:
            raise _key_error("verifier", f"an Ed25519 key is 32 bytes, got {len(raw) - 1}")
        if key_hash(name, raw) != int(hash16, 16):
            raise _key_error("verifier", f"the hash {hash16} does not match the name and key")
        return cls(name, int(hash16, 16), raw[1:])

    def encode(self) -> str:
        """The key text ``name+hexhash+base64(0x01 || public key)``."""
        return f"{self.name}+{self.key_hash:08x}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (64 bytes, no key hash) is this key's Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """A private Ed25519 key that signs checkpoints; keep its text secret."""

    name: str
    key_hash: int
    seed: bytes = field(repr=False)  # the 32-byte Ed25519 seed; never shown

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Read ``PRIVATE+KEY+name+hexhash+base64(0x01 || seed)``, strictly (note.go ``NewSigner``)."""
        if not isinstance(text, str) or len(text) > 1024:
            raise _key_error("signer", "not a key text of a sensible length")
        priv, _, rest = text.partition("+")
        key, _, rest = rest.partition("+")
        name, _, rest = rest.partition("+")
        hash16, _, key64 = rest.partition("+")
        raw = _b64decode(key64)
        if (
            priv != "PRIVATE"
            or key != "KEY"
            or not _valid_name(name)
            or not _HEX8.fullmatch(hash16)
            or not raw
        ):
            raise _key_error(
                "signer",
                "it does not have the parts PRIVATE, KEY, name, 8-digit hash and canonical base64 key",
            )
        if raw[0] != ALG_ED25519:
            raise _key_error("signer", f"unknown algorithm byte {raw[0]:#04x} (only 0x01, Ed25519, is known)")
        if len(raw) != 33:
            raise _key_error("signer", f"an Ed25519 seed is 32 bytes, got {len(raw) - 1}")
        signer = cls(name, int(hash16, 16), raw[1:])
        if key_hash(name, bytes([ALG_ED25519]) + signer.verifier().public_key) != signer.key_hash:
            raise _key_error("signer", f"the hash {hash16} does not match the name and the key's public half")
        return signer

    def encode(self) -> str:
        """The secret key text ``PRIVATE+KEY+name+hexhash+base64(0x01 || seed)``."""
        return f"PRIVATE+KEY+{self.name}+{self.key_hash:08x}+{_b64(bytes([ALG_ED25519]) + self.seed)}"

    def verifier(self) -> VerifierKey:
        """The public half, to hand to auditors."""
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return VerifierKey(self.name, key_hash(self.name, bytes([ALG_ED25519]) + public), public)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate_signing_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: (signer key text, verifier key text), as note.go's GenerateKey."""
    if not isinstance(name, str) or not _valid_name(name):
        raise _key_error("signer", f"the key name {name!r} must be non-empty, with no spaces and no '+'")
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = SignerKey(name, 0, seed)
    verifier = signer.verifier()
    signer = SignerKey(name, verifier.key_hash, seed)
    return signer.encode(), verifier.encode()


def verifier_key_from_ed25519(name: str, public_key: bytes) -> str:
    """The verifier key text for a raw 32-byte Ed25519 public key (note.go ``NewEd25519VerifierKey``)."""
    if not _valid_name(name):
        raise _key_error("verifier", f"the key name {name!r} must be non-empty, with no spaces and no '+'")
    if len(public_key) != 32:
        raise _key_error("verifier", f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    return VerifierKey(name, key_hash(name, bytes([ALG_ED25519]) + public_key), bytes(public_key)).encode()


# --- signed notes ------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key's name and hash, and the signature bytes."""

    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        """The line as written, without its newline: ``— name base64(hash || signature)``."""
        return f"{_SIG_PREFIX}{self.name} {_b64(self.key_hash.to_bytes(4, 'big') + self.signature)}"


@dataclass(frozen=True)
class Note:
    """A note as read: its text (ending in a newline) and its signature lines, repeats dropped."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class OpenedNote:
    """A note checked against trusted keys: signatures that verified, and those by unknown keys."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _as_text(message: bytes | str) -> str:
    if isinstance(message, str):
        data = message.encode("utf-8", "surrogatepass")
    elif isinstance(message, bytes | bytearray | memoryview):
        data = bytes(message)
    else:
        raise _malformed(f"expected text or bytes, got {type(message).__name__}")
    if len(data) > MAX_NOTE_BYTES:
        raise _malformed(
            f"{len(data)} bytes, more than the {MAX_NOTE_BYTES} a checkpoint may have", size=len(data)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed(f"not valid UTF-8 at byte {exc.start}", offset=exc.start) from None
    if not _plain_text(text):
        at = next(
            i for i, ch in enumerate(text) if (ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) <= 0xDFFF
        )
        raise _malformed(
            f"a control character {text[at]!r} at character {at}; only newlines are allowed", offset=at
        )
    return text


def parse_note(message: bytes | str) -> Note:
    """Read a signed note's text and signature lines, strictly, without checking any signature."""
    text = _as_text(message)
    split = text.rfind("\n\n")
    if split < 0:
        raise _malformed(
            "no blank line before a signature block", "A signed note ends in a blank line and signatures."
        )
    body, block = text[: split + 1], text[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("the signature block is empty or its last line has no newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"{len(lines)} signature lines, more than {MAX_SIGNATURES}", count=len(lines))
    signatures: list[NoteSignature] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.startswith(_SIG_PREFIX):
            raise _malformed(
                f"signature line {number} does not start with an em dash and a space: {line[:40]!r}"
            )
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        raw = _b64decode(b64)
        if not _valid_name(name) or raw is None or len(raw) < 5:
            raise _malformed(
                f"signature line {number} is not '— <name> <base64 key hash and signature>': {line[:60]!r}"
            )
        if line in seen:
            continue  # an identical repeat says nothing new
        seen.add(line)
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(body, tuple(signatures))


def open_note(message: bytes | str, verifiers: Iterable[VerifierKey]) -> OpenedNote:
    """Read a note and check its signatures against trusted keys, as note.go's ``Open``.

    Refuses a note that no trusted key signed (``checkpoint_unverified``), or where a trusted
    key's signature does not verify or two trusted keys share a name and hash
    (``checkpoint_signature_invalid``). Signatures by other keys are returned unverified.
    """
    note = parse_note(message)
    known: dict[tuple[str, int], list[VerifierKey]] = {}
    for key in verifiers:
        known.setdefault((key.name, key.key_hash), []).append(key)
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    body = note.text.encode("utf-8")
    for sig in note.signatures:
        keys = known.get((sig.name, sig.key_hash))
        if not keys:
            unverified.append(sig)
            continue
        ident = f"{sig.name}+{sig.key_hash:08x}"
        if len(keys) > 1:
            raise CheckpointSignatureError(
                f"checkpoint: the trusted keys list {ident} {len(keys)} times. List each trusted key once.",
                key=ident,
            )
        if (sig.name, sig.key_hash) in seen:
            continue  # note.go keeps the first signature per trusted key
        seen.add((sig.name, sig.key_hash))
        if not keys[0].verify(body, sig.signature):
            raise CheckpointSignatureError(
                f"checkpoint: the signature by trusted key {ident} does not verify: the checkpoint text or "
                "the signature was changed after signing. Get the checkpoint again from where it was kept.",
                key=ident,
            )
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_hash:08x}" for s in unverified) or "none"
        raise CheckpointUnverifiedError(
            f"checkpoint: no signature by a trusted key (signed by: {names}; trusted: "
            f"{', '.join(f'{n}+{h:08x}' for n, h in known) or 'none'}). Give the verifier key of the key "
            "that signed it.",
            signed_by=[s.name for s in unverified],
        )
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def sign_note(text: str, signers: Sequence[SignerKey], existing: Iterable[NoteSignature] = ()) -> str:
    """The signed note: ``text``, a blank line, the ``existing`` signatures not replaced, then new ones.

    As note.go's ``Sign``: a signer replaces an existing signature by the same key. Stricter
    than note.go, the text may not hold a blank line (no checkpoint body does).
    """
    if not isinstance(text, str) or not text.endswith("\n") or "\n\n" in text or not _plain_text(text):
        raise _malformed(
            "a note's text must end in a newline, have no blank line and no control characters",
            "Give the checkpoint body as format_checkpoint writes it.",
        )
    ours = {(s.name, s.key_hash) for s in signers}
    body = text.encode("utf-8")
    lines = [sig.line() for sig in existing if (sig.name, sig.key_hash) not in ours]
    lines += [NoteSignature(s.name, s.key_hash, s.sign(body)).line() for s in signers]
    if not lines:
        raise _malformed("no signer given", "Give at least one signer key, or keep the checkpoint unsigned.")
    return text + "\n" + "".join(line + "\n" for line in lines)


# --- checkpoints -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseHeadsCommitment:
    """The case-heads tree a checkpoint commits to: how many cases, and the tree's root."""

    count: int
    root: bytes

    def line(self) -> str:
        """The extension line: ``vrrules/case-heads <count> <base64 root>``."""
        return f"{CASE_HEADS_EXTENSION} {self.count} {_b64(self.root)}"


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and root, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise _malformed(f"the origin {self.origin!r} must be one non-empty line")
        if not _plain_text(self.origin):
            raise _malformed("the origin holds a control character")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= _MAX_SIZE:
            raise _malformed(f"the tree size {self.size!r} must be an int from 0 to 2**63-1")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise _malformed(f"the root must be {HASH_SIZE} bytes")
        if len(self.extensions) > MAX_EXTENSION_LINES:
            raise _malformed(f"{len(self.extensions)} extension lines, more than {MAX_EXTENSION_LINES}")
        for ext in self.extensions:
            if not isinstance(ext, str) or not ext or "\n" in ext or not _plain_text(ext):
                raise _malformed(f"the extension line {ext!r} must be one non-empty line of text")
        heads = [ext for ext in self.extensions if ext.split(" ", 1)[0] == CASE_HEADS_EXTENSION]
        if len(heads) > 1:
            raise _malformed(
                f"{len(heads)} {CASE_HEADS_EXTENSION} lines; a checkpoint commits to one case-heads tree"
            )
        if heads:
            _parse_case_heads_line(heads[0])

    @property
    def case_heads(self) -> CaseHeadsCommitment | None:
        """The committed case-heads tree, if the checkpoint carries one."""
        for ext in self.extensions:
            if ext.split(" ", 1)[0] == CASE_HEADS_EXTENSION:
                return _parse_case_heads_line(ext)
        return None

    def with_case_heads(self, commitment: CaseHeadsCommitment) -> Checkpoint:
        """This checkpoint committing to ``commitment`` (replacing any earlier case-heads line)."""
        others = tuple(e for e in self.extensions if e.split(" ", 1)[0] != CASE_HEADS_EXTENSION)
        return Checkpoint(self.origin, self.size, self.root, (commitment.line(), *others))

    def body(self) -> str:
        """The note text: origin, size, base64 root and extension lines, each ending in a newline."""
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), _b64(self.root), *self.extensions)
        )

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Read a checkpoint body (C2SP tlog-checkpoint "Note text"), strictly."""
        if not text.endswith("\n"):
            raise _malformed("the body's last line has no newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise _malformed(f"{len(lines)} line(s); a checkpoint has an origin, a tree size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise _malformed("the origin (line 1) is empty")
        if not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_SIZE:
            raise _malformed(
                f"the tree size (line 2) {size_text[:30]!r} is not a decimal from 0 to 2**63-1 "
                "without leading zeros"
            )
        root = _b64decode(root_text)
        if root is None or len(root) != HASH_SIZE:
            raise _malformed(
                f"the root hash (line 3) {root_text[:60]!r} is not the base64 of {HASH_SIZE} bytes"
            )
        for number, ext in enumerate(extensions, 4):
            if not ext:
                raise _malformed(f"line {number} is empty; extension lines must not be")
        return cls(origin, int(size_text), root, tuple(extensions))


def _parse_case_heads_line(line: str) -> CaseHeadsCommitment:
    parts = line.split(" ")
    raw = _b64decode(parts[2]) if len(parts) == 3 else None
    if len(parts) != 3 or not _DECIMAL.fullmatch(parts[1]) or raw is None or len(raw) != HASH_SIZE:
        raise _malformed(
            f"the case-heads line {line[:80]!r} is not '{CASE_HEADS_EXTENSION} <count> <base64 root>'"
        )
    return CaseHeadsCommitment(int(parts[1]), raw)


@dataclass(frozen=True)
class ParsedCheckpoint:
    """A checkpoint as read: the tree head, the signatures found, and which ones verified."""

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...] = ()
    verified: tuple[NoteSignature, ...] = ()

    @property
    def signed(self) -> bool:
        """Whether the checkpoint carries any signature (checked or not)."""
        return bool(self.signatures)


def format_checkpoint(checkpoint: Checkpoint, signers: Sequence[SignerKey] = ()) -> str:
    """The checkpoint's text: its body alone (unsigned) or a signed note by each of ``signers``."""
    body = checkpoint.body()
    return sign_note(body, signers) if signers else body


def parse_checkpoint(data: bytes | str) -> ParsedCheckpoint:
    """Read a checkpoint, signed or unsigned, without checking signatures (see :func:`verify_checkpoint`)."""
    text = _as_text(data)
    if "\n\n" not in text:
        return ParsedCheckpoint(Checkpoint.from_body(text))
    note = parse_note(text)
    return ParsedCheckpoint(Checkpoint.from_body(note.text), note.signatures)


def verify_checkpoint(data: bytes | str, verifiers: Iterable[VerifierKey | str]) -> ParsedCheckpoint:
    """Read a checkpoint and require a valid signature by at least one trusted key.

    ``verifiers`` are :class:`VerifierKey` objects or key texts. Refuses unsigned
    checkpoints and those no trusted key signed (``checkpoint_unverified``), and any whose
    trusted signature fails (``checkpoint_signature_invalid``).
    """
    keys = [VerifierKey.parse(v) if isinstance(v, str) else v for v in verifiers]
    text = _as_text(data)
    if "\n\n" not in text:
        Checkpoint.from_body(text)  # malformed beats unsigned
        raise CheckpointUnverifiedError(
            "checkpoint: it is unsigned, and a trusted signature was asked for. Use it as an unsigned "
            "commitment (parse_checkpoint), or get the signed checkpoint.",
            signed_by=[],
        )
    Checkpoint.from_body(parse_note(text).text)  # malformed beats unverified
    opened = open_note(text, keys)
    return ParsedCheckpoint(
        Checkpoint.from_body(opened.text), opened.verified + opened.unverified, opened.verified
    )


# --- case heads --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class CaseHead:
    """A case as of a checkpoint: its stored id, its last version, and the leaf index of its last record."""

    stored_id: UUID
    last_version: int
    leaf_index: int

    def leaf_hash(self) -> bytes:
        """This head's leaf in the case-heads tree."""
        return leaf_hash(case_head_bytes(self))


def case_head_bytes(head: CaseHead) -> bytes:
    """``H\\x01 || stored id (16) || last version (u64 BE) || leaf index (u64 BE)``: fixed width."""
    if not isinstance(head.stored_id, UUID):
        raise CaseHeadsInvalidError(
            f"case head: expected the stored id as a UUID, got {head.stored_id!r}.", head=head
        )
    for name in ("last_version", "leaf_index"):
        value = getattr(head, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise CaseHeadsInvalidError(
                f"case head {head.stored_id}: expected {name} as an int from 0 to 2**64-1, got {value!r}.",
                head=head,
                field=name,
            )
    return (
        CASE_HEAD_FORMAT
        + head.stored_id.bytes
        + head.last_version.to_bytes(8, "big")
        + head.leaf_index.to_bytes(8, "big")
    )


@dataclass(frozen=True)
class CaseHeadProof:
    """That ``head`` is entry ``index`` of a case-heads tree of ``size`` entries: the inclusion path."""

    head: CaseHead
    index: int
    size: int
    path: tuple[bytes, ...]


def _as_head(value: object) -> CaseHead:
    if not isinstance(value, tuple) or len(value) != 3:
        raise CaseHeadsInvalidError(
            f"case heads: expected a CaseHead or a (stored id, last version, leaf index) tuple, "
            f"got {value!r}.",
            head=value,
        )
    return CaseHead(*value)


class CaseHeads:
    """The case-heads tree: every case's head, sorted by stored id, as leaves of an RFC 9162 tree."""

    def __init__(self, heads: Iterable[CaseHead | tuple[UUID, int, int]]) -> None:
        given = [h if isinstance(h, CaseHead) else _as_head(h) for h in heads]
        leaves = {id(h): h.leaf_hash() for h in given}  # validates every head before sorting
        ordered = sorted(given, key=lambda h: h.stored_id.int)  # a UUID's order is its int's
        for before, after in itertools.pairwise(ordered):
            if before.stored_id == after.stored_id:
                raise CaseHeadsInvalidError(
                    f"case heads: the case {after.stored_id} is listed twice (versions {before.last_version} "
                    f"and {after.last_version}). Give each case once, with its last version.",
                    stored_id=after.stored_id,
                )
        self._heads = tuple(ordered)
        self._index = {h.stored_id: i for i, h in enumerate(ordered)}
        self._tree = LogTree(leaves[id(h)] for h in ordered)

    def __len__(self) -> int:
        return len(self._heads)

    @property
    def heads(self) -> tuple[CaseHead, ...]:
        """The heads, sorted by stored id."""
        return self._heads

    @property
    def root(self) -> bytes:
        """The root of the case-heads tree."""
        return self._tree.root()

    @property
    def commitment(self) -> CaseHeadsCommitment:
        """What a checkpoint carries: the count and the root."""
        return CaseHeadsCommitment(len(self._heads), self.root)

    def head(self, stored_id: UUID) -> CaseHead:
        """The head of case ``stored_id``."""
        index = self._index.get(stored_id)
        if index is None:
            raise CaseHeadsInvalidError(
                f"case heads: no case {stored_id} among the {len(self._heads)} heads.", stored_id=stored_id
            )
        return self._heads[index]

    def proof(self, stored_id: UUID) -> CaseHeadProof:
        """The proof that case ``stored_id``'s head is in the tree."""
        head = self.head(stored_id)
        index = self._index[stored_id]
        return CaseHeadProof(head, index, len(self._heads), tuple(self._tree.inclusion_proof(index)))


def verify_case_head(
    proof: CaseHeadProof, commitment: CaseHeadsCommitment, log_size: int | None = None
) -> bool:
    """Whether ``proof`` proves its head is in the case-heads tree ``commitment`` (and, given ``log_size``,
    that the head's last leaf lies within the log that checkpoint describes).

    A bundle proves a case complete by carrying this proof and the case's records through
    ``head.last_version``, the last one at leaf ``head.leaf_index``.
    """
    leaf = proof.head.leaf_hash()  # refuses a head of the wrong types with a coded error
    if isinstance(proof.size, bool) or not isinstance(proof.size, int) or proof.size != commitment.count:
        return False
    if log_size is not None and not proof.head.leaf_index < log_size:
        return False
    return verify_inclusion(leaf, proof.index, proof.size, list(proof.path), commitment.root)


def checkpoints_consistent(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> bool:
    """Whether ``new`` is an append-only extension of ``old``: same origin, and ``proof`` proves it.

    The proof is RFC 9162's consistency proof from ``old.size`` to ``new.size``
    (:meth:`LogTree.consistency_proof`). A False here, for two checkpoints the same log
    signed, is evidence of a fork or a rollback: keep both.
    """
    if old.origin != new.origin:
        return False
    return verify_consistency(old.size, new.size, old.root, new.root, proof)
