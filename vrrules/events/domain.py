"""The case aggregate and the policy-release aggregate, with their past-tense events.

A case's history is the list of its events; its current state is what applying them
gives. Decisions are events of the case too, so a case's log says, in order, what was
known and what was decided on it. Policy releases store the exact spec text that a
decision used, so replay never depends on files that may have changed since.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

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

__all__ = ["NAMESPACE", "Case", "PolicyRelease", "case_id", "release_id"]

NAMESPACE = UUID("6f0b8a4e-1f5c-5c63-9d0b-6a2f6c1e7a10")


def case_id(case_ref: str) -> UUID:
    """The stored id of a case, derived from the case system's own reference."""
    return uuid5(NAMESPACE, f"case:{case_ref}")


def release_id(sha256: str) -> UUID:
    """The stored id of a policy release, derived from the hash of its exact text."""
    return uuid5(NAMESPACE, f"release:{sha256}")


class Case(Aggregate):
    """One vocational-rehabilitation case."""

    class Opened(Aggregate.Created):
        opening: CaseOpening

    class ReferralReceived(Aggregate.Event):
        referral: Referral

    class WorkStatusChanged(Aggregate.Event):
        change: WorkStatusChange

    class PractitionerAssigned(Aggregate.Event):
        assignment: PractitionerAssignment

    class AssessmentCompleted(Aggregate.Event):
        findings: AssessmentFindings

    class InterventionPlanned(Aggregate.Event):
        plan: InterventionPlan

    class CorrespondenceWasSent(Aggregate.Event):
        correspondence: CorrespondenceSent

    class CorrespondenceWasAnswered(Aggregate.Event):
        answer: CorrespondenceAnswered

    class EmployerCommitmentRecorded(Aggregate.Event):
        commitment: EmployerCommitment

    class PlanDevelopmentStarted(Aggregate.Event):
        start: PlanDevelopmentStart

    class PlanExtensionRequested(Aggregate.Event):
        extension: PlanExtensionRequest

    class PlanSubmitted(Aggregate.Event):
        submission: PlanSubmission

    class PlanApproved(Aggregate.Event):
        approval: PlanApproval

    class PlanImplementationStarted(Aggregate.Event):
        implementation: PlanImplementationStart

    class OptionElected(Aggregate.Event):
        election: OptionElection

    class WorkerContacted(Aggregate.Event):
        contact: WorkerContact

    class DecisionRecorded(Aggregate.Event):
        decision: DecisionRecord

    @staticmethod
    def create_id(opening: CaseOpening) -> UUID:
        return case_id(opening.case_ref)

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
    def record_decision(self, decision: DecisionRecord) -> None:
        # eventsourcing assigns the event's version after this body runs: it is the next one
        self.decisions.append((self.version + 1, decision))

    def latest_decision(self, family: str) -> DecisionRecord | None:
        for _, decision in reversed(self.decisions):
            if decision.family == family:
                return decision
        return None

    def first_day_known(self) -> date:
        return self.opening.opened_on


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
