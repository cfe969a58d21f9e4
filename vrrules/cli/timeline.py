"""A case's timeline and a store's case list, read through the public ``CaseRecords`` API.

These belong in the library (``vrrules.events``) once the business-time work lands there;
they live here until then so the command line can show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from vrrules import CaseRecords
from vrrules.events.application import EVENT_TYPES
from vrrules.events.registry import Payload

__all__ = ["TimelineEntry", "case_summary", "timeline"]

# EVENT_TYPES maps each name to its payload model (or, before, to (model, method))
_EVENT_NAMES: dict[Any, str] = {
    (spec[0] if isinstance(spec, tuple) else spec): name for name, spec in EVENT_TYPES.items()
}


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a case: its business date (from its payload) and when it was recorded."""

    version: int
    kind: str
    business_date: date | None
    business_field: str | None
    recorded_at: datetime
    payload: dict[str, Any]
    decision: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.version,
            "type": self.kind,
            "business_date": self.business_date.isoformat() if self.business_date else None,
            "business_date_field": self.business_field,
            "recorded_at": self.recorded_at.isoformat(),
            "payload": self.payload,
            "decision": self.decision,
        }


def _payload(event: Any) -> BaseModel | None:
    for value in vars(event).values():
        if isinstance(value, BaseModel):
            return value
    return None


def _business_date(payload: BaseModel) -> tuple[str | None, date | None]:
    """The payload's business date, as the event registry declares it (``dated_by``)."""
    if isinstance(payload, Payload):
        return payload.dated_by, payload.business_date
    return None, None


def entry(event: Any) -> TimelineEntry:
    payload = _payload(event)
    kind = type(event).__name__
    data: dict[str, Any] = payload.model_dump(mode="json") if payload is not None else {}
    field_name: str | None = None
    business: date | None = None
    decision = None
    if payload is not None:
        kind = _EVENT_NAMES.get(type(payload), kind)
        if kind == "DecisionRecorded":
            kind = "decision_recorded"
            field_name, business = "as_of", getattr(payload, "as_of", None)
            decision = {
                "family": data.get("family"),
                "version": data.get("version"),
                "status": data.get("status"),
                "outcome": data.get("outcome"),
                "rules": [f.get("rule_id") for f in data.get("fired", [])],
            }
        elif kind == "Opened":
            kind = "case_opened"
            field_name, business = _business_date(payload)
        else:
            field_name, business = _business_date(payload)
    return TimelineEntry(
        version=int(event.originator_version),
        kind=kind,
        business_date=business,
        business_field=field_name,
        recorded_at=event.timestamp,
        payload=data,
        decision=decision,
    )


def timeline(records: CaseRecords, case_ref: str) -> list[TimelineEntry]:
    """Every event of the case, oldest first (raises ``CaseUnknownError`` for an unknown one)."""
    return [entry(event) for event in records.history(case_ref)]


def case_summary(records: CaseRecords, case_ref: str) -> dict[str, Any]:
    """A case with its last event and the latest decision of each family."""
    events = timeline(records, case_ref)
    last = events[-1]
    opened = events[0].business_date
    latest: dict[str, dict[str, Any]] = {}
    for item in events:
        if item.decision is not None:
            latest[str(item.decision["family"])] = {
                **item.decision,
                "event": item.version,
                "as_of": item.business_date.isoformat() if item.business_date else None,
            }
    return {
        "case": case_ref,
        "opened_on": opened.isoformat() if opened else None,
        "events": len(events),
        "last_event": {
            "event": last.version,
            "type": last.kind,
            "business_date": last.business_date.isoformat() if last.business_date else None,
            "recorded_at": last.recorded_at.isoformat(),
        },
        "decisions": [latest[family] for family in sorted(latest)],
    }
