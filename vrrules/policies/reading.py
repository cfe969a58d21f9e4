"""Reading a file vrrules is given, whatever it turns out to be.

A path that is not a regular file (a device such as ``/dev/zero``, a named pipe, a socket,
a folder, or a link to one) is refused before anything opens it for reading, and no more
than the count asked for is ever read, whatever size the file claims. Every reader of
specs, worked examples, case and facts files goes through :func:`read_at_most`; it needs
nothing but the standard library, so the due list's fingerprint of the spec files reads
through it without loading the YAML reader.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from vrrules.errors import Diagnostic, FileNotRegularError

__all__ = ["SOURCE_FILE_LIMIT", "read_at_most"]

# A spec or worked-examples file larger than this is refused unread: the largest spec in
# specs/ is some 25 kB, and a parse of megabytes would stall every library load.
SOURCE_FILE_LIMIT = 4_000_000

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO), which blocks until something writes to it"),
    (stat.S_ISCHR, "a character device, which may read without end"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _not_regular(path: Path, what: str, mode: int) -> FileNotRegularError:
    target = os.path.realpath(path)
    via = f" (a link to {target})" if target != os.path.abspath(path) else ""
    return FileNotRegularError(
        Diagnostic(
            code="file_not_regular",
            message=f"expected the {what} to be a regular file, got {_kind(mode)} at {path}{via}; "
            "nothing was read from it",
            file=str(path),
            hint=f"put the {what}'s text in a regular file, or remove {path.name!r}",
        )
    )


def read_at_most(path: Path, count: int, what: str) -> bytes:
    """At most ``count`` bytes of the regular file ``path``.

    Anything else raises :class:`FileNotRegularError` before it is opened for reading (it is
    looked at with ``stat`` first, and opened without blocking, then looked at again, should
    it have been swapped in between). ``OSError`` (a missing file, permissions) is the caller's."""
    if not stat.S_ISREG(mode := os.stat(path).st_mode):
        raise _not_regular(path, what, mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    handle = os.open(path, flags)
    try:
        if not stat.S_ISREG(mode := os.fstat(handle).st_mode):
            raise _not_regular(path, what, mode)
        chunks: list[bytes] = []
        left = count
        while left > 0:
            chunk = os.read(handle, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)
