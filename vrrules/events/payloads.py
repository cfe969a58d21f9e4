"""Validated payloads of case events: what a case system tells vrrules.

Frozen pydantic models, unknown fields refused, dates as ``date`` and money as
``Decimal``. Codes are plain ``Literal`` text rather than ``Enum`` so that stored events
stay readable and need no extra transcoding.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from vrrules.events.registry import Payload
from vrrules.policies.caseschema import COST_ITEMS
from vrrules.policies.facts import money_as_written

__all__ = [
    "ACTIVITY_CATEGORY",
    "ASSESSMENT_DEPTHS",
    "CASE_MANAGEMENT_TYPES",
    "CLIENT_GROUPS",
    "COST_ITEMS",
    "DOMAINS",
    "INTERVENTION_ACTIVITIES",
    "INTERVENTION_CATEGORIES",
    "PLAN_CHECKLIST",
    "PRACTITIONER_ROLES",
    "SUPPORT_ACTIVITIES",
    "WORK_DIFFICULTIES",
    "WORK_STATUSES",
    "AssessmentFindings",
    "Bill",
    "CaseOpening",
    "Correspondence",
    "CorrespondenceReply",
    "DecisionRecord",
    "EarlierPlan",
    "EmployerCommitment",
    "InterventionPlan",
    "Option2Order",
    "OptionElection",
    "Payload",
    "PerDiemRequest",
    "PlanApproval",
    "PlanCompletion",
    "PlanDevelopmentStart",
    "PlanEnding",
    "PlanExtensionGrant",
    "PlanExtensionRefusal",
    "PlanExtensionRequest",
    "PlanImplementationStart",
    "PlanSubmission",
    "PractitionerAssignment",
    "Purchase",
    "Referral",
    "WorkStatusChange",
    "WorkerContact",
]

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]

WorkStatus = Literal["in_work", "in_work_struggling", "absent", "out_of_workforce"]
Domain = Literal[
    "health", "physical", "social", "cognitive", "psychological", "financial", "career_workplace"
]
ClientGroup = Literal[
    "post_trauma_physical",
    "post_trauma_psychological",
    "long_term_condition",
    "multimorbidity",
    "disability",
]
SupportActivity = Literal[
    # Tier 1
    "information_and_advice",
    "micro_adjustments",
    "worker_coaching_brief",
    "navigation_to_services",
    "prehab_planning",
    # Tier 2
    "functional_capacity_evaluation",
    "job_demands_analysis",
    "work_readiness_assessment",
    "workplace_assessment",
    "rtw_planning",
    # Tier 3
    "comprehensive_clinical_vocational_assessment",
    "tailored_coaching",
    "work_focused_clinical_input",
    "career_redirection",
]
AssessmentDepth = Literal["brief", "detailed", "comprehensive"]
PractitionerRole = Literal[
    "administrative_case_manager",
    "dual_function_case_manager",
    "vr_practitioner",
    "clinician",
]
InterventionCategory = Literal[
    "health", "physical", "social", "career_coaching", "work_placement", "phased_return"
]
InterventionActivity = Literal[
    # health
    "clinical_support",
    "mental_health_support",
    "psychotherapy_cbt",
    "psychotherapy_systemic",
    "exploring_psychological_factors",
    "rehabilitation_programme",
    # physical
    "ergonomics",
    "workplace_adjustments",
    "functional_capacity_evaluation",
    # social
    "support_networks",
    "benefits_advice",
    "inclusion_support",
    # career coaching or redirection
    "career_coaching",
    "career_redirection",
    # work placements
    "work_placement",
    # phased return to work
    "phased_return_planning",
    "phased_return_implementation",
]
# Which paper category each activity is recorded under (VRA 2025, "Vocational rehabilitation tools").
ACTIVITY_CATEGORY: dict[str, str] = {
    "clinical_support": "health",
    "mental_health_support": "health",
    "psychotherapy_cbt": "health",
    "psychotherapy_systemic": "health",
    "exploring_psychological_factors": "health",
    "rehabilitation_programme": "health",
    "ergonomics": "physical",
    "workplace_adjustments": "physical",
    "functional_capacity_evaluation": "physical",
    "support_networks": "social",
    "benefits_advice": "social",
    "inclusion_support": "social",
    "career_coaching": "career_coaching",
    "career_redirection": "career_coaching",
    "work_placement": "work_placement",
    "phased_return_planning": "phased_return",
    "phased_return_implementation": "phased_return",
}
WorkDifficulty = Literal[
    "repeated_short_absences", "presenteeism", "planned_treatment", "emerging_work_challenges"
]
CaseManagementType = Literal["brokerage", "clinical", "strengths_based", "intensive"]
CorrespondenceParty = Literal["medical_provider", "employer", "worker", "insurer", "claim_manager"]
EmployerCommitmentKind = Literal["reasonable_adjustments", "phased_return", "monitoring"]

WORK_STATUSES: tuple[str, ...] = WorkStatus.__args__  # type: ignore[attr-defined]
DOMAINS: tuple[str, ...] = Domain.__args__  # type: ignore[attr-defined]
CLIENT_GROUPS: tuple[str, ...] = ClientGroup.__args__  # type: ignore[attr-defined]
SUPPORT_ACTIVITIES: tuple[str, ...] = SupportActivity.__args__  # type: ignore[attr-defined]
ASSESSMENT_DEPTHS: tuple[str, ...] = AssessmentDepth.__args__  # type: ignore[attr-defined]
PRACTITIONER_ROLES: tuple[str, ...] = PractitionerRole.__args__  # type: ignore[attr-defined]
INTERVENTION_CATEGORIES: tuple[str, ...] = InterventionCategory.__args__  # type: ignore[attr-defined]
INTERVENTION_ACTIVITIES: tuple[str, ...] = InterventionActivity.__args__  # type: ignore[attr-defined]
WORK_DIFFICULTIES: tuple[str, ...] = WorkDifficulty.__args__  # type: ignore[attr-defined]
CASE_MANAGEMENT_TYPES: tuple[str, ...] = CaseManagementType.__args__  # type: ignore[attr-defined]


class CaseOpening(Payload):
    stored_field = "opening"
    dated_by = "opened_on"

    case_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$")]
    opened_on: date
    worker: Text | None = Field(default=None, description="personal data: kept only if given")


class Referral(Payload):
    event_type = "referral_received"
    stored_field = "referral"
    dated_by = "received_on"

    received_on: date
    source: Literal["employer", "insurer", "occupational_health", "gp", "self", "claims_manager", "other"]
    reason: Text | None = None


class WorkStatusChange(Payload):
    event_type = "work_status_changed"
    stored_field = "change"
    dated_by = "effective_on"

    status: WorkStatus
    effective_on: date
    off_work_since: date | None = None
    difficulties: frozenset[WorkDifficulty] = Field(
        default=frozenset(), description="signs of emerging difficulty while still in work"
    )

    @property
    def business_date(self) -> date | None:
        """When the status began: the first day off work for an absence (reported later,
        ``effective_on``, but true from then), else ``effective_on``."""
        return self.off_work_since or self.effective_on

    @model_validator(mode="after")
    def _off_work_date_fits(self) -> WorkStatusChange:
        off_work = self.status in ("absent", "out_of_workforce")
        if off_work and self.off_work_since is None:
            raise ValueError(f"status {self.status!r} needs off_work_since (the first day off work)")
        if not off_work and self.off_work_since is not None:
            raise ValueError(f"status {self.status!r} is in work: off_work_since must be left out")
        if self.off_work_since is not None and self.off_work_since > self.effective_on:
            raise ValueError("off_work_since must not be after effective_on")
        if off_work and self.difficulties:
            raise ValueError("difficulties describe a worker still in work; leave them out when off work")
        return self


class PractitionerAssignment(Payload):
    event_type = "practitioner_assigned"
    stored_field = "assignment"
    dated_by = "assigned_on"

    practitioner_id: Code
    role: PractitionerRole
    clinician: bool
    qualifications: frozenset[Code] = frozenset()
    supervision_recorded: bool = False
    works_across_settings: bool = Field(
        default=False, description="works in both clinical and non-clinical settings"
    )
    case_management_type: CaseManagementType | None = Field(
        default=None, description="for case managers: brokerage, clinical, strengths_based, intensive"
    )
    assigned_on: date

    @model_validator(mode="after")
    def _type_for_case_managers(self) -> PractitionerAssignment:
        if self.case_management_type is not None and not self.role.endswith("case_manager"):
            raise ValueError("case_management_type is given only for a case manager role")
        return self


class AssessmentFindings(Payload):
    event_type = "assessment_completed"
    stored_field = "findings"
    dated_by = "assessed_on"

    assessed_on: date
    kind: Literal["initial", "review"]
    depth: AssessmentDepth
    assessor_id: Code
    domains_examined: frozenset[Domain]
    obstacles: frozenset[Domain] = frozenset()
    client_groups: frozenset[ClientGroup] = frozenset()
    support_needed: frozenset[SupportActivity] = frozenset()
    summary: Text | None = None

    @model_validator(mode="after")
    def _obstacles_examined(self) -> AssessmentFindings:
        unexamined = sorted(self.obstacles - self.domains_examined)
        if unexamined:
            raise ValueError(f"obstacles {unexamined} are not among the domains examined")
        return self


class InterventionPlan(Payload):
    event_type = "intervention_planned"
    stored_field = "plan"
    dated_by = "planned_on"

    planned_on: date
    category: InterventionCategory
    activity: InterventionActivity
    delivered_by: Code = Field(description="practitioner_id of whoever delivers it")
    description: Text | None = None

    @model_validator(mode="after")
    def _activity_in_category(self) -> InterventionPlan:
        expected = ACTIVITY_CATEGORY[self.activity]
        if expected != self.category:
            raise ValueError(
                f"activity {self.activity!r} belongs to category {expected!r}, not {self.category!r}"
            )
        return self


class Correspondence(Payload):
    event_type = "correspondence_sent"
    stored_field = "correspondence"
    dated_by = "sent_on"
    stored_name = "vrrules.CorrespondenceSent"  # its name before the payloads became nouns
    former_event_names = ("CorrespondenceWasSent",)

    correspondence_id: Code
    sent_on: date
    to: CorrespondenceParty
    subject: Text | None = None


class CorrespondenceReply(Payload):
    event_type = "correspondence_answered"
    stored_field = "answer"
    dated_by = "answered_on"
    stored_name = "vrrules.CorrespondenceAnswered"  # its name before the payloads became nouns
    former_event_names = ("CorrespondenceWasAnswered",)

    correspondence_id: Code
    answered_on: date


class EmployerCommitment(Payload):
    event_type = "employer_commitment_recorded"
    stored_field = "commitment"
    dated_by = "recorded_on"

    recorded_on: date
    kind: EmployerCommitmentKind
    reduced_hours: bool = False
    lighter_duties: bool = False
    stepwise_increase: bool = False
    details: Text | None = None


class DecisionRecord(Payload):
    """Everything needed to replay a decision: policy release, facts, outcome, explanation."""

    stored_field = "decision"
    dated_by = "as_of"

    family: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=60)]
    version: str
    spec_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    as_of: date
    case_version_read: int = Field(ge=0)
    facts: dict[str, Any]
    status: Literal["decided", "no_rule_applied"]
    outcome: dict[str, Any] | None
    fired: list[dict[str, Any]]
    previous_outcome: dict[str, Any] | None = None
    time_basis: Literal["business", "recorded"] | None = Field(
        default=None,
        description=(
            "how the history was read: 'business' keeps only events that had happened by as_of, "
            "the latest of each kind by business date (every decision vrrules makes now; one asked "
            "for with no date is as of the case's latest business date); 'recorded' counts every "
            "event recorded by the version read (decisions asked for with no date before then: "
            "as_of was only the date that picked the policy version); None: stored before vrrules "
            "kept the two times apart, read as 'recorded'"
        ),
    )
    from_caller: list[str] | None = Field(
        default=None, description="the facts the caller gave: what the history cannot vouch for"
    )
    version_chosen_on: date | None = Field(
        default=None,
        description=(
            "the date whose version in force decided, when it is not as_of: a decision asked for "
            "with no date is as of the case's latest business date, with the version in force on "
            "the family's effective date (its effective_date paths); None: as_of chose it"
        ),
    )

    @model_serializer(mode="wrap")
    def _leave_out_unset_additions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Fields added after decisions were first stored are left out while unset, so a stored
        # decision serialises (and hashes in its case's chain) exactly as it did when stored.
        data: dict[str, Any] = handler(self)
        for name in ("time_basis", "from_caller", "version_chosen_on"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @property
    def reads_business_time(self) -> bool:
        return self.time_basis == "business"


# --------------------------------------------------------------- retraining plans (Washington L&I)

# the cost items the case schema names (counted against the retraining fund, RCW
# 51.32.096(3)(d), or paid separately, (3)(e) and (3)(f)): one list, declared there
if TYPE_CHECKING:
    CostItem = str
else:
    CostItem = Literal[COST_ITEMS]
PlanChecklistItem = Literal[
    "rtw_priorities_considered_in_order",
    "rights_reviewed_at_first_meeting",
    "accountability_agreement_signed_by_worker",
    "accountability_agreement_signed_by_provider",
    "curriculum_attached",
    "course_catalog_attached",
    "labor_market_where_worker_lives",
    "previous_plans_reviewed",
    "closing_report_directions_followed",
    # the contents WAC 296-19A-100 requires, and RCW 51.32.096(3)(b) for schools
    "occupational_goal_and_services",
    "skills_and_aptitudes",
    "labor_market_survey",
    "time_and_costs",
    "medically_approved_job_analysis",
    "skills_to_be_acquired",
    "transition_services",
    "school_accredited_licensed_or_approved",
]
PLAN_CHECKLIST: tuple[str, ...] = PlanChecklistItem.__args__  # type: ignore[attr-defined]
GoodCause = Literal[
    "death_in_immediate_family",
    "documented_medical_change",
    "new_information",
    "medical_provider_delay",
    "identified_barriers",
    "none",
]


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"expected an amount of zero or more, got {value}")
    return value.quantize(Decimal("0.01"))


# Text or whole numbers with at most two decimals, taken only as written: text is ASCII digits
# with an optional point and one or two decimals ("1e3", "1_000", " 100 ", "+5" or other
# scripts' digits are refused, not stored as the amount Decimal reads them as); floats refused
# (they cannot hold cents exactly). The facts a decision is given are checked the same way.
ExactMoney = Annotated[Decimal, BeforeValidator(money_as_written), AfterValidator(_not_negative)]


class PlanDevelopmentStart(Payload):
    """The worker was told they are eligible for plan development: the 90 days start."""

    event_type = "plan_development_started"
    stored_field = "start"
    dated_by = "commenced_on"

    commenced_on: date
    earlier_plan: bool = Field(default=False, description="the worker has been in an earlier plan")


class PlanExtensionRequest(Payload):
    event_type = "plan_extension_requested"
    stored_field = "extension"
    dated_by = "requested_on"

    requested_on: date
    good_cause: GoodCause
    extra_days_estimated: int = Field(ge=1, le=3650)


class PlanSubmission(Payload):
    event_type = "plan_submitted"
    stored_field = "submission"
    dated_by = "submitted_on"

    submitted_on: date
    received_on: date
    planned_start_on: date
    costs: dict[CostItem, ExactMoney] = Field(default_factory=dict)
    creditable_prior_spending: ExactMoney = Decimal("0.00")
    checklist: frozenset[PlanChecklistItem] = frozenset()
    school: Literal["public", "private_vocational", "none"]
    prejob_accommodations_needed: bool = False
    planned_months: int = Field(ge=1, le=120)

    @model_validator(mode="after")
    def _dates_in_order(self) -> PlanSubmission:
        if self.received_on < self.submitted_on:
            raise ValueError("received_on must not be before submitted_on")
        return self


class PlanApproval(Payload):
    event_type = "plan_approved"
    stored_field = "approval"
    dated_by = "approved_on"

    approved_on: date
    deemed: bool = Field(default=False, description="approved by the department's silence (15 days)")


class PlanImplementationStart(Payload):
    event_type = "plan_implementation_started"
    stored_field = "implementation"
    dated_by = "started_on"

    started_on: date


class OptionElection(Payload):
    event_type = "option_elected"
    stored_field = "election"
    dated_by = "elected_on"

    option: Literal["option_1", "option_2"]
    elected_on: date
    window_ends_on: date | None = Field(
        default=None,
        description=(
            "end of the first academic quarter, where the school has quarters; without it the "
            "window is counted from the start of implementation (three months of training)"
        ),
    )
    written_explanation: bool = False
    earlier_option_2_election: bool = Field(
        default=False, description="the worker elected Option 2 before, on any claim"
    )


class WorkerContact(Payload):
    event_type = "worker_contacted"
    stored_field = "contact"
    dated_by = "contacted_on"

    contacted_on: date


# ------------------------------------------------ events added when the two times were kept apart


class PlanExtensionGrant(Payload):
    """The department granted a requested plan-development extension (RCW 51.32.096(3)(c):
    it *may* extend for good cause; WAC 296-19A-096 decides good cause case by case)."""

    event_type = "plan_extension_granted"
    stored_field = "grant"
    dated_by = "granted_on"

    granted_on: date
    days_granted: int = Field(ge=1, le=3650)


class PlanExtensionRefusal(Payload):
    """The department refused a requested plan-development extension."""

    event_type = "plan_extension_refused"
    stored_field = "refusal"
    dated_by = "refused_on"

    refused_on: date
    non_cooperation_order: bool = Field(
        default=False,
        description="the delay is non-cooperation found by an order (RCW 51.32.110): never good cause",
    )


class PlanCompletion(Payload):
    """The plan was completed (WAC 296-19A-120: the 'plan completed' closing report)."""

    event_type = "plan_completed"
    stored_field = "completion"
    dated_by = "completed_on"

    completed_on: date


PlanEndReason = Literal["interrupted_outside_control", "worker_actions", "option_2_elected", "other"]


class PlanEnding(Payload):
    """The plan ended without completion (WAC 296-19A-120: the closing reports 'plan not
    completed, Option 2 not elected' and 'plan not completed, Option 2 elected')."""

    event_type = "plan_ended"
    stored_field = "ending"
    dated_by = "ended_on"

    ended_on: date
    reason: PlanEndReason
    option_2_elected: bool = False


BillCode = Literal["local_1038m", "local_1028m", "cpt_99366", "cpt_99367", "cpt_99368", "r0399", "r0398"]
BillProvider = Literal["physician", "nonphysician_qhp", "credentialed_vrc", "vrc_intern", "other"]
Option2Service = Literal["counseling", "job_placement", "travel", "wait_time", "summary_form"]


class Bill(Payload):
    """A bill for one service on the case."""

    event_type = "bill_submitted"
    stored_field = "bill"
    dated_by = "service_on"

    bill_id: Code
    code: BillCode
    provider_type: BillProvider
    service_on: date
    amount: ExactMoney | None = None
    patient_present: bool | None = None
    conference_minutes: int | None = Field(default=None, ge=0, le=1440)
    service_kind: Option2Service | None = None


class Option2Order(Payload):
    """The order confirming Option 2, with the training funds it leaves (RCW 51.32.096(4)(b))."""

    event_type = "option_2_confirmed"
    stored_field = "order"
    dated_by = "ordered_on"

    ordered_on: date
    first_quarter_spending: ExactMoney = Decimal("0.00")


PurchaseItem = Literal["computer", "software", "internet", "ergonomic_equipment"]


class Purchase(Payload):
    """A purchase asked for the plan (L&I: computers need prior approval, minimum requirements)."""

    event_type = "purchase_requested"
    stored_field = "purchase"
    dated_by = "requested_on"

    requested_on: date
    item: PurchaseItem
    prior_approval: bool
    within_minimum_requirements: bool | None = None
    worker_pays_difference: bool = False
    injury_accommodation: bool = False
    requested_as: Literal["plan_cost", "prejob_accommodation"]
    worker_has_internet: bool | None = None


class PerDiemRequest(Payload):
    """Board and lodging asked for a program away from home (RCW 51.32.096(3)(f))."""

    event_type = "per_diem_requested"
    stored_field = "per_diem"
    dated_by = "requested_on"

    requested_on: date
    keeps_primary_residence: bool
    separated_from_family: bool
    program_location: Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
    program_starts_on: date
    program_ends_on: date
    requested_lodging_per_day: ExactMoney = Decimal("0.00")
    requested_food_per_day: ExactMoney = Decimal("0.00")

    @model_validator(mode="after")
    def _program_in_order(self) -> PerDiemRequest:
        if self.program_ends_on < self.program_starts_on:
            raise ValueError("program_ends_on must not be before program_starts_on")
        return self


class EarlierPlan(Payload):
    """A retraining plan the worker was in before this one, on this claim or another
    (RCW 51.32.096(4)(a)(ii) and (5): what was spent may count against this plan)."""

    event_type = "earlier_plan_recorded"
    stored_field = "earlier_plan"
    dated_by = "ended_on"

    ended_on: date
    completed: bool
    amount_spent: ExactMoney = Decimal("0.00")
    creditable_spending: ExactMoney = Field(
        default=Decimal("0.00"), description="what the vocational services specialist confirmed creditable"
    )
    option_2_elected: bool = False
