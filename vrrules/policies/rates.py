"""Rate tables from files: read a per-diem table (CSV) into the rows a spec's table holds.

A full OFM or GSA table has hundreds of rows; typing them into YAML by hand invites
mistakes. ``read_rate_csv`` reads a CSV with the columns ``location``, ``lodging``,
``meals`` and optionally ``months`` (calendar months the row applies in, such as
``6,7,8,9``), validates every row (money exact to the cent, months 1 to 12, no duplicate
location-month) and returns a :class:`TablePeriod`; ``period_yaml`` renders it for the
spec, so each release keeps its rates in its own text and replays without the file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vrrules.errors import Diagnostic, SpecInvalidError
from vrrules.policies.facts import money_as_written
from vrrules.policies.model import Reference, TablePeriod

__all__ = ["fallback_problem", "period_yaml", "read_rate_csv"]

_COLUMNS = {"location", "lodging", "meals", "months"}


def _problem(path: Path, line: int | None, message: str) -> SpecInvalidError:
    return SpecInvalidError(
        [
            Diagnostic(
                code="rate_table_invalid",
                message=message,
                file=str(path),
                line=line,
                hint="one row per location (and months), money with at most two decimals",
            )
        ]
    )


_MONTHS = re.compile(r"[0-9]{1,2}(?:,[0-9]{1,2})*")


def _months(text: str, path: Path, line: int) -> list[int] | None:
    if not text.strip():
        return None
    written = text.replace(" ", "")
    if not _MONTHS.fullmatch(written):  # int() alone also reads '+6', '0_6' and other scripts' digits
        raise _problem(
            path, line, f"expected months as numbers 1-12 in ASCII digits separated by commas, got {text!r}"
        )
    months = [int(part) for part in written.split(",")]
    if any(not 1 <= m <= 12 for m in months):
        raise _problem(path, line, f"expected months 1-12, got {text!r}")
    return months


def _money(text: str, column: str, path: Path, line: int) -> str:
    """A rate exactly as written (what event payloads and facts take): ``1e3`` and ``7_6``, which
    Decimal reads as 1000 and 76, are refused with the plain amount to write."""
    amount = text.strip()  # the spaces around a cell are the CSV's, not the amount's
    try:
        money_as_written(amount)
    except ValueError as error:
        raise _problem(path, line, f"{column}: {error}") from None
    if amount.startswith("-"):
        raise _problem(path, line, f"{column}: expected a rate from 0 up, got {amount!r}")
    return amount


def fallback_problem(period: TablePeriod) -> str | None:
    """Why a period's ``all_other_locations`` cannot be taken: it names none of its rows'
    locations, so an unlisted location would find no rate (None: it names one, or is not given)."""
    fallback = period.all_other_locations
    locations = sorted({row.location for row in period.rows})
    if fallback is None or fallback in locations:
        return None
    shown = ", ".join(repr(location) for location in locations[:8]) + (", ..." if len(locations) > 8 else "")
    return (
        f"expected the location whose rates apply to unlisted locations to be one of the rows' ({shown}), "
        f"got {fallback!r}, which no row names: an unlisted location would find no rate"
    )


def _header(row: list[str], path: Path) -> list[str]:
    twice = sorted({name for name in row if row.count(name) > 1})
    if not {"location", "lodging", "meals"} <= set(row) or set(row) - _COLUMNS or twice:
        raise _problem(
            path,
            1,
            "expected the columns location, lodging, meals[, months], each once, got "
            + (f"{', '.join(twice)} twice in " if twice else "")
            + str(row),
        )
    return row


def _records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's rows by column, each with its line; a row with more or fewer cells than the
    header names is refused (csv's DictReader dropped the extra cells without a word)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = _header(next(reader, []), path)
            for cells in reader:
                if not cells:  # a blank line
                    continue
                if len(cells) != len(header):
                    raise _problem(
                        path,
                        reader.line_num,
                        f"expected {len(header)} cells ({', '.join(header)}) as the header names, got "
                        f"{len(cells)}: {','.join(cells)[:80]!r}",
                    )
                yield reader.line_num, dict(zip(header, cells, strict=True))
        except csv.Error as error:
            raise _problem(path, reader.line_num, f"expected CSV cells, got: {error}") from None


def read_rate_csv(
    path: Path, start: date, until: date, reference: Reference, all_other_locations: str | None = None
) -> TablePeriod:
    """Read and validate a rate file into one period of a spec table."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None]] = set()
    for line, record in _records(path):
        months = _months(record.get("months") or "", path, line)
        applies_in: list[int | None] = list(months) if months else [None]
        for month in applies_in:
            key = (record["location"].strip(), month)
            if key in seen:
                raise _problem(path, line, f"location {key[0]!r} appears twice for month {month or 'all'}")
            seen.add(key)
        row: dict[str, Any] = {
            "location": record["location"].strip(),
            "lodging": _money(record["lodging"], "lodging", path, line),
            "meals": _money(record["meals"], "meals", path, line),
        }
        if months:
            row["months"] = months
        rows.append(row)
    data = {
        "from": start,
        "until": until,
        "reference": reference.model_dump(exclude_none=True),
        "all_other_locations": all_other_locations,
        "rows": rows,
    }
    try:
        period = TablePeriod.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = first["loc"]
        row_line: int | None = None
        if len(where) > 1 and where[0] == "rows" and isinstance(where[1], int):
            row_line = where[1] + 2  # header is line 1, first row line 2
        raise _problem(path, row_line, f"{'.'.join(str(p) for p in where)}: {first['msg']}") from None
    problem = fallback_problem(period)
    if problem is not None:
        raise _problem(path, None, f"{problem}; name one of them (--others in vrrules rates)")
    return period


def period_yaml(period: TablePeriod) -> str:
    """The period as YAML to paste under a table's ``periods:`` in a spec."""
    data = period.model_dump(mode="json", by_alias=True, exclude_none=True)
    for row in data["rows"]:
        for money in ("lodging", "meals"):
            row[money] = str(row[money])
    return yaml.safe_dump([data], sort_keys=False, allow_unicode=True, width=100)
