"""The event registry is the one list: a payload class with an event type is a new event."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from tests.conftest import SPECS
from vrrules import EVENT_TYPES, CaseRecords, EventInvalidError
from vrrules.events import registry
from vrrules.events.domain import Case
from vrrules.events.payloads import Correspondence, Referral
from vrrules.events.registry import Payload
from vrrules.events.store import known_topics


def test_every_case_event_has_its_past_tense_event_class_and_transcoding() -> None:
    assert EVENT_TYPES is registry.EVENT_TYPES
    for event_type, payload in EVENT_TYPES.items():
        event_class = getattr(Case, registry.event_class_name(event_type))
        assert event_class.payload_class is payload
        assert f"vrrules.events.domain:Case.{event_class.__name__}" in known_topics()
        assert payload.stored_name in {p.stored_name for p in registry.stored_payloads()}
        assert payload.dated_by in payload.model_fields


def test_renamed_events_keep_their_stored_names() -> None:
    assert Correspondence.event_type == "correspondence_sent"
    assert Correspondence.stored_name == "vrrules.CorrespondenceSent"
    assert "vrrules.events.domain:Case.CorrespondenceWasSent" in known_topics()


def test_a_new_payload_class_is_all_it_takes_to_add_an_event_type() -> None:
    class MeetingHeld(Payload):
        """A test-only payload: defining it registers the event type everywhere."""

        event_type = "case_meeting_held"
        stored_field = "meeting"
        dated_by = "held_on"
        held_on: date
        attendees: int

    try:
        assert EVENT_TYPES["case_meeting_held"] is MeetingHeld
        with CaseRecords("memory", SPECS) as records:
            records.open_case("N-1", "2025-11-03")
            records.record("N-1", "referral_received", {"received_on": "2025-11-03", "source": "gp"})
            version = records.record("N-1", "case_meeting_held", {"held_on": "2025-11-04", "attendees": 3})
            case = records.case("N-1")
            assert version == 3
            assert [r.event_type for r in case.recorded] == ["referral_received", "case_meeting_held"]
            assert case.payloads(MeetingHeld) == [MeetingHeld(held_on=date(2025, 11, 4), attendees=3)]
            assert type(records.history("N-1")[-1]).__name__ == "CaseMeetingHeld"
            with pytest.raises(EventInvalidError, match="attendees"):
                records.record("N-1", "case_meeting_held", {"held_on": "2025-11-04", "attendees": "many"})
            assert records.case("N-1").version == 3
    finally:
        registry.EVENT_TYPES.pop("case_meeting_held", None)


def test_an_event_type_that_is_not_past_tense_snake_case_is_refused() -> None:
    with pytest.raises(TypeError, match="snake case"):

        class Bad(Payload):
            event_type = "Meeting"
            when: date


def test_two_payloads_cannot_claim_one_event_type() -> None:
    with pytest.raises(TypeError, match="already"):

        class AnotherReferral(Payload):
            event_type = Referral.event_type
            stored_name = "vrrules.test.AnotherReferral"
            when: date


# ------------------------------------------------------------ values taken exactly as written

_LAX = {
    "date": [
        1728000000,
        1762128000.0,
        "1728000000",
        "2025-11-03T00:00:00",
        "2025-11-03T00:00:00+05:00",
        b"2025-11-03",
    ],
    "bool": ["yes", "no", "on", "off", "t", "1", 1, 0, 1.0],
    "int": ["12", 12.0, True, "twelve"],
}


def _sampled_payloads() -> list[tuple[str, dict[str, Any]]]:
    from vrrules.events.importer import load_case_file  # noqa: PLC0415
    from vrrules.samples import SAMPLE_CASES  # noqa: PLC0415

    seen: dict[str, dict[str, Any]] = {}
    for history in load_case_file(SAMPLE_CASES).cases:
        for step in history.steps:
            if step.record is not None and step.record not in seen:
                seen[step.record] = dict(step.payload)
    return sorted(seen.items())


@pytest.mark.parametrize(
    ("event_type", "payload"), _sampled_payloads(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_date_bool_and_whole_number_field_takes_its_value_only_as_written(
    event_type: str, payload: dict[str, Any]
) -> None:
    from vrrules.events.registry import _scalar_kind, payload_for  # noqa: PLC0415

    model = payload_for(event_type)
    assert model is not None
    model.model_validate(payload)  # the sample as written is taken
    checked = 0
    for name in model.model_fields:
        kind = _scalar_kind(model, name)
        if kind is None:
            continue
        for lax in _LAX[kind]:
            with pytest.raises(ValidationError):
                model.model_validate({**payload, name: lax})
            checked += 1
    assert checked or not any(_scalar_kind(model, n) for n in model.model_fields)
