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
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vrrules.cli.errors import EXIT_FINDING
from vrrules.policies import wording
from vrrules.policies.model import FamilySpec

__all__ = [
    "Output",
    "dumps",
    "facts_text",
    "headline",
    "json_default",
    "label",
    "outcome_text",
    "progress",
    "status",
    "table",
]


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
    return wording.code_text(status)


def facts_text(facts: Mapping[str, Any] | None) -> str:
    """The facts a decision was decided on, one ``name: value`` each, values in words."""
    if not facts:
        return "none"
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
        console = Console(file=sys.stdout, width=wide, highlight=False, soft_wrap=False)
        with console.capture() as captured:
            console.print(table(columns, rows, title))
        click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _width(stream: Any) -> int | None:
    return None if getattr(stream, "isatty", lambda: False)() else 160


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Table:
    grid = Table(title=title, box=None, pad_edge=False, header_style="bold", title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    return grid


@contextmanager
def status(label: str) -> Iterator[None]:
    """A spinner on stderr while work of unknown length runs; nothing when stderr is not a terminal."""
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield
        return
    with console.status(label):
        yield


@contextmanager
def progress(label: str, total: int) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr while the block runs; nothing at all when stderr is not a terminal."""
    console = Console(file=sys.stderr)
    if not console.is_terminal or total <= 0:
        yield lambda *_: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda *_: bar.advance(task)
