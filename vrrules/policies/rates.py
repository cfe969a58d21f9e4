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
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vrrules.errors import Diagnostic, SpecInvalidError
from vrrules.policies.model import Reference, TablePeriod

__all__ = ["period_yaml", "read_rate_csv"]

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


def _months(text: str, path: Path, line: int) -> list[int] | None:
    if not text.strip():
        return None
    try:
        months = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise _problem(
            path, line, f"expected months as numbers 1-12 separated by commas, got {text!r}"
        ) from None
    if any(not 1 <= m <= 12 for m in months):
        raise _problem(path, line, f"expected months 1-12, got {text!r}")
    return months


def read_rate_csv(
    path: Path, start: date, until: date, reference: Reference, all_other_locations: str | None = None
) -> TablePeriod:
    """Read and validate a rate file into one period of a spec table."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or [])
        if not {"location", "lodging", "meals"} <= header or header - _COLUMNS:
            raise _problem(
                path, 1, f"expected the columns location, lodging, meals[, months], got {sorted(header)}"
            )
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, int | None]] = set()
        for line, record in enumerate(reader, start=2):
            months = _months(record.get("months") or "", path, line)
            applies_in: list[int | None] = list(months) if months else [None]
            for month in applies_in:
                key = (record["location"].strip(), month)
                if key in seen:
                    raise _problem(
                        path, line, f"location {key[0]!r} appears twice for month {month or 'all'}"
                    )
                seen.add(key)
            row: dict[str, Any] = {
                "location": record["location"].strip(),
                "lodging": record["lodging"].strip(),
                "meals": record["meals"].strip(),
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
        return TablePeriod.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = first["loc"]
        row_line: int | None = None
        if len(where) > 1 and where[0] == "rows" and isinstance(where[1], int):
            row_line = where[1] + 2  # header is line 1, first row line 2
        raise _problem(path, row_line, f"{'.'.join(str(p) for p in where)}: {first['msg']}") from None


def period_yaml(period: TablePeriod) -> str:
    """The period as YAML to paste under a table's ``periods:`` in a spec."""
    data = period.model_dump(mode="json", by_alias=True, exclude_none=True)
    for row in data["rows"]:
        for money in ("lodging", "meals"):
            row[money] = str(row[money])
    return yaml.safe_dump([data], sort_keys=False, allow_unicode=True, width=100)
