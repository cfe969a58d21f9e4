"""Parameter types: a bad value is a usage error naming the option, never a traceback."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

__all__ = [
    "COUNT",
    "ISO_DATE",
    "ISO_MOMENT",
    "Count",
    "ExistingPath",
    "InputFile",
    "IsoDate",
    "IsoMoment",
    "OutputPath",
    "Shard",
    "StoreLocation",
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


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


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
        if path.is_file() and _is_sqlite(path):
            # no command writes a database: this is a store (maybe the one given), which
            # --force would not replace either
            self.fail(
                f"expected a file other than the store, got {str(path)!r}, which is a SQLite database "
                "(a store?); "
                "name another file",
                param,
                ctx,
            )
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
