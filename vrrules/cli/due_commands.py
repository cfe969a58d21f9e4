"""The due list on the command line: ``vrrules due`` asks the projection the store keeps;
``vrrules audit due`` checks it against deciding every timed family on every case.

``vrrules due`` is the command a case worker runs every morning, so its module imports only
what answering needs (the library's deciding stack loads when cases have to be worked out)."""

from __future__ import annotations

import os
import sys
from contextlib import closing
from datetime import date
from typing import Any

import click
import orjson

from vrrules.cli.common import Command, json_flag, open_records, open_store, specs_root, store_option
from vrrules.cli.errors import EXIT_OK
from vrrules.cli.output import Output, counted_progress, plain_table
from vrrules.cli.params import ISO_DATE, Count, store_file
from vrrules.events.due import DueItem, DueReport, check_due, kept_due_list
from vrrules.policies.specfiles import default_specs_dir

__all__ = ["COMMANDS", "DUE_COLUMNS", "RICH_ROWS", "audit_due", "days_text", "due", "due_rows"]

DUE_COLUMNS = ["due", "overdue / left", "case", "family", "rule", "reference", "what to do"]
# Up to this many rows a due list is laid out as the other tables are (cells folded to the
# width); a longer one is printed a row a line, unfolded, which streams at any length.
RICH_ROWS = 200


def days_text(item: DueItem) -> str:
    """Days overdue or left, in words: ``3 days overdue``, ``due today``, ``1 day left``."""
    count = abs(item.days)
    unit = "day" if count == 1 else "days"
    if item.days > 0:
        return f"{count} {unit} overdue"
    return "due today" if item.days == 0 else f"{count} {unit} left"


def due_rows(items: list[DueItem]) -> list[list[str]]:
    """The due list as table rows, by due date (the order the library gives)."""
    # a long list repeats its dates and day counts: each is written in words once
    dates: dict[date, str] = {}
    days: dict[int, str] = {}
    rows = []
    for item in items:
        due_on, case_ref, family, rule_id, _, _, count, reference, what_to_do = item
        on = dates.get(due_on)
        if on is None:
            on = dates[due_on] = due_on.isoformat()
        left = days.get(count)
        if left is None:
            left = days[count] = days_text(item)
        rows.append([on, left, case_ref, family, rule_id, reference or "-", what_to_do])
    return rows


def _print_items(out: Output, items: list[DueItem], title: str) -> None:
    if len(items) <= RICH_ROWS:
        out.table(DUE_COLUMNS, due_rows(items), title=title)
    else:
        out.text(plain_table(DUE_COLUMNS, due_rows(items), title))


def _unwritable(store: str) -> bool:
    """A store file (or its folder) this process may not write: read-only media, say. The due
    list is then read and caught up in memory, and nothing is written."""
    path = store_file(store)
    if path is None or not path.exists():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK))


def _json(document: dict[str, Any]) -> None:
    # orjson: a due list of a hundred thousand items is written in a twentieth of a second (the
    # standard encoder with indentation takes over one); the document is plain JSON. As bytes
    # where stdout takes them (the text layer would encode it all again)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    click.echo(data if hasattr(sys.stdout, "buffer") else data.decode())


@click.command("due", cls=Command, uses_specs=True)
@store_option()
@click.option(
    "--as-of",
    type=ISO_DATE,
    required=True,
    help="business date to ask about: deadlines passed by then are overdue, later ones are coming",
)
@click.option(
    "--within",
    type=Count(0, 36500),
    default=0,
    show_default=True,
    help="also list deadlines coming within this many days after --as-of (0 to 36500)",
)
@click.option(
    "--rebuild", is_flag=True, help="build the due list again from the store's first record, and keep it"
)
@click.option(
    "--workers",
    type=Count(1, 64),
    default=None,
    help="processes to share a rebuild or a long catch-up among (default: the cores)",
)
@json_flag
@click.pass_context
def due(
    ctx: click.Context,
    *,
    store: str,
    as_of: date,
    within: int,
    rebuild: bool,
    workers: int | None,
    json_mode: bool,
) -> int:
    """The deadlines passed, or coming within --within days, on every case as of a business date.

    Every timed family (a rule reporting a due date) as decided on every case as of --as-of:
    the family, the rule, the due date, the days overdue or left, the reference and what to
    do, sorted by due date. The list is a projection the store keeps beside its events: this
    command first reads what was recorded since it last did, works out again the cases that
    touched (the first run, or a run after the specs changed, works out every case: --workers
    processes share it), keeps the result in the store, and then lists the items with one
    query. The events and the log are never changed. A store on read-only media is caught up
    in memory and nothing is written. The rules are the current specs (or --specs);
    `vrrules audit due` checks the kept list against deciding every case.

    \b
    Examples:
      vrrules due --store vrrules-demo.db --as-of 2026-01-15
      vrrules due --store vrrules-demo.db --as-of 2026-01-15 --within 14
      vrrules due --store vrrules-demo.db --as-of 2026-01-15 --within 30 --rebuild --json
    """
    out = Output(json_mode)
    read_only = _unwritable(store)
    specs = specs_root(ctx, None)
    kept = None
    if not rebuild:
        # current (the same spec files, nothing recorded since): one query, nothing loaded
        with closing(open_store(store, read_only=read_only)) as opened:
            kept = kept_due_list(opened, specs or default_specs_dir(), as_of, within)
    if kept is not None:
        report, count, overdue = kept.report, len(kept.rows), kept.overdue()
        items = [] if json_mode else kept.items()
        # the items as JSON only when they are printed so (a long list costs a tenth of a second)
        documents = kept.documents() if json_mode else []
    else:
        with (
            open_records(store, specs, read_only=read_only) as records,
            counted_progress("working out the due list") as tell,
        ):
            items = records.due(as_of, within, rebuild=rebuild, progress=tell, workers=workers)
            report = records.due_report or DueReport()
        count, overdue = len(items), sum(1 for item in items if item.days > 0)
        documents = [item.as_dict() for item in items] if json_mode else []
    document = {
        "as_of": as_of.isoformat(),
        "within": within,
        **report.as_dict(),
        "overdue": overdue,
        "coming": count - overdue,
        "items": documents,
    }
    if report.rebuilt:
        out.note(f"built the due list from the log ({report.reason}): {report.worked_out:,} cases worked out")
    if report.note:
        out.note(report.note)

    def render() -> None:
        horizon = f" or coming within {within} days" if within else " or due that day"
        if not items:
            out.text(f"nothing overdue{horizon} as of {as_of.isoformat()}")
            return
        _print_items(out, items, f"as of {as_of.isoformat()}: {overdue} overdue, {count - overdue} coming")

    if json_mode:
        _json(document)
    else:
        render()
    return EXIT_OK


@click.command("due", cls=Command, uses_specs=True)
@store_option()
@click.option("--as-of", type=ISO_DATE, required=True, help="the business date to check the due list on")
@click.option(
    "--within",
    type=Count(0, 36500),
    default=0,
    show_default=True,
    help="also check the deadlines coming within this many days after --as-of",
)
@json_flag
@click.pass_context
def audit_due(ctx: click.Context, *, store: str, as_of: date, within: int, json_mode: bool) -> int:
    """Check the due list the store keeps against deciding every timed family on every case.

    Reads the store only (its file is left byte for byte as it was): the kept projection,
    caught up in memory with what was recorded since, lists the items of --as-of; every timed
    family is then decided on every case as of that day with the current specs (or --specs),
    and the two must agree. Exits 1 (due_list_differs) naming each item one lists and the
    other does not, and when the store keeps no due list or one worked out with other specs.

    \b
    Examples:
      vrrules audit due --store vrrules-demo.db --as-of 2026-02-02 --within 14
      vrrules audit due --store vrrules-demo.db --as-of 2026-02-02 --json
    """
    out = Output(json_mode)
    with open_records(store, specs_root(ctx, None), read_only=True) as records:
        check = check_due(records, as_of, within)
    document = check.as_dict()

    def render() -> None:
        verdict = "the due list agrees" if check.ok else "the due list DIFFERS"
        out.text(
            f"{verdict} with deciding every case as of {as_of.isoformat()} (within {within} days): "
            f"{check.listed:,} listed, {check.expected:,} decided"
        )
        past = check.position > check.store_position
        out.text(
            f"  kept at position {check.position:,} of {check.store_position:,}"
            + (
                " (PAST THE END OF THE LOG: the kept list is damaged; `vrrules due` builds it again)"
                if past
                else ""
            )
            + f"; {check.caught_up:,} record(s) after it read in memory"
        )
        for problem in check.problems:
            out.text(f"  - {problem}")
        for title, found in (
            ("decided but not listed", check.missing),
            ("listed but not decided", check.unexpected),
        ):
            if found:
                out.text(f"  {title}: {len(found)}")
                for row in due_rows(found[:50]):
                    out.text("    " + "  ".join(row[:5]))

    out.result(document, render)
    if check.ok:
        return EXIT_OK
    first = (
        check.problems[0]
        if check.problems
        else f"{len(check.missing)} item(s) decided but not listed, "
        f"{len(check.unexpected)} listed but not decided"
    )
    return out.finding(code="due_list_differs", message=f"expected the kept due list to agree, got: {first}")


COMMANDS = [due]
