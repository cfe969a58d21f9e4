"""The ``vrrules`` command: the demo, checking and testing specs, replaying and auditing stores."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from vrrules.audit import case_as_of, export_bundle, impact, store_digest, verify_bundle, verify_store
from vrrules.audit.report import render_html
from vrrules.authoring import run_examples, write_json_schemas
from vrrules.errors import VrrulesError
from vrrules.events.application import CaseRecords, ReplayResult
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.domain import Case
from vrrules.events.importer import Undecided, import_case, iter_decide_steps, load_case_file
from vrrules.events.persistence import new_store_key
from vrrules.handbook import handbook_html, handbook_markdown
from vrrules.policies.library import PolicyLibrary, default_specs_dir
from vrrules.policies.model import Reference
from vrrules.policies.rates import period_yaml, read_rate_csv
from vrrules.samples import SAMPLE_CASES
from vrrules.specdiff import spec_diff

__all__ = ["main"]

DEMO_STORE = "vrrules-demo.db"


class Progress:
    """A one-line progress bar on a terminal; plain milestone lines elsewhere (logs, CI)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.total, self.width = label, max(total, 1), width
        self.stream = stream or sys.stderr
        self.done = 0
        self._tty = self.stream.isatty()
        self._last_percent = -1

    def advance(self, step: int = 1) -> None:
        self.done += step
        percent = min(100, self.done * 100 // self.total)
        if self._tty:
            filled = self.width * percent // 100
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            self.stream.flush()
        elif percent // 25 != self._last_percent // 25 or self.done == self.total:
            self.stream.write(f"{self.label}: {self.done}/{self.total} ({percent}%)\n")
        self._last_percent = percent

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()


STORE_KEY_VARIABLE = "VRRULES_STORE_KEY"


def _records(store: Any, specs: Any) -> CaseRecords:
    """The store as the command line opens it: encrypted when VRRULES_STORE_KEY holds a key."""
    return CaseRecords(store=store, specs=specs, encryption_key=os.environ.get(STORE_KEY_VARIABLE) or None)


def _key(args: argparse.Namespace) -> int:
    print(new_store_key())
    print(
        f"# keep this key apart from the store; export {STORE_KEY_VARIABLE}=<key> before "
        "`vrrules demo`, `replay`, `audit` ... to write and read an encrypted store",
        file=sys.stderr,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    store = Path(args.store)
    for suffix in ("", "-wal", "-shm"):
        companion = Path(f"{store}{suffix}")
        if companion.exists():
            if store.name != DEMO_STORE and not args.replace:
                print(
                    f"{store} exists; pass --replace to start it afresh, or another --store",
                    file=sys.stderr,
                )
                return 2
            companion.unlink()
    started = time.perf_counter()
    case_file = load_case_file(Path(args.cases))
    expected = sum(1 for _ in iter_decide_steps(case_file))
    with _records(store, args.specs) as records:
        print(f"Recording {len(case_file.cases)} sample cases into {store.resolve()}")
        progress = Progress("deciding", expected)
        outcomes: Counter[str] = Counter()
        undecided: list[Undecided] = []
        for history in case_file.cases:
            for result in import_case(records, history, on_decision=lambda _d: progress.advance()):
                if isinstance(result, Undecided):
                    undecided.append(result)
                    continue
                made = result.decision
                outcome = made.outcome or {}
                label = outcome.get("tier", outcome.get("verdict", outcome.get("decision", made.status)))
                outcomes[f"{made.family}: {label}"] += 1
        progress.close()
        total = records.count_decisions()
        replay_progress = Progress("replaying", total)
        results = list(records.replay_all(progress=lambda _r: replay_progress.advance()))
        replay_progress.close()
    elapsed = time.perf_counter() - started
    _print_replay_summary(results, len(case_file.cases), elapsed, outcomes)
    if undecided:
        print(f"not decided    {len(undecided)} (nothing recorded for these):")
        for item in undecided:
            print(f"  {item.case_ref} {item.family}: [{item.error.code}] {item.error.message}")
    print(f"Store: {store.resolve()}  (replay it again with: vrrules replay --store {store})")
    return 0 if all(r.reproduced for r in results) else 1


def _print_replay_summary(
    results: list[ReplayResult], cases: int, elapsed: float, outcomes: Counter[str] | None = None
) -> None:
    statuses = Counter(r.status for r in results)
    print()
    print(f"cases          {cases}")
    print(f"decisions      {len(results)}")
    print(f"reproduced     {statuses['reproduced']}")
    print(f"differences    {statuses['differs']}")
    print(f"unreplayable   {statuses['unreplayable']}")
    print(f"time taken     {elapsed:.2f} s")
    if outcomes:
        print("outcomes")
        for label, count in sorted(outcomes.items()):
            print(f"  {label:<48} {count:>4}")
    for result in results:
        if not result.reproduced:
            print(result)


def _replay(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not _existing_store(args.store):
        return 2
    with _records(args.store, args.specs) as records:
        total = records.count_decisions()
        progress = Progress("replaying", total)
        results = list(records.replay_all(progress=lambda _r: progress.advance()))
        progress.close()
        cases = len({r.case_ref for r in results})
    if args.json:
        print(
            json.dumps(
                {
                    "decisions": len(results),
                    "reproduced": sum(r.reproduced for r in results),
                    "results": [r.as_dict() for r in results],
                },
                indent=2,
            )
        )
    else:
        _print_replay_summary(results, cases, time.perf_counter() - started)
    return 0 if all(r.reproduced for r in results) else 1


def _check(args: argparse.Namespace) -> int:
    try:
        library = PolicyLibrary(args.path, case_sources=CASE_SOURCES)
    except VrrulesError as error:
        print(error, file=sys.stderr)
        return 1
    for family in library.families():
        versions = ", ".join(f"{c.version} (from {c.spec.effective_from})" for c in library.versions(family))
        print(f"{family}: {versions}")
    for warning in library.warnings:
        print(f"warning: {warning}")
    print(f"ok: {len(library.files)} spec file(s) under {library.root}, {len(library.warnings)} warning(s)")
    return 0


def _rates(args: argparse.Namespace) -> int:
    reference = Reference(document=args.document, section=args.section, url=args.url)
    period = read_rate_csv(
        Path(args.file),
        date.fromisoformat(args.start),
        date.fromisoformat(args.until),
        reference,
        args.others,
    )
    print(period_yaml(period), end="")
    return 0


def _test(args: argparse.Namespace) -> int:
    run = run_examples(Path(args.path) if args.path else default_specs_dir())
    print(run.report())
    return 1 if run.failed else 0


def _schema(args: argparse.Namespace) -> int:
    for path in write_json_schemas(Path(args.out)):
        print(f"wrote {path}")
    return 0


def _existing_store(store: str) -> bool:
    if store.startswith(("postgres", "memory")) or Path(store).exists():
        return True
    print(f"expected an existing store, got nothing at {store}", file=sys.stderr)
    return False


def _audit_verify(args: argparse.Namespace) -> int:
    if not _existing_store(args.store):
        return 2
    expected = Path(args.digest).read_text().split()[0] if args.digest else None
    with _records(args.store, args.specs) as records:
        cases = sum(1 for _ in records.case_refs())
        progress = Progress("verifying", cases)
        report = verify_store(
            records,
            expected,
            progress=lambda _ref: progress.advance(),
            on_case=_print_case if args.per_case else None,
            workers=args.workers,
        )
        progress.close()
        if args.html:
            Path(args.html).write_text(render_html(records, report), encoding="utf-8")
            print(f"wrote {args.html}")
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return 0 if report.ok else 1


def _print_case(line: str) -> None:
    print(line)


def _audit_digest(args: argparse.Namespace) -> int:
    if not _existing_store(args.store):
        return 2
    with _records(args.store, args.specs) as records:
        digest = store_digest(records)
    if args.out:
        Path(args.out).write_text(digest + "\n")
        print(f"wrote {args.out}: {digest}")
    else:
        print(digest)
    return 0


def _audit_case(args: argparse.Namespace) -> int:
    if not _existing_store(args.store):
        return 2
    with _records(args.store, args.specs) as records:
        case: Case | None
        if args.version is not None:
            case = records.case(args.case_ref, version=args.version)
            decisions: list[Any] = list(case.decisions)
        else:
            day = date.fromisoformat(args.as_of) if args.as_of else date.max
            case, decisions = case_as_of(records, args.case_ref, day)
        if case is None:
            print(f"case {args.case_ref} was not yet recorded on {args.as_of}")
            return 0
        print(
            f"case {case.case_ref} at event {case.version}"
            + (f" (as known on {args.as_of})" if args.as_of else "")
        )
        for version, record in decisions:
            outcome = record.outcome
            print(f"  event {version}: {record.family} {record.version} on {record.as_of}: {outcome}")
            for fired in record.fired:
                print(f"    - {fired['rule_id']}: {fired['reason']}")
            print(f"    facts: {json.dumps(record.facts, sort_keys=True)}")
    return 0


def _audit_what_if(args: argparse.Namespace) -> int:
    if not _existing_store(args.store):
        return 2
    with _records(args.store, args.specs) as records:
        draft = PolicyLibrary(args.draft, case_sources=CASE_SOURCES) if args.draft else None
        report = impact(records, draft, current_facts=args.current_facts)
        if args.html:
            verified = verify_store(records)
            title = "vrrules what-if report"
            Path(args.html).write_text(render_html(records, verified, report, title=title), encoding="utf-8")
            print(f"wrote {args.html}")
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return 0


def _audit_bundle(args: argparse.Namespace) -> int:
    if not _existing_store(args.store):
        return 2
    with _records(args.store, args.specs) as records:
        refs = args.case_refs or list(records.case_refs())
        for ref in refs:
            records.case(ref)  # an unknown reference is refused before anything is written
        bundle = export_bundle(records, refs)
    Path(args.out).write_bytes(bundle)
    print(f"wrote {args.out}: {len(refs)} case(s)")
    return 0


def _audit_verify_bundle(args: argparse.Namespace) -> int:
    try:
        raw = Path(args.file).read_bytes()
    except OSError as error:
        print(f"expected a bundle file written by 'vrrules audit bundle', got: {error}", file=sys.stderr)
        return 2
    report, problems = verify_bundle(raw)
    print(
        json.dumps({**report.as_dict(), "bundle_problems": problems}, indent=2)
        if args.json
        else report.render()
    )
    for problem in problems:
        print(f"bundle: {problem}")
    return 0 if report.ok and not problems else 1


def _handbook(args: argparse.Namespace) -> int:
    library = PolicyLibrary(args.path, case_sources=CASE_SOURCES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "handbook.md").write_text(handbook_markdown(library), encoding="utf-8")
    (out / "handbook.html").write_text(handbook_html(library), encoding="utf-8")
    print(f"wrote {out / 'handbook.md'} and {out / 'handbook.html'}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    old = PolicyLibrary(args.old, case_sources=CASE_SOURCES)
    new = PolicyLibrary(args.new, case_sources=CASE_SOURCES)
    changes = spec_diff(old, new)
    print("\n".join(changes) if changes else "no changes")
    if args.store:
        if not _existing_store(args.store):
            return 2
        with _records(args.store, old) as records:
            print()
            print("Past decisions under the new specs:")
            print(impact(records, new).render())
    return 0


def _publish(args: argparse.Namespace) -> int:
    library = PolicyLibrary(args.path, case_sources=CASE_SOURCES)
    refused = 0
    with _records(args.store, library) as records:
        for family in library.families():
            for compiled in library.versions(family):
                try:
                    outcome = records.publish(compiled, args.by, args.note)
                except VrrulesError as error:
                    refused += 1
                    outcome = f"refused: [{error.code}] {error.message}"
                print(f"{family} {compiled.version}: {outcome}")
    return 1 if refused else 0


def _add_audit_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="verify a store: hash chains, decisions, digest")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check every chain and replay every decision")
    verify.add_argument("--store", required=True, help="SQLite path or postgresql:// URL")
    verify.add_argument("--digest", default=None, help="file holding the digest kept earlier")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--html", default=None, help="also write a readable HTML report to this file")
    verify.add_argument("--per-case", action="store_true", help="print a line per case as it is verified")
    verify.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes to share the cases among (a store on disk or a server)",
    )
    verify.set_defaults(run=_audit_verify)
    digest = audit_commands.add_parser("digest", help="print (or write) the store digest to keep")
    digest.add_argument("--store", required=True)
    digest.add_argument("--out", default=None, help="file to write the digest to")
    digest.set_defaults(run=_audit_digest)
    audit_case = audit_commands.add_parser("case", help="a case and its decisions, as known on a date")
    audit_case.add_argument("case_ref")
    audit_case.add_argument("--store", required=True)
    audit_case.add_argument(
        "--as-of", default=None, help="YYYY-MM-DD: what the store knew by the end of that day"
    )
    audit_case.add_argument("--version", type=int, default=None, help="the case as it stood at this event")
    audit_case.set_defaults(run=_audit_case)

    what_if = audit_commands.add_parser(
        "what-if", help="re-decide the recorded history under other specs or corrected facts; write nothing"
    )
    what_if.add_argument("--store", required=True)
    what_if.add_argument("--draft", default=None, help="folder of draft specs (default: the current specs)")
    what_if.add_argument(
        "--current-facts", action="store_true", help="use the facts the case holds now (after corrections)"
    )
    what_if.add_argument("--json", action="store_true")
    what_if.add_argument("--html", default=None, help="also write a readable HTML report to this file")
    what_if.set_defaults(run=_audit_what_if)
    bundle = audit_commands.add_parser("bundle", help="export cases as a self-contained audit bundle")
    bundle.add_argument("case_refs", nargs="*", help="cases to export (default: all)")
    bundle.add_argument("--store", required=True)
    bundle.add_argument("--out", required=True, help="bundle file to write")
    bundle.set_defaults(run=_audit_bundle)
    check_bundle = audit_commands.add_parser("verify-bundle", help="check a bundle without the store")
    check_bundle.add_argument("file")
    check_bundle.add_argument("--json", action="store_true")
    check_bundle.set_defaults(run=_audit_verify_bundle)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vrrules", description=__doc__)
    parser.add_argument("--specs", default=None, help="folder of spec files (default: the shipped specs/)")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="record the sample cases, decide, replay, summarise")
    demo.add_argument("--store", default=DEMO_STORE, help=f"SQLite file to write (default ./{DEMO_STORE})")
    demo.add_argument("--cases", default=str(SAMPLE_CASES), help="case file to load (default: the samples)")
    demo.add_argument("--replace", action="store_true", help="start an existing --store afresh")
    demo.set_defaults(run=_demo)

    key = commands.add_parser(
        "key", help=f"print a new key for an encrypted store (set {STORE_KEY_VARIABLE})"
    )
    key.set_defaults(run=_key)

    replay = commands.add_parser("replay", help="replay every recorded decision in a store")
    replay.add_argument("--store", required=True, help="SQLite path or postgresql:// URL")
    replay.add_argument("--json", action="store_true", help="print the results as JSON")
    replay.set_defaults(run=_replay)

    check = commands.add_parser("check", help="load every spec under PATH and report all problems")
    check.add_argument("path", nargs="?", default=None, help="spec file or folder (default: specs/)")
    check.set_defaults(run=_check)

    test = commands.add_parser("test", help="run the worked examples under PATH and report rule coverage")
    test.add_argument("path", nargs="?", default=None, help="examples file or folder (default: specs/)")
    test.set_defaults(run=_test)

    schema = commands.add_parser("schema", help="write JSON Schemas of the spec and example formats")
    schema.add_argument("--out", default="schemas", help="folder to write them to (default ./schemas)")
    schema.set_defaults(run=_schema)

    _add_audit_commands(commands)

    handbook = commands.add_parser("handbook", help="render every family, rule and reference as a handbook")
    handbook.add_argument("path", nargs="?", default=None, help="specs folder (default: specs/)")
    handbook.add_argument("--out", default="handbook", help="folder to write handbook.md and .html to")
    handbook.set_defaults(run=_handbook)

    diff = commands.add_parser("diff", help="what changed between two spec folders, and what it would change")
    diff.add_argument("old", help="the spec folder as it was")
    diff.add_argument("new", help="the spec folder as proposed")
    diff.add_argument(
        "--store", default=None, help="re-decide this store's decisions under NEW (writes nothing)"
    )
    diff.set_defaults(run=_diff)

    publish = commands.add_parser("publish", help="record spec versions as published in a store (immutable)")
    publish.add_argument("path", nargs="?", default=None, help="specs folder (default: specs/)")
    publish.add_argument("--store", required=True, help="SQLite path or postgresql:// URL")
    publish.add_argument("--by", required=True, help="who publishes")
    publish.add_argument("--note", required=True, help="why: what changed and on what authority")
    publish.set_defaults(run=_publish)

    rates = commands.add_parser("rates", help="turn a per-diem rate CSV into a table period for a spec")
    rates.add_argument("file", help="CSV with columns location, lodging, meals[, months]")
    rates.add_argument("--from", dest="start", required=True, help="first day of the period (YYYY-MM-DD)")
    rates.add_argument("--until", required=True, help="last day of the period (YYYY-MM-DD)")
    rates.add_argument("--document", required=True, help="the publication the rates come from")
    rates.add_argument("--section", required=True, help="where in it")
    rates.add_argument("--url", default=None)
    rates.add_argument("--others", default=None, help="the location whose row applies to unlisted ones")
    rates.set_defaults(run=_rates)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except VrrulesError as error:
        print(f"vrrules: [{error.code}] {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
