"""The case aggregate and the policy-release aggregate, with their past-tense events.

A case's history is the list of its events; its current state is what applying them
gives. Decisions are events of the case too, so a case's log says, in order, what was
known and what was decided on it. Policy releases store the exact spec text that a
decision used, so replay never depends on files that may have changed since.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from pydantic import BaseModel

from vrrules.events.payloads import (
    AssessmentFindings,
    CaseOpening,
    CorrespondenceAnswered,
    CorrespondenceSent,
    DecisionRecord,
    EmployerCommitment,
    InterventionPlan,
    OptionElection,
    PlanApproval,
    PlanDevelopmentStart,
    PlanExtensionRequest,
    PlanImplementationStart,
    PlanSubmission,
    PractitionerAssignment,
    Referral,
    WorkerContact,
    WorkStatusChange,
)

__all__ = [
    "NAMESPACE",
    "Case",
    "PolicyRelease",
    "VersionPublication",
    "case_id",
    "event_content",
    "link",
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


class Case(Aggregate):
    """One vocational-rehabilitation case."""

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

    class ReferralReceived(Chained):
        referral: Referral

    class WorkStatusChanged(Chained):
        change: WorkStatusChange

    class PractitionerAssigned(Chained):
        assignment: PractitionerAssignment

    class AssessmentCompleted(Chained):
        findings: AssessmentFindings

    class InterventionPlanned(Chained):
        plan: InterventionPlan

    class CorrespondenceWasSent(Chained):
        correspondence: CorrespondenceSent

    class CorrespondenceWasAnswered(Chained):
        answer: CorrespondenceAnswered

    class EmployerCommitmentRecorded(Chained):
        commitment: EmployerCommitment

    class PlanDevelopmentStarted(Chained):
        start: PlanDevelopmentStart

    class PlanExtensionRequested(Chained):
        extension: PlanExtensionRequest

    class PlanSubmitted(Chained):
        submission: PlanSubmission

    class PlanApproved(Chained):
        approval: PlanApproval

    class PlanImplementationStarted(Chained):
        implementation: PlanImplementationStart

    class OptionElected(Chained):
        election: OptionElection

    class WorkerContacted(Chained):
        contact: WorkerContact

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
        self.referral: Referral | None = None
        self.work_status: WorkStatusChange | None = None
        self.practitioners: dict[str, PractitionerAssignment] = {}
        self.assessments: list[AssessmentFindings] = []
        self.interventions: list[InterventionPlan] = []
        self.correspondence: dict[str, CorrespondenceSent] = {}
        self.answers: dict[str, CorrespondenceAnswered] = {}
        self.employer_commitments: list[EmployerCommitment] = []
        self.plan_start: PlanDevelopmentStart | None = None
        self.plan_extensions: list[PlanExtensionRequest] = []
        self.plan: PlanSubmission | None = None
        self.plan_approval: PlanApproval | None = None
        self.plan_implementation: PlanImplementationStart | None = None
        self.option_elections: list[OptionElection] = []
        self.worker_contacts: list[WorkerContact] = []
        self.decisions: list[tuple[int, DecisionRecord]] = []

    @property
    def case_ref(self) -> str:
        return self.opening.case_ref

    @event(ReferralReceived)
    def receive_referral(self, referral: Referral) -> None:
        self.referral = referral

    @event(WorkStatusChanged)
    def change_work_status(self, change: WorkStatusChange) -> None:
        self.work_status = change

    @event(PractitionerAssigned)
    def assign_practitioner(self, assignment: PractitionerAssignment) -> None:
        self.practitioners[assignment.practitioner_id] = assignment

    @event(AssessmentCompleted)
    def complete_assessment(self, findings: AssessmentFindings) -> None:
        self.assessments.append(findings)

    @event(InterventionPlanned)
    def plan_intervention(self, plan: InterventionPlan) -> None:
        self.interventions.append(plan)

    @event(CorrespondenceWasSent)
    def send_correspondence(self, correspondence: CorrespondenceSent) -> None:
        self.correspondence[correspondence.correspondence_id] = correspondence

    @event(CorrespondenceWasAnswered)
    def answer_correspondence(self, answer: CorrespondenceAnswered) -> None:
        self.answers[answer.correspondence_id] = answer

    @event(EmployerCommitmentRecorded)
    def record_employer_commitment(self, commitment: EmployerCommitment) -> None:
        self.employer_commitments.append(commitment)

    @event(PlanDevelopmentStarted)
    def start_plan_development(self, start: PlanDevelopmentStart) -> None:
        self.plan_start = start

    @event(PlanExtensionRequested)
    def request_plan_extension(self, extension: PlanExtensionRequest) -> None:
        self.plan_extensions.append(extension)

    @event(PlanSubmitted)
    def submit_plan(self, submission: PlanSubmission) -> None:
        self.plan = submission

    @event(PlanApproved)
    def approve_plan(self, approval: PlanApproval) -> None:
        self.plan_approval = approval

    @event(PlanImplementationStarted)
    def start_plan_implementation(self, implementation: PlanImplementationStart) -> None:
        self.plan_implementation = implementation

    @event(OptionElected)
    def elect_option(self, election: OptionElection) -> None:
        self.option_elections.append(election)

    @event(WorkerContacted)
    def contact_worker(self, contact: WorkerContact) -> None:
        self.worker_contacts.append(contact)

    @event(DecisionRecorded)
    def record_decision(self, decision: DecisionRecord, engine: str | None = None) -> None:
        # eventsourcing assigns the event's version after this body runs: it is the next one
        self.decisions.append((self.version + 1, decision))

    def latest_decision(self, family: str) -> DecisionRecord | None:
        for _, decision in reversed(self.decisions):
            if decision.family == family:
                return decision
        return None


class PolicyRelease(Aggregate):
    """The exact text of one spec version, stored once, identified by its SHA-256."""

    class Published(Aggregate.Created):
        family: str
        spec_version: str
        effective_from: str
        sha256: str
        text: str
        file: str

    @staticmethod
    def create_id(sha256: str) -> UUID:
        return release_id(sha256)

    @event(Published)
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
