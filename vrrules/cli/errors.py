"""How the command line fails: one line on stderr, a documented exit code, never a traceback.

Every failure, whatever raised it, is turned here into ``error[code]: message`` on stderr
(and, with ``--json``, an error document on stdout) and an exit code:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     done; every check held
1     a finding: a verify found a difference, an example failed, a spec was refused by ``check``
2     usage: an unknown option, a bad value (date, count, path), a missing argument
3     input: a spec, case file, event, facts file, bundle or store that was refused or unreadable
4     internal: an unexpected exception (a bug); ``--debug`` shows its traceback
130   interrupted (Ctrl-C)
====  ==========================================================================
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import click

from vrrules.errors import EngineError, SpecInvalidError, VrrulesError

__all__ = [
    "EXIT_CODES",
    "EXIT_FINDING",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "Problem",
    "describe",
]

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done; every check held",
    EXIT_FINDING: "a finding: a verify found a difference, an example failed, check refused a spec",
    EXIT_USAGE: "usage: unknown option, bad value (date, count, path), missing argument",
    EXIT_INPUT: "input: a spec, case file, event, facts, bundle or store refused or unreadable",
    EXIT_INTERNAL: "internal: an unexpected exception (a bug); --debug shows the traceback",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

# a line longer than this is cut, pointing at --json for the whole of it
MAX_LINE = 2000


class CommandError(Exception):
    """A failure the command line itself detects, with its code and exit code."""

    def __init__(self, message: str, *, code: str, exit_code: int = EXIT_INPUT, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.exit_code = exit_code
        self.details = details


@dataclass(frozen=True)
class Problem:
    """What the top-level handler prints for one failure."""

    code: str
    message: str
    exit_code: int
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        text = " ".join(self.message.split())
        if len(text) > MAX_LINE:
            text = text[: MAX_LINE - 40].rstrip() + " … (cut; --json gives it whole)"
        return f"error[{self.code}]: {text}"

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "exit_code": self.exit_code}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def _os(*, code: str, fix: str) -> tuple[str, str]:
    return code, fix


_OS_CODES = {
    errno.ENOENT: _os(code="file_missing", fix="check the path"),
    errno.EACCES: _os(code="permission_denied", fix="check the file's permissions"),
    errno.EPERM: _os(code="permission_denied", fix="check the file's permissions"),
    errno.EISDIR: _os(code="path_is_directory", fix="name a file, not a folder"),
    errno.ENOTDIR: _os(code="path_not_directory", fix="check each folder along the path"),
    errno.ENOSPC: _os(code="disk_full", fix="free some space or write elsewhere"),
    errno.EROFS: _os(code="read_only", fix="write to a writable place, or use writable media"),
    errno.EEXIST: _os(code="file_exists", fix="pass --force to replace it, or name another file"),
}
_OS_OTHER = _os(code="os_error", fix="check the path and the device")


def _os_problem(error: OSError) -> Problem:
    code, fix = _OS_CODES.get(error.errno or 0, _OS_OTHER)
    where = f" at {error.filename}" if error.filename else ""
    reason = error.strerror or str(error) or type(error).__name__
    return Problem(
        code=code,
        message=f"expected a file the command can read and write, got '{reason}'{where}; {fix}",
        exit_code=EXIT_INPUT,
        details={"path": str(error.filename) if error.filename else None, "errno": error.errno},
    )


def _store_problem(error: Exception) -> Problem | None:
    text = str(error)
    if "file is not a database" in text or "file is encrypted" in text:
        return Problem(
            code="store_not_vrrules",
            message="expected a vrrules store (a SQLite file), got a file SQLite cannot read "
            f"({text}); check that --store names the store, not another file",
            exit_code=EXIT_INPUT,
        )
    if isinstance(error, sqlite3.Error):
        return Problem(
            code="store_failed",
            message=f"expected the store to answer, got SQLite's '{text}'; check the store file",
            exit_code=EXIT_INPUT,
        )
    if any(kind.__name__ == "PersistenceError" for kind in type(error).__mro__):  # the library's own
        cause = error.__cause__ or error
        if "file is not a database" in str(cause):
            return _store_problem(Exception(str(cause)))
        return Problem(
            code="store_failed",
            message=f"expected the store to answer, got {type(error).__name__}: {cause}; "
            "check the store location and that it is reachable",
            exit_code=EXIT_INPUT,
        )
    return None


def _vrrules_details(error: VrrulesError) -> dict[str, Any]:
    details: dict[str, Any] = {k: v for k, v in error.details.items() if v is not None}
    if isinstance(error, SpecInvalidError):
        details["diagnostics"] = [d.as_dict() for d in error.diagnostics]
    return details


def describe(error: BaseException) -> Problem:
    """The coded problem for any exception that reaches the top of a command."""
    if isinstance(error, CommandError):
        return Problem(error.code, error.message, error.exit_code, dict(error.details))
    if isinstance(error, click.UsageError):
        command = error.ctx.command_path if error.ctx is not None else "vrrules"
        text = error.format_message()
        if isinstance(error, click.MissingParameter) and error.param is not None:
            param = error.param
            hint = param.get_error_hint(error.ctx) if error.ctx is not None else str(param.name)
            kind = "argument" if isinstance(param, click.Argument) else "option"
            text = f"expected the {kind} {hint} ({param.type.name}), got none; give it"
        return Problem(
            code="usage",
            message=f"{text} (see '{command} --help')",
            exit_code=EXIT_USAGE,
            details={"command": command},
        )
    if isinstance(error, KeyboardInterrupt | click.Abort):
        return Problem(
            code="interrupted",
            message="interrupted by the user; what was stored before stays stored",
            exit_code=EXIT_INTERRUPTED,
        )
    if isinstance(error, VrrulesError):
        exit_code = EXIT_INTERNAL if isinstance(error, EngineError) else EXIT_INPUT
        return Problem(error.code, error.message, exit_code, _vrrules_details(error))
    if isinstance(error, RecursionError):
        return Problem(
            code="input_too_deep",
            message="expected input nested to a reasonable depth, got structures nested too deep "
            "to read; flatten the file",
            exit_code=EXIT_INPUT,
        )
    if isinstance(error, MemoryError):
        return Problem(
            code="input_too_large",
            message="expected input that fits in memory, got too much; split it",
            exit_code=EXIT_INPUT,
        )
    store = _store_problem(error) if isinstance(error, Exception) else None
    if store is not None:
        return store
    if isinstance(error, UnicodeDecodeError):
        return Problem(
            code="input_not_text",
            message=f"expected UTF-8 text, got bytes that are not ({error.reason} at byte "
            f"{error.start}); save the file as UTF-8",
            exit_code=EXIT_INPUT,
        )
    if isinstance(error, OSError):
        return _os_problem(error)
    return Problem(
        code="internal",
        message=f"unexpected {type(error).__name__}: {error}; this is a bug in vrrules: run the "
        "command again with --debug (before the command name) for the traceback, and report it",
        exit_code=EXIT_INTERNAL,
        details={"exception": type(error).__name__},
    )
