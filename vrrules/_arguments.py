"""Checking the arguments of the Python API: a wrong type is ``argument_invalid``, never a raw error.

The facade (:class:`~vrrules.events.application.CaseRecords`) and the other names ``vrrules``
exports check what they are given with these before reading or writing anything, so a number
where a store location is meant, a datetime where a date is meant or text where a flag is
meant is refused with what was expected and what was got, instead of an ``AttributeError``
deep inside, a comparison that fails, or a file created under the wrong name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from vrrules.errors import ArgumentInvalidError
from vrrules.policies.values import parse_iso_date

__all__ = ["day_argument", "flag_argument", "refuse_unless", "shown", "text_argument"]

_SHOWN = 60


def shown(value: Any) -> str:
    """A refused argument as a message quotes it: its start and its type."""
    text = repr(value)
    return f"{text if len(text) <= _SHOWN else text[: _SHOWN - 3] + '...'} ({type(value).__name__})"


def refuse_unless(fits: bool, name: str, value: Any, expected: str) -> None:
    """Raise ``argument_invalid`` for argument ``name`` unless ``fits``."""
    if not fits:
        raise ArgumentInvalidError(f"{name}: expected {expected}, got {shown(value)}", argument=name)


def text_argument(value: Any, name: str) -> str:
    refuse_unless(isinstance(value, str), name, value, "text")
    return str(value)


def flag_argument(value: Any, name: str) -> bool:
    # text such as "no" is truthy: taking it for true would do what the caller meant not to
    refuse_unless(isinstance(value, bool), name, value, "True or False")
    return bool(value)


def day_argument(value: Any, name: str, *, text: bool = True) -> date:
    """A business date: a ``date``, or (``text``) ISO text ``YYYY-MM-DD``; never a datetime,
    which Python counts as a date but which compares with no date and carries a time of day."""
    expected = "a date or ISO text YYYY-MM-DD" if text else "a datetime.date"
    refuse_unless(not isinstance(value, datetime), name, value, expected + " (pass a datetime's .date())")
    if isinstance(value, date):
        return value
    refuse_unless(text and isinstance(value, str), name, value, expected)
    try:
        return parse_iso_date(value)
    except ValueError:
        raise ArgumentInvalidError(
            f"{name}: expected {expected}, got {shown(value)}", argument=name
        ) from None
