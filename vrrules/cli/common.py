"""What every vrrules command shares: the root state, the command class, common options,
and opening stores and specs the way the command line does."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vrrules.cli.errors import EXIT_CODES, EXIT_INTERRUPTED, CommandError
from vrrules.cli.params import SQLITE_MAGIC, StoreLocation, output_problem, store_file

if TYPE_CHECKING:
    from vrrules import CaseRecords, PolicyLibrary
    from vrrules.events.importer import CaseFile
    from vrrules.events.store import CaseStore

# The facade, the specs and the case files are imported where a command uses them: the tree
# loads lazily (vrrules.cli.root), and `vrrules due` needs no more than the store.

__all__ = [
    "CONTEXT",
    "DEMO_STORE",
    "EPILOG",
    "STORE_KEY_VARIABLE",
    "Command",
    "Group",
    "State",
    "force_flag",
    "json_flag",
    "library",
    "load_cases",
    "open_records",
    "open_store",
    "parse_json",
    "read_data",
    "read_limited",
    "refuse_store_as_output",
    "specs_root",
    "store_option",
]

DEMO_STORE = "vrrules-demo.db"
STORE_KEY_VARIABLE = "VRRULES_STORE_KEY"

_F = TypeVar("_F", bound=Callable[..., Any])

EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES.items())
EPILOG += (
    "\n\nEvery failure prints one line on stderr, error[code]: what was expected, what was got,"
    "\nwhere, and how to fix it (codes: docs/errors.md). With --json after a command's name"
    "\n(vrrules audit verify --store S --json), stdout holds one JSON document (shapes:"
    '\ndocs/schemas/cli/), an error document {"error": {...}} on failure.'
    f"\nAn encrypted store is read and written with the key in {STORE_KEY_VARIABLE}."
)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class State:
    """What the root options give every command."""

    specs: Path | None = None
    debug: bool = False


class Command(click.Command):
    """A vrrules command: refuses the global ``--specs`` unless it reads specs from disk."""

    def __init__(self, *args: Any, uses_specs: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)
        self.uses_specs = uses_specs

    def invoke(self, ctx: click.Context) -> Any:
        state = ctx.find_object(State)
        if state is not None and state.specs is not None and not self.uses_specs:
            raise click.UsageError(
                f"expected no --specs for '{ctx.command_path}', which reads no spec folder "
                "(stores carry the policy text their decisions used), got --specs "
                f"{state.specs}; drop --specs",
                ctx,
            )
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # before click turns it into Abort and an empty line on stderr
            raise CommandError(
                "interrupted by the user; what was stored before stays stored",
                code="interrupted",
                exit_code=EXIT_INTERRUPTED,
            ) from None


class Group(click.Group):
    """A group of vrrules commands (the root, ``audit``, ``case``). A group prints no document
    of its own, so it takes no ``--json``: every command under it does, after its name. A
    ``--json`` given to the group is refused with a usage line that says where it goes."""

    command_class = Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # the parser consumes the list it is handed
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            if error.option_name.split("=", 1)[0] != "--json":
                raise
            raise click.UsageError(_json_goes_after(self, ctx, given), ctx) from None


def _json_goes_after(group: click.Group, ctx: click.Context, args: list[str]) -> str:
    """Where a ``--json`` given to ``group`` goes: after the command the rest of ``args``
    names (the corrected line), else after any of the group's commands (they are listed)."""
    path = ctx.command_path
    rest = [arg for arg in args if arg.split("=", 1)[0] != "--json"]
    where = path
    current: click.Command = group
    for arg in rest:  # down the tree along the names given, to a command or the last group
        if not isinstance(current, click.Group):
            break
        found = current.get_command(ctx, arg) if arg in current.list_commands(ctx) else None
        if found is not None:
            where, current = f"{where} {arg}", found
    head = f"expected --json after a command's name, got it after '{path}', a group of commands"
    if not isinstance(current, click.Group):
        corrected = " ".join([path, *(shlex.quote(arg) for arg in rest), "--json"])
        return f"{head}; every command takes --json after its own name: {corrected}"
    return (
        f"{head}; put --json after the command: {where} COMMAND [OPTIONS] --json "
        f"(the commands of '{where}': {', '.join(current.list_commands(ctx))})"
    )


Group.group_class = Group


def json_flag(function: _F) -> _F:
    """``--json``: one JSON document on stdout (its shape under docs/schemas/cli/)."""
    return click.option(
        "--json",
        "json_mode",
        is_flag=True,
        help="print one JSON document on stdout instead of text (shape: docs/schemas/cli/)",
    )(function)


def force_flag(function: _F) -> _F:
    return click.option(
        "--force", is_flag=True, is_eager=True, help="replace output files that already exist"
    )(function)


def store_option(*, existing: bool = True, help_text: str | None = None) -> Callable[[_F], _F]:
    text = (
        help_text or "the store: a SQLite file, sqlite:///path, postgresql://user:pw@host:port/db or memory"
    )
    return click.option("--store", required=True, type=StoreLocation(existing=existing), help=text)


def specs_root(ctx: click.Context, path: Path | None) -> Path | None:
    """The specs folder a command reads: its PATH argument or the global ``--specs``, not both."""
    state = ctx.find_object(State)
    given = state.specs if state is not None else None
    if path is not None and given is not None and path.resolve() != given.resolve():
        raise click.UsageError(
            f"expected one specs folder, got PATH {path} and --specs {given}; give one of them", ctx
        )
    return path or given


def library(root: Path | None) -> PolicyLibrary:
    from vrrules import PolicyLibrary  # noqa: PLC0415  (see the imports)
    from vrrules.events.caseview import CASE_SOURCES  # noqa: PLC0415

    return PolicyLibrary(root, case_sources=CASE_SOURCES)


def open_records(
    location: str, specs: Any = None, *, read_only: bool = False, log_only_without_key: bool = False
) -> CaseRecords:
    """The store as the command line opens it: encrypted when VRRULES_STORE_KEY holds a key;
    ``read_only`` for commands that only read (the store file is then never touched);
    ``log_only_without_key`` for the audits that can check an encrypted store's log without
    its key (the store is then opened sealed when no key is given)."""
    from vrrules import CaseRecords  # noqa: PLC0415  (see the imports)

    path = store_file(location)
    if not read_only and path is not None and path.is_file():
        _refuse_foreign_file(path)
    key = os.environ.get(STORE_KEY_VARIABLE) or None
    return CaseRecords(
        store=location,
        specs=specs,
        encryption_key=key,
        read_only=read_only,
        sealed=read_only and log_only_without_key and key is None,
    )


def open_store(location: str, *, read_only: bool = False) -> CaseStore:
    """The store alone, opened as :func:`open_records` opens it (the same checks and key)."""
    from vrrules.events.store import CaseStore  # noqa: PLC0415  (see the imports)

    path = store_file(location)
    if not read_only and path is not None and path.is_file():
        _refuse_foreign_file(path)
    key = os.environ.get(STORE_KEY_VARIABLE) or None
    return CaseStore(location, encryption_key=key, read_only=read_only)


def _refuse_foreign_file(path: Path) -> None:
    """A file that exists is written to only when it is a vrrules store: never an empty file, a
    file that is not SQLite, or another application's SQLite database (all left untouched)."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if not head:
        raise CommandError(
            f"expected a vrrules store, got an empty file at {str(path)!r}; check that --store names the "
            "store, or delete the empty file to start a new store there",
            code="store_not_vrrules",
            store=str(path),
        )
    if head != SQLITE_MAGIC:
        raise CommandError(
            f"expected a vrrules store (SQLite), got a file that is not SQLite at {str(path)!r} "
            f"(it starts {head[:8]!r}); check that --store names the store",
            code="store_not_vrrules",
            store=str(path),
        )
    try:
        with closing(sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return  # the library's own open reports what is wrong with it
    if tables and "stored_events" not in tables:
        raise CommandError(
            f"expected a vrrules store, got another SQLite database at {str(path)!r} (tables "
            f"{', '.join(sorted(tables)[:5])}); it was left untouched: check that --store names the store",
            code="store_not_vrrules",
            store=str(path),
        )


def refuse_store_as_output(store: str | None, outputs: dict[str, Path | None], ctx: click.Context) -> None:
    """Every file a command writes, asked before anything is written (a usage error naming
    the option, even with ``--force``): never ``store`` (the store in use, None for commands
    that open none) under any name, nor a file SQLite keeps beside it, nor any other SQLite
    database, journal or log (see :func:`~vrrules.cli.params.output_problem`)."""
    path = store_file(store) if store is not None else None
    for option, output in outputs.items():
        if output is None:
            continue
        problem = output_problem(output, path)
        if problem is not None:
            raise click.BadParameter(problem, ctx, param_hint=option)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """A file's bytes, refused when larger than ``limit`` (so no input costs a multi-second
    parse). At most ``limit`` + 1 bytes are read, whatever the file claims its size is (a
    file growing as it is read); a device such as /dev/zero, a pipe, a socket or a folder is
    refused (file_not_regular) before it is opened for reading."""
    from vrrules.policies.reading import read_at_most  # noqa: PLC0415  (a device, pipe or folder: refused)

    data = read_at_most(path, limit + 1, what)
    if len(data) > limit:
        size = path.stat().st_size
        raise CommandError(
            f"expected a {what} of at most {limit:,} bytes, got "
            + (f"{size:,} bytes" if size > limit else "more")
            + f" at {path}; split it",
            code="input_too_large",
            path=str(path),
        )
    return data


def read_data(path: Path, what: str, limit: int, *, holds: str, fix: str) -> dict[str, Any]:
    """A YAML or JSON file's mapping (YAML read strictly: no aliases, tags or duplicate keys).

    ``holds`` says what the file should contain (every such file holds a mapping) and ``fix``
    how to write it: an empty file (nothing but blank lines and comments), and a file holding
    anything but a mapping (``null`` or ``~``, a list, text, a number), are refused with those
    words, not the spec reader's. An empty mapping (``{}``) is returned as it is."""
    raw = read_limited(path, limit, what)
    text = raw.decode("utf-8")
    if _blank(text):
        raise _empty(path, what, holds, fix)
    if path.suffix.lower() == ".json":
        return _mapping(parse_json(text, path, what), path, what, holds, fix)
    from vrrules.policies.yamlsource import read_yaml  # noqa: PLC0415  (see the imports)

    document, diagnostics = read_yaml(text, str(path))
    if any(d.code == "yaml_empty" for d in diagnostics):  # no data (a lone '---', say)
        raise _empty(path, what, holds, fix)
    if document is None or diagnostics:
        raise CommandError(
            f"expected a {what} in YAML, got: " + "; ".join(str(d) for d in diagnostics),
            code="input_invalid",
            path=str(path),
        )
    return _mapping(document.data, path, what, holds, fix)


def parse_json(text: str, path: Path, what: str, *, code: str = "input_invalid") -> Any:
    """A JSON input file's data, read strictly (every JSON file the command line reads): a key
    twice in one object (JSON readers keep the last, silently) and a whole number too long to
    read (past Python's int-string conversion limit) are refused as malformed JSON is, with
    ``code``, naming the file, and the line where it is known."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in pairs:
            if key in data:
                raise CommandError(
                    f"expected each key once in every JSON object of a {what}, got {key!r} twice in "
                    f"one object of {path}; keep one of the two entries (a JSON reader keeps the last "
                    "without a word)",
                    code=code,
                    path=str(path),
                )
            data[key] = value
        return data

    try:
        return json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"expected a {what} in JSON, got {error.msg} at line {error.lineno} of {path}",
            code=code,
            path=str(path),
        ) from None
    except ValueError:  # int() of a number past the limit: json raises nothing else of its own
        limit = sys.get_int_max_str_digits()
        line = _line_of_long_number(text, limit)
        raise CommandError(
            f"expected a {what} in JSON with whole numbers of at most {limit:,} digits, got a longer one"
            + (f" at line {line}" if line is not None else "")
            + f" of {path}; write the number the value means (a run of digits that is text is quoted)",
            code=code,
            path=str(path),
        ) from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _line_of_long_number(text: str, limit: int) -> int | None:
    """The line of the first whole number of more than ``limit`` digits in a JSON text
    (strings blanked first, so that digits in text are not taken for one)."""
    bare = _JSON_STRING.sub(lambda found: "x" * len(found[0]), text)
    found = re.search(rf"(?<![0-9.])[0-9]{{{limit + 1},}}(?![0-9.eE])", bare)
    return bare.count("\n", 0, found.start()) + 1 if found is not None else None


def _mapping(data: Any, path: Path, what: str, holds: str, fix: str) -> dict[str, Any]:
    """``data`` if it is a mapping; else the file is refused saying what it should hold (a
    file of ``null`` was taken for no facts at all, a decision recorded without them)."""
    if isinstance(data, dict):
        return data
    raise CommandError(
        f"expected a {what} holding {holds}, got {_described(data)} at {path}; {fix}",
        code="input_invalid",
        path=str(path),
    )


def _described(data: Any) -> str:
    """What a file holds instead of a mapping, in a few words."""
    if data is None:
        return "null (YAML 'null' or '~', JSON null), which holds nothing"
    if isinstance(data, bool):
        return f"{str(data).lower()} alone"
    if isinstance(data, list):
        return f"a list of {len(data)} item(s), not a mapping"
    if isinstance(data, str):
        shown = data if len(data) <= 60 else data[:57] + "..."
        return f"the text {shown!r} alone"
    if isinstance(data, int | float):
        return f"the number {data!r} alone"
    return f"{type(data).__name__}, not a mapping"  # pragma: no cover - YAML and JSON give no other


def _blank(text: str) -> bool:
    """Whether a YAML or JSON text holds nothing: only blank lines, comments and document
    markers (looked at line by line up to the first that holds something)."""
    for line in text.lstrip("\ufeff").splitlines():
        words = line.strip()
        if words and not words.startswith("#") and words not in ("---", "..."):
            return False
    return True


def _empty(path: Path, what: str, holds: str, fix: str) -> CommandError:
    return CommandError(
        f"expected a {what} holding {holds}, got an empty file (nothing but blank lines or "
        f"comments) at {path}; {fix}",
        code="input_invalid",
        path=str(path),
    )


# What a case file holds, and how to write one, for the messages about it.
CASE_FILE_HOLDS = (
    "a mapping with 'cases': a list of cases, each with 'case_ref', 'opened_on' and 'steps' "
    "(events to 'record' with their 'payload', families to 'decide')"
)


def _case_file_fix() -> str:
    from vrrules.samples import SAMPLE_CASES  # noqa: PLC0415  (see the imports)

    return f"write the cases in that form, as the sample case file does ({SAMPLE_CASES})"


def load_cases(path: Path) -> CaseFile:
    """A YAML or JSON case file (the importer's format), size-limited, validated."""
    from pydantic import ValidationError  # noqa: PLC0415  (see the imports)

    from vrrules.events.importer import (  # noqa: PLC0415
        CASE_FILE_LIMIT,
        CaseFile,
        case_file_from,
        read_case_document,
    )

    if path.suffix.lower() == ".json":
        data = read_data(path, "case file", CASE_FILE_LIMIT, holds=CASE_FILE_HOLDS, fix=_case_file_fix())
        try:
            return CaseFile.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                for item in error.errors(include_url=False)
            )
            raise CommandError(
                f"{path}: expected a case file (cases: [...]), got: {problems}", code="event_invalid"
            ) from None
    raw = read_limited(path, CASE_FILE_LIMIT, "case file")
    text = raw.decode("utf-8")
    if _blank(text):  # before the importer, whose reader would point at specs
        raise _empty(path, "case file", CASE_FILE_HOLDS, _case_file_fix())
    document = read_case_document(text, path)
    # not a mapping (null, a list, text): refused as the empty file is, not in pydantic's words
    _mapping(document.data, path, "case file", CASE_FILE_HOLDS, _case_file_fix())
    return case_file_from(document, path)
