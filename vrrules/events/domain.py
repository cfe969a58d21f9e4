"""The case aggregate and the policy-release aggregate, with their past-tense events.

A case's history is the list of its events; its current state is what applying them
gives. Decisions are events of the case too, so a case's log says, in order, what was
known and what was decided on it. Policy releases store the exact spec text that a
decision used, so replay never depends on files that may have changed since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic, register_topic
from pydantic import BaseModel

from vrrules.errors import EventInvalidError
from vrrules.events.payloads import (
    AssessmentFindings,
    Bill,
    CaseOpening,
    Correspondence,
    CorrespondenceReply,
    DecisionRecord,
    EarlierPlan,
    EmployerCommitment,
    InterventionPlan,
    Option2Order,
    OptionElection,
    PerDiemRequest,
    PlanApproval,
    PlanCompletion,
    PlanDevelopmentStart,
    PlanEnding,
    PlanExtensionGrant,
    PlanExtensionRefusal,
    PlanExtensionRequest,
    PlanImplementationStart,
    PlanSubmission,
    PractitionerAssignment,
    Purchase,
    Referral,
    WorkerContact,
    WorkStatusChange,
)
from vrrules.events.registry import Payload, event_class_name, on_case_event_registered

__all__ = [
    "NAMESPACE",
    "Case",
    "LogMigration",
    "PolicyRelease",
    "Recorded",
    "VersionPublication",
    "case_id",
    "event_content",
    "link",
    "log_migration_id",
    "publication_id",
    "release_id",
]

NAMESPACE = UUID("6f0b8a4e-1f5c-5c63-9d0b-6a2f6c1e7a10")


def case_id(case_ref: str) -> UUID:
    """The stored id of a case, derived from the case system's own reference."""
    return uuid5(NAMESPACE, f"case:{case_ref}")


def publication_id(family: str, version: str) -> UUID:
    """The stored id of the publication of one version of a family."""
    return uuid5(NAMESPACE, f"publication:{family}@{version}")


def release_id(sha256: str) -> UUID:
    """The stored id of a policy release, derived from the hash of its exact text."""
    return uuid5(NAMESPACE, f"release:{sha256}")


# what a stored record holds besides its link: its id and version are checked separately
_NOT_CONTENT = {"originator_id", "originator_version", "chain"}
# fields a later schema added: left out of the link while unknown, so an event stored before
# them still matches its link once an upcast has filled them in with None
_ADDED_LATER = frozenset({"engine"})


def _canonical(value: Any) -> Any:
    """JSON for hashing: models by their fields, sets sorted (their order varies by process)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)  # Decimal and UUID: their exact text


def link(previous: str, kind: str, version: int, content: dict[str, Any]) -> str:
    """One link of a case's hash chain: it commits to the previous link and to this event.

    The event is taken by its type, its version in the case and everything it stores (its
    payload and timestamp) in canonical JSON, so editing, deleting, inserting or
    reordering a stored event breaks the chain from that event on.
    """
    content = {k: v for k, v in content.items() if not (v is None and k in _ADDED_LATER)}
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(f"{previous}|{kind}|{version}|{body}".encode()).hexdigest()


def event_content(event: Any) -> dict[str, Any]:
    """The payload fields of a stored case event (what its chain link commits to)."""
    return {k: v for k, v in vars(event).items() if k not in _NOT_CONTENT}


@dataclass(frozen=True)
class Recorded:
    """One recorded case event: its version in the case, what it reported, when it was stored."""

    version: int
    event_type: str
    payload: Payload
    recorded_at: datetime


class Case(Aggregate):
    """One vocational-rehabilitation case.

    ``record(payload)`` is the one command: it checks the payload against the history (an
    answer needs the letter it answers), then triggers the event class the registry made for
    the payload's type. The case keeps every recorded payload in order; the properties below
    read the history the way the case view and the rules need it.
    """

    chain_head: str = ""

    class Opened(Aggregate.Created):
        opening: CaseOpening
        chain: str

        def mutate(self, aggregate: Any) -> Any:
            case = super().mutate(aggregate)
            assert case is not None
            case.chain_head = self.chain
            return case

    class Chained(Aggregate.Event):
        """Every case event after the opening carries its link in the case's hash chain."""

        chain: str

        def mutate(self, aggregate: Any) -> Any:
            case = super().mutate(aggregate)
            assert case is not None
            case.chain_head = self.chain
            return case

    class PayloadRecorded(Chained):
        """Base of the event classes the registry generates, one per case event type."""

        payload_class: ClassVar[type[Payload]]

        def apply(self, aggregate: Any) -> None:
            payload = getattr(self, self.payload_class.stored_field)
            event_type = self.payload_class.event_type
            assert event_type is not None
            aggregate._take(Recorded(self.originator_version, event_type, payload, self.timestamp))

    class DecisionRecorded(Chained):
        """Schema 2 adds ``engine``: the rule engine, with its version, that made the decision.

        Decisions stored under schema 1 are read through ``upcast_v1_v2`` with ``engine``
        unknown (``None``); the stored record itself is never rewritten.
        """

        class_version = 2
        decision: DecisionRecord
        engine: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["engine"] = None

        def apply(self, aggregate: Any) -> None:
            aggregate.decisions.append((self.originator_version, self.decision))

    @staticmethod
    def create_id(opening: CaseOpening) -> UUID:
        return case_id(opening.case_ref)

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        # The opening is the chain's first link: it commits to everything the record stores.
        kwargs["timestamp"] = event_class.create_timestamp()
        content = {**kwargs, "originator_topic": get_topic(cls)}
        kwargs["chain"] = link("", event_class.__name__, cls.INITIAL_VERSION, content)
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: Any, *args: Any, **kwargs: Any) -> None:
        # The link is worked out before the event exists, so its timestamp is fixed here.
        kwargs["timestamp"] = event_class.create_timestamp()
        kwargs["chain"] = link(self.chain_head, event_class.__name__, self.version + 1, kwargs)
        super().trigger_event(event_class, *args, **kwargs)

    @event(Opened)
    def __init__(self, opening: CaseOpening) -> None:
        self.opening = opening
        self.recorded: list[Recorded] = []
        self.decisions: list[tuple[int, DecisionRecord]] = []

    @property
    def case_ref(self) -> str:
        return self.opening.case_ref

    # ----------------------------------------------------------------------- the command

    def record(self, payload: Payload) -> None:
        """Record what the payload reports, if it fits the history; else refuse, unchanged."""
        event_type = type(payload).event_type
        if event_type is None or event_type not in _EVENT_CLASSES:
            raise EventInvalidError(
                f"case {self.case_ref!r}: expected the payload of a case event, got a "
                f"{type(payload).__name__}; nothing was stored",
                case_ref=self.case_ref,
            )
        self._check_fits(event_type, payload)
        self._record(event_type, payload)

    def _record(self, event_type: str, payload: Payload) -> None:
        self.trigger_event(_EVENT_CLASSES[event_type], **{type(payload).stored_field: payload})

    def _check_fits(self, event_type: str, payload: Payload) -> None:
        """Refuse an event that contradicts what the case already records."""
        problem: str | None = None
        if isinstance(payload, CorrespondenceReply):
            sent = self.correspondence.get(payload.correspondence_id)
            if sent is None:
                problem = (
                    f"expected the id of correspondence sent on this case "
                    f"({sorted(self.correspondence) or 'none sent yet'}), got {payload.correspondence_id!r}"
                )
            elif payload.correspondence_id in self.answers:
                problem = f"correspondence {payload.correspondence_id!r} was already answered"
            elif payload.answered_on < sent.sent_on:
                problem = (
                    f"expected an answer on or after {sent.sent_on.isoformat()} (when it was sent), "
                    f"got {payload.answered_on.isoformat()}"
                )
        elif isinstance(payload, Correspondence) and payload.correspondence_id in self.correspondence:
            problem = f"correspondence id {payload.correspondence_id!r} is already used on this case"
        elif isinstance(payload, PlanExtensionGrant | PlanExtensionRefusal):
            problem = self._extension_decision_problem(payload)
        elif isinstance(payload, PlanCompletion | PlanEnding):
            problem = self._plan_end_problem(payload)
        elif isinstance(payload, Bill) and any(b.bill_id == payload.bill_id for b in self.bills):
            problem = f"bill id {payload.bill_id!r} is already used on this case"
        elif isinstance(payload, Option2Order) and not any(
            e.option == "option_2" for e in self.option_elections
        ):
            problem = "expected an Option 2 election recorded before the order confirming it, got none"
        if problem is not None:
            raise EventInvalidError(
                f"case {self.case_ref!r}, event {event_type!r}: {problem}; nothing was stored",
                case_ref=self.case_ref,
                event_type=event_type,
            )

    def _extension_decision_problem(self, payload: PlanExtensionGrant | PlanExtensionRefusal) -> str | None:
        pending = self.pending_extension_request
        day = payload.granted_on if isinstance(payload, PlanExtensionGrant) else payload.refused_on
        if pending is None:
            return (
                "expected a pending plan_extension_requested to decide on, got none "
                f"({len(self.plan_extensions)} requested, all decided); record the request first"
            )
        if day < pending.requested_on:
            return (
                f"expected a decision on or after the request ({pending.requested_on.isoformat()}), "
                f"got {day.isoformat()}"
            )
        return None

    def _plan_end_problem(self, payload: PlanCompletion | PlanEnding) -> str | None:
        if self.plan_completion is not None or self.plan_ending is not None:
            return "the plan has already been closed (completed or ended); a closing report is recorded once"
        if isinstance(payload, PlanCompletion):
            started = self.plan_implementation
            if started is None:
                return "expected plan_implementation_started before the plan is completed, got none"
            if payload.completed_on < started.started_on:
                return (
                    f"expected completion on or after implementation ({started.started_on.isoformat()}), "
                    f"got {payload.completed_on.isoformat()}"
                )
        elif self.plan_start is None:
            return "expected plan_development_started before a plan can end, got none"
        return None

    def _take(self, recorded: Recorded) -> None:
        self.recorded.append(recorded)

    def record_decision(self, decision: DecisionRecord, engine: str | None = None) -> None:
        """Append a decision (made by the decider from this case) to the case's log."""
        self.trigger_event(self.DecisionRecorded, decision=decision, engine=engine)

    # --------------------------------------------------------------- reading the history

    def _by_kind(self) -> dict[type, list[Any]]:
        """The recorded payloads by their exact type, worked out once per state of the case.

        A case view asks for a few dozen kinds in turn, and replay asks for a view at every
        decision. The index is kept with the list it was made from and its length: ``recorded``
        only ever grows by appending, and a copy (:func:`~vrrules.events.caseview.happened_by`)
        gets a list of its own, so a stale index is never read."""
        recorded = self.recorded
        kept = self.__dict__.get("_payloads_by_kind")
        if kept is None or kept[0] is not recorded or kept[1] != len(recorded):
            index: dict[type, list[Any]] = {}
            for item in recorded:
                index.setdefault(type(item.payload), []).append(item.payload)
            kept = (recorded, len(recorded), index)
            self.__dict__["_payloads_by_kind"] = kept
        return kept[2]

    def payloads(self, kind: type[_P]) -> list[_P]:
        """Every recorded payload of this kind, in the order recorded."""
        return list(self._by_kind().get(kind, ()))

    def _last(self, kind: type[_P]) -> _P | None:
        found = self._by_kind().get(kind)
        return found[-1] if found else None

    @property
    def referral(self) -> Referral | None:
        return self._last(Referral)

    @property
    def work_status(self) -> WorkStatusChange | None:
        return self._last(WorkStatusChange)

    @property
    def practitioners(self) -> dict[str, PractitionerAssignment]:
        """Each practitioner's latest assignment, in the order first assigned."""
        found: dict[str, PractitionerAssignment] = {}
        for assignment in self.payloads(PractitionerAssignment):
            found[assignment.practitioner_id] = assignment
        return found

    @property
    def assessments(self) -> list[AssessmentFindings]:
        return self.payloads(AssessmentFindings)

    @property
    def interventions(self) -> list[InterventionPlan]:
        return self.payloads(InterventionPlan)

    @property
    def correspondence(self) -> dict[str, Correspondence]:
        return {c.correspondence_id: c for c in self.payloads(Correspondence)}

    @property
    def answers(self) -> dict[str, CorrespondenceReply]:
        return {a.correspondence_id: a for a in self.payloads(CorrespondenceReply)}

    @property
    def employer_commitments(self) -> list[EmployerCommitment]:
        return self.payloads(EmployerCommitment)

    @property
    def plan_start(self) -> PlanDevelopmentStart | None:
        return self._last(PlanDevelopmentStart)

    @property
    def plan_extensions(self) -> list[PlanExtensionRequest]:
        return self.payloads(PlanExtensionRequest)

    @property
    def plan(self) -> PlanSubmission | None:
        return self._last(PlanSubmission)

    @property
    def plan_approval(self) -> PlanApproval | None:
        return self._last(PlanApproval)

    @property
    def plan_implementation(self) -> PlanImplementationStart | None:
        return self._last(PlanImplementationStart)

    @property
    def option_elections(self) -> list[OptionElection]:
        return self.payloads(OptionElection)

    @property
    def worker_contacts(self) -> list[WorkerContact]:
        return self.payloads(WorkerContact)

    @property
    def plan_extension_decisions(self) -> list[PlanExtensionGrant | PlanExtensionRefusal]:
        """Grants and refusals of extension requests, in the order recorded (each decides the
        earliest request still pending when it was recorded)."""
        return [
            r.payload
            for r in self.recorded
            if isinstance(r.payload, PlanExtensionGrant | PlanExtensionRefusal)
        ]

    @property
    def pending_extension_request(self) -> PlanExtensionRequest | None:
        """The earliest extension request not yet granted or refused."""
        requests = self.plan_extensions
        decided = len(self.plan_extension_decisions)
        return requests[decided] if decided < len(requests) else None

    @property
    def plan_completion(self) -> PlanCompletion | None:
        return self._last(PlanCompletion)

    @property
    def plan_ending(self) -> PlanEnding | None:
        return self._last(PlanEnding)

    @property
    def bills(self) -> list[Bill]:
        return self.payloads(Bill)

    @property
    def option_2_order(self) -> Option2Order | None:
        return self._last(Option2Order)

    @property
    def purchases(self) -> list[Purchase]:
        return self.payloads(Purchase)

    @property
    def per_diem_requests(self) -> list[PerDiemRequest]:
        return self.payloads(PerDiemRequest)

    @property
    def earlier_plans(self) -> list[EarlierPlan]:
        return self.payloads(EarlierPlan)

    @property
    def worker(self) -> str | None:
        """The worker's identity, which links their cases (None when not given)."""
        return self.opening.worker

    def latest_decision(self, family: str) -> DecisionRecord | None:
        for _, decision in reversed(self.decisions):
            if decision.family == family:
                return decision
        return None


_P = TypeVar("_P", bound=Payload)
# event type -> the event class generated on Case for it
_EVENT_CLASSES: dict[str, type[Case.PayloadRecorded]] = {}


def _add_event_class(payload_class: type[Payload]) -> None:
    """Give the case aggregate the event class of a registered payload (see the registry)."""
    event_type = payload_class.event_type
    assert event_type is not None
    name = event_class_name(event_type)
    event_class = type(
        name,
        (Case.PayloadRecorded,),
        {
            "__annotations__": {payload_class.stored_field: payload_class},
            "__module__": __name__,
            "__qualname__": f"Case.{name}",
            "__doc__": f"A {payload_class.__name__} was recorded (event type {event_type!r}).",
            "payload_class": payload_class,
        },
    )
    setattr(Case, name, event_class)
    _EVENT_CLASSES[event_type] = event_class
    for former in payload_class.former_event_names:
        register_topic(f"{__name__}:Case.{former}", event_class)


on_case_event_registered(_add_event_class)


class PolicyRelease(Aggregate):
    """The exact text of one spec version, stored once, identified by its SHA-256."""

    class Released(Aggregate.Created):
        family: str
        spec_version: str
        effective_from: str
        sha256: str
        text: str
        file: str

    @staticmethod
    def create_id(sha256: str) -> UUID:
        return release_id(sha256)

    @event(Released)
    def __init__(
        self, *, family: str, spec_version: str, effective_from: str, sha256: str, text: str, file: str
    ) -> None:
        # "version" is the aggregate's own event count in eventsourcing: the spec's is spec_version
        self.family = family
        self.spec_version = spec_version
        self.effective_from = effective_from
        self.sha256 = sha256
        self.text = text
        self.file = file


class VersionPublication(Aggregate):
    """A version of a family declared in force by a named person: immutable once recorded."""

    class Published(Aggregate.Created):
        family: str
        spec_version: str
        sha256: str
        published_by: str
        note: str

    @staticmethod
    def create_id(family: str, spec_version: str) -> UUID:
        return publication_id(family, spec_version)

    @event(Published)
    def __init__(self, *, family: str, spec_version: str, sha256: str, published_by: str, note: str) -> None:
        self.family = family
        self.spec_version = spec_version
        self.sha256 = sha256
        self.published_by = published_by
        self.note = note


# stores written before the release event got a name of its own
register_topic(f"{__name__}:PolicyRelease.Published", PolicyRelease.Released)


def log_migration_id(root: str) -> UUID:
    """The stored id of the record that says a store's log was built for its older records."""
    return uuid5(NAMESPACE, f"log-migration:{root}")


class LogMigration(Aggregate):
    """``vrrules audit migrate`` built the Merkle log for records stored before it existed,
    after checking their hash chains; this record says so, in the log itself."""

    class Migrated(Aggregate.Created):
        records: int
        root: str
        chains_checked: int
        migrated_by: str

    @staticmethod
    def create_id(records: int, root: str, chains_checked: int, migrated_by: str) -> UUID:
        return log_migration_id(root)

    @event(Migrated)
    def __init__(self, records: int, root: str, chains_checked: int, migrated_by: str) -> None:
        self.records = records
        self.root = root
        self.chains_checked = chains_checked
        self.migrated_by = migrated_by
