"""The case view: the facts a case's history establishes, by path, on a given day.

Specs name these paths in a fact's ``source``. The view looks facts up and counts time
(latest assessment, who delivers an intervention, days off work on the decision date)
but decides nothing; every decision is made by the rules. Unknown facts are ``None``.

Counting time, on the decision date ``on``:

* *days* are calendar days from the start date to ``on``: the start day itself counts 0,
  the next day 1. ``work.days_off_work`` starts on the first day off work.
* *months* are whole calendar months from the start date to ``on``: a month is complete
  on the same day-of-month (15 January to 15 April is 3 months; 14 April is still 2).
  From the 29th to the 31st, a month with no such day completes on its last day
  (31 January to 28 February 2025 is 1 month).
* Counts are unknown before their start date and when the start date is unknown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from vrrules.events.domain import Case, Recorded
from vrrules.events.payloads import COST_ITEMS, Correspondence
from vrrules.events.registry import Payload
from vrrules.policies.caseschema import CASE_SOURCES
from vrrules.policies.derive import whole_months

__all__ = ["CASE_SOURCES", "case_view", "happened_by", "later_than", "whole_months"]


def _happened_by(payload: Payload, day: date) -> bool:
    happened = payload.business_date
    return happened is None or happened <= day


def happened_by(case: Case, day: date) -> Case:
    """``case`` as it stood on business date ``day``: only what had happened by then.

    A read-only copy for deciding (never stored): the events recorded so far whose business
    date (their payload's ``dated_by`` field) is on or before ``day``, and the decisions made
    as of a day on or before it. Recording time plays no part here: which version is read is
    chosen before (``CaseStore.case(ref, version)``); this keeps what had happened.
    """
    copy = object.__new__(type(case))
    copy.__dict__.update(case.__dict__)
    copy.recorded = [r for r in case.recorded if _happened_by(r.payload, day)]
    copy.decisions = [(v, d) for v, d in case.decisions if d.as_of <= day]
    return copy


def later_than(case: Case, day: date) -> list[Recorded]:
    """The recorded events whose business date falls after ``day`` (what ``happened_by``
    leaves out)."""
    return [r for r in case.recorded if not _happened_by(r.payload, day)]


def _days(start: date | None, on: date | None) -> int | None:
    if start is None or on is None or on < start:
        return None
    return (on - start).days


def _months(start: date | None, on: date | None) -> int | None:
    if start is None or on is None:
        return None
    return whole_months(start, on)


def _work(case: Case, on: date | None, view: dict[str, Any]) -> None:
    work = case.work_status
    if work is None:
        return
    view["work.status"] = work.status
    view["work.in_work"] = work.status in ("in_work", "in_work_struggling")
    view["work.off_work_since"] = work.off_work_since
    view["work.days_off_work"] = _days(work.off_work_since, on)
    view["work.months_off_work"] = _months(work.off_work_since, on)
    view["work.difficulties"] = sorted(work.difficulties)


def _practitioners(case: Case, view: dict[str, Any]) -> None:
    view["practitioner.assigned"] = bool(case.practitioners)
    view["practitioner.roles"] = sorted({p.role for p in case.practitioners.values()})
    view["practitioner.any_clinician"] = any(p.clinician for p in case.practitioners.values())
    if case.practitioners:
        latest = max(case.practitioners.values(), key=lambda p: p.assigned_on)
        view["practitioner.latest.assigned_on"] = latest.assigned_on
        view["practitioner.latest.role"] = latest.role
        view["practitioner.latest.clinician"] = latest.clinician
        view["practitioner.latest.qualifications"] = sorted(latest.qualifications)
        view["practitioner.latest.supervision_recorded"] = latest.supervision_recorded
        view["practitioner.latest.works_across_settings"] = latest.works_across_settings
        view["practitioner.latest.case_management_type"] = latest.case_management_type


def _assessments(case: Case, view: dict[str, Any]) -> None:
    view["assessment.completed"] = bool(case.assessments)
    if not case.assessments:
        return
    latest = case.assessments[-1]
    view["assessment.first_on"] = min(a.assessed_on for a in case.assessments)
    view["assessment.assessed_on"] = latest.assessed_on
    view["assessment.kind"] = latest.kind
    view["assessment.depth"] = latest.depth
    view["assessment.domains_examined"] = sorted(latest.domains_examined)
    view["assessment.obstacles"] = sorted(latest.obstacles)
    view["assessment.client_groups"] = sorted(latest.client_groups)
    view["assessment.support_needed"] = sorted(latest.support_needed)


def _interventions(case: Case, view: dict[str, Any]) -> None:
    view["interventions.categories"] = sorted({i.category for i in case.interventions})
    view["interventions.activities"] = sorted({i.activity for i in case.interventions})
    if not case.interventions:
        return
    view["interventions.first_planned_on"] = min(i.planned_on for i in case.interventions)
    latest = case.interventions[-1]
    view["intervention.latest.activity"] = latest.activity
    view["intervention.latest.category"] = latest.category
    view["intervention.latest.planned_on"] = latest.planned_on
    deliverer = case.practitioners.get(latest.delivered_by)
    view["intervention.latest.deliverer_known"] = deliverer is not None
    if deliverer is not None:
        view["intervention.latest.deliverer_role"] = deliverer.role
        view["intervention.latest.deliverer_clinician"] = deliverer.clinician
        view["intervention.latest.deliverer_qualifications"] = sorted(deliverer.qualifications)
    first = view["assessment.first_on"]
    if first is not None:
        # negative when the intervention was planned before the first assessment
        view["intervention.latest.days_after_first_assessment"] = (latest.planned_on - first).days


def _tier(case: Case, on: date | None, view: dict[str, Any]) -> None:
    current: int | None = None
    since: date | None = None
    for _, decision in case.decisions:
        if decision.family != "tiers" or decision.outcome is None:
            continue
        tier = decision.outcome.get("tier")
        if not isinstance(tier, int):
            continue
        if tier != current:
            current, since = tier, decision.as_of
    view["tier.current"] = current
    view["tier.since"] = since
    view["tier.days_in_tier"] = _days(since, on)
    view["tier.months_in_tier"] = _months(since, on)


def _correspondence(case: Case, on: date | None, view: dict[str, Any]) -> None:
    def waiting_on(sent: Correspondence) -> bool:
        if on is not None and sent.sent_on > on:
            return False  # not yet sent on the decision date
        answer = case.answers.get(sent.correspondence_id)
        return answer is None or (on is not None and answer.answered_on > on)

    waiting = [s for s in case.correspondence.values() if s.to == "medical_provider" and waiting_on(s)]
    view["correspondence.medical_unanswered"] = len(waiting)
    if waiting:
        view["correspondence.medical_oldest_unanswered_days"] = _days(min(s.sent_on for s in waiting), on)


def _employer(case: Case, view: dict[str, Any]) -> None:
    kinds = {c.kind for c in case.employer_commitments}
    view["employer.adjustments_recorded"] = "reasonable_adjustments" in kinds
    view["employer.phased_return_recorded"] = "phased_return" in kinds
    view["employer.monitoring_recorded"] = "monitoring" in kinds


def _plan(case: Case, view: dict[str, Any]) -> None:
    if case.plan_start is not None:
        view["plan.commenced_on"] = case.plan_start.commenced_on
        view["plan.earlier_plan"] = case.plan_start.earlier_plan
    if case.plan_extensions:
        first = min(case.plan_extensions, key=lambda e: e.requested_on)
        view["plan.extension_requested_on"] = first.requested_on
        view["plan.extension_good_cause"] = first.good_cause != "none"
    plan = case.plan
    view["plan.submitted"] = plan is not None
    if plan is not None:
        view["plan.submitted_on"] = plan.submitted_on
        view["plan.received_on"] = plan.received_on
        view["plan.planned_start_on"] = plan.planned_start_on
        view["plan.planned_months"] = plan.planned_months
        view["plan.school"] = plan.school
        view["plan.checklist"] = sorted(plan.checklist)
        view["plan.prejob_accommodations_needed"] = plan.prejob_accommodations_needed
        view["plan.creditable_prior_spending"] = plan.creditable_prior_spending
        costs: dict[str, Decimal] = {str(item): amount for item, amount in plan.costs.items()}
        for item in COST_ITEMS:
            view[f"plan.costs.{item}"] = costs.get(item, Decimal("0.00"))
    if case.plan_approval is not None:
        view["plan.approved_on"] = case.plan_approval.approved_on
        view["plan.deemed_approval"] = case.plan_approval.deemed
    if case.plan_implementation is not None:
        view["plan.implementation_started_on"] = case.plan_implementation.started_on
    if case.worker_contacts:
        view["plan.last_contact_on"] = max(c.contacted_on for c in case.worker_contacts)
    if case.option_elections:
        latest = case.option_elections[-1]
        view["option.chosen"] = latest.option
        view["option.elected_on"] = latest.elected_on
        view["option.window_ends_on"] = latest.window_ends_on
        view["option.written_explanation"] = latest.written_explanation
        view["option.earlier_option_2_election"] = latest.earlier_option_2_election or any(
            e.option == "option_2" for e in case.option_elections[:-1]
        )


def case_view(case: Case, on: date | None = None, *, happened_only: bool = False) -> dict[str, Any]:
    """Every path of :data:`CASE_SOURCES` with its value in this case (``None`` if unknown).

    With ``happened_only`` and a decision date ``on`` the view keeps only what had *happened*
    by then: events whose business date falls after ``on`` are left out, however early they
    were recorded (an assignment dated March does not silence an alert due in January).
    Every decision since vrrules kept the two times apart reads the case this way
    (``DecisionRecord.time_basis == "business"``); without it every recorded event counts,
    as decisions stored before then read it (their replay must read it the same way).
    """
    if happened_only and on is not None:
        case = happened_by(case, on)
    view: dict[str, Any] = dict.fromkeys(CASE_SOURCES)
    view["decision.date"] = on
    view["case.opened_on"] = case.opening.opened_on
    view["referral.received"] = case.referral is not None
    if case.referral is not None:
        view["referral.received_on"] = case.referral.received_on
        view["referral.source"] = case.referral.source
    _work(case, on, view)
    _practitioners(case, view)
    _assessments(case, view)
    _interventions(case, view)
    _tier(case, on, view)
    _correspondence(case, on, view)
    _employer(case, view)
    _plan(case, view)
    return view
