"""What a command prints: its result on stdout (text, or one JSON document with ``--json``),
progress and notes on stderr, and a progress bar only when stderr is a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
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

__all__ = ["Output", "dumps", "headline", "json_default", "outcome_text", "progress", "table"]


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


def outcome_text(outcome: Any) -> str:
    """An outcome as words, not a Python dict (until the shared outcome formatter lands):
    its scalar values by name, and lists (a collect family's findings) by count."""
    if not outcome:
        return "-"
    if not isinstance(outcome, dict):
        return str(outcome)
    parts = []
    for name, value in outcome.items():
        if value is None:
            continue
        label = name.replace("_", " ")
        if isinstance(value, list | dict):
            codes = (
                [v.get("finding") for v in value if isinstance(v, dict)] if isinstance(value, list) else []
            )
            named = ", ".join(str(c) for c in codes if c)
            parts.append(f"{len(value)} {label}" + (f" ({named})" if named else ""))
        else:
            parts.append(f"{label} {value}")
    return "; ".join(parts)


def headline(outcome: Any) -> str:
    """The one value that sums an outcome up: its tier, verdict or decision."""
    if isinstance(outcome, dict):
        for name in ("tier", "verdict", "decision"):
            if outcome.get(name) is not None:
                return f"tier {outcome[name]}" if name == "tier" else str(outcome[name])
    return outcome_text(outcome)


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

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        if self.json_mode:
            return
        console = Console(file=sys.stdout, width=_width(sys.stdout), highlight=False, soft_wrap=False)
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
