"""An output path never names the store under any other name, and no input file is read
without a bound: every audit command that writes a file refuses a hard link to the store,
a symlink to it, a path spelled otherwise and the files SQLite keeps beside it, with the
store's bytes unchanged; every option that reads a file refuses an endless one (a device)
at once."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Files, assert_clean_failure, run

USAGE, INPUT = 2, 3

# each audit command that writes a file, with OUT where the output path goes
WRITERS = {
    "checkpoint": ["audit", "checkpoint", "--store", "{store}", "--out", "OUT", "--force", "--no-leaves"],
    "verify html": ["audit", "verify", "--store", "{store}", "--html", "OUT", "--force"],
    "verify shard": ["audit", "verify", "--store", "{store}", "--shard", "0/2", "--out", "OUT", "--force"],
    "digest": ["audit", "digest", "--store", "{store}", "--out", "OUT", "--force"],
    "bundle": ["audit", "bundle", "VR-2025-0101", "--store", "{store}", "--out", "OUT", "--force"],
    "what-if html": ["audit", "what-if", "--store", "{store}", "--html", "OUT", "--force"],
}


def _aliases(store: Path) -> dict[str, Callable[[Path], Path]]:
    def hard_link(tmp: Path) -> Path:
        os.link(store, tmp / "hard.db")
        return tmp / "hard.db"

    def symlink(tmp: Path) -> Path:
        (tmp / "sym.db").symlink_to(store)
        return tmp / "sym.db"

    def spelled(tmp: Path) -> Path:
        return store.parent / "." / ".." / store.parent.name / store.name

    def companion(suffix: str) -> Callable[[Path], Path]:
        def beside(tmp: Path) -> Path:
            path = store.with_name(store.name + suffix)
            if suffix != "-journal":  # one that does not exist yet is refused as well
                path.write_bytes(b"")
            return path

        return beside

    return {
        "hard link": hard_link,
        "symlink": symlink,
        "spelled otherwise": spelled,
        "wal": companion("-wal"),
        "shm": companion("-shm"),
        "journal": companion("-journal"),
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("alias", ["hard link", "symlink", "spelled otherwise", "wal", "shm", "journal"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_output_path_is_the_store_under_another_name(
    files: Files, tmp_path: Path, writer: str, alias: str
) -> None:
    store = files.store_copy(f"store-{abs(hash((writer, alias)))}.db")
    output = _aliases(store)[alias](tmp_path)
    before = _sha(store), _sha(output) if output.exists() else None
    command = [a.replace("{store}", str(store)) for a in WRITERS[writer]]
    args = [a.replace("OUT", str(output)) for a in files.fill(command)]
    ran = run(args)
    assert_clean_failure(ran, USAGE, "usage")
    assert "other than the store" in ran.err
    assert (_sha(store), _sha(output) if output.exists() else None) == before


def test_a_leaves_file_beside_the_checkpoint_that_is_the_store_is_refused(
    files: Files, tmp_path: Path
) -> None:
    store = files.store_copy("leaves-store.db")
    os.link(store, tmp_path / "kept.leaves")
    before = _sha(store)
    ran = run(["audit", "checkpoint", "--store", str(store), "--out", str(tmp_path / "kept"), "--force"])
    assert_clean_failure(ran, USAGE, "usage")
    assert _sha(store) == before


# every command that writes files, with OUT where its --out (or --html) goes, and each file it
# writes there: each command that writes a file is here (test_every_writer_is_listed)
OUTPUTS: dict[str, tuple[list[str], list[str]]] = {
    "checkpoint": (
        ["audit", "checkpoint", "--store", "{store}", "--out", "OUT", "--force"],
        ["OUT", "OUT.leaves", "OUT.heads"],
    ),
    "verify html": (["audit", "verify", "--store", "{store}", "--html", "OUT", "--force"], ["OUT"]),
    "verify shard": (
        ["audit", "verify", "--store", "{store}", "--shard", "0/2", "--out", "OUT", "--force"],
        ["OUT"],
    ),
    "digest": (["audit", "digest", "--store", "{store}", "--out", "OUT", "--force"], ["OUT"]),
    "bundle": (["audit", "bundle", "VR-2025-0101", "--store", "{store}", "--out", "OUT", "--force"], ["OUT"]),
    "what-if html": (["audit", "what-if", "--store", "{store}", "--html", "OUT", "--force"], ["OUT"]),
    "key": (["key", "--signing", "auditor.example", "--out", "OUT", "--force"], ["OUT.key", "OUT.pub"]),
    "schema": (
        ["schema", "--out", "OUT", "--force"],
        ["OUT/vrrules-spec.schema.json", "OUT/vrrules-examples.schema.json", "OUT/cli/error.schema.json"],
    ),
    "handbook": (["handbook", "--out", "OUT", "--force"], ["OUT/handbook.md", "OUT/handbook.html"]),
}

_WAL_HEAD = b"\x37\x7f\x06\x82" + bytes(28)  # a write-ahead log's header: committed records follow


def _put_store_at(alias: str, store: Path, target: Path) -> Path:
    """Make ``target`` a store under another name (or a file SQLite keeps beside one): the
    file whose bytes must survive."""
    target.parent.mkdir(parents=True, exist_ok=True)
    wal = store.with_name(store.name + "-wal")
    if alias.endswith("wal"):
        wal.write_bytes(_WAL_HEAD)
    if alias == "a store":
        shutil.copy(store, target)
        return target
    if alias == "hard link":
        os.link(store, target)
    elif alias == "symlink":
        target.symlink_to(store)
    elif alias == "symlink to its wal":
        target.symlink_to(wal)
    else:
        os.link(wal, target)
    return wal if alias.endswith("wal") else store


@pytest.mark.parametrize(
    "alias", ["a store", "hard link", "symlink", "symlink to its wal", "hard link to its wal"]
)
@pytest.mark.parametrize(
    ("writer", "written"), [(writer, file) for writer, (_, written) in OUTPUTS.items() for file in written]
)
def test_no_command_writes_over_a_store_even_with_force(
    files: Files, tmp_path: Path, writer: str, written: str, alias: str
) -> None:
    """``--force`` replaces a file a command wrote before, never a database: each file every
    command writes, made a store, a link to the store in use or to its -wal file, is refused
    (the store and the file left byte for byte), whether or not the command opens a store."""
    store = files.store_copy(f"out-{abs(hash((writer, written, alias)))}.db")
    out = tmp_path / "out"
    kept = _put_store_at(alias, store, Path(written.replace("OUT", str(out))))
    before = _sha(store), _sha(kept)
    command, _ = OUTPUTS[writer]
    args = [a.replace("{store}", str(store)).replace("OUT", str(out)) for a in files.fill(command)]
    ran = run(args)
    assert_clean_failure(ran, USAGE, "usage")
    assert "other than the store" in ran.err
    assert (_sha(store), _sha(kept)) == before


def test_every_writer_is_listed() -> None:
    """Each command with an output option is in OUTPUTS, so a new one is tested above."""
    from vrrules.cli import cli  # noqa: PLC0415
    from vrrules.cli.params import OutputPath  # noqa: PLC0415

    def writers(group: Any, prefix: str = "") -> set[str]:
        found: set[str] = set()
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                found |= writers(command, f"{prefix}{name} ")
            elif any(isinstance(p.type, OutputPath) or p.name == "force" for p in command.params):
                found.add(f"{prefix}{name}")
        return found

    listed = {" ".join(args[: 2 if args[0] == "audit" else 1]) for args, _ in OUTPUTS.values()}
    assert writers(cli) == listed


# each option that reads a file, with IN where the file goes
READERS = {
    "checkpoint": ["audit", "verify", "--store", "{store}", "--checkpoint", "IN"],
    "since": ["audit", "verify", "--store", "{store}", "--since", "IN"],
    "digest": ["audit", "verify", "--store", "{store}", "--digest", "IN"],
    "public key": ["audit", "verify-bundle", "{bundle}", "--public-key", "IN"],
    "bundle": ["audit", "verify-bundle", "IN", "--checkpoint", "{checkpoint}"],
    "bundle anchor": ["audit", "verify-bundle", "{bundle}", "--checkpoint", "IN"],
    "partial report": ["audit", "merge", "{partial0}", "IN"],
    "signing key": [
        *["audit", "checkpoint", "--store", "{store}", "--out", "{tmp}/c-IN", "--signing-key", "IN"]
    ],
    "case file": ["import", "IN", "--store", "{tmp}/import.db"],
}


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs a device that never ends")
@pytest.mark.parametrize("reader", sorted(READERS))
def test_an_endless_input_is_refused_at_once(files: Files, reader: str) -> None:
    args = [a.replace("IN", "/dev/zero") if a in ("IN",) else a.replace("-IN", "") for a in READERS[reader]]
    ran = run(files.fill(args))
    assert ran.code in (USAGE, INPUT), ran.err
    assert "Traceback" not in ran.err and len(ran.error_lines) == 1, ran.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize(
    "command", [["audit", "verify"], ["audit", "checkpoint", "--out", "{tmp}/c"], ["replay"]]
)
def test_a_store_that_is_a_pipe_or_a_device_is_refused_at_once(
    files: Files, tmp_path: Path, command: list[str]
) -> None:
    """Opening a named pipe blocks until someone writes to it, and a device reads without
    end: a store location naming either is refused before anything opens it (the command
    runs in a daemon thread, so that a regression fails here instead of hanging the run)."""
    import threading  # noqa: PLC0415

    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo)
    for location in (fifo, Path("/dev/zero")):
        found: list[Any] = []
        args = files.fill([*command[:1], *command[1:2], "--store", str(location), *command[2:]])
        worker = threading.Thread(target=lambda a=args, f=found: f.append(run(a)), daemon=True)
        worker.start()
        worker.join(30)
        assert found, f"{args} did not return"
        assert_clean_failure(found[0], INPUT, "store_not_vrrules")


def test_schema_asks_force_before_replacing_any_schema_it_wrote(tmp_path: Path) -> None:
    """Only the two spec schemas were looked at: the cli/ schemas were replaced without --force."""
    out = tmp_path / "schemas"
    assert run(["schema", "--out", str(out)]).code == 0
    for name in ("vrrules-spec.schema.json", "vrrules-examples.schema.json"):
        (out / name).unlink()
    kept = out / "cli" / "error.schema.json"
    kept.write_text("mine")
    ran = run(["schema", "--out", str(out)])
    assert_clean_failure(ran, USAGE, "usage")
    assert "error.schema.json, which exists; pass --force" in ran.err
    assert kept.read_text() == "mine"
    assert run(["schema", "--out", str(out), "--force"]).code == 0 and kept.read_text() != "mine"
