"""The case schema: every path a spec's ``source:`` may name, with the type of its value.

The check stage tests each fact's ``source`` and each ``effective_date`` path against this
schema, always: a misspelled path is refused, with its file and line, when the spec is
loaded, rather than found missing when a case is decided. The schema is declared here, on
the policies side, because the specs are checked against it without reading any case;
``vrrules.events.caseview`` builds the view of a case that fills these paths in (and a test
keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CASE_SCHEMA", "CASE_SOURCES", "COST_ITEMS"]

# the cost items of a retraining plan, each a money path under plan.costs
# (the event payloads accept exactly these; tests/policies/test_check.py keeps them equal)
COST_ITEMS: tuple[str, ...] = (
    "books",
    "tuition",
    "fees",
    "supplies",
    "equipment",
    "dependent_care",
    "ojt_fees",
    "tools_and_equipment",
    "other_necessary",
    "transportation",
    "board_and_lodging",
)

# path -> fact type, as a spec's FactDecl would declare it
CASE_SOURCES: dict[str, str] = {
    "decision.date": "date",
    "case.opened_on": "date",
    "referral.received": "bool",
    "referral.received_on": "date",
    "referral.source": "enum",
    "work.status": "enum",
    "work.in_work": "bool",
    "work.off_work_since": "date",
    "work.days_off_work": "days",
    "work.months_off_work": "int",
    "work.difficulties": "set",
    "practitioner.assigned": "bool",
    "practitioner.roles": "set",
    "practitioner.any_clinician": "bool",
    "practitioner.latest.assigned_on": "date",
    "practitioner.latest.role": "enum",
    "practitioner.latest.clinician": "bool",
    "practitioner.latest.qualifications": "set",
    "practitioner.latest.supervision_recorded": "bool",
    "practitioner.latest.works_across_settings": "bool",
    "practitioner.latest.case_management_type": "enum",
    "assessment.completed": "bool",
    "assessment.first_on": "date",
    "assessment.assessed_on": "date",
    "assessment.kind": "enum",
    "assessment.depth": "enum",
    "assessment.domains_examined": "set",
    "assessment.obstacles": "set",
    "assessment.client_groups": "set",
    "assessment.support_needed": "set",
    "interventions.categories": "set",
    "interventions.activities": "set",
    "interventions.first_planned_on": "date",
    "intervention.latest.activity": "enum",
    "intervention.latest.category": "enum",
    "intervention.latest.planned_on": "date",
    "intervention.latest.deliverer_known": "bool",
    "intervention.latest.deliverer_role": "enum",
    "intervention.latest.deliverer_clinician": "bool",
    "intervention.latest.deliverer_qualifications": "set",
    "intervention.latest.days_after_first_assessment": "days",
    "tier.current": "int",
    "tier.since": "date",
    "tier.days_in_tier": "days",
    "tier.months_in_tier": "int",
    "correspondence.medical_unanswered": "int",
    "correspondence.medical_oldest_unanswered_days": "days",
    "employer.adjustments_recorded": "bool",
    "employer.phased_return_recorded": "bool",
    "employer.monitoring_recorded": "bool",
    "plan.commenced_on": "date",
    "plan.earlier_plan": "bool",
    "plan.extension_requested_on": "date",
    "plan.extension_good_cause": "bool",
    "plan.submitted": "bool",
    "plan.submitted_on": "date",
    "plan.received_on": "date",
    "plan.planned_start_on": "date",
    "plan.planned_months": "int",
    "plan.school": "enum",
    "plan.checklist": "set",
    "plan.prejob_accommodations_needed": "bool",
    "plan.creditable_prior_spending": "money",
    **{f"plan.costs.{item}": "money" for item in COST_ITEMS},
    "plan.approved_on": "date",
    "plan.deemed_approval": "bool",
    "plan.implementation_started_on": "date",
    "plan.last_contact_on": "date",
    "option.chosen": "enum",
    "option.elected_on": "date",
    "option.window_ends_on": "date",
    "option.written_explanation": "bool",
    "option.earlier_option_2_election": "bool",
    # extensions as a two-step process: requested, then granted (days) or refused
    "plan.extension_pending": "bool",
    "plan.extension_days_granted": "days",
    "plan.extension_granted_on": "date",
    "plan.extension_refused": "bool",
    "plan.extension_non_cooperation_order": "bool",
    # closing reports (WAC 296-19A-120)
    "plan.completed_on": "date",
    "plan.ended_on": "date",
    "plan.closed": "bool",
    "plan.closed_on": "date",
    # earlier plans, on this case and on the worker's other cases
    "plan.earlier_plans": "int",
    "plan.earlier_creditable_spending": "money",
    # the Option 2 order and its funds
    "option.order_on": "date",
    "option.first_quarter_spending": "money",
    # the latest bill, and what was billed before it
    "bill.latest.code": "enum",
    "bill.latest.provider_type": "enum",
    "bill.latest.service_on": "date",
    "bill.latest.amount": "money",
    "bill.latest.patient_present": "bool",
    "bill.latest.conference_minutes": "int",
    "bill.latest.service_kind": "enum",
    "bill.first_review_billed_before": "bool",
    "bill.option_2_services_billed": "money",
    # the latest purchase request
    "purchase.latest.requested_on": "date",
    "purchase.latest.item": "enum",
    "purchase.latest.prior_approval": "bool",
    "purchase.latest.within_minimum_requirements": "bool",
    "purchase.latest.worker_pays_difference": "bool",
    "purchase.latest.injury_accommodation": "bool",
    "purchase.latest.requested_as": "enum",
    "purchase.latest.worker_has_internet": "bool",
    # the latest per-diem request
    "per_diem.latest.requested_on": "date",
    "per_diem.latest.keeps_primary_residence": "bool",
    "per_diem.latest.separated_from_family": "bool",
    "per_diem.latest.program_location": "text",
    "per_diem.latest.program_starts_on": "date",
    "per_diem.latest.program_ends_on": "date",
    "per_diem.latest.requested_lodging_per_day": "money",
    "per_diem.latest.requested_food_per_day": "money",
    # the worker's other cases (linked by the opening's worker identity)
    "worker.known": "bool",
    "worker.other_cases": "int",
}


# read-only: the schema every library checks its specs against
CASE_SCHEMA: Mapping[str, str] = MappingProxyType(CASE_SOURCES)
