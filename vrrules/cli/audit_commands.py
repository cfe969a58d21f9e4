"""``vrrules audit ...``: verify a store (chains, replays, digest), look back, what-if, bundles.

Each command is a plain function of its options, so the checkpoint options of the
verifiable-log work can be added to it without reshaping the tree.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from vrrules.audit import (
    AuditReport,
    case_as_of,
    check_migration,
    export_bundle,
    impact,
    merge_reports,
    migrate_log,
    store_digest,
    verify_bundle,
    verify_store,
)
from vrrules.audit.checkpoint import (
    MAX_NOTE_BYTES,
    ParsedCheckpoint,
    SignerKey,
    VerifierKey,
    parse_checkpoint,
)
from vrrules.audit.corrections import corrections
from vrrules.audit.log import (
    StoreLog,
    checkpoint_heads,
    checkpoint_leaves,
    make_checkpoint,
    read_checkpoint_file,
)
from vrrules.audit.report import render_html
from vrrules.cli.common import (
    STORE_KEY_VARIABLE,
    Command,
    Group,
    force_flag,
    json_flag,
    library,
    open_records,
    parse_json,
    read_limited,
    refuse_store_as_output,
    specs_root,
    store_option,
)
from vrrules.cli.errors import EXIT_OK, CommandError
from vrrules.cli.output import Output, dumps, facts_text, outcome_text, progress
from vrrules.cli.params import ISO_DATE, ISO_MOMENT, Count, ExistingPath, OutputPath, Shard
from vrrules.errors import CaseUnknownError, SigningKeyInvalidError, SpecInvalidError, VrrulesError

__all__ = ["audit"]

DIGEST_LIMIT = 64_000
BUNDLE_LIMIT = 512_000_000
KEY_LIMIT = 64_000
PARTIAL_LIMIT = 512_000_000
LEAVES_SUFFIX = ".leaves"
HEADS_SUFFIX = ".heads"
HEADS_LIMIT = 32 * 100_000_000  # a hundred million cases
LEAF_SIZE = 32
LEAVES_LIMIT = LEAF_SIZE * 100_000_000  # a hundred million records
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@click.group(cls=Group)
def audit() -> None:
    """Verify a store against checkpoints kept apart: its log, chains, replayed decisions;
    look back; bundles.

    Every command here takes --json after its own name (vrrules audit verify --store S
    --json); the group itself prints no document.

    \b
    Examples:
      vrrules audit checkpoint --store vrrules-demo.db --out week-48.checkpoint
      vrrules audit verify --store vrrules-demo.db --since week-48.checkpoint
      vrrules audit verify --store vrrules-demo.db --checkpoint week-48.checkpoint --json
    """


def _read_digest(path: Path) -> str:
    text = read_limited(path, DIGEST_LIMIT, "digest file").decode("utf-8", "replace").split()
    if not text:
        raise CommandError(
            f"expected the digest written by 'vrrules audit digest' (64 hex digits), got an empty file "
            f"at {path}; give the file you kept",
            code="digest_invalid",
            path=str(path),
        )
    if not _DIGEST.match(text[0]):
        raise CommandError(
            f"expected the digest written by 'vrrules audit digest' (64 hex digits), got {text[0][:70]!r} "
            f"in {path}; give the file you kept",
            code="digest_invalid",
            path=str(path),
        )
    return text[0]


def _read_text(path: Path, limit: int, what: str) -> str:
    return read_limited(path, limit, what).decode("utf-8")


def _read_verifier_keys(paths: Sequence[Path]) -> list[str]:
    """The verifier keys in ``--public-key`` files: one key text a line (``#`` lines are notes)."""
    keys: list[str] = []
    for path in paths:
        found = [
            line.strip()
            for line in _read_text(path, KEY_LIMIT, "public key file").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        if not found:
            raise SigningKeyInvalidError(
                f"{path}: expected a verifier key (name+hash+key, as `vrrules key --signing` writes to "
                "PREFIX.pub), got an empty file; give the .pub file of whoever signs the checkpoints",
                path=str(path),
            )
        for text in found:
            if text.startswith("PRIVATE+KEY+"):
                raise SigningKeyInvalidError(
                    f"{path}: expected a verifier key (PREFIX.pub), got a signer key, which must stay "
                    "secret; give the .pub file instead",
                    path=str(path),
                )
            with _naming(path):
                VerifierKey.parse(text)  # refused at once when malformed: signing_key_invalid
        keys.extend(found)
    return keys


def _read_signer_key(path: Path) -> str:
    text = _read_text(path, KEY_LIMIT, "signing key file").strip()
    with _naming(path):
        SignerKey.parse(text)  # signing_key_invalid, naming what is wrong (never the key itself)
    return text


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """A library error about a file's content, re-raised with the file named first."""
    try:
        yield
    except VrrulesError as error:
        if str(path) in error.message or isinstance(error, SpecInvalidError):
            raise
        raise type(error)(f"{path}: {error.message}", **error.details) from None


def _leaves_path(checkpoint: Path) -> Path:
    return Path(f"{checkpoint}{LEAVES_SUFFIX}")


def _heads_path(checkpoint: Path) -> Path:
    return Path(f"{checkpoint}{HEADS_SUFFIX}")


def _read_checkpoint(path: Path, keys: Sequence[str] = ()) -> ParsedCheckpoint:
    """A kept checkpoint, signed by one of ``keys`` when any are given (coded errors otherwise)."""
    read_limited(path, MAX_NOTE_BYTES, "checkpoint file")
    with _naming(path):
        return read_checkpoint_file(path, keys)


def _read_kept(path: Path, keys: Sequence[str]) -> tuple[ParsedCheckpoint, bytes | None, bytes | None]:
    """A checkpoint with the leaf hashes (``C.leaves``) and the case heads (``C.heads``) kept
    beside it, each None where it is not there (the heads are used only when they are the
    ones the checkpoint commits to)."""
    parsed = _read_checkpoint(path, keys)
    heads_file = _heads_path(path)
    heads = read_limited(heads_file, HEADS_LIMIT, "heads file") if heads_file.is_file() else None
    leaves_file = _leaves_path(path)
    if not leaves_file.is_file():
        return parsed, None, heads
    leaves = read_limited(leaves_file, LEAVES_LIMIT, "leaves file")
    if len(leaves) % LEAF_SIZE or len(leaves) < LEAF_SIZE * parsed.checkpoint.size:
        raise CommandError(
            f"expected the leaves file written beside {path} ({parsed.checkpoint.size} leaf hashes of "
            f"{LEAF_SIZE} bytes), got {len(leaves):,} bytes at {leaves_file}; keep the two files together "
            "as `vrrules audit checkpoint` wrote them, or remove the leaves file",
            code="leaves_invalid",
            path=str(leaves_file),
        )
    return parsed, leaves, heads


def _first_problems(report: AuditReport, digest: Path | None) -> str:
    """What did not hold, the first bad record first."""
    problems = []
    if report.log is not None and report.log.findings:
        findings = report.log.findings
        problems.append(f"{len(findings)} log finding(s), first: {findings[0]}")
    if report.broken:
        first = report.broken[0]
        problems.append(
            f"{len(report.broken)} broken chain(s), first case {first.case_ref} at event {first.broken_at}"
        )
    if report.failures:
        first_failure = report.failures[0]
        problems.append(
            f"{len(report.failures)} decision(s) not reproduced, first "
            f"{first_failure.case_ref}@{first_failure.case_version}"
        )
    if report.digest_matches is False:
        kept = f" in {digest}" if digest is not None else ""
        problems.append(f"digest {report.digest} differs from the one kept{kept}")
    return "expected an intact, reproduced store, got " + "; ".join(problems)


@audit.command(cls=Command)
@store_option()
@click.option(
    "--out",
    required=True,
    type=OutputPath(),
    help="checkpoint file to write (keep it apart from the store); OUT.leaves is written beside it",
)
@click.option(
    "--signing-key",
    type=ExistingPath(file=True, folder=False, what="signing key file"),
    default=None,
    help="sign the checkpoint with this key (PREFIX.key from 'vrrules key --signing')",
)
@click.option(
    "--origin",
    default=None,
    help="the log's name in the checkpoint (default: the store's own; 'audit verify' expects that one)",
)
@click.option(
    "--no-leaves", is_flag=True, help="write the checkpoint alone, without the OUT.leaves file beside it"
)
@force_flag
@json_flag
@click.pass_context
def checkpoint(
    ctx: click.Context,
    *,
    store: str,
    out: Path,
    signing_key: Path | None,
    origin: str | None,
    no_leaves: bool,
    force: bool,
    json_mode: bool,
) -> int:
    """Write a checkpoint of the store's log (a C2SP signed note), to keep apart from the store.

    The checkpoint commits to every record stored so far; a later 'audit verify
    --checkpoint' or '--since' proves the store only grew since. OUT.leaves, the leaf
    hashes, lets that audit name the exact first record that changed.

    \b
    Examples:
      vrrules audit checkpoint --store vrrules-demo.db --out week-48.checkpoint
      vrrules audit checkpoint --store vrrules-demo.db --signing-key auditor.key --out week-48.checkpoint
    """
    output = Output(json_mode)
    leaves_out = None if no_leaves else _leaves_path(out)
    heads_out = None if no_leaves else _heads_path(out)
    for beside in (leaves_out, heads_out):
        if beside is not None and (beside.is_dir() or (beside.exists() and not force)):
            raise click.BadParameter(  # the same rules as --out itself
                f"expected a new file beside the checkpoint, got {str(beside)!r}, which exists; pass "
                "--force to replace it (or --no-leaves)"
                if not beside.is_dir()
                else f"expected a file beside the checkpoint, got the folder {str(beside)!r}",
                ctx,
                param_hint="--out",
            )
    refuse_store_as_output(
        store,
        {"--out": out, "--out (its .leaves file)": leaves_out, "--out (its .heads file)": heads_out},
        ctx,
    )
    if origin is not None and (not origin or any(c.isspace() for c in origin) or len(origin) > 200):
        raise click.BadParameter(
            f"expected a log name with no spaces (e.g. example.org/cases), got {origin[:60]!r}",
            ctx,
            param_hint="--origin",
        )
    signer = _read_signer_key(signing_key) if signing_key is not None else None
    with open_records(store, read_only=True, log_only_without_key=True) as records:
        log = StoreLog(records.store)  # read once: the checkpoint and its leaves describe one log
        text = make_checkpoint(records, signer, origin=origin, log=log)
        leaves = checkpoint_leaves(records, log=log) if leaves_out is not None else None
        heads = checkpoint_heads(records, log=log) if heads_out is not None else None
    parsed = parse_checkpoint(text).checkpoint
    out.write_text(text, encoding="utf-8")
    if leaves_out is not None and leaves is not None:
        leaves_out.write_bytes(leaves)
    if heads_out is not None and heads is not None:
        heads_out.write_bytes(heads)
    signed_by = SignerKey.parse(signer).name if signer is not None else None
    document = {
        "written": str(out),
        "leaves": str(leaves_out) if leaves_out is not None else None,
        "heads": str(heads_out) if heads_out is not None else None,
        "origin": parsed.origin,
        "size": parsed.size,
        "root": parsed.root.hex(),
        "signed_by": signed_by,
        "checkpoint": text,
    }

    def render() -> None:
        also = f", {leaves_out} and {heads_out}" if leaves_out is not None else ""
        output.text(f"wrote {out}{also}: {parsed.size} records, root {parsed.root.hex()[:16]}…")
        output.text(f"origin {parsed.origin}, " + (f"signed by {signed_by}" if signed_by else "unsigned"))

    output.result(document, render)
    output.note("# keep the checkpoint apart from the store: an audit is only as good as where it is kept")
    return EXIT_OK


@audit.command(cls=Command)
@store_option()
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=ExistingPath(file=True, folder=False, what="checkpoint file"),
    help="a checkpoint kept earlier: prove the store extends it (repeatable; reads C.leaves beside it)",
)
@click.option(
    "--since",
    type=ExistingPath(file=True, folder=False, what="checkpoint file"),
    default=None,
    help="the last checkpoint kept: prove the store extends it, check only what came after it",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=ExistingPath(file=True, folder=False, what="public key file"),
    help="every checkpoint given must be signed by one of these keys (PREFIX.pub; repeatable)",
)
@click.option(
    "--digest",
    type=ExistingPath(file=True, folder=False, what="digest file"),
    default=None,
    help="file holding the digest kept earlier (from 'vrrules audit digest'); it must match",
)
@click.option(
    "--html", type=OutputPath(), default=None, help="also write a readable HTML report to this file"
)
@click.option("--per-case", is_flag=True, help="a line per case as it is verified (in --json: a list)")
@click.option(
    "--workers",
    type=Count(1, 64),
    default=1,
    show_default=True,
    help="processes to share the cases among (a store on disk or a server)",
)
@click.option(
    "--shard",
    type=Shard(),
    default=None,
    help="verify share K of N only (0/2 and 1/2 on two hosts), writing a partial report to --out",
)
@click.option(
    "--out",
    type=OutputPath(),
    default=None,
    help="with --shard: the partial report to write, for 'vrrules audit merge'",
)
@force_flag
@json_flag
@click.pass_context
def verify(
    ctx: click.Context,
    *,
    store: str,
    checkpoints: tuple[Path, ...],
    since: Path | None,
    public_keys: tuple[Path, ...],
    digest: Path | None,
    html: Path | None,
    per_case: bool,
    workers: int,
    shard: tuple[int, int] | None,
    out: Path | None,
    force: bool,
    json_mode: bool,
) -> int:
    """Check the store's log against the checkpoints kept, every chain, every decision replayed.

    Exit 0 only if the log extends every checkpoint given, every chain is intact, every
    decision reproduces and the digest (when given) matches; exit 1 naming the first bad
    record otherwise. Without --checkpoint or --since an intact store still exits 0, but
    the verdict says "not anchored": nothing proves it was not rolled back.

    \b
    Examples:
      vrrules audit verify --store vrrules-demo.db --since week-48.checkpoint
      vrrules audit verify --store vrrules-demo.db --checkpoint week-48.checkpoint --public-key auditor.pub
      vrrules audit verify --store vrrules-demo.db --shard 0/2 --out part-0.json
      vrrules audit verify --store vrrules-demo.db --json --per-case
      vrrules audit verify --store big.db --workers 2 --html report.html
    """
    output = Output(json_mode)
    refuse_store_as_output(store, {"--html": html, "--out": out}, ctx)
    if (shard is None) != (out is None):
        raise click.UsageError(
            "expected --shard K/N and --out PARTIAL.json together (the partial report goes to --out), got "
            + ("--shard without --out" if out is None else "--out without --shard"),
            ctx,
        )
    if shard is not None and html is not None:
        raise click.UsageError(
            "expected no --html with --shard (a share is not the whole store), got both; write the HTML "
            "report from a full run",
            ctx,
        )
    if since is not None and digest is not None:
        raise click.UsageError(
            "expected --since or --digest, got both: --since checks only what came after the checkpoint, "
            "and the digest covers the whole store",
            ctx,
        )
    keys = _read_verifier_keys(public_keys)
    if keys and not checkpoints and since is None:
        raise click.UsageError(
            "expected --checkpoint or --since with --public-key (the key checks a checkpoint's "
            "signature), got none",
            ctx,
        )
    kept = [_read_kept(path, keys) for path in checkpoints]
    base = _read_kept(since, keys) if since is not None else None
    expected = _read_digest(digest) if digest is not None else None
    lines: list[str] = []

    def on_case(line: str) -> None:
        if json_mode:
            lines.append(line)
        else:
            output.text(line)

    with open_records(store, read_only=True, log_only_without_key=True) as records:
        # --since walks only the cases with new records, a sealed store none: no bar over
        # every case then
        walks_all = since is None and not records.store.sealed
        cases = (lambda: sum(1 for _ in records.case_refs())) if walks_all else 0
        with progress("verifying", cases) as advance:
            report = verify_store(
                records,
                expected,
                progress=advance,
                on_case=on_case if per_case else None,
                workers=workers,
                checkpoints=kept,
                since=base,
                shard=shard,
            )
        if html is not None:
            html.write_text(render_html(records, report), encoding="utf-8")
            output.note(f"wrote {html}")
    document: dict[str, Any] = {
        **report.as_dict(),
        "anchored": report.anchored,
        "html": str(html) if html else None,
    }
    if per_case:
        document["per_case"] = lines
    if out is not None and shard is not None:
        out.write_text(dumps(report.as_dict()) + "\n", encoding="utf-8")
        document["written"] = str(out)
        output.note(f"wrote {out}: share {shard[0]}/{shard[1]}; merge the shares with 'vrrules audit merge'")
    output.result(document, lambda: output.text(report.render()))
    if not report.ok:
        return output.finding(code="not_verified", message=_first_problems(report, digest))
    if not report.replayed:
        return output.finding(code="not_replayed", message=_NOT_REPLAYED)
    return EXIT_OK


_NOT_REPLAYED = (
    "expected the cases walked and their decisions replayed, got the log alone checked (intact): "
    "the store is encrypted and no key was given; set VRRULES_STORE_KEY to replay them"
)


def _read_partial(path: Path) -> dict[str, Any]:
    data = parse_json(
        _read_text(path, PARTIAL_LIMIT, "partial report"),
        path,
        "partial report written by 'vrrules audit verify --shard K/N --out'",
        code="partial_invalid",
    )
    needed = ("shard", "case_lines", "releases", "cases", "decisions", "families", "broken_chains")
    if not isinstance(data, dict) or any(key not in data for key in needed):
        lacking = [key for key in needed if key not in data] if isinstance(data, dict) else []
        got = f"a JSON document without {lacking[0]!r}" if lacking else "JSON that is not an object"
        raise CommandError(
            f"expected a partial report written by 'vrrules audit verify --shard K/N --out', got {got} "
            f"at {path}; give the files the shards wrote",
            code="partial_invalid",
            path=str(path),
        )
    return data


@audit.command(cls=Command)
@click.argument(
    "partials", nargs=-1, required=True, type=ExistingPath(file=True, folder=False, what="partial report")
)
@json_flag
def merge(*, partials: tuple[Path, ...], json_mode: bool) -> int:
    """Combine the partial reports of 'audit verify --shard 0/N' … 'N-1/N' into one verdict.

    The verdict, counts, findings and digest are those of one full run; exit 0 when it
    holds, 1 (not_verified) naming the first bad record otherwise, as verify does.

    \b
    Examples:
      vrrules audit merge part-0.json part-1.json
      vrrules audit merge part-*.json --json
    """
    output = Output(json_mode)
    documents = [_read_partial(path) for path in partials]
    try:
        report = merge_reports(documents)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        if isinstance(error, VrrulesError):
            raise
        raise CommandError(
            f"expected partial reports as 'vrrules audit verify --shard' writes them, got one that does "
            f"not fit ({type(error).__name__}: {error}); give the files the shards wrote, unedited",
            code="partial_invalid",
        ) from None
    document = {**report.as_dict(), "anchored": report.anchored, "partials": [str(p) for p in partials]}
    output.result(document, lambda: output.text(report.render()))
    if not report.ok:
        return output.finding(code="not_verified", message=_first_problems(report, None))
    if not report.replayed:
        return output.finding(code="not_replayed", message=_NOT_REPLAYED)
    return EXIT_OK


@audit.command(cls=Command)
@store_option()
@click.option(
    "--by", default="vrrules audit migrate", show_default=True, help="who migrates (kept in the log)"
)
@json_flag
def migrate(*, store: str, by: str, json_mode: bool) -> int:
    """Build the log of a store written before it (after checking every old hash chain).

    Opens the store for writing. Refused, with nothing written (log_migration_refused),
    when a chain is broken or records were inserted outside vrrules; a store already
    built is left as it is.

    \b
    Examples:
      vrrules audit migrate --store old-cases.db
      vrrules audit migrate --store old-cases.db --by "A. Auditor" --json
    """
    output = Output(json_mode)
    # checked read-only first: a store that is refused, or already built, is never opened for
    # writing (which adds the leaves' table to it)
    with open_records(store, read_only=True) as records:
        done = check_migration(records)
    if done.status != "already built":
        with open_records(store) as records:
            done = migrate_log(records, migrated_by=by)
    document = done.as_dict()
    output.result(
        document,
        lambda: output.text(
            f"{done.status}: {done.records} records, {done.chains_checked} chain(s) checked, "
            f"root {done.root[:16]}…"
        ),
    )
    return EXIT_OK


@audit.command(cls=Command)
@store_option()
@click.option("--out", type=OutputPath(), default=None, help="file to write the digest to (keep it apart)")
@force_flag
@json_flag
@click.pass_context
def digest(ctx: click.Context, *, store: str, out: Path | None, force: bool, json_mode: bool) -> int:
    """Print (or write) the store digest, to keep apart from the store.

    \b
    Examples:
      vrrules audit digest --store vrrules-demo.db
      vrrules audit digest --store vrrules-demo.db --out kept.digest
    """
    output = Output(json_mode)
    refuse_store_as_output(store, {"--out": out}, ctx)
    with open_records(store, read_only=True) as records:
        cases = sum(1 for _ in records.case_refs())
        with progress("hashing", cases) as advance:
            value = store_digest(records, progress=advance)
    if out is not None:
        out.write_text(value + "\n", encoding="utf-8")
    document = {"digest": value, "written": str(out) if out else None}
    output.result(document, lambda: output.text(f"wrote {out}: {value}" if out else value))
    return EXIT_OK


def _decision_row(version: int, record: Any) -> dict[str, Any]:
    return {
        "event": version,
        "family": record.family,
        "version": record.version,
        "as_of": record.as_of.isoformat(),
        "status": record.status,
        "outcome": record.outcome,
        "fired": [{"rule_id": f.get("rule_id"), "reason": f.get("reason")} for f in record.fired],
        "facts": record.facts,
    }


@audit.command("case", cls=Command)
@click.argument("case_ref")
@store_option()
@click.option(
    "--as-of",
    type=ISO_DATE,
    default=None,
    help="business date: what had happened and was decided by this day",
)
@click.option(
    "--known-at",
    type=ISO_MOMENT,
    default=None,
    help="recording time: only what the store had recorded by then (YYYY-MM-DD: the end of that day, UTC)",
)
@click.option("--version", type=Count(1), default=None, help="only what was recorded up to this event number")
@json_flag
def audit_case(
    *,
    case_ref: str,
    store: str,
    as_of: date | None,
    known_at: date | datetime | None,
    version: int | None,
    json_mode: bool,
) -> int:
    """A case and its decisions as they stood: by a business date (--as-of), as recorded by a
    time (--known-at) or up to an event (--version); the limits combine.

    \b
    Examples:
      vrrules audit case VR-2025-0102 --store vrrules-demo.db --as-of 2025-11-30
      vrrules audit case VR-2025-0102 --store vrrules-demo.db --as-of 2025-11-30 --known-at 2026-01-31
      vrrules audit case VR-2025-0102 --store vrrules-demo.db --version 6 --json
    """
    out = Output(json_mode)
    with open_records(store, read_only=True) as records:
        current = records.case(case_ref)  # an unknown case is refused: case_unknown
        if version is not None and version > current.version:
            raise click.BadParameter(
                f"expected an event number from 1 to {current.version} (case {case_ref}), got {version}",
                param_hint="--version",
            )
        case, decisions = case_as_of(records, case_ref, as_of, known_at=known_at, version=version)
    limits = {
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at.isoformat() if known_at else None,
        "version": version,
    }
    said = ", ".join(
        text
        for text, given in (
            (f"as of {as_of}", as_of),
            (f"as recorded by {known_at}", known_at),
            (f"up to event {version}", version),
        )
        if given
    )
    if case is None:
        document: dict[str, Any] = {
            "case": case_ref,
            "known": False,
            "event": None,
            **limits,
            "decisions": [],
        }
        out.result(
            document,
            lambda: out.text(f"case {case_ref}: nothing of it had happened or was recorded ({said})"),
        )
        return EXIT_OK
    rows = [_decision_row(v, r) for v, r in decisions]
    document = {"case": case.case_ref, "known": True, "event": case.version, **limits, "decisions": rows}

    def render() -> None:
        out.text(f"case {case.case_ref} at event {case.version}" + (f" ({said})" if said else ""))
        for row in rows:
            out.text(
                f"  event {row['event']}: {row['family']} {row['version']} on {row['as_of']}: "
                f"{outcome_text(row['outcome'])}"
            )
            for fired in row["fired"]:
                out.text(f"    - {fired['rule_id']}: {fired['reason']}")
            if not row["fired"]:
                out.text("    (no rule fired)")
            out.text(f"    facts: {facts_text(row['facts'])}")

    out.result(document, render)
    return EXIT_OK


@audit.command("corrections", cls=Command)
@click.argument("case_refs", nargs=-1, metavar="[CASE_REF]...")
@store_option()
@json_flag
def audit_corrections(*, case_refs: tuple[str, ...], store: str, json_mode: bool) -> int:
    """The decisions whose outcome the corrections alone would change; write nothing.

    A correction is an event recorded after a decision and dated on or before the
    decision's date (a late report, a back-dated fix). Each decision with corrections is
    decided again with its own stored release: on the history it read, and on that history
    plus its corrections; later progress (events dated after the decision) is left out.
    Listing corrections is information, not a failure: the command exits 0 when it runs.
    Give CASE_REFs to look at those cases only.

    \b
    Examples:
      vrrules audit corrections --store vrrules-demo.db
      vrrules audit corrections VR-2025-0102 --store vrrules-demo.db --json
    """
    out = Output(json_mode)
    with open_records(store, read_only=True) as records:
        for case_ref in case_refs:
            records.case(case_ref)  # an unknown case is refused: case_unknown
        report = corrections(records, list(case_refs) if case_refs else None)
    changed = [c.as_dict() for c in report.changed]
    for row, correction in zip(changed, report.changed, strict=True):
        row["then"]["text"] = outcome_text(correction.outcome_then)
        row["corrected"]["text"] = outcome_text(correction.outcome_corrected)
    document = {**report.as_dict(), "changed": changed, "cases": list(case_refs) or None}

    def render() -> None:
        out.text(
            f"decisions changed by corrections: {len(report.changed)}; corrected but unchanged: "
            f"{report.corrected_unchanged}; without corrections: {report.without_corrections}"
        )
        for correction in report.changed:
            out.text(
                f"  {correction.case_ref} event {correction.case_version}: {correction.family} as of "
                f"{correction.as_of.isoformat()} (read up to event {correction.version_read})"
            )
            out.text(
                f"    then:      {outcome_text(correction.outcome_then)} "
                f"[{', '.join(correction.rules_then) or 'no rule fired'}]"
            )
            out.text(
                f"    corrected: {outcome_text(correction.outcome_corrected)} "
                f"[{', '.join(correction.rules_corrected) or 'no rule fired'}]"
            )
            for event in correction.events:
                happened = event.happened_on.isoformat() if event.happened_on else "undated"
                out.text(
                    f"    by event {event.version} {event.event_type}: happened {happened}, "
                    f"recorded {event.recorded_at.isoformat(timespec='seconds')}"
                )
        for reason in report.not_decidable:
            out.text(f"  not decidable: {reason}")

    out.result(document, render)
    return EXIT_OK


@audit.command("what-if", cls=Command, uses_specs=True)
@store_option()
@click.option(
    "--draft",
    type=ExistingPath(file=False, what="draft specs folder"),
    default=None,
    help="folder of draft specs to re-decide under (default: the current specs, or --specs)",
)
@click.option("--current-facts", is_flag=True, help="use the facts each case holds now (after corrections)")
@click.option(
    "--html", type=OutputPath(), default=None, help="also write a readable HTML report to this file"
)
@force_flag
@json_flag
@click.pass_context
def what_if(
    ctx: click.Context,
    *,
    store: str,
    draft: Path | None,
    current_facts: bool,
    html: Path | None,
    force: bool,
    json_mode: bool,
) -> int:
    """Re-decide the recorded history under other specs or corrected facts; write nothing.

    \b
    Examples:
      vrrules audit what-if --store vrrules-demo.db --draft my-draft-specs/
      vrrules audit what-if --store vrrules-demo.db --current-facts --json
    """
    out = Output(json_mode)
    refuse_store_as_output(store, {"--html": html}, ctx)
    root = specs_root(ctx, None)
    with open_records(store, root, read_only=True) as records:
        draft_library = library(draft) if draft is not None else library(root) if root is not None else None
        cases = sum(1 for _ in records.case_refs())
        with progress("what-if", cases) as advance:
            report = impact(records, draft_library, current_facts=current_facts, progress=advance)
        if html is not None:
            verified = verify_store(records)
            html.write_text(
                render_html(records, verified, report, title="vrrules what-if report"), encoding="utf-8"
            )
            out.note(f"wrote {html}")
    document = {**report.as_dict(), "html": str(html) if html else None}
    out.result(document, lambda: out.text(report.render()))
    return EXIT_OK


@audit.command(cls=Command)
@click.argument("case_refs", nargs=-1)
@store_option()
@click.option("--out", required=True, type=OutputPath(), help="bundle file to write")
@click.option(
    "--checkpoint",
    "kept",
    type=ExistingPath(file=True, folder=False, what="checkpoint file"),
    default=None,
    help="anchor the bundle to this checkpoint kept earlier (default: one of the store as it is now)",
)
@force_flag
@json_flag
@click.pass_context
def bundle(
    ctx: click.Context,
    *,
    case_refs: tuple[str, ...],
    store: str,
    out: Path,
    kept: Path | None,
    force: bool,
    json_mode: bool,
) -> int:
    """Export cases (default: all) as one JSON document anchored to a checkpoint.

    Each record carries its inclusion proof and each case its head proof, so the bundle
    verifies offline against the checkpoint the auditor keeps ('audit verify-bundle').

    \b
    Examples:
      vrrules audit bundle VR-2025-0102 --store vrrules-demo.db --checkpoint week-49.checkpoint \\
          --out case.bundle.json
      vrrules audit bundle --store vrrules-demo.db --out all.bundle.json --force
    """
    output = Output(json_mode)
    refuse_store_as_output(store, {"--out": out}, ctx)
    anchor = None
    if kept is not None:
        _read_checkpoint(kept)  # a coded error for a file that is not a checkpoint
        anchor = _read_text(kept, MAX_NOTE_BYTES, "checkpoint file")
    with open_records(store, read_only=True) as records:
        refs = list(case_refs) or list(records.case_refs())
        for ref in refs:
            records.case(ref)  # an unknown reference is refused before anything is written
        try:
            data = export_bundle(records, refs, checkpoint=anchor)
        except CaseUnknownError as error:
            if kept is None or "checkpoint this store extends" not in error.message:
                raise
            raise CommandError(
                f"expected a store that extends the checkpoint {kept}, got one that does not (it was "
                "changed, truncated or rolled back since, or the checkpoint is of another store); nothing "
                f"was written: run 'vrrules audit verify --store {store} --checkpoint {kept}' to have "
                "the first bad record named",
                code="checkpoint_not_extended",
                checkpoint=str(kept),
            ) from None
    head = parse_checkpoint(json.loads(data)["checkpoint"]).checkpoint
    out.write_bytes(data)
    document = {
        "written": str(out),
        "cases": refs,
        "bytes": len(data),
        "checkpoint": str(kept) if kept is not None else None,
        "size": head.size,
        "root": head.root.hex(),
    }
    anchored_to = f"checkpoint {kept}" if kept is not None else "a checkpoint of the store now"
    output.result(
        document,
        lambda: output.text(
            f"wrote {out}: {len(refs)} case(s), anchored to {anchored_to} ({head.size} records)"
        ),
    )
    return EXIT_OK


@audit.command("verify-bundle", cls=Command)
@click.argument("file", type=ExistingPath(file=True, folder=False, what="bundle file"))
@click.option(
    "--checkpoint",
    "kept",
    type=ExistingPath(file=True, folder=False, what="checkpoint file"),
    default=None,
    help="the checkpoint you kept: the bundle must be anchored to exactly it",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=ExistingPath(file=True, folder=False, what="public key file"),
    help="accept the bundle's checkpoint when one of these keys signed it (PREFIX.pub; repeatable)",
)
@click.option(
    "--case",
    "expected_cases",
    multiple=True,
    metavar="REF",
    help="a case the bundle must carry, whole (repeatable): a bundle proves what it carries, not "
    "what it leaves out",
)
@json_flag
def verify_bundle_command(
    *,
    file: Path,
    kept: Path | None,
    public_keys: tuple[Path, ...],
    expected_cases: tuple[str, ...],
    json_mode: bool,
) -> int:
    """Check a bundle without the store: inclusion proofs, complete cases, replayed decisions.

    Exit 0 only when the bundle verifies against a trusted anchor (--checkpoint, or
    --public-key of whoever signed its checkpoint). With no anchor an intact bundle is
    only "internally consistent, not anchored" and exits 1 (not_anchored); a damaged or
    forged one exits 1 (bundle_invalid, or not_verified when a case differs).

    \b
    Examples:
      vrrules audit verify-bundle case.bundle.json --checkpoint week-49.checkpoint
      vrrules audit verify-bundle case.bundle.json --public-key auditor.pub --json
      vrrules audit verify-bundle case.bundle.json --checkpoint week-49.checkpoint --case VR-2025-0102
    """
    out = Output(json_mode)
    keys = _read_verifier_keys(public_keys)
    anchor = None
    if kept is not None:
        _read_checkpoint(kept, keys)  # with --public-key the kept checkpoint itself must be signed
        anchor = _read_text(kept, MAX_NOTE_BYTES, "checkpoint file")
    checked = verify_bundle(
        read_limited(file, BUNDLE_LIMIT, "bundle"),
        checkpoint=anchor,
        trusted_keys=keys,
        expected_cases=expected_cases,
        encryption_key=os.environ.get(STORE_KEY_VARIABLE) or None,
    )
    report, problems = checked.report, list(checked.problems)
    document = {
        **report.as_dict(),
        "verified": checked.verified,
        "anchored": checked.anchored,
        "verdict": checked.verdict,
        "ok": checked.verified,
        "bundle_problems": problems,
    }

    def render() -> None:
        # the report is of the bundle's records replayed apart: its log line and verdict know
        # nothing of the bundle's checkpoint or its anchor, which are said here instead
        for line in report.render().splitlines():
            if not line.startswith(("verdict: ", "log: ")):
                out.text(line)
        if checked.checkpoint is not None:
            head = checked.checkpoint
            out.text(
                f"checkpoint: {head.origin}, {head.size} records, root {head.root.hex()[:16]}…, "
                + ("anchored (trusted)" if checked.anchored else "not anchored")
            )
        for problem in problems:
            out.text(f"bundle: {problem}")
        if problems:
            out.text("verdict: NOT verified (the bundle itself is damaged, forged or not anchored as asked)")
        else:
            out.text(f"verdict: {checked.verdict}")

    out.result(document, render)
    if problems:
        return out.finding(code="bundle_invalid", message=f"expected an intact bundle, got: {problems[0]}")
    if not report.ok:
        return out.finding(
            code="not_verified", message="expected the bundle's cases intact and reproduced, got differences"
        )
    if not report.replayed:
        return out.finding(code="not_replayed", message=_NOT_REPLAYED)
    if not checked.anchored:
        return out.finding(
            code="not_anchored",
            message="expected a bundle anchored to a checkpoint you trust, got one that is internally "
            "consistent but not anchored; give --checkpoint (the one you kept) or --public-key",
        )
    return EXIT_OK
