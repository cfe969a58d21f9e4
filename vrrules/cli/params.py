"""Parameter types: a bad value is a usage error naming the option, never a traceback."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

__all__ = [
    "COUNT",
    "ISO_DATE",
    "ISO_MOMENT",
    "SQLITE_MAGIC",
    "STORE_COMPANIONS",
    "Count",
    "ExistingPath",
    "InputFile",
    "IsoDate",
    "IsoMoment",
    "OutputPath",
    "Shard",
    "StoreLocation",
    "output_problem",
    "same_file",
    "store_file",
]

_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class IsoDate(click.ParamType):  # type: ignore[type-arg]
    """A calendar date written ``YYYY-MM-DD``, nothing else (no week dates, no ``20251103``)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value)
        if not _ISO.match(text):
            self.fail(f"expected a date written YYYY-MM-DD (e.g. 2025-11-03), got {text[:40]!r}", param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"expected a real calendar day written YYYY-MM-DD, got {text!r}", param, ctx)


_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


class IsoMoment(click.ParamType):  # type: ignore[type-arg]
    """A day ``YYYY-MM-DD`` (its end, UTC) or a moment ``YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]``."""

    name = "DATE|DATETIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> date | datetime:
        if isinstance(value, date):
            return value
        text = str(value)
        if _ISO.match(text):
            return ISO_DATE.convert(text, param, ctx)
        if not _MOMENT.match(text):
            self.fail(
                "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (e.g. 2026-01-31T17:00Z), "
                f"got {text[:40]!r}",
                param,
                ctx,
            )
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"expected a real moment, got {text!r}", param, ctx)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Count(click.ParamType):  # type: ignore[type-arg]
    """A whole number within bounds (so ``99999999999999999999`` is refused, not overflowed)."""

    name = "N"

    def __init__(self, low: int = 0, high: int = 2**31 - 1) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
                self.fail(
                    f"expected a whole number from {self.low} to {self.high}, got {text[:40]!r}", param, ctx
                )
            number = int(text)
        if not self.low <= number <= self.high:
            self.fail(f"expected a whole number from {self.low} to {self.high}, got {number}", param, ctx)
        return number


class ExistingPath(click.ParamType):  # type: ignore[type-arg]
    """A file or folder that exists (``folder=False``: a file; ``file=False``: a folder)."""

    def __init__(self, *, file: bool = True, folder: bool = True, what: str = "path") -> None:
        self.file, self.folder, self.what = file, folder, what
        self.name = "PATH" if file and folder else "FILE" if file else "DIR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if not path.exists():
            self.fail(f"expected an existing {self.what}, got nothing at {str(path)!r}", param, ctx)
        if path.is_dir() and not self.folder:
            self.fail(f"expected a {self.what} (a file), got the folder {str(path)!r}", param, ctx)
        if not path.is_dir() and not self.file:
            self.fail(f"expected a {self.what} (a folder), got the file {str(path)!r}", param, ctx)
        return path


class InputFile(ExistingPath):
    """An existing file to read (not a folder)."""

    def __init__(self, what: str = "file") -> None:
        super().__init__(file=True, folder=False, what=what)


SQLITE_MAGIC = b"SQLite format 3\x00"  # the first bytes of every SQLite database
# the first bytes of a write-ahead log (either byte order of its checksums) and of a rollback journal
_WAL_MAGICS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
_JOURNAL_MAGIC = b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"
# a -shm file (the write-ahead log's index) starts with its format, 3007000, in the host's byte order
_SHM_VERSIONS = ((3007000).to_bytes(4, "little"), (3007000).to_bytes(4, "big"))
# the files SQLite keeps beside a database while it is written: writing over one loses
# committed records as surely as writing over the database
STORE_COMPANIONS = ("-wal", "-shm", "-journal")


def _head(path: Path) -> bytes:
    """The first bytes of a regular file (through any link); nothing for anything else, so
    that a named pipe or a device given as an output is never opened here."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return b""
        with path.open("rb") as file:
            return file.read(len(SQLITE_MAGIC))
    except OSError:
        return b""


def _sqlite_file(path: Path) -> str | None:
    """What of SQLite's the file ``path`` names (through any link) holds: a database, a
    write-ahead log, a rollback journal, or (by its name) a file kept beside a database;
    None when it is none of them."""
    head = _head(path)
    if head.startswith(SQLITE_MAGIC):
        return "a SQLite database (a store?)"
    if head[:4] in _WAL_MAGICS:
        return "a SQLite write-ahead log (a store's -wal file?)"
    if head.startswith(_JOURNAL_MAGIC):
        return "a SQLite rollback journal (a store's -journal file?)"
    if head[:4] in _SHM_VERSIONS:
        return "a SQLite write-ahead log's index (a store's -shm file?)"
    target = path.resolve()
    for suffix in STORE_COMPANIONS:
        if target.name.endswith(suffix) and len(target.name) > len(suffix):
            database = target.with_name(target.name.removesuffix(suffix))
            if _head(database).startswith(SQLITE_MAGIC):
                return f"the {suffix[1:]} file SQLite keeps beside the database {str(database)!r}"
    return None


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file: the same inode (a hard link, a symlink, another
    spelling), or, where either does not exist yet, the same resolved path."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return first.resolve() == second.resolve()


def output_problem(output: Path, store: Path | None = None) -> str | None:
    """Why ``output`` must not be written, even with ``--force``; None when it may be.

    No command writes a database, so an output is never ``store`` (the store in use) under
    any name (a hard link, a symlink, a path spelled otherwise), nor one of the files SQLite
    keeps beside it, nor any other SQLite database, journal or log, through any link. Every
    command that writes a file asks this before it writes anything (the file is left as it is)."""
    if store is not None:
        for suffix in ("", *STORE_COMPANIONS):
            companion = store.with_name(store.name + suffix)
            if same_file(output, companion):
                what = f"the store {store}" if not suffix else f"the store's {suffix[1:]} file {companion}"
                alias = f" (as {output})" if output.resolve() != companion.resolve() else ""
                return f"expected a file other than the store, got {what}{alias}; name another file"
    kind = _sqlite_file(output)
    if kind is None:
        return None
    return (
        f"expected a file other than the store, got {str(output)!r}, which is {kind}; no command "
        "writes over a database, not even one told to replace its files: name another file"
    )


class OutputPath(click.ParamType):  # type: ignore[type-arg]
    """A file to write: never an existing one unless ``--force`` (eager) was given, never a folder.

    With ``folder=True`` it is a folder to write files into, which may exist.
    """

    def __init__(self, *, folder: bool = False) -> None:
        self.folder = folder
        self.name = "DIR" if folder else "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if str(value) == "":
            self.fail("expected a path to write to, got an empty string", param, ctx)
        if self.folder:
            if path.exists() and not path.is_dir():
                self.fail(f"expected a folder to write into, got the file {str(path)!r}", param, ctx)
            return path
        if path.is_dir():
            self.fail(f"expected a file to write, got the folder {str(path)!r}", param, ctx)
        force = bool(ctx.params.get("force")) if ctx is not None else False
        problem = output_problem(path)
        if problem is not None:
            self.fail(problem, param, ctx)
        if path.exists() and not force:
            self.fail(
                f"expected a new file, got {str(path)!r}, which exists; pass --force to replace it",
                param,
                ctx,
            )
        if not path.parent.is_dir():
            self.fail(f"expected a file in an existing folder, got {str(path)!r}", param, ctx)
        return path


class Shard(click.ParamType):  # type: ignore[type-arg]
    """``K/N``: share ``K`` of ``N`` (``0 <= K < N``, ``N`` from 1 to 1024), as ``(K, N)``."""

    name = "K/N"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        found = re.fullmatch(r"([0-9]{1,4})/([0-9]{1,4})", text)
        if found is None:
            self.fail(f"expected K/N, share K of N counted from 0 (e.g. 0/2), got {text[:40]!r}", param, ctx)
        share, count = int(found[1]), int(found[2])
        if not (1 <= count <= 1024 and share < count):
            self.fail(
                f"expected K/N with 0 <= K < N and N from 1 to 1024 (e.g. 0/2 and 1/2), got {text!r}",
                param,
                ctx,
            )
        return share, count


class StoreLocation(click.ParamType):  # type: ignore[type-arg]
    """``memory``, a SQLite file (``path`` or ``sqlite:///path``) or a ``postgresql://`` URL.

    With ``existing`` a SQLite file must already be there (reading commands never create one).
    """

    name = "STORE"

    def __init__(self, *, existing: bool = True) -> None:
        self.existing = existing

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text in ("memory", ":memory:") or text.startswith(("postgresql://", "postgres://")):
            return text
        if "://" in text and not text.startswith("sqlite:///"):
            self.fail(
                "expected memory, a SQLite file path, sqlite:///path or postgresql://user:pw@host:port/db, "
                f"got {_redacted(text)[:60]!r}",
                param,
                ctx,
            )
        path = store_file(text)
        if path is None or not str(path):
            self.fail("expected a store location, got an empty one", param, ctx)
        if path.is_dir():
            self.fail(f"expected a SQLite store file, got the folder {str(path)!r}", param, ctx)
        if self.existing and not path.exists():
            self.fail(f"expected an existing store, got nothing at {str(path)!r}", param, ctx)
        if not self.existing and not path.parent.exists():
            self.fail(f"expected a store in an existing folder, got {str(path)!r}", param, ctx)
        return text


def _redacted(location: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", location)


def store_file(location: str) -> Path | None:
    """The SQLite file a store location names, or None for memory and servers."""
    if location in ("memory", ":memory:") or location.startswith(("postgresql://", "postgres://")):
        return None
    return Path(location.removeprefix("sqlite:///")) if location.startswith("sqlite:///") else Path(location)


ISO_DATE = IsoDate()
ISO_MOMENT = IsoMoment()
COUNT = Count()
