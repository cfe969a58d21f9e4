"""Two times kept apart: a decision as of D reads only what had happened by D.

* an event dated after D never changes a decision as of D, whenever it is recorded;
* the order events are recorded in does not matter, only their business dates: an event
  recorded late but dated on or before D (a back-dated correction) decides as if it had
  been recorded in time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SPECS
from vrrules import PolicyLibrary
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.decider import decide
from vrrules.events.domain import Case
from vrrules.events.intake import new_case, validated

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
START = date(2025, 10, 1)


def _event(kind: str, day: date, n: int) -> tuple[str, dict[str, Any]]:
    on = day.isoformat()
    if kind == "referral":
        return "referral_received", {"received_on": on, "source": "gp"}
    if kind == "assignment":
        return "practitioner_assigned", {
            "practitioner_id": f"p{n}",
            "role": "vr_practitioner",
            "clinician": False,
            "assigned_on": on,
        }
    if kind == "back_to_work":
        return "work_status_changed", {"status": "in_work", "effective_on": on}
    if kind == "contact":
        return "worker_contacted", {"contacted_on": on}
    if kind == "implementation":
        return "plan_implementation_started", {"started_on": on}
    return "correspondence_sent", {"correspondence_id": f"c{n}", "sent_on": on, "to": "medical_provider"}


events = st.lists(
    st.tuples(
        st.sampled_from(["referral", "assignment", "back_to_work", "contact", "implementation", "letter"]),
        st.integers(0, 500),
    ),
    max_size=6,
)


def _case(steps: list[tuple[str, dict[str, Any]]]) -> Case:
    case = new_case("P-1", START)
    case.record(
        validated(
            "P-1",
            "work_status_changed",
            {"status": "absent", "effective_on": START.isoformat(), "off_work_since": START.isoformat()},
        )
    )
    case.record(validated("P-1", "plan_development_started", {"commenced_on": START.isoformat()}))
    for event_type, payload in steps:
        case.record(validated("P-1", event_type, payload))
    return case


def _outcomes(case: Case, as_of: date) -> dict[str, Any]:
    found = {}
    for family in ("early-intervention", "plan-timeframes"):
        made = decide(LIBRARY, case, family, as_of=as_of)
        found[family] = (made.decision.outcome, made.decision.fired_rule_ids)
    return found


def _steps(drawn: list[tuple[str, int]]) -> list[tuple[str, dict[str, Any]]]:
    return [_event(kind, START + timedelta(days=offset), n) for n, (kind, offset) in enumerate(drawn)]


@given(events, events, st.integers(0, 500))
def test_an_event_dated_after_the_decision_date_never_changes_it(
    before: list[tuple[str, int]], after: list[tuple[str, int]], day: int
) -> None:
    as_of = START + timedelta(days=day)
    kept = [(k, o) for k, o in before if START + timedelta(days=o) <= as_of]
    later = [(k, max(o, day + 1)) for k, o in after]  # every one dated after as_of
    steps = _steps(kept + later)
    without = _steps(kept)
    # interleave the later ones anywhere in the recording order: they still do not count
    assert _outcomes(_case(steps), as_of) == _outcomes(_case(without), as_of)


@given(events, st.integers(0, 500), st.randoms(use_true_random=False))
def test_only_business_dates_matter_not_the_recording_order(
    drawn: list[tuple[str, int]], day: int, rng: Any
) -> None:
    as_of = START + timedelta(days=day)
    # a second referral, work status or implementation start corrects the first (the later
    # recorded stands), so here each of those happens once
    once = {"referral", "back_to_work", "implementation"}
    seen: set[str] = set()
    drawn = [(k, o) for k, o in drawn if k not in once or not (k in seen or seen.add(k))]
    steps = _steps(drawn)
    in_date_order = sorted(steps, key=lambda s: next(v for k, v in s[1].items() if k.endswith("_on")))
    shuffled = list(steps)
    rng.shuffle(shuffled)
    # a letter must be sent before it is answered; none are answered here, so any order fits
    assert _outcomes(_case(shuffled), as_of) == _outcomes(_case(in_date_order), as_of)


def test_a_back_dated_event_recorded_later_changes_the_decision_as_of_its_date() -> None:
    as_of = date(2026, 1, 5)  # three months and four days off work
    case = _case([])
    assert decide(LIBRARY, case, "early-intervention", as_of=as_of).decision.outcome["verdict"] == "alert"
    # recorded today, dated last month: a provider was assigned on 2025-12-01
    case.record(validated("P-1", *_event("assignment", date(2025, 12, 1), 1)))
    assert decide(LIBRARY, case, "early-intervention", as_of=as_of).decision.outcome["verdict"] == "no_alert"
    # dated after the decision date: it does not silence the alert that was due
    late = _case([_event("assignment", date(2026, 3, 1), 1)])
    assert decide(LIBRARY, late, "early-intervention", as_of=as_of).decision.outcome["verdict"] == "alert"
