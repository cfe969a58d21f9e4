"""The event registry is the one list: a payload class with an event type is a new event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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


# Money is taken in one written form: ASCII digits, no leading zero, and a point with one or
# two decimals if any (a whole number and a Decimal too). Decimal() alone read each of these
# as an amount and stored it changed ("١٢٣" became 123.00, "1e3" 1000.00).
_MONEY_NOT_AS_WRITTEN: list[Any] = [
    "1e3",
    "1E3",
    "1_000",
    " 100 ",
    "100\n",
    "+5",
    "1e-2",
    "١٢٣",
    "\uff11\uff12",  # fullwidth 12
    "1,000.00",
    "007",
    "1.",
    ".5",
    "Infinity",
    "NaN",
    "12.345",
    12.5,
    True,
]
_MONEY_AS_WRITTEN: list[tuple[Any, str]] = [
    ("1234.50", "1234.50"),
    ("12.5", "12.50"),
    ("12", "12.00"),
    ("0", "0.00"),
    ("0.05", "0.05"),
    (12, "12.00"),
    (Decimal("3.10"), "3.10"),
]
# payloads with money that the sample case file does not record
_UNSAMPLED_MONEY = {
    "option_2_confirmed": {"ordered_on": "2025-03-01"},
    "earlier_plan_recorded": {"ended_on": "2024-01-31", "completed": False},
}


def _money_payloads() -> list[tuple[str, dict[str, Any], str]]:
    """(event type, a payload taken as written, money field) for every money field of every
    event, a cost item standing for the plan's costs."""
    bases = {**dict(_sampled_payloads()), **_UNSAMPLED_MONEY}
    found = []
    for event_type, model in sorted(EVENT_TYPES.items()):
        for name, field in model.model_fields.items():
            if "Decimal" in repr(field.annotation):  # money, alone, optional or by cost item
                assert event_type in bases, f"{event_type}.{name}: add a payload to _UNSAMPLED_MONEY"
                found.append((event_type, bases[event_type], name))
    assert len(found) >= 8
    return found


def _with_money(payload: dict[str, Any], name: str, amount: Any) -> dict[str, Any]:
    return {**payload, name: {"tuition": amount} if name == "costs" else amount}


@pytest.mark.parametrize(
    ("event_type", "payload", "name"), _money_payloads(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_money_field_takes_its_amount_only_as_written(
    event_type: str, payload: dict[str, Any], name: str
) -> None:
    model = registry.payload_for(event_type)
    assert model is not None
    for amount in _MONEY_NOT_AS_WRITTEN:
        with pytest.raises(ValidationError) as caught:
            model.model_validate(_with_money(payload, name, amount))
        (problem,) = caught.value.errors(include_url=False)
        assert problem["loc"][0] == name, amount
        assert problem["type"] == "money_invalid", amount
    for amount, kept in _MONEY_AS_WRITTEN:
        value = getattr(model.model_validate(_with_money(payload, name, amount)), name)
        assert str(value["tuition"] if name == "costs" else value) == kept


@pytest.mark.parametrize(
    ("amount", "plain"),
    [
        ("1e3", "1000.00"),
        ("1_000", "1000.00"),
        (" 100 ", "100.00"),
        ("+5", "5.00"),
        ("1e-2", "0.01"),
        ("١٢٣", "123.00"),
    ],
)
def test_money_not_as_written_is_event_invalid_at_its_field_and_says_what_to_write(
    amount: str, plain: str
) -> None:
    bill = {"bill_id": "b1", "code": "local_1038m", "provider_type": "physician", "service_on": "2025-03-03"}
    with CaseRecords("memory", SPECS) as records:
        records.open_case("M-1", "2025-03-01")
        before = records.history("M-1")
        with pytest.raises(EventInvalidError) as caught:
            records.record("M-1", "bill_submitted", {**bill, "amount": amount})
        message = caught.value.message
        assert "amount:" in message and repr(amount) in message
        assert "ASCII digits with at most two decimals" in message and "nothing was stored" in message
        assert f"{plain!r} if that is the amount meant" in message
        assert records.history("M-1") == before
        records.record("M-1", "bill_submitted", {**bill, "amount": plain})
        assert str(records.case("M-1").recorded[-1].payload.amount) == plain  # type: ignore[attr-defined]


def test_a_payload_given_as_any_mapping_is_checked_as_a_dict_is() -> None:
    from collections import OrderedDict  # noqa: PLC0415
    from types import MappingProxyType  # noqa: PLC0415

    from vrrules.events.registry import payload_for  # noqa: PLC0415

    model = payload_for("referral_received")
    assert model is not None
    lax = {"received_on": 1728000000, "source": "employer"}
    for given in (OrderedDict(lax), MappingProxyType(lax)):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(given)
        assert [e["loc"] for e in refused.value.errors()] == [("received_on",)]
