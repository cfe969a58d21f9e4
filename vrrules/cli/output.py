"""What a command prints: its result on stdout (text, or one JSON document with ``--json``),
progress and notes on stderr, and a progress bar only when stderr is a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vrrules.cli.errors import EXIT_FINDING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from vrrules.policies.model import FamilySpec

# The wording of outcomes (and through it the spec model) and rich are imported where an
# outcome, a rich table or a bar is written: `vrrules due --json` writes none of them, and
# should not pay for loading them.

__all__ = [
    "Output",
    "counted_progress",
    "dumps",
    "facts_text",
    "headline",
    "json_default",
    "label",
    "outcome_text",
    "plain_table",
    "progress",
    "status",
    "table",
]


def _console(file: Any, **options: Any) -> Console:
    from rich.console import Console  # noqa: PLC0415  (see the imports)

    return Console(file=file, **options)


def _bar(console: Console) -> Progress:
    from rich.progress import (  # noqa: PLC0415  (see the imports)
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def json_default(value: Any) -> Any:
    """JSON for the values results hold: dates, money, sets, paths."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def outcome_text(outcome: Any, spec: FamilySpec | None = None, *, rule_id: str | None = None) -> str:
    """An outcome as a sentence: the library's one formatter
    (:func:`vrrules.policies.wording.outcome_text`), never a second one here."""
    from vrrules.policies import wording  # noqa: PLC0415  (see the imports)

    return wording.outcome_text(outcome, spec, rule_id=rule_id)


def headline(outcome: Any, spec: FamilySpec | None = None) -> str:
    """The outcome's first clause (its tier, decision or verdict in words), from the same
    formatter: ``Tier 2 (targeted assessment and recommendations), from 6 weeks up to 6 months``."""
    return outcome_text(outcome, spec).split("; ")[0]


def label(outcome: Any, status: str = "decided") -> str:
    """A short label to count outcomes by: the outcome's tier, decision or verdict alone, in
    the formatter's words (``Tier 2``, ``On time``), else the status in words."""
    if isinstance(outcome, Mapping):
        for key in ("tier", "decision", "verdict"):
            if outcome.get(key) is not None:
                return outcome_text({key: outcome[key]})
    from vrrules.policies import wording  # noqa: PLC0415  (see the imports)

    return wording.code_text(status)


def facts_text(facts: Mapping[str, Any] | None) -> str:
    """The facts a decision was decided on, one ``name: value`` each, values in words."""
    if not facts:
        return "none"
    from vrrules.policies import wording  # noqa: PLC0415  (see the imports)

    return "; ".join(f"{name}: {wording.value_text(value)}" for name, value in sorted(facts.items()))


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False, default=json_default, ensure_ascii=False)


@dataclass
class Output:
    """One command's output. With ``json_mode`` stdout holds exactly one JSON document."""

    json_mode: bool = False

    def text(self, line: str = "") -> None:
        """A line of the human result (stdout); nothing in JSON mode."""
        if not self.json_mode:
            click.echo(line)

    def note(self, line: str) -> None:
        """A remark beside the result (stderr, in both modes)."""
        click.echo(line, err=True)

    def result(self, document: dict[str, Any], render: Callable[[], None] | None = None) -> None:
        """The command's result: the document in JSON mode, else what ``render`` prints."""
        if self.json_mode:
            click.echo(dumps(document))
        elif render is not None:
            render()

    def finding(self, *, code: str, message: str) -> int:
        """A check that did not hold: one coded line on stderr, exit 1 (the result is still printed)."""
        click.echo(f"error[{code}]: {' '.join(message.split())}", err=True)
        return EXIT_FINDING

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        title: str | None = None,
        width: int | None = None,
    ) -> None:
        """A table on stdout (nothing in JSON mode); ``width`` caps it (cells fold)."""
        if self.json_mode:
            return
        wide = _width(sys.stdout)
        wide = width if wide is None or (width is not None and width < wide) else wide
        console = _console(sys.stdout, width=wide, highlight=False, soft_wrap=False)
        with console.capture() as captured:
            console.print(table(columns, rows, title))
        click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _width(stream: Any) -> int | None:
    return None if getattr(stream, "isatty", lambda: False)() else 160


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Table:
    from rich.table import Table  # noqa: PLC0415  (see the imports)

    grid = Table(title=title, box=None, pad_edge=False, header_style="bold", title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    return grid


@contextmanager
def status(label: str) -> Iterator[None]:
    """A spinner on stderr while work of unknown length runs; nothing when stderr is not a terminal."""
    console = _console(sys.stderr)
    if not console.is_terminal:
        yield
        return
    with console.status(label):
        yield


@contextmanager
def progress(label: str, total: int | Callable[[], int]) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr while the block runs; nothing at all when stderr is not a
    terminal. ``total`` may be a function, called only when a bar is shown (counting what
    is to be done can cost a reading of the store)."""
    console = _console(sys.stderr)
    if not console.is_terminal:
        yield lambda *_: None
        return
    total = total() if callable(total) else total
    if total <= 0:
        yield lambda *_: None
        return
    with _bar(console) as bar:
        task = bar.add_task(label, total=total)
        yield lambda *_: bar.advance(task)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> str:
    """A table as plain aligned lines, a row a line and nothing folded: for lists that can run
    to hundreds of thousands of rows, which a rich table lays out far too slowly (about a
    millisecond a row). Columns are as wide as their widest cell; the last is not padded."""
    widths = [
        max(len(name), max(map(len, map(itemgetter(n), rows)), default=0)) for n, name in enumerate(columns)
    ]
    pattern = " ".join(f"{{:<{width}}}" for width in widths[:-1]) + " {}"
    lines = [title] if title else []
    lines.append(pattern.format(*columns).rstrip())
    lines.extend(pattern.format(*row).rstrip() for row in rows)
    return "\n".join(lines)


@contextmanager
def counted_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for work whose size is known only once it starts: the callable
    is told ``(done, total)``; the bar appears on the first call with work to show, and never
    when stderr is not a terminal."""
    console = _console(sys.stderr)
    if not console.is_terminal:
        yield lambda *_: None
        return
    bar = _bar(console)
    task: list[Any] = []

    def tell(done: int, total: int) -> None:
        if not task:
            if total <= 0:
                return
            bar.start()
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield tell
    finally:
        if task:
            bar.stop()
