"""Looking back at one case: what the store knew of it at a moment of recording time."""

from __future__ import annotations

from datetime import date
from typing import Any

from vrrules.events.application import CaseRecords
from vrrules.events.domain import Case

__all__ = ["case_as_of"]


def case_as_of(records: CaseRecords, case_ref: str, day: date) -> tuple[Case | None, list[Any]]:
    """The case as the store knew it at the end of ``day`` and the decisions recorded by then."""
    known = [e for e in records.history(case_ref) if e.timestamp.date() <= day]
    if not known:
        return None, []
    case = records.case(case_ref, version=known[-1].originator_version)
    return case, list(case.decisions)
