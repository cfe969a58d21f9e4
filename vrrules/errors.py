"""One error root for vrrules, with stable codes.

Every error a caller can meet is a :class:`VrrulesError`. Each subclass also inherits
the builtin exception that callers already catch (``ValueError`` for bad input,
``LookupError`` for things that are not there), and carries a stable ``code`` that
``docs/errors.md`` explains. Messages say what was expected, what was got, where,
and how to fix it; the offending values are kept as attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "ArgumentInvalidError",
    "CaseConflictError",
    "CaseExistsError",
    "CaseUnknownError",
    "Diagnostic",
    "EngineError",
    "EventInvalidError",
    "FactsInvalidError",
    "FileNotRegularError",
    "ParameterMissingError",
    "PolicyNotInForceError",
    "ReleaseUnknownError",
    "RulesConflictError",
    "SpecInvalidError",
    "StoreConfigError",
    "StoreDamagedError",
    "StoreKeyError",
    "VersionAlreadyPublishedError",
    "VersionAlreadyUsedError",
    "VrrulesError",
]


class VrrulesError(Exception):
    """Root of every error vrrules raises on purpose."""

    code: ClassVar[str] = "vrrules_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Diagnostic:
    """One problem found while loading or compiling a spec: errors as data."""

    code: str
    message: str
    file: str
    line: int | None = None
    rule: str | None = None
    field: str | None = None
    severity: str = "error"
    hint: str | None = None

    @property
    def location(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
        parts = [place]
        if self.rule:
            parts.append(f"rule {self.rule!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: [{self.code}] {self.message}"
        if self.hint:
            text += f" Fix: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "rule": self.rule,
            "field": self.field,
            "hint": self.hint,
        }


class SpecInvalidError(VrrulesError, ValueError):
    """A policy spec was refused; ``diagnostics`` lists every problem found."""

    code = "spec_invalid"

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        head = f"{len(errors)} problem(s) in policy spec(s):"
        super().__init__("\n".join([head, *(f"  {d}" for d in errors)]))

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]


class FactsInvalidError(VrrulesError, ValueError):
    """Facts given for a decision do not match what the family declares."""

    code = "facts_invalid"


class EventInvalidError(VrrulesError, ValueError):
    """An event payload failed validation; nothing was stored."""

    code = "event_invalid"


class ParameterMissingError(VrrulesError, LookupError):
    """A spec parameter has no published value on the date a decision needs it."""

    code = "parameter_missing"


class PolicyNotInForceError(VrrulesError, LookupError):
    """No version of a policy family is in force on the requested date."""

    code = "policy_not_in_force"


class CaseUnknownError(VrrulesError, LookupError):
    """No case with this reference is recorded in the store."""

    code = "case_unknown"


class CaseExistsError(VrrulesError, ValueError):
    """A case with this reference is already open."""

    code = "case_exists"


class CaseConflictError(VrrulesError, RuntimeError):
    """Another writer appended to the case first and retrying did not settle it."""

    code = "case_conflict"


class ReleaseUnknownError(VrrulesError, LookupError):
    """A recorded decision names a policy release the store does not hold."""

    code = "release_unknown"


class VersionAlreadyPublishedError(VrrulesError, ValueError):
    """Different content was offered under a version id that is already published."""

    code = "version_already_published"


class RulesConflictError(VrrulesError, RuntimeError):
    """Rules of a 'unique' or 'any' family applied together where their hit policy forbids it."""

    code = "rules_conflict"


class StoreKeyError(VrrulesError, ValueError):
    """The store's encryption key is missing, malformed or not the one it was written with."""

    code = "store_key_invalid"


class StoreConfigError(VrrulesError, ValueError):
    """The store location could not be understood."""

    code = "store_config_invalid"


class EngineError(VrrulesError, RuntimeError):
    """durable_rules failed while evaluating; the message keeps its own words."""

    code = "engine_failure"


class LogRecordInvalidError(VrrulesError, ValueError):
    """A stored record could not be encoded as a log leaf, or leaf bytes could not be decoded."""

    code = "log_record_invalid"


class LogHashInvalidError(VrrulesError, ValueError):
    """A value given as a log hash (leaf, node or root) is not a 32-byte SHA-256 digest."""

    code = "log_hash_invalid"


class LogProofMalformedError(VrrulesError, ValueError):
    """Arguments that cannot form a Merkle proof: bad sizes, index past the end, wrong hash count."""

    code = "log_proof_malformed"


class LogSizeError(VrrulesError, LookupError):
    """A tree size or leaf index beyond what the log holds was asked for."""

    code = "log_size_out_of_range"


class CaseHeadsInvalidError(VrrulesError, ValueError):
    """A list of case heads (stored id, last version, leaf index) was refused."""

    code = "case_heads_invalid"


class CheckpointMalformedError(VrrulesError, ValueError):
    """A checkpoint or signed note does not follow the C2SP text format."""

    code = "checkpoint_malformed"


class CheckpointSignatureError(VrrulesError, ValueError):
    """A trusted key's signature on a checkpoint does not verify, or the trusted keys are ambiguous."""

    code = "checkpoint_signature_invalid"


class CheckpointUnverifiedError(VrrulesError, LookupError):
    """A checkpoint carries no signature by any of the trusted keys."""

    code = "checkpoint_unverified"


class SigningKeyInvalidError(VrrulesError, ValueError):
    """A signer or verifier key string is malformed, of an unknown algorithm, or its key hash is wrong."""

    code = "signing_key_invalid"


# The verifiable log's errors (vrrules.events.tlog and vrrules.audit.checkpoint).
__all__ += [
    "CaseHeadsInvalidError",
    "CheckpointMalformedError",
    "CheckpointSignatureError",
    "CheckpointUnverifiedError",
    "LogHashInvalidError",
    "LogProofMalformedError",
    "LogRecordInvalidError",
    "LogSizeError",
    "SigningKeyInvalidError",
]  # end of the verifiable log's errors


class VersionAlreadyUsedError(VrrulesError, ValueError):
    """Different content was offered under a version id that recorded decisions already used."""

    code = "version_already_used"


class ArgumentInvalidError(VrrulesError, ValueError):
    """A Python API argument has the wrong type or form (a date that is not ISO, a version out of range)."""

    code = "argument_invalid"


class StoreUnavailableError(VrrulesError, RuntimeError):
    """The store could not be reached or opened: a server that does not answer in time, a
    missing file, a full disk, a file the process may not read."""

    code = "store_unavailable"


class StoreNotVrrulesError(VrrulesError, ValueError):
    """The store location names something that is not a vrrules store (an empty file, a file
    that is not SQLite, a SQLite database without vrrules' tables); it was left untouched."""

    code = "store_not_vrrules"


class FileNotRegularError(VrrulesError, ValueError):
    """A file to be read is a device, a pipe, a socket or a folder; nothing was read from it."""

    code = "file_not_regular"

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic), path=diagnostic.file)
        self.diagnostic = diagnostic


class StoreDamagedError(VrrulesError, ValueError):
    """A stored aggregate's records no longer read as one (a version missing or repeated, a
    record that does not decode, an id in another form): the store was altered or damaged.
    Nothing was changed; the audit names the first bad record."""

    code = "store_damaged"


class StoreReadOnlyError(VrrulesError, PermissionError):
    """A change was asked of a store opened read-only (as every audit opens it)."""

    code = "store_read_only"


__all__ += ["StoreNotVrrulesError", "StoreReadOnlyError", "StoreUnavailableError"]


class LogMigrationRefusedError(VrrulesError, ValueError):
    """``vrrules audit migrate`` would not build the log: a chain is broken, or records without
    leaves are newer than the log; nothing was written."""

    code = "log_migration_refused"


__all__ += ["LogMigrationRefusedError"]


class DueProjectionInvalidError(VrrulesError, ValueError):
    """The due list's tables hold something that does not read back (a row changed by hand, or
    written with another store key); nothing was answered from them."""

    code = "due_projection_invalid"


class DueProjectionConflictError(VrrulesError, RuntimeError):
    """Other processes kept moving the due list's projection on while this one caught up."""

    code = "due_projection_conflict"


__all__ += ["DueProjectionConflictError", "DueProjectionInvalidError"]
