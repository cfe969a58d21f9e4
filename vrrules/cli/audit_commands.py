"""``vrrules audit ...``: verify a store (chains, replays, digest), look back, what-if, bundles.

Each command is a plain function of its options, so the checkpoint options of the
verifiable-log work can be added to it without reshaping the tree.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from vrrules.audit import case_as_of, export_bundle, impact, store_digest, verify_bundle, verify_store
from vrrules.audit.report import render_html
from vrrules.cli.common import (
    Command,
    Group,
    force_flag,
    json_flag,
    library,
    open_records,
    read_limited,
    refuse_store_as_output,
    specs_root,
    store_option,
)
from vrrules.cli.errors import EXIT_OK, CommandError
from vrrules.cli.output import Output, outcome_text, progress
from vrrules.cli.params import ISO_DATE, ISO_MOMENT, Count, ExistingPath, OutputPath

__all__ = ["audit"]

DIGEST_LIMIT = 64_000
BUNDLE_LIMIT = 512_000_000
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@click.group(cls=Group)
def audit() -> None:
    """Verify a store: hash chains, replayed decisions, the store digest; look back; bundles.

    \b
    Examples:
      vrrules audit digest --store vrrules-demo.db --out kept.digest
      vrrules audit verify --store vrrules-demo.db --digest kept.digest
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


@audit.command(cls=Command)
@store_option()
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
@force_flag
@json_flag
@click.pass_context
def verify(
    ctx: click.Context,
    *,
    store: str,
    digest: Path | None,
    html: Path | None,
    per_case: bool,
    workers: int,
    force: bool,
    json_mode: bool,
) -> int:
    """Check every case's hash chain, replay every decision, compare the digest.

    Exit 0 only if every chain is intact, every decision reproduces and the digest
    (when given) matches; exit 1 with the first difference otherwise.

    \b
    Examples:
      vrrules audit verify --store vrrules-demo.db --digest kept.digest
      vrrules audit verify --store vrrules-demo.db --json --per-case
      vrrules audit verify --store big.db --workers 2 --html report.html
    """
    out = Output(json_mode)
    refuse_store_as_output(store, {"--html": html}, ctx)
    expected = _read_digest(digest) if digest is not None else None
    lines: list[str] = []

    def on_case(line: str) -> None:
        if json_mode:
            lines.append(line)
        else:
            out.text(line)

    with open_records(store, read_only=True) as records:
        cases = sum(1 for _ in records.case_refs())
        with progress("verifying", cases) as advance:
            report = verify_store(
                records, expected, progress=advance, on_case=on_case if per_case else None, workers=workers
            )
        if html is not None:
            html.write_text(render_html(records, report), encoding="utf-8")
            out.note(f"wrote {html}")
    document: dict[str, Any] = {**report.as_dict(), "html": str(html) if html else None}
    if per_case:
        document["per_case"] = lines
    out.result(document, lambda: out.text(report.render()))
    if not report.ok:
        problems = []
        if report.broken:
            first = report.broken[0]
            problems.append(
                f"{len(report.broken)} broken chain(s), first case {first.case_ref} "
                f"at event {first.broken_at}"
            )
        if report.failures:
            first_failure = report.failures[0]
            problems.append(
                f"{len(report.failures)} decision(s) not reproduced, first "
                f"{first_failure.case_ref}@{first_failure.case_version}"
            )
        if report.digest_matches is False:
            problems.append(f"digest {report.digest} differs from the one kept in {digest}")
        return out.finding(
            code="not_verified", message="expected an intact, reproduced store, got " + "; ".join(problems)
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
        report = impact(records, draft_library, current_facts=current_facts)
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
@force_flag
@json_flag
@click.pass_context
def bundle(
    ctx: click.Context, *, case_refs: tuple[str, ...], store: str, out: Path, force: bool, json_mode: bool
) -> int:
    """Export cases (default: all) as a self-contained audit bundle.

    \b
    Examples:
      vrrules audit bundle VR-2025-0102 --store vrrules-demo.db --out case.bundle.json
      vrrules audit bundle --store vrrules-demo.db --out all.bundle.json --force
    """
    output = Output(json_mode)
    refuse_store_as_output(store, {"--out": out}, ctx)
    with open_records(store, read_only=True) as records:
        refs = list(case_refs) or list(records.case_refs())
        for ref in refs:
            records.case(ref)  # an unknown reference is refused before anything is written
        data = export_bundle(records, refs)
    out.write_bytes(data)
    output.result(
        {"written": str(out), "cases": refs, "bytes": len(data)},
        lambda: output.text(f"wrote {out}: {len(refs)} case(s)"),
    )
    return EXIT_OK


@audit.command("verify-bundle", cls=Command)
@click.argument("file", type=ExistingPath(file=True, folder=False, what="bundle file"))
@json_flag
def verify_bundle_command(*, file: Path, json_mode: bool) -> int:
    """Check a bundle on its own, without the store: digest, chains, replays.

    \b
    Examples:
      vrrules audit verify-bundle case.bundle.json
      vrrules audit verify-bundle case.bundle.json --json
    """
    out = Output(json_mode)
    # verify_bundle answers (report, problems), or a BundleCheck (report, problems, anchoring)
    # since the verifiable log: both are read here until the log's bundle lands everywhere
    checked: Any = verify_bundle(read_limited(file, BUNDLE_LIMIT, "bundle"))
    if isinstance(checked, tuple):
        report, problems = checked
        anchoring: dict[str, Any] = {}
    else:
        report, problems = checked.report, list(checked.problems)
        anchoring = {k: v for k, v in checked.as_dict().items() if k in ("verified", "anchored", "verdict")}
    document = {
        **report.as_dict(),
        **anchoring,
        "ok": report.ok and not problems,
        "bundle_problems": problems,
    }

    def render() -> None:
        lines = report.render().splitlines()
        if problems or anchoring:  # the store report's verdict knows nothing of the bundle itself
            lines = [line for line in lines if not line.startswith("verdict: ")]
        for line in lines:
            out.text(line)
        for problem in problems:
            out.text(f"bundle: {problem}")
        if problems:
            out.text("verdict: NOT verified (the bundle itself is damaged)")
        elif anchoring:
            out.text(f"verdict: {anchoring['verdict']}")

    out.result(document, render)
    if problems:
        return out.finding(code="bundle_invalid", message=f"expected an intact bundle, got: {problems[0]}")
    if not report.ok:
        return out.finding(
            code="not_verified", message="expected the bundle's cases intact and reproduced, got differences"
        )
    return EXIT_OK
