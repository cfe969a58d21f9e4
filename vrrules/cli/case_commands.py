"""Commands on cases: list them, show one's timeline, decide, import case files, and which
facts a family needs (the due list is in :mod:`vrrules.cli.due_commands`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from vrrules import CaseRecords, VrrulesError
from vrrules.cli.common import (
    Command,
    Group,
    json_flag,
    library,
    load_cases,
    open_records,
    read_data,
    specs_root,
    store_option,
)
from vrrules.cli.errors import EXIT_OK, CommandError
from vrrules.cli.output import Output, headline, outcome_text, progress
from vrrules.cli.params import ISO_DATE, ExistingPath
from vrrules.cli.timeline import case_summary, timeline
from vrrules.events.importer import Undecided, import_case, import_cases
from vrrules.policies.model import DERIVATIONS

__all__ = ["COMMANDS"]

FACTS_LIMIT = 1_000_000


@click.command("cases", cls=Command)
@store_option()
@json_flag
def cases(*, store: str, json_mode: bool) -> int:
    """List the cases in a store, each with its last event and its latest decisions.

    \b
    Examples:
      vrrules cases --store vrrules-demo.db
      vrrules cases --store vrrules-demo.db --json
    """
    out = Output(json_mode)
    with open_records(store, read_only=True) as records:
        summaries = [case_summary(records, ref) for ref in records.case_refs()]
    rows = []
    for item in summaries:
        last = item["last_event"]
        decided = "; ".join(f"{d['family']}: {headline(d['outcome'])}" for d in item["decisions"]) or "-"
        rows.append(
            [item["case"], item["events"], f"{last['event']} {last['type']}", last["business_date"], decided]
        )
    out.result(
        {"cases": summaries},
        lambda: out.table(["case", "events", "last event", "on", "latest decisions"], rows),
    )
    return EXIT_OK


@click.group("case", cls=Group)
def case() -> None:
    """One case: its timeline.

    \b
    Examples:
      vrrules case show VR-2025-0102 --store vrrules-demo.db
    """


@case.command("show", cls=Command)
@click.argument("case_ref")
@store_option()
@json_flag
def case_show(*, case_ref: str, store: str, json_mode: bool) -> int:
    """The case's timeline: every event and decision, with its business date (the date in
    its payload, e.g. received_on) and its recording time (when the store recorded it).

    \b
    Examples:
      vrrules case show VR-2025-0102 --store vrrules-demo.db
      vrrules case show VR-2025-0102 --store vrrules-demo.db --json
    """
    out = Output(json_mode)
    with open_records(store, read_only=True) as records:
        entries = timeline(records, case_ref)
    rows = []
    for item in entries:
        what = item.kind
        if item.decision is not None:
            made = item.decision
            what = f"decision {made['family']} {made['version']}: {outcome_text(made['outcome'])}"
        business = f"{item.business_date} ({item.business_field})" if item.business_date else "-"
        rows.append([item.version, business, item.recorded_at.isoformat(timespec="seconds"), what])
    out.result(
        {"case": case_ref, "events": [e.as_dict() for e in entries]},
        lambda: out.table(["event", "business date", "recorded at", "what"], rows, title=f"case {case_ref}"),
    )
    return EXIT_OK


def _decision_document(made: Any, recorded: bool) -> dict[str, Any]:
    decision = made.decision
    return {
        "case": made.case_ref,
        "family": decision.family,
        "version": decision.version,
        "as_of": decision.as_of.isoformat(),
        "recorded": recorded,
        "event": made.case_version if recorded else None,
        "status": decision.status,
        "outcome": decision.outcome,
        "fired": [rule.as_dict() for rule in decision.fired],
        "facts": decision.facts,
        "explanation": made.explain(),
    }


@click.command("decide", cls=Command, uses_specs=True)
@click.argument("case_ref")
@click.argument("family")
@store_option()
@click.option("--as-of", type=ISO_DATE, default=None, help="the effective date (default: the family's date)")
@click.option(
    "--facts",
    "facts_file",
    type=ExistingPath(file=True, folder=False, what="facts file"),
    default=None,
    help="YAML or JSON mapping of the facts the caller gives (see 'vrrules facts FAMILY')",
)
@click.option("--dry-run", is_flag=True, help="decide and show, but record nothing")
@json_flag
@click.pass_context
def decide(
    ctx: click.Context,
    *,
    case_ref: str,
    family: str,
    store: str,
    as_of: date | None,
    facts_file: Path | None,
    dry_run: bool,
    json_mode: bool,
) -> int:
    """Decide FAMILY on the case CASE_REF with the policy in force, and record the decision.

    \b
    Examples:
      vrrules decide VR-2025-0102 tiers --store vrrules-demo.db --dry-run
      vrrules decide VR-2025-0102 billing --store cases.db --as-of 2025-12-01 --facts bill.yaml
    """
    out = Output(json_mode)
    facts = (
        read_data(
            facts_file,
            "facts file",
            FACTS_LIMIT,
            holds="a mapping of fact names to values (YAML 'name: value' lines, or a JSON object)",
            fix=f"write the facts {family} takes from the caller, one 'name: value' each "
            f"('vrrules facts {family}' lists them), or leave out --facts",
        )
        if facts_file is not None
        else None
    )
    if facts is not None and not isinstance(facts, dict):
        raise CommandError(
            f"expected the facts file to hold a mapping of fact names to values, got {type(facts).__name__} "
            f"in {facts_file}",
            code="facts_invalid",
        )
    with open_records(store, specs_root(ctx, None), read_only=dry_run) as records:
        made = records.decide(case_ref, family, as_of=as_of, facts=facts, record=not dry_run)
        spec = next(
            (c.spec for c in records.policies.versions(family) if c.version == made.decision.version), None
        )
        opened_on = records.case(case_ref).opening.opened_on
    document = _decision_document(made, not dry_run)
    if as_of is not None and as_of < opened_on:
        # allowed on purpose: a history may record what happened before the case was opened
        # here (a plan begun elsewhere, a migrated case), and a decision about such a day reads
        # what was dated by then; say so, since the due list leaves the case out until then
        out.note(
            f"note: {as_of.isoformat()} is before case {case_ref} was opened ({opened_on.isoformat()}): "
            f"the decision reads only the events its history dates on or before {as_of.isoformat()}, "
            "and the case is on no due list before its opening"
        )

    def render() -> None:
        where = f"event {document['event']}" if document["recorded"] else "dry run: nothing recorded"
        out.text(
            f"case {case_ref}: {document['family']} {document['version']} on {document['as_of']} ({where})"
        )
        out.text(f"  {document['status'].replace('_', ' ')}: {outcome_text(document['outcome'], spec)}")
        for rule in document["fired"]:
            out.text(f"  - {rule.get('rule_id')}: {rule.get('reason')}")

    out.result(document, render)
    return EXIT_OK


@click.command("import", cls=Command, uses_specs=True)
@click.argument("file", type=ExistingPath(file=True, folder=False, what="case file"))
@store_option(existing=False)
@json_flag
@click.pass_context
def import_command(ctx: click.Context, *, file: Path, store: str, json_mode: bool) -> int:
    """Import the cases of a YAML or JSON case file into a store, all or nothing.

    Every case is first played in memory; if any case is refused (or already in the
    store), nothing is stored and each refused case is named. Steps that cannot decide
    for want of a published value are reported, and are not failures.

    \b
    Examples:
      vrrules import new-cases.yaml --store cases.db
      vrrules import export.json --store cases.db --json
    """
    out = Output(json_mode)
    case_file = load_cases(file)
    root = specs_root(ctx, None)
    failed: list[dict[str, Any]] = []
    undecided: list[dict[str, Any]] = []
    with open_records(store, root) as records:
        with (
            CaseRecords(store="memory", specs=records.policies) as rehearsal,
            progress("checking", len(case_file.cases)) as advance,
        ):
            for history in case_file.cases:
                try:
                    records.case(history.case_ref)
                except VrrulesError:
                    pass
                else:
                    failed.append(
                        {
                            "case": history.case_ref,
                            "code": "case_exists",
                            "message": f"case {history.case_ref!r} is already in the store",
                        }
                    )
                    continue
                try:
                    for result in import_case(rehearsal, history):
                        if isinstance(result, Undecided):
                            undecided.append(
                                {"case": result.case_ref, "family": result.family, "code": result.error.code}
                            )
                except VrrulesError as error:
                    failed.append({"case": history.case_ref, "code": error.code, "message": error.message})
                advance()
        if failed:
            raise CommandError(
                f"expected every case of {file} to import, got {len(failed)} refused, so nothing was stored: "
                + "; ".join(f"{f['case']}: [{f['code']}] {f['message']}" for f in failed[:5]),
                code=str(failed[0]["code"]),
                stored=False,
                cases=len(case_file.cases),
                failed=failed,
            )
        summary = import_cases(records, case_file.cases, batch_size=len(case_file.cases) + 1)
    document = {
        "ok": True,
        "stored": True,
        "cases": summary.cases,
        "events": summary.events,
        "decisions": summary.decisions,
        "undecided": undecided,
        "failed": [],
    }
    out.result(
        document,
        lambda: out.text(
            f"imported {summary.cases} case(s), {summary.events} event(s), {summary.decisions} decision(s); "
            f"{len(undecided)} step(s) not decided (no published value)"
        ),
    )
    return EXIT_OK


@click.command("facts", cls=Command, uses_specs=True)
@click.argument("family")
@click.option(
    "--as-of", type=ISO_DATE, default=None, help="the version in force on this day (default: the latest)"
)
@json_flag
@click.pass_context
def facts(ctx: click.Context, *, family: str, as_of: date | None, json_mode: bool) -> int:
    """The facts FAMILY needs, and where each comes from: the case history (its path),
    derived from other facts, or given by the caller (decide --facts).

    \b
    Examples:
      vrrules facts tiers
      vrrules facts billing --as-of 2025-12-01 --json
    """
    out = Output(json_mode)
    loaded = library(specs_root(ctx, None))
    if as_of is not None:
        compiled = loaded.in_force(family, as_of)
    else:
        versions = loaded.versions(family)
        if not versions:
            loaded.in_force(family, date.today())  # raises policy_not_in_force naming the families
        compiled = max(versions, key=lambda c: c.spec.effective_from)
    with CaseRecords(store="memory", specs=loaded) as records:
        sources = records.facts(family, as_of or compiled.spec.effective_from)
    rows: list[dict[str, Any]] = []
    for source in sources:
        declared = compiled.spec.facts[source.name]
        if source.origin == "derived":
            used = next((k for k in DERIVATIONS if getattr(declared.derive, k, None)), "derived")
            where: str | None = f"{used} of " + ", ".join(source.inputs)
        else:
            where = source.path
        rows.append(
            {
                "name": source.name,
                "type": source.type,
                "from": source.origin,
                "source": where,
                "inputs": list(source.inputs),
                "required": source.origin == "caller" and source.default is None,
                "default": source.default,
                "values": declared.values,
                "description": source.description,
            }
        )
    document = {"family": family, "version": compiled.version, "facts": rows}

    def render() -> None:
        out.table(
            ["fact", "type", "from", "source / inputs", "description"],
            [
                [
                    r["name"],
                    r["type"],
                    r["from"],
                    r["source"] or ("required" if r["required"] else "optional"),
                    r["description"],
                ]
                for r in rows
            ],
            title=f"{family} {compiled.version}",
        )

    out.result(document, render)
    return EXIT_OK


COMMANDS = [cases, case, decide, import_command, facts]
