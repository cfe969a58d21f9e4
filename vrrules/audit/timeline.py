"""Looking back at one case: what had happened by a business date, as known at a recording time.

Two times are kept apart. The **business date** ``day`` is when things happened (each event's
``dated_by`` field): the case is shown with only the events that had happened by then. The
**recording time** is when the store learnt of them: ``known_at`` (a datetime, or a date
meaning the end of that day, UTC) or ``version`` (the case's version) picks how much of the
record is read. Both combine: ``case_as_of(records, ref, D, known_at=T)`` is "what we knew on
``T`` about ``D``".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from vrrules.events.application import CaseRecords
from vrrules.events.caseview import happened_by
from vrrules.events.domain import Case

__all__ = ["case_as_of", "version_known_at"]


def _end_of(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.combine(moment, time.max, tzinfo=UTC)


def version_known_at(records: CaseRecords, case_ref: str, known_at: date | datetime) -> int | None:
    """The case's last version recorded at or before ``known_at`` (None: not yet recorded)."""
    limit = _end_of(known_at)
    known = [e for e in records.history(case_ref) if _end_of(e.timestamp) <= limit]
    return known[-1].originator_version if known else None


def case_as_of(
    records: CaseRecords,
    case_ref: str,
    day: date | None = None,
    *,
    known_at: date | datetime | None = None,
    version: int | None = None,
) -> tuple[Case | None, list[Any]]:
    """The case as it stood on business date ``day``, and the decisions made as of then.

    ``day`` (default: no limit) keeps the events that had happened on or before it and the
    decisions made as of a day on or before it. ``known_at`` and ``version`` limit what was
    recorded (when both are given, the earlier limit wins). Returns ``(None, [])`` when
    nothing of the case was recorded by then, or it was opened after ``day``. The returned
    case's ``version`` is the version read.
    For the CLI: ``audit case REF --as-of D [--known-at T] [--version N]``.
    """
    if not records.store.exists(case_ref):
        return None, []
    read = version
    if known_at is not None:
        by_then = version_known_at(records, case_ref, known_at)
        if by_then is None:
            return None, []
        read = by_then if read is None else min(read, by_then)
    case = records.case(case_ref, version=read)
    if day is not None:
        if case.opening.opened_on > day:
            return None, []  # not yet opened on that day
        case = happened_by(case, day)
    return case, list(case.decisions)
