"""The case view: the facts a case's history establishes, by path, on a given day.

Specs name these paths in a fact's ``source``. The view looks facts up and counts time
(latest assessment, who delivers an intervention, days off work on the decision date)
but decides nothing; every decision is made by the rules. Unknown facts are ``None``.

*Latest* means latest in business time when the view is read as of a date (every decision
since vrrules kept the two times apart): the assessment, bill, status, election ... with the
latest business date, whatever order they were recorded in (an assessment recorded late but
dated earlier does not override a later-dated one); of those dated the same day, the one
recorded last. A decision too counts by its ``as_of`` date (the current tier). Read the
older way (``happened_only`` false: decisions stored before then replay so), latest is the
last recorded.

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

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from vrrules.events.domain import Case, Recorded
from vrrules.events.payloads import (
    COST_ITEMS,
    Correspondence,
    EarlierPlan,
    PlanExtensionGrant,
    PlanExtensionRefusal,
)
from vrrules.events.registry import Payload
from vrrules.policies.caseschema import CASE_SOURCES
from vrrules.policies.derive import whole_months

__all__ = ["CASE_SOURCES", "case_view", "happened_by", "later_than", "latest_business_date", "whole_months"]


def _happened_by(payload: Payload, day: date) -> bool:
    happened = payload.business_date
    return happened is None or happened <= day


def _dated(payload: Payload) -> date:
    """The date that orders a payload among its kind: its ``dated_by`` field. That is its
    business date, but for a status change: its business date is the day the absence began
    (whether it had happened by a day), while the day the change took effect orders it, so a
    later report of an absence that began earlier corrects the status before it."""
    dated = getattr(payload, payload.dated_by) if payload.dated_by is not None else None
    return dated if isinstance(dated, date) else date.min


def happened_by(case: Case, day: date) -> Case:
    """``case`` as it stood on business date ``day``: only what had happened by then, in the
    order it happened.

    A read-only copy for deciding (never stored): the events recorded so far whose business
    date (their payload's ``dated_by`` field) is on or before ``day``, and the decisions made
    as of a day on or before it, each in business-date order (:func:`_dated`; those of one day
    in the order recorded), so whatever the case reads as the last of a kind
    (``case.assessments[-1]``, ``case.work_status``, ``case.plan``) is the latest to have
    happened. Recording time plays no part here: which version is read is chosen before
    (``CaseStore.case(ref, version)``); this keeps what had happened.
    """
    kept: list[tuple[date, int, Recorded]] = []
    in_order, latest = True, date.min
    for recorded in case.recorded:
        if _happened_by(recorded.payload, day):
            dated = _dated(recorded.payload)
            kept.append((dated, recorded.version, recorded))
            if dated < latest:
                in_order = False
            latest = max(latest, dated)
    if not in_order:  # most cases are recorded in the order they happen: sorted only when not
        kept.sort(key=lambda item: item[:2])
    copy = object.__new__(type(case))
    copy.__dict__.update(case.__dict__)
    copy.recorded = [recorded for _, _, recorded in kept]
    copy.decisions = sorted(
        ((v, d) for v, d in case.decisions if d.as_of <= day),
        key=lambda decided: (decided[1].as_of, decided[0]),
    )
    return copy


def latest_business_date(case: Case) -> date:
    """The latest business date the case records: its opening's, or a later event's (a status
    change's the day it took effect). Everything recorded had happened by then; a decision
    asked for without a date is for this day."""
    return max((case.opening.opened_on, *(_dated(r.payload) for r in case.recorded)))


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
    _extensions(case, view)
    _closing(case, view)


def _extensions(case: Case, view: dict[str, Any]) -> None:
    """A request is not a grant: only granted days move the due date."""
    grants = [d for d in case.plan_extension_decisions if isinstance(d, PlanExtensionGrant)]
    refusals = [d for d in case.plan_extension_decisions if isinstance(d, PlanExtensionRefusal)]
    view["plan.extension_pending"] = case.pending_extension_request is not None
    view["plan.extension_days_granted"] = sum(g.days_granted for g in grants)
    if grants:
        view["plan.extension_granted_on"] = grants[-1].granted_on
    view["plan.extension_refused"] = bool(refusals)
    view["plan.extension_non_cooperation_order"] = any(r.non_cooperation_order for r in refusals)


def _closing(case: Case, view: dict[str, Any]) -> None:
    if case.plan_completion is not None:
        view["plan.completed_on"] = case.plan_completion.completed_on
    if case.plan_ending is not None:
        view["plan.ended_on"] = case.plan_ending.ended_on
    closed = view["plan.completed_on"] or view["plan.ended_on"]
    view["plan.closed"] = closed is not None
    view["plan.closed_on"] = closed


def _option(case: Case, others: Sequence[Case], view: dict[str, Any]) -> None:
    if case.option_2_order is not None:
        view["option.order_on"] = case.option_2_order.ordered_on
        view["option.first_quarter_spending"] = case.option_2_order.first_quarter_spending
    if not case.option_elections:
        return
    latest = case.option_elections[-1]
    view["option.chosen"] = latest.option
    view["option.elected_on"] = latest.elected_on
    view["option.window_ends_on"] = latest.window_ends_on
    view["option.written_explanation"] = latest.written_explanation
    # Option 2 once per worker (RCW 51.32.096(4)(b)): on this case, on an earlier plan the
    # case records, or on any of the worker's other cases before this election
    before = latest.elected_on
    elsewhere = any(
        e.option == "option_2" and e.elected_on < before for other in others for e in other.option_elections
    ) or any(
        p.option_2_elected and p.ended_on < before for other in others for p in _earlier_and_ended(other)
    )
    view["option.earlier_option_2_election"] = (
        latest.earlier_option_2_election
        or any(e.option == "option_2" for e in case.option_elections[:-1])
        or any(p.option_2_elected and p.ended_on < before for p in case.earlier_plans)
        or elsewhere
    )


def _earlier_and_ended(case: Case) -> list[EarlierPlan]:
    """A case's plans as earlier plans of another case: those it records, and its own plan
    once closed."""
    found = list(case.earlier_plans)
    ending, completion = case.plan_ending, case.plan_completion
    if ending is not None:
        found.append(
            EarlierPlan(ended_on=ending.ended_on, completed=False, option_2_elected=ending.option_2_elected)
        )
    elif completion is not None:
        found.append(EarlierPlan(ended_on=completion.completed_on, completed=True))
    return found


def _earlier(case: Case, others: Sequence[Case], view: dict[str, Any]) -> None:
    """Earlier plans: recorded on this case, or the worker's plans on other cases that had
    ended before this plan's development began (RCW 51.32.096(4)(a)(ii), (5))."""
    start = case.plan_start.commenced_on if case.plan_start is not None else None
    plans = list(case.earlier_plans)
    if start is not None:
        plans += [p for other in others for p in _earlier_and_ended(other) if p.ended_on < start]
    view["plan.earlier_plans"] = len(plans)
    view["plan.earlier_creditable_spending"] = sum(
        (p.creditable_spending for p in case.earlier_plans), Decimal("0.00")
    )
    if plans:
        view["plan.earlier_plan"] = True


_OPTION_2_CODES = ("r0399", "r0398")


def _bills(case: Case, view: dict[str, Any]) -> None:
    if not case.bills:
        return
    latest = case.bills[-1]
    view["bill.latest.code"] = latest.code
    view["bill.latest.provider_type"] = latest.provider_type
    view["bill.latest.service_on"] = latest.service_on
    view["bill.latest.amount"] = latest.amount
    view["bill.latest.patient_present"] = latest.patient_present
    view["bill.latest.conference_minutes"] = latest.conference_minutes
    view["bill.latest.service_kind"] = latest.service_kind
    view["bill.first_review_billed_before"] = any(b.code == "local_1038m" for b in case.bills[:-1])
    option_2 = [b.amount for b in case.bills if b.code in _OPTION_2_CODES]
    # unknown when any Option 2 bill was recorded without its amount
    if all(a is not None for a in option_2):
        view["bill.option_2_services_billed"] = sum((a for a in option_2 if a is not None), Decimal("0.00"))


def _requests(case: Case, view: dict[str, Any]) -> None:
    if case.purchases:
        latest = case.purchases[-1]
        for name in (
            "requested_on",
            "item",
            "prior_approval",
            "within_minimum_requirements",
            "worker_pays_difference",
            "injury_accommodation",
            "requested_as",
            "worker_has_internet",
        ):
            view[f"purchase.latest.{name}"] = getattr(latest, name)
    if case.per_diem_requests:
        request = case.per_diem_requests[-1]
        for name in (
            "requested_on",
            "keeps_primary_residence",
            "separated_from_family",
            "program_location",
            "program_starts_on",
            "program_ends_on",
            "requested_lodging_per_day",
            "requested_food_per_day",
        ):
            view[f"per_diem.latest.{name}"] = getattr(request, name)


def case_view(
    case: Case,
    on: date | None = None,
    *,
    happened_only: bool = False,
    others: Sequence[Case] = (),
    paths: Collection[str] | None = None,
) -> dict[str, Any]:
    """Every path of :data:`CASE_SOURCES` with its value in this case (``None`` if unknown).

    With ``happened_only`` the view keeps only what had *happened* by ``on`` (when given):
    events whose business date falls after ``on`` are left out, however early they were
    recorded (an assignment dated March does not silence an alert due in January), and the
    latest of each kind is the latest by business date (:func:`happened_by`).
    Every decision since vrrules kept the two times apart reads the case this way
    (``DecisionRecord.time_basis == "business"``); without it every recorded event counts,
    as decisions stored before then read it (their replay must read it the same way).

    ``others`` are the worker's other cases (linked by the opening's ``worker``), loaded by
    the caller: "Option 2 once per worker" and "earlier plans" read them. They are read as of
    ``on`` in the same way.

    ``paths``: only these paths are needed (a family's sources); the parts of the view that
    fill none of them are left out, and their paths are ``None``. The audit's replay, which
    reads the view once per decision, asks for its family's sources alone.
    """
    if happened_only:
        by = on if on is not None else date.max
        case = happened_by(case, by)
        others = [happened_by(other, by) for other in others]
    view: dict[str, Any] = dict.fromkeys(CASE_SOURCES)
    view["decision.date"] = on
    view["case.opened_on"] = case.opening.opened_on
    view["referral.received"] = case.referral is not None
    if case.referral is not None:
        view["referral.received_on"] = case.referral.received_on
        view["referral.source"] = case.referral.source
    for part in _PARTS if paths is None else _parts_for(frozenset(paths)):
        part(case, on, others, view)
    view["worker.known"] = case.opening.worker is not None
    view["worker.other_cases"] = len(others)
    return view


_Part = Callable[[Case, date | None, Sequence[Case], dict[str, Any]], None]

# The parts of the view in the order they run, each with the prefixes of the paths it fills.
# Interventions read the first assessment's date, so the assessments part also serves the
# intervention paths; the earlier-plans part runs after the plan part, whose
# ``plan.earlier_plan`` it may set (tests/events/test_caseview.py checks every path asked
# alone against the whole view).
_PART_PREFIXES: tuple[tuple[tuple[str, ...], _Part], ...] = (
    (("work.",), lambda case, on, others, view: _work(case, on, view)),
    (("practitioner.",), lambda case, on, others, view: _practitioners(case, view)),
    (
        ("assessment.", "intervention.", "interventions."),
        lambda case, on, others, view: _assessments(case, view),
    ),
    (("intervention.", "interventions."), lambda case, on, others, view: _interventions(case, view)),
    (("tier.",), lambda case, on, others, view: _tier(case, on, view)),
    (("correspondence.",), lambda case, on, others, view: _correspondence(case, on, view)),
    (("employer.",), lambda case, on, others, view: _employer(case, view)),
    (("plan.",), lambda case, on, others, view: _plan(case, view)),
    (("option.",), lambda case, on, others, view: _option(case, others, view)),
    (("plan.",), lambda case, on, others, view: _earlier(case, others, view)),
    (("bill.",), lambda case, on, others, view: _bills(case, view)),
    (("purchase.", "per_diem."), lambda case, on, others, view: _requests(case, view)),
)
_PARTS: tuple[_Part, ...] = tuple(part for _, part in _PART_PREFIXES)


@functools.lru_cache(maxsize=256)
def _parts_for(paths: frozenset[str]) -> tuple[_Part, ...]:
    """The parts of the view that fill any of ``paths`` (a family's sources: few, and the
    same for every decision of a release)."""
    return tuple(part for prefixes, part in _PART_PREFIXES if any(p.startswith(prefixes) for p in paths))


# the paths whose value reads the worker's other cases: only families sourcing one of them
# need those cases loaded (a worker may have many)
FROM_OTHER_CASES = frozenset(
    {"option.earlier_option_2_election", "plan.earlier_plan", "plan.earlier_plans", "worker.other_cases"}
)


def reads_other_cases(sources: Iterable[str | None]) -> bool:
    """Whether facts sourced from these paths need the worker's other cases."""
    return any(source in FROM_OTHER_CASES for source in sources)
