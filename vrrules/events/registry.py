"""The event registry: the one list of what can be recorded, built from the payload classes.

Naming scheme, used everywhere:

* a **payload** is a noun: what the case system reports (``Referral``, ``PlanSubmission``);
* its **event type** is the past tense of what happened, in snake case
  (``referral_received``, ``plan_submitted``): the name callers pass to ``record()``, the
  case file and the command line use;
* the **event class** on the case aggregate is the same past tense in CamelCase
  (``Case.ReferralReceived``), derived from the event type, never written by hand;
* **commands** are verbs: ``Case.record(payload)``, ``CaseRecords.record(ref, type, data)``.

A payload class declares its ``event_type`` once, in its class body. Defining the class is
all it takes: it is registered here, the case aggregate grows the event class for it, the
store registers its transcoding, and ``EVENT_TYPES`` lists it. Nothing else keeps a list.

Stored names are forever: ``stored_name`` is the name a payload's JSON is stored under, and
``former_event_names`` lists event class names used by stores written before a rename, so
their topics still resolve (eventsourcing's ``register_topic``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = [
    "EVENT_TYPES",
    "Payload",
    "event_class_name",
    "on_case_event_registered",
    "payload_for",
    "stored_payloads",
]

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KINDS: dict[tuple[type, str], str | None] = {}


def _scalar_kind(model: type[BaseModel], name: str) -> str | None:
    """'date', 'bool' or 'int' for a field of that type (or that type or None), else None."""
    key = (model, name)
    if key not in _KINDS:
        field = model.model_fields.get(name)
        annotation = field.annotation if field is not None else None
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else None
        _KINDS[key] = {date: "date", bool: "bool", int: "int"}.get(annotation)  # type: ignore[arg-type]
    return _KINDS[key]


# the error type pydantic gives a validator's ValueError (a refusal reaches the caller as
# event_invalid, vrrules' code; this one only keeps it worded as the other field errors)
_PYDANTIC_VALUE_ERROR = "value_error"
_SCALAR_FIELDS: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}


def _scalar_fields(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """A model's date, bool and int fields, each with its kind."""
    found = _SCALAR_FIELDS.get(model)
    if found is None:
        found = _SCALAR_FIELDS[model] = tuple(
            (name, kind) for name in model.model_fields if (kind := _scalar_kind(model, name)) is not None
        )
    return found


def _inexact(kind: str, value: Any) -> str | None:
    """What is wrong with a value of a date, bool or int field (None: it is written exactly)."""
    if kind == "date":
        if isinstance(value, date):
            return (
                None if not isinstance(value, datetime) else f"expected a date as YYYY-MM-DD, got {value!r}"
            )
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return None
        return f"expected a date as YYYY-MM-DD, got {value!r}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number, got {value!r}"
    return None


def _scalar_errors(
    model: type[BaseModel], data: dict[str, Any], refused: list[tuple[str, Any, str]]
) -> ValidationError:
    """The refused scalars at their fields, with every other problem of the payload (found
    by validating it without them), in the fields' order."""
    names = {name for name, _, _ in refused}
    details: list[InitErrorDetails] = [
        InitErrorDetails(
            type=PydanticCustomError(_PYDANTIC_VALUE_ERROR, "Value error, {problem}", {"problem": problem}),
            loc=(name,),
            input=value,
        )
        for name, value, problem in refused
    ]
    try:
        model.model_validate({key: value for key, value in data.items() if key not in names})
    except ValidationError as error:
        details.extend(
            InitErrorDetails(
                type=PydanticCustomError(item["type"], item["msg"].replace("{", "{{").replace("}", "}}")),
                loc=item["loc"],
                input=item.get("input"),
            )
            for item in error.errors(include_url=False)
            # the other fields' own problems; a check across fields would judge the payload
            # without the refused values, so it is left for when they are written as they must be
            if item["loc"] and item["loc"][0] not in names
        )
    order = {name: n for n, name in enumerate(model.model_fields)}
    details.sort(key=lambda d: order.get(str(d["loc"][0]) if d["loc"] else "", -1))
    return ValidationError.from_exception_data(model.__name__, details)


class Payload(BaseModel):
    """Base of every event payload: frozen, strict about unknown fields and types.

    Class-level declarations (none of them stored):

    * ``event_type``: set on payloads a case system records; ``None`` on payloads that only
      vrrules itself writes (the opening, a decision);
    * ``stored_field``: the name the payload is stored under inside its event's state;
    * ``dated_by``: the field holding the payload's business date (when it happened);
    * ``stored_name``: the name of its stored JSON form (defaults to ``vrrules.<ClassName>``);
    * ``former_event_names``: event class names older stores used for this event.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, str_max_length=20000)

    event_type: ClassVar[str | None] = None
    stored_field: ClassVar[str] = "payload"
    dated_by: ClassVar[str | None] = None
    stored_name: ClassVar[str] = ""
    former_event_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "stored_name" not in cls.__dict__:
            cls.stored_name = f"vrrules.{cls.__name__}"
        _register(cls)

    @model_validator(mode="before")
    @classmethod
    def _exact_scalars(cls, data: Any) -> Any:
        """Dates, booleans and whole numbers exactly as written: pydantic's lax mode would
        take a Unix timestamp or a midnight datetime for a date, "yes", "on" or 1 for true,
        and "12" or 12.0 for 12, so a value in the wrong unit or form became a real fact.

        One check per payload over its scalar fields (a validator per field cost a call into
        Python for every field of every event an audit reads); each refusal is still reported
        at its field, beside whatever else is wrong with the payload."""
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                return data  # a model instance, or what pydantic refuses in its own words
            data = dict(data)  # any mapping pydantic takes, checked the same
        refused = [
            (name, value, problem)
            for name, kind in _scalar_fields(cls)
            if (value := data.get(name)) is not None and (problem := _inexact(kind, value)) is not None
        ]
        if refused:
            raise _scalar_errors(cls, data, refused)
        return data

    @property
    def business_date(self) -> date | None:
        """When what this payload reports happened (``None`` for payloads without one)."""
        if self.dated_by is None:
            return None
        value = getattr(self, self.dated_by)
        return value if isinstance(value, date) else None


# stored name -> payload class (every payload, for the transcodings)
_STORED: dict[str, type[Payload]] = {}
# event type -> payload class (the events a case system records)
EVENT_TYPES: dict[str, type[Payload]] = {}
_LISTENERS: list[Callable[[type[Payload]], None]] = []


def event_class_name(event_type: str) -> str:
    """``referral_received`` -> ``ReferralReceived``: the event class on the aggregate."""
    return "".join(part.capitalize() for part in event_type.split("_"))


def _register(cls: type[Payload]) -> None:
    if cls.__name__ == "Payload" or cls.__dict__.get("abstract", False):
        return
    known = _STORED.get(cls.stored_name)
    if known is not None and known is not cls:
        raise TypeError(
            f"payload {cls.__qualname__}: expected a stored name of its own, got {cls.stored_name!r}, "
            f"already used by {known.__qualname__}"
        )
    _STORED[cls.stored_name] = cls
    event_type = cls.__dict__.get("event_type")
    if event_type is None:
        return
    if not _EVENT_TYPE.fullmatch(event_type):
        raise TypeError(
            f"payload {cls.__qualname__}: expected an event type in past-tense snake case "
            f"such as 'referral_received', got {event_type!r}"
        )
    taken = EVENT_TYPES.get(event_type)
    if taken is not None and taken is not cls:
        raise TypeError(
            f"payload {cls.__qualname__}: event type {event_type!r} is already {taken.__qualname__}'s"
        )
    if cls.dated_by is not None and cls.dated_by not in cls.model_fields:
        raise TypeError(
            f"payload {cls.__qualname__}: dated_by names {cls.dated_by!r}, expected one of its fields"
        )
    EVENT_TYPES[event_type] = cls
    for listener in _LISTENERS:
        listener(cls)


def on_case_event_registered(listener: Callable[[type[Payload]], None]) -> None:
    """Call ``listener`` for every case event payload, those registered so far and later ones."""
    _LISTENERS.append(listener)
    for cls in list(EVENT_TYPES.values()):
        listener(cls)


def payload_for(event_type: str) -> type[Payload] | None:
    return EVENT_TYPES.get(event_type)


def stored_payloads() -> Iterator[type[Payload]]:
    """Every payload class, for the store's transcodings."""
    return iter(list(_STORED.values()))
