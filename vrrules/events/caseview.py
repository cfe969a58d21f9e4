"""The case view: the facts a case's history establishes, by path, on a given day.

Specs name these paths in a fact's ``source``. The view derives facts (latest
assessment, days off work on the decision date) but decides nothing; every decision is
made by the rules. Unknown facts are ``None``.

Day counting: ``work.days_off_work`` is the number of calendar days from the first day
off work to the decision date (the first day off itself counts 0, the next day 1), and
is unknown while the worker is in work.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from vrrules.events.domain import Case

__all__ = ["CASE_SOURCES", "case_view"]

# path -> fact type, as a spec's FactDecl would declare it
CASE_SOURCES: dict[str, str] = {
    "case.opened_on": "date",
    "referral.received": "bool",
    "referral.received_on": "date",
    "referral.source": "enum",
    "work.status": "enum",
    "work.off_work_since": "date",
    "work.days_off_work": "days",
    "practitioner.assigned": "bool",
    "practitioner.roles": "set",
    "practitioner.any_clinician": "bool",
    "assessment.completed": "bool",
    "assessment.assessed_on": "date",
    "assessment.kind": "enum",
    "assessment.depth": "enum",
    "assessment.domains_examined": "set",
    "assessment.obstacles": "set",
    "assessment.client_groups": "set",
    "assessment.support_needed": "set",
    "interventions.categories": "set",
    "interventions.first_planned_on": "date",
    "tier.current": "int",
}


def case_view(case: Case, on: date | None = None) -> dict[str, Any]:
    """Every path of :data:`CASE_SOURCES` with its value in this case (``None`` if unknown)."""
    view: dict[str, Any] = dict.fromkeys(CASE_SOURCES)
    view["case.opened_on"] = case.opening.opened_on
    view["referral.received"] = case.referral is not None
    if case.referral is not None:
        view["referral.received_on"] = case.referral.received_on
        view["referral.source"] = case.referral.source
    work = case.work_status
    if work is not None:
        view["work.status"] = work.status
        view["work.off_work_since"] = work.off_work_since
        if work.off_work_since is not None and on is not None and on >= work.off_work_since:
            view["work.days_off_work"] = (on - work.off_work_since).days
    view["practitioner.assigned"] = bool(case.practitioners)
    view["practitioner.roles"] = sorted({p.role for p in case.practitioners.values()})
    view["practitioner.any_clinician"] = any(p.clinician for p in case.practitioners.values())
    view["assessment.completed"] = bool(case.assessments)
    if case.assessments:
        latest = case.assessments[-1]
        view["assessment.assessed_on"] = latest.assessed_on
        view["assessment.kind"] = latest.kind
        view["assessment.depth"] = latest.depth
        view["assessment.domains_examined"] = sorted(latest.domains_examined)
        view["assessment.obstacles"] = sorted(latest.obstacles)
        view["assessment.client_groups"] = sorted(latest.client_groups)
        view["assessment.support_needed"] = sorted(latest.support_needed)
    view["interventions.categories"] = sorted({i.category for i in case.interventions})
    if case.interventions:
        view["interventions.first_planned_on"] = min(i.planned_on for i in case.interventions)
    previous = case.latest_decision("tiers")
    if previous is not None and previous.outcome is not None:
        tier = previous.outcome.get("tier")
        view["tier.current"] = tier if isinstance(tier, int) else None
    return view
