"""Intake: what a case system sends becomes a validated payload, or a refusal that helps.

Every payload is validated by its pydantic model before anything is stored; a refusal names
the case, the event, each field, what was expected and what was got, and says that nothing
was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from vrrules.errors import EventInvalidError
from vrrules.events.domain import Case
from vrrules.events.payloads import CaseOpening
from vrrules.events.registry import EVENT_TYPES, Payload

__all__ = ["event_error", "new_case", "validated"]


def _expected_got(item: Any) -> str:
    """One pydantic error in the expected-versus-got form every vrrules message uses."""
    kind, message = item["type"], item["msg"]
    got = repr(item.get("input"))
    if len(got) > 80:
        got = got[:77] + "..."
    if kind == "missing":
        return "expected a value, got nothing"
    if kind == "extra_forbidden":
        return "expected only the fields this event has, got this unknown one"
    if message.startswith("Input should be "):
        return f"expected {message.removeprefix('Input should be ')}, got {got}"
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if message.startswith("expected"):
        return message if " got " in message else f"{message}; got {got}"
    return f"expected a valid value ({message}), got {got}"


def event_error(case_ref: str, event_type: str, error: ValidationError) -> EventInvalidError:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "(payload)"
        problems.append(f"{where}: {_expected_got(item)}")
    return EventInvalidError(
        f"case {case_ref!r}, event {event_type!r}: the payload was refused and nothing was stored:\n  "
        + "\n  ".join(problems),
        case_ref=case_ref,
        event_type=event_type,
        problems=problems,
    )


def validated(case_ref: str, event_type: str, payload: Mapping[str, Any] | Payload) -> Payload:
    """The payload of ``event_type`` checked by its model (an instance is taken as it is)."""
    model = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        raise EventInvalidError(
            f"case {case_ref!r}: expected an event type among {sorted(EVENT_TYPES)}, "
            f"got {event_type!r}; nothing was stored",
            case_ref=case_ref,
            event_type=str(event_type),
        )
    if isinstance(payload, model):
        return payload
    if isinstance(payload, Mapping):
        try:
            return model.model_validate(dict(payload))
        except ValidationError as error:
            raise event_error(case_ref, event_type, error) from None
    raise EventInvalidError(
        f"case {case_ref!r}, event {event_type!r}: expected a mapping or a "
        f"{model.__name__}, got {type(payload).__name__}; nothing was stored",
        case_ref=case_ref,
        event_type=event_type,
    )


def new_case(case_ref: str, opened_on: date | str, worker: str | None = None) -> Case:
    """A validated new case in memory (not stored yet)."""
    try:
        opening = CaseOpening.model_validate({"case_ref": case_ref, "opened_on": opened_on, "worker": worker})
    except ValidationError as error:
        raise event_error(str(case_ref), "case_opened", error) from None
    return Case(opening=opening)
