"""The ``vrrules`` command tree (click): the demo, authoring, stores, cases and audits."""

from __future__ import annotations

import os
import shlex
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import click

from vrrules import CaseRecords, ReplayResult, SpecInvalidError, VrrulesError
from vrrules.audit import count_decisions, impact, replay_all
from vrrules.audit.checkpoint import generate_signing_key
from vrrules.authoring import check_examples, check_library, json_schemas, run_examples, write_json_schemas
from vrrules.cli import audit_commands, case_commands, due_commands
from vrrules.cli.common import (
    DEMO_STORE,
    STORE_KEY_VARIABLE,
    Command,
    force_flag,
    json_flag,
    library,
    load_cases,
    open_records,
    read_limited,
    refuse_store_as_output,
    specs_root,
    store_option,
)
from vrrules.cli.due_commands import DUE_COLUMNS, due_rows
from vrrules.cli.errors import EXIT_OK, EXIT_USAGE, CommandError
from vrrules.cli.output import Output, label, progress
from vrrules.cli.params import ISO_DATE, Count, ExistingPath, OutputPath, StoreLocation, store_file
from vrrules.cli.root import cli
from vrrules.cli.schemas import cli_json_schemas, write_cli_schemas
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.due import DueItem
from vrrules.events.importer import Undecided, import_case, iter_decide_steps
from vrrules.events.persistence import new_store_key
from vrrules.events.store import refuse_unless_store
from vrrules.handbook import handbook_html, handbook_markdown
from vrrules.policies.invariants import CHECK_EXAMPLES, search_library
from vrrules.policies.library import default_specs_dir
from vrrules.policies.model import Reference
from vrrules.policies.rates import period_yaml, read_rate_csv
from vrrules.samples import SAMPLE_CASES
from vrrules.specdiff import spec_diff

__all__ = ["cli"]


# ------------------------------------------------------------------------------- demo, key


def _replay_rows(results: list[ReplayResult]) -> Counter[str]:
    return Counter(r.status for r in results)


def _relative(path_text: str) -> str:
    path = Path(path_text)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path.name
    if not relative.startswith(".."):
        return relative
    parts = path.parts
    return str(Path(*parts[parts.index("specs") :])) if "specs" in parts else path.name


def _short_reason(error: VrrulesError) -> tuple[str, str | None]:
    """A few words for why a step could not decide, and the spec file it names (relative)."""
    message = error.message
    file = None
    head, _, rest = message.partition(": ")
    if head.endswith((".yaml", ".yml")):
        file, message = _relative(head), rest
    parameters = error.details.get("parameters")
    if parameters:
        reason = f"value not published: {', '.join(parameters)}"
    elif error.details.get("table"):
        reason = f"no published rate in table {error.details['table']}"
    else:
        reason = message.split(". ")[0].split("; ")[0]
    return reason, file


def _not_decided_lines(case_ref: str, family: str, code: str, reason: str, file: str | None) -> list[str]:
    """Two short lines: the case, family, code and reason; then the spec file (relative)."""
    line = f"  {case_ref} {family}: [{code}] {reason}"
    if len(line) > 99:
        line = line[:98] + "…"
    return [line, f"    in {file}"] if file else [line]


@cli.command(cls=Command, uses_specs=True)
@click.option(
    "--store",
    type=StoreLocation(existing=False),
    default=DEMO_STORE,
    show_default=True,
    help="SQLite file to record the sample cases into (created; see --replace)",
)
@click.option(
    "--cases",
    "cases_file",
    type=ExistingPath(file=True, folder=False, what="case file"),
    default=None,
    help="YAML or JSON case file to record instead of the shipped samples",
)
@click.option("--replace", is_flag=True, help="delete an existing --store first and start it afresh")
@json_flag
@click.pass_context
def demo(ctx: click.Context, *, store: str, cases_file: Path | None, replace: bool, json_mode: bool) -> int:
    """Record the sample cases, decide, replay every decision, and summarise.

    The case file is read and checked before the store is touched; an existing store is
    replaced only with --replace. Steps that cannot decide because a source publishes no
    value are listed as "not decided": that is expected, and nothing is recorded for them.

    \b
    Examples:
      vrrules demo
      vrrules demo --store /tmp/demo.db --replace
      vrrules demo --cases my-cases.yaml --store mine.db --json
    """
    out = Output(json_mode)
    # the case file and the specs are read and checked before the store is touched
    case_file = load_cases(cases_file or SAMPLE_CASES)
    specs = library(specs_root(ctx, None))
    path = store_file(store)
    if path is not None:
        companions = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
        if any(c.exists() for c in companions):
            if not replace:
                raise CommandError(
                    f"expected a new store, got {path}, which exists; pass --replace to delete it and "
                    "start afresh, or name another --store",
                    code="store_exists",
                    exit_code=EXIT_USAGE,
                    path=str(path),
                )
            # only a vrrules store (or an empty file) is deleted: --replace given a note, a
            # database of something else or another store's -wal file refuses, untouched
            refuse_unless_store(path)
            if path.exists() and not os.access(path, os.W_OK):
                raise CommandError(
                    f"expected a store this user may write, got {path}, which is read-only; change "
                    "its mode if it is to be replaced, or name another --store",
                    code="store_read_only",
                    exit_code=EXIT_USAGE,
                    path=str(path),
                )
            for companion in companions:
                companion.unlink(missing_ok=True)
        refuse_unless_store(path)  # a name that is no place for a store, before anything is said
    started = time.perf_counter()
    expected = sum(1 for _ in iter_decide_steps(case_file))
    outcomes: Counter[str] = Counter()
    undecided: list[Undecided] = []
    where = str(path.resolve()) if path is not None else store
    out.text(f"Recording {len(case_file.cases)} sample cases into {where}")
    with open_records(store, specs) as records:
        with progress("deciding", expected) as advance:
            for history in case_file.cases:
                for result in import_case(records, history, on_decision=advance):
                    if isinstance(result, Undecided):
                        undecided.append(result)
                        continue
                    made = result.decision
                    outcomes[f"{made.family}: {label(made.outcome, made.status)}"] += 1
        with progress("replaying", count_decisions(records)) as advance:
            results = list(replay_all(records, advance))
        due_as_of = _latest_business_date(records)
        due_items = records.due(due_as_of, DEMO_DUE_WITHIN) if due_as_of is not None else []
    elapsed = time.perf_counter() - started
    statuses = _replay_rows(results)
    not_decided: list[dict[str, str | None]] = []
    for item in undecided:
        reason, file = _short_reason(item.error)
        not_decided.append(
            {
                "case": item.case_ref,
                "family": item.family,
                "code": item.error.code,
                "reason": reason,
                "file": file,
            }
        )
    document = {
        "store": where,
        "cases": len(case_file.cases),
        "decisions": len(results),
        "reproduced": statuses["reproduced"],
        "differs": statuses["differs"],
        "unreplayable": statuses["unreplayable"],
        "seconds": round(elapsed, 3),
        "outcomes": dict(sorted(outcomes.items())),
        "not_decided": not_decided,
        "not_reproduced": [r.as_dict() for r in results if not r.reproduced],
        "due": {
            "as_of": due_as_of.isoformat() if due_as_of else None,
            "within": DEMO_DUE_WITHIN,
            "items": [item.as_dict() for item in due_items],
        },
    }

    def render() -> None:
        _print_replay_summary(out, results, len(case_file.cases), elapsed, outcomes)
        if due_as_of is not None:
            _print_due(out, due_as_of, due_items, store)
        if not_decided:
            out.text(
                f"not decided    {len(not_decided)} (expected: the sources publish no value for "
                "these; nothing recorded)"
            )
            for row in not_decided:
                for line in _not_decided_lines(
                    str(row["case"]), str(row["family"]), str(row["code"]), str(row["reason"]), row["file"]
                ):
                    out.text(line)
        out.text(f"Store: {where}  (replay it again with: vrrules replay --store {shlex.quote(store)})")

    out.result(document, render)
    if any(not r.reproduced for r in results):
        return out.finding(
            code="not_reproduced",
            message="expected every decision to replay, got "
            f"{len(results) - statuses['reproduced']} that did not",
        )
    return EXIT_OK


DEMO_DUE_WITHIN = 14


def _latest_business_date(records: CaseRecords) -> date | None:
    """The latest day anything in the store happened: the day the demo's due list is as of."""
    days = [
        recorded.payload.business_date
        for ref in records.case_refs()
        for recorded in records.case(ref).recorded
        if recorded.payload.business_date is not None
    ]
    return max(days, default=None)


def _print_due(out: Output, as_of: date, items: list[DueItem], store: str) -> None:
    """The demo's due list: a short table as of the cases' latest business date and 14 days on,
    and the command that gives the whole list of ``store``."""
    when = f"as of {as_of.isoformat()}, the cases' latest date, and {DEMO_DUE_WITHIN} days on"
    overdue = sum(1 for item in items if item.overdue)
    counted = f"{overdue} overdue, {len(items) - overdue} coming" if items else "nothing due"
    out.text(f"due list       {when}: {counted}")
    if items:
        out.table(DUE_COLUMNS[:5], [row[:5] for row in due_rows(items)], width=99)
    out.text(
        f"  the full list: vrrules due --as-of {as_of.isoformat()} --within {DEMO_DUE_WITHIN} "
        f"--store {shlex.quote(store)}"
    )


def _print_replay_summary(
    out: Output, results: list[ReplayResult], cases: int, elapsed: float, outcomes: Counter[str] | None = None
) -> None:
    statuses = _replay_rows(results)
    out.text()
    out.text(f"cases          {cases}")
    out.text(f"decisions      {len(results)}")
    out.text(f"reproduced     {statuses['reproduced']}")
    out.text(f"differences    {statuses['differs']}")
    out.text(f"unreplayable   {statuses['unreplayable']}")
    out.text(f"time taken     {elapsed:.2f} s")
    if outcomes:
        out.text("outcomes")
        for label, count in sorted(outcomes.items()):
            out.text(f"  {label:<48} {count:>4}")
    for result in results:
        if not result.reproduced:
            out.text(str(result))


@cli.command(cls=Command)
@click.option(
    "--signing",
    "signing",
    default=None,
    metavar="NAME",
    help="make an Ed25519 key pair NAME for signing checkpoints instead (signer and verifier key)",
)
@click.option(
    "--out",
    "prefix",
    default=None,
    metavar="PREFIX",
    help="with --signing: write PREFIX.key (the signer, secret) and PREFIX.pub (the verifier)",
)
@force_flag
@json_flag
@click.pass_context
def key(ctx: click.Context, *, signing: str | None, prefix: str | None, force: bool, json_mode: bool) -> int:
    """Print a new key for an encrypted store, or (--signing) a key pair for checkpoints.

    Keep a store key apart from the store, and export it as VRRULES_STORE_KEY before
    demo, replay, audit ... to write and read an encrypted store. With --signing NAME,
    the signer key signs checkpoints ('audit checkpoint --signing-key') and stays secret;
    the verifier key is handed to whoever checks them ('--public-key').

    \b
    Examples:
      vrrules key > store.key
      export VRRULES_STORE_KEY=$(vrrules key)
      vrrules key --signing auditor.example --out auditor
      vrrules key --signing auditor.example --json
    """
    out = Output(json_mode)
    if signing is None:
        if prefix is not None:
            raise click.UsageError(
                "expected --out only with --signing NAME (a store key is printed), got --out alone", ctx
            )
        new = new_store_key()
        out.result({"key": new, "variable": STORE_KEY_VARIABLE}, lambda: out.text(new))
        out.note(
            f"# keep this key apart from the store; export {STORE_KEY_VARIABLE}=<key> before "
            "`vrrules demo`, `replay`, `audit` ... to write and read an encrypted store"
        )
        return EXIT_OK
    if signing.startswith("-"):
        raise click.BadParameter(
            f"expected a key name (e.g. auditor.example.org), got {signing[:40]!r}, which reads as an "
            "option; give the name right after --signing",
            ctx,
            param_hint="--signing",
        )
    targets: list[Path] = []
    if prefix is not None:
        targets = [Path(f"{prefix}.key"), Path(f"{prefix}.pub")]
        for target in targets:
            problem = (
                f"the folder {str(target)!r}"
                if target.is_dir()
                else f"{str(target)!r}, which exists; pass --force to replace it"
                if target.exists() and not force
                else f"{str(target)!r}, in a folder that does not exist"
                if not target.parent.is_dir()
                else None
            )
            if problem is not None:
                raise click.BadParameter(f"expected a new file, got {problem}", ctx, param_hint="--out")
        refuse_store_as_output(
            None, {"--out (its .key file)": targets[0], "--out (its .pub file)": targets[1]}, ctx
        )
    signer, verifier = generate_signing_key(signing)  # signing_key_invalid for a bad name
    if targets:
        secret, public = targets
        secret.unlink(missing_ok=True)  # --force: made afresh, so the mode below holds
        descriptor = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(signer + "\n")
        public.write_text(verifier + "\n", encoding="utf-8")
    document = {
        "name": signing,
        "signer": signer,
        "verifier": verifier,
        "written": [str(t) for t in targets],
    }

    def render() -> None:
        if targets:
            out.text(f"wrote {targets[0]} (the signer key: keep it secret) and {targets[1]} (verifier key)")
            out.text(verifier)
        else:
            out.text(signer)
            out.text(verifier)

    out.result(document, render)
    if not targets:
        out.note(
            "# line 1 is the signer key (keep it secret; 'audit checkpoint --signing-key FILE'), "
            "line 2 the verifier key to hand out ('--public-key FILE')"
        )
    return EXIT_OK


@cli.command(cls=Command)
@store_option()
@json_flag
def replay(*, store: str, json_mode: bool) -> int:
    """Replay every recorded decision in a store from the stored policy text.

    \b
    Examples:
      vrrules replay --store vrrules-demo.db
      vrrules replay --store vrrules-demo.db --json
    """
    out = Output(json_mode)
    started = time.perf_counter()
    with (
        open_records(store, read_only=True) as records,
        progress("replaying", count_decisions(records)) as advance,
    ):
        results = list(replay_all(records, advance))
    cases = len({r.case_ref for r in results})
    reproduced = sum(r.reproduced for r in results)
    document = {
        "cases": cases,
        "decisions": len(results),
        "reproduced": reproduced,
        "results": [r.as_dict() for r in results],
    }
    out.result(document, lambda: _print_replay_summary(out, results, cases, time.perf_counter() - started))
    failed = len(results) - reproduced
    if failed:
        return out.finding(
            code="not_reproduced", message=f"expected every decision to replay, got {failed} that did not"
        )
    return EXIT_OK


# ------------------------------------------------------------------------------- authoring


@cli.command(cls=Command, uses_specs=True)
@click.argument("path", required=False, type=ExistingPath(what="spec file or folder"))
@click.option(
    "--invariant-examples",
    type=Count(0, 100_000),
    default=CHECK_EXAMPLES,
    show_default=True,
    help="facts tried per invariant in the search for a decision that breaks it (0: no search)",
)
@json_flag
@click.pass_context
def check(ctx: click.Context, *, path: Path | None, invariant_examples: int, json_mode: bool) -> int:
    """Load every spec under PATH with the rule analysis, search each family's invariants,
    validate the worked examples, and report all problems at once.

    PATH defaults to --specs, else $VRRULES_SPECS, else specs/. Each problem names its
    file, line, rule, field, code and a hint. Exit 1 when any spec is refused, a decision
    breaks a declared invariant (invariant_broken), or an example names an unknown fact,
    rule or error code (example_fact_unknown, example_rule_unknown, example_error_unknown).

    \b
    Examples:
      vrrules check
      vrrules check specs/tiers/
      vrrules --specs my-draft/ check --json
      vrrules check --invariant-examples 500
    """
    out = Output(json_mode)
    root = specs_root(ctx, path)
    try:
        loaded = check_library(root, case_sources=CASE_SOURCES)
    except SpecInvalidError as error:
        errors = [d for d in error.diagnostics if d.severity == "error"]
        document: dict[str, Any] = {
            "ok": False,
            "root": str(root) if root else None,
            "files": None,
            "families": {},
            "invariants": None,
            "examples": None,
            "diagnostics": [d.as_dict() for d in error.diagnostics],
        }

        def render_errors() -> None:
            for diagnostic in errors:
                out.text(str(diagnostic))

        out.result(document, render_errors)
        return out.finding(code="spec_invalid", message=error.message)
    searched, broken = search_library(loaded, max_examples=invariant_examples, scratch=True)
    checked, misfits = check_examples(loaded, root if root is not None else loaded.root)
    found = [*broken, *misfits]
    problems = [d for d in found if d.severity == "error"]
    warnings = [*loaded.warnings, *(d for d in found if d.severity != "error")]
    families = {
        family: [
            {
                "version": c.version,
                "effective_from": c.spec.effective_from.isoformat(),
                "effective_until": c.spec.effective_until.isoformat() if c.spec.effective_until else None,
            }
            for c in loaded.versions(family)
        ]
        for family in loaded.families()
    }
    document = {
        "ok": not problems,
        "root": str(loaded.root),
        "files": len(loaded.files),
        "families": families,
        "invariants": {
            "searched": searched,
            "examples_each": invariant_examples,
            "broken": sum(d.code == "invariant_broken" for d in problems),
        },
        "examples": {"checked": checked, "problems": len(misfits)},
        "diagnostics": [d.as_dict() for d in [*problems, *warnings]],
    }

    def render() -> None:
        for family, versions in families.items():
            listed = ", ".join(f"{v['version']} (from {v['effective_from']})" for v in versions)
            out.text(f"{family}: {listed}")
        for problem in problems:
            out.text(str(problem))
        for warning in warnings:
            out.text(f"warning: {warning}")
        searched_text = (
            f"{searched} invariant(s) searched ({invariant_examples} facts each)"
            if searched
            else "no invariant searched"
        )
        verdict = "ok" if not problems else f"{len(problems)} problem(s)"
        out.text(
            f"{verdict}: {len(loaded.files)} spec file(s) under {loaded.root}, {searched_text}, "
            f"{checked} example(s) validated, {len(warnings)} warning(s)"
        )

    out.result(document, render)
    if problems:
        first = problems[0]
        return out.finding(
            code=first.code,
            message=f"expected specs whose invariants hold and whose examples fit them, got "
            f"{len(problems)} problem(s); first: {first}",
        )
    return EXIT_OK


@cli.command(cls=Command, uses_specs=True)
@click.argument("path", required=False, type=ExistingPath(what="examples file or folder"))
@json_flag
@click.pass_context
def test(ctx: click.Context, *, path: Path | None, json_mode: bool) -> int:
    """Run the worked examples under PATH and report rule coverage.

    PATH defaults to --specs, else specs/. Exit 1 when an example fails, or when no
    example is found at all (a test run that tests nothing is not a pass).

    \b
    Examples:
      vrrules test
      vrrules test specs/tiers/examples.yaml
      vrrules test --json
    """
    out = Output(json_mode)
    root = specs_root(ctx, path) or default_specs_dir()
    run = run_examples(root)
    uncovered = run.uncovered()
    total = sum(len(ids) for ids in run.rules.values())
    covered = total - sum(len(ids) for ids in uncovered.values())
    failed = run.failed
    document = {
        "ok": bool(run.results) and not failed,
        "root": str(root),
        "examples": len(run.results),
        "passed": len(run.results) - len(failed),
        "failed": len(failed),
        "failures": [
            {
                "file": str(file),
                "example": result.example.name,
                "at": result.example.at.isoformat(),
                "problems": list(result.problems),
            }
            for file, result in failed
        ],
        "coverage": {"covered": covered, "total": total, "uncovered": uncovered},
    }
    out.result(document, lambda: out.text(run.report()))
    if not run.results:
        return out.finding(
            code="examples_missing",
            message=f"expected worked examples (examples.yaml or NAME.examples.yaml) under {root}, got none; "
            "write examples beside the specs",
        )
    if failed:
        return out.finding(
            code="examples_failed",
            message=f"expected every example to pass, got {len(failed)} of {len(run.results)} failing",
        )
    return EXIT_OK


@cli.command(cls=Command)
@click.option(
    "--out",
    "folder",
    type=OutputPath(folder=True),
    default="schemas",
    show_default=True,
    help="folder to write the schemas into (created)",
)
@force_flag
@json_flag
@click.pass_context
def schema(ctx: click.Context, *, folder: Path, force: bool, json_mode: bool) -> int:
    """Write JSON Schemas of the spec and example formats, and of the CLI's JSON output.

    The spec schemas serve a YAML-aware editor; the command-line output schemas go to
    OUT/cli/.

    \b
    Examples:
      vrrules schema --out schemas
      vrrules schema --out schemas --force --json
    """
    out = Output(json_mode)
    targets = [folder / name for name in json_schemas()] + [
        folder / "cli" / name for name in cli_json_schemas()
    ]
    existing = [target for target in targets if target.exists()]
    if existing and not force:
        raise click.BadParameter(
            f"expected a folder without schemas, got {existing[0]}, which exists; pass --force to replace",
            param_hint="--out",
        )
    refuse_store_as_output(None, {f"--out ({target.name})": target for target in targets}, ctx)
    written = [str(p) for p in write_json_schemas(folder)] + [
        str(p) for p in write_cli_schemas(folder / "cli")
    ]

    def render() -> None:
        for path in written:
            out.text(f"wrote {path}")

    out.result({"written": written}, render)
    return EXIT_OK


@cli.command(cls=Command, uses_specs=True)
@click.argument("path", required=False, type=ExistingPath(file=False, what="specs folder"))
@click.option(
    "--out",
    "folder",
    type=OutputPath(folder=True),
    default="handbook",
    show_default=True,
    help="folder to write handbook.md and handbook.html into (created)",
)
@force_flag
@json_flag
@click.pass_context
def handbook(ctx: click.Context, *, path: Path | None, folder: Path, force: bool, json_mode: bool) -> int:
    """Render every family, rule, parameter and reference as a handbook (Markdown and HTML).

    \b
    Examples:
      vrrules handbook --out handbook
      vrrules --specs my-draft/ handbook --out draft-handbook --force
    """
    out = Output(json_mode)
    targets = [folder / "handbook.md", folder / "handbook.html"]
    present = [t for t in targets if t.exists()]
    if present and not force:
        raise click.BadParameter(
            f"expected a new file, got {present[0]}, which exists; pass --force to replace it",
            param_hint="--out",
        )
    refuse_store_as_output(None, {f"--out ({target.name})": target for target in targets}, ctx)
    loaded = library(specs_root(ctx, path))
    folder.mkdir(parents=True, exist_ok=True)
    targets[0].write_text(handbook_markdown(loaded), encoding="utf-8")
    targets[1].write_text(handbook_html(loaded), encoding="utf-8")
    written = [str(t) for t in targets]
    out.result({"written": written}, lambda: out.text(f"wrote {targets[0]} and {targets[1]}"))
    return EXIT_OK


@cli.command(cls=Command)
@click.argument("old", type=ExistingPath(file=False, what="specs folder"))
@click.argument("new", type=ExistingPath(file=False, what="specs folder"))
@click.option(
    "--store",
    type=StoreLocation(existing=True),
    default=None,
    help="also re-decide this store's decisions under NEW (writes nothing)",
)
@json_flag
def diff(*, old: Path, new: Path, store: str | None, json_mode: bool) -> int:
    """What changed between two spec folders OLD and NEW, and what it would change.

    \b
    Examples:
      vrrules diff specs/ my-draft/
      vrrules diff specs/ my-draft/ --store vrrules-demo.db --json
    """
    out = Output(json_mode)
    old_library, new_library = library(old), library(new)
    changes = spec_diff(old_library, new_library)
    report = None
    if store is not None:
        with open_records(store, old_library, read_only=True) as records:
            report = impact(records, new_library)
    document = {"changes": changes, "impact": report.as_dict() if report is not None else None}

    def render() -> None:
        out.text("\n".join(changes) if changes else "no changes")
        if report is not None:
            out.text()
            out.text("Past decisions under the new specs:")
            out.text(report.render())

    out.result(document, render)
    return EXIT_OK


@cli.command(cls=Command, uses_specs=True)
@click.argument("path", required=False, type=ExistingPath(what="specs folder or spec file"))
@store_option(existing=False)
@click.option("--by", required=True, help="who publishes (a name kept with each publication)")
@click.option("--note", required=True, help="why: what changed and on what authority")
@json_flag
@click.pass_context
def publish(ctx: click.Context, *, path: Path | None, store: str, by: str, note: str, json_mode: bool) -> int:
    """Record every spec version under PATH as published in a store (published versions never change).

    Exit 1 when a version is refused (different content under a published version id).

    \b
    Examples:
      vrrules publish specs/ --store cases.db --by "A. Author" --note "2026 rates, L&I bulletin 12"
      vrrules publish --store cases.db --by ops --note "initial" --json
    """
    out = Output(json_mode)
    loaded = library(specs_root(ctx, path))
    versions: list[dict[str, Any]] = []
    with open_records(store, loaded) as records:
        for family in loaded.families():
            for compiled in loaded.versions(family):
                row: dict[str, Any] = {"family": family, "version": compiled.version}
                try:
                    row["result"] = records.publish(compiled, by, note)
                except VrrulesError as error:
                    row.update(result="refused", code=error.code, message=error.message)
                versions.append(row)
    refused = [v for v in versions if v["result"] == "refused"]

    def render() -> None:
        for row in versions:
            text = (
                row["result"] if row["result"] != "refused" else f"refused: [{row['code']}] {row['message']}"
            )
            out.text(f"{row['family']} {row['version']}: {text}")

    out.result({"ok": not refused, "versions": versions}, render)
    if refused:
        first = refused[0]
        return out.finding(
            code=str(first["code"]), message=f"{len(refused)} version(s) refused; first: {first['message']}"
        )
    return EXIT_OK


@cli.command(cls=Command)
@click.argument("file", type=ExistingPath(file=True, folder=False, what="rate CSV file"))
@click.option("--from", "start", required=True, type=ISO_DATE, help="first day of the period (YYYY-MM-DD)")
@click.option("--until", required=True, type=ISO_DATE, help="last day of the period (YYYY-MM-DD)")
@click.option("--document", required=True, help="the publication the rates come from")
@click.option("--section", required=True, help="where in the publication")
@click.option("--url", default=None, help="where the publication can be read")
@click.option("--others", default=None, help="the location whose row applies to unlisted locations")
@json_flag
def rates(
    *,
    file: Path,
    start: date,
    until: date,
    document: str,
    section: str,
    url: str | None,
    others: str | None,
    json_mode: bool,
) -> int:
    """Turn a per-diem rate CSV (location, lodging, meals[, months]) into a table period.

    The YAML printed is pasted into a spec's table, so each release keeps its rates.

    \b
    Examples:
      vrrules rates gsa-2026.csv --from 2025-10-01 --until 2026-09-30 \\
          --document "GSA per diem rates FY2026" --section "Washington"
    """
    out = Output(json_mode)
    if until < start:
        raise click.BadParameter(
            f"expected a last day on or after --from {start.isoformat()}, got {until.isoformat()}",
            param_hint="--until",
        )
    read_limited(file, 10_000_000, "rate CSV")
    reference = Reference(document=document, section=section, url=url)
    text = period_yaml(read_rate_csv(file, start, until, reference, others))
    out.result(
        {"yaml": text, "from": start.isoformat(), "until": until.isoformat()},
        lambda: click.echo(text, nl=False),
    )
    return EXIT_OK


audit_commands.audit.add_command(due_commands.audit_due)
cli.add_command(audit_commands.audit)
for _command in [*case_commands.COMMANDS, *due_commands.COMMANDS]:
    cli.add_command(_command)

# What `vrrules --help` lists beside each command: the help's first sentence, shortened
_SHORT_HELP = {
    "audit": "verify stores against checkpoints; look back; bundles",
    "case": "one case: its timeline",
    "cases": "the cases in a store, with last events and decisions",
    "check": "lint every spec, search its invariants, validate examples",
    "decide": "decide a family on a case (or --dry-run)",
    "demo": "record, decide and replay the sample cases",
    "diff": "what changed between two spec folders",
    "facts": "the facts a family needs, and where each comes from",
    "due": "deadlines passed or coming on every case, as of a date",
    "handbook": "render the specs as a handbook (Markdown, HTML)",
    "import": "import a YAML or JSON case file, all or nothing",
    "key": "print a new store key, or a checkpoint signing key pair",
    "publish": "record spec versions as published in a store",
    "rates": "turn a per-diem rate CSV into a table period",
    "replay": "replay every recorded decision in a store",
    "schema": "write JSON Schemas (specs, examples, CLI output)",
    "test": "run the worked examples and report rule coverage",
    "audit bundle": "export cases as a bundle anchored to a checkpoint",
    "audit checkpoint": "write a checkpoint of the store's log to keep apart",
    "audit merge": "combine the partial reports of --shard runs",
    "audit migrate": "build the log of a store written before it",
    "audit case": "a case by business date, recording time or event",
    "audit digest": "print or write the store digest to keep",
    "audit verify": "the log against checkpoints, every chain, every replay",
    "audit verify-bundle": "check a bundle against a checkpoint, without the store",
    "audit what-if": "re-decide the history under drafts or corrected facts",
    "audit corrections": "decisions that back-dated events alone would change",
    "audit due": "check the kept due list against deciding every case",
    "case show": "every event and decision, business date and recording time",
}


def _set_short_help(group: click.Group, prefix: str = "") -> None:
    for name, command in group.commands.items():
        command.short_help = _SHORT_HELP.get(f"{prefix}{name}", command.short_help)
        if isinstance(command, click.Group):
            _set_short_help(command, f"{prefix}{name} ")


_set_short_help(cli)
