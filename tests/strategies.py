"""Hypothesis strategies shared by every test module; features extend this one file.

Families of strategies:
* spec parts: fact declarations, conditions over them, whole family specs;
* facts for a declared family (including unknown and extreme values);
* event payloads and case histories for the case application;
* random case lifecycles' steps, taken from the sample case stories;
* hostile input: values meant to break parsers, numbers, templating and evaluation.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from vrrules.events.payloads import (
    ASSESSMENT_DEPTHS,
    CLIENT_GROUPS,
    DOMAINS,
    SUPPORT_ACTIVITIES,
)
from vrrules.events.registry import EVENT_TYPES
from vrrules.policies.invariants import facts_strategy

CODES = ["alpha", "beta", "gamma", "delta"]
FIRST_DAY = date(2025, 10, 1)

# ---------------------------------------------------------------- spec parts

FACT_DECLS: dict[str, dict[str, Any]] = {
    "flag": {"type": "bool", "description": "a flag"},
    "count": {"type": "int", "description": "a whole number"},
    "days": {"type": "days", "description": "a day count"},
    "amount": {"type": "money", "description": "an amount"},
    "when": {"type": "date", "description": "a date"},
    "label": {"type": "text", "description": "free text"},
    "kind": {"type": "enum", "description": "one code", "values": CODES},
    "tags": {"type": "set", "description": "several codes", "values": CODES},
}

_small_int = st.integers(min_value=-5, max_value=5)
_money_text = st.integers(min_value=-500, max_value=500).map(lambda c: str(Decimal(c) / 100))
_dates = st.integers(min_value=0, max_value=10).map(lambda d: (FIRST_DAY + timedelta(days=d)).isoformat())
_labels = st.sampled_from(["a", "b", "c"])

_SCALAR_FOR = {
    "flag": st.booleans(),
    "count": _small_int,
    "days": _small_int,
    "amount": _money_text,
    "when": _dates,
    "label": _labels,
    "kind": st.sampled_from(CODES),
}
_ORDERED_OPS = ["equals", "not_equals", "lt", "lte", "gt", "gte"]


@st.composite
def comparisons(draw: st.DrawFn) -> dict[str, Any]:
    fact = draw(st.sampled_from(sorted(FACT_DECLS)))
    if draw(st.integers(0, 9)) == 0:
        return {"fact": fact, "present": draw(st.booleans())}
    if fact == "tags":
        op = draw(
            st.sampled_from(
                [
                    "contains",
                    "contains_any",
                    "contains_all",
                    "contains_none",
                    "count_gte",
                    "count_lte",
                ]
            )
        )
        if op == "contains":
            return {"fact": fact, op: draw(st.sampled_from(CODES))}
        if op.startswith("count_"):
            return {"fact": fact, op: draw(st.integers(0, 4))}
        if draw(st.booleans()):
            return {"fact": fact, op: {"param": "some_codes"}}  # a dated code-list parameter
        return {
            "fact": fact,
            op: draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True)),
        }
    ops = ["equals", "not_equals"] if fact == "flag" else ["equals", "not_equals", "in", "not_in"]
    if fact in ("count", "days", "amount", "when"):
        ops += _ORDERED_OPS[2:]
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        if fact == "kind" and draw(st.booleans()):
            return {"fact": fact, op: {"param": "some_codes"}}
        return {
            "fact": fact,
            op: draw(st.lists(_SCALAR_FOR[fact], min_size=1, max_size=3, unique=True)),
        }
    return {"fact": fact, op: draw(_SCALAR_FOR[fact])}


def conditions(max_leaves: int = 6) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        comparisons(),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
            children.map(lambda x: {"not": x}),
        ),
        max_leaves=max_leaves,
    )


REFERENCE = {"document": "test document", "section": "1"}


@st.composite
def family_specs(draw: st.DrawFn, hit_policy: str | None = None) -> dict[str, Any]:
    """A whole valid family spec (as data) over FACT_DECLS, with random conditions."""
    n_rules = draw(st.integers(min_value=1, max_value=5))
    rules = [
        {
            "id": f"rule-{index}",
            "when": draw(conditions()),
            "outcome": {"rule": index},
            "reason": f"reason {index}",
            "reference": REFERENCE,
        }
        for index in range(n_rules)
    ]
    return {
        "family": "generated",
        "version": f"t{draw(st.integers(0, 10**9))}",
        "title": "generated family",
        "effective_from": FIRST_DAY.isoformat(),
        "hit_policy": hit_policy or draw(st.sampled_from(["first", "collect"])),
        "reference": REFERENCE,
        "facts": FACT_DECLS,
        "parameters": {
            "some_codes": {
                "type": "codes",
                "description": "a code list",
                "reference": REFERENCE,
                "values": {
                    FIRST_DAY.isoformat(): draw(st.lists(st.sampled_from(CODES), min_size=1, unique=True))
                },
            }
        },
        "rules": rules,
    }


@st.composite
def generated_facts(draw: st.DrawFn) -> dict[str, Any]:
    """Facts for FACT_DECLS; each fact may be unknown (left out or None)."""
    facts: dict[str, Any] = {}
    for name in sorted(FACT_DECLS):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            continue
        if choice == 1:
            facts[name] = None
            continue
        if name == "tags":
            facts[name] = draw(st.lists(st.sampled_from(CODES), max_size=4, unique=True))
        else:
            facts[name] = draw(_SCALAR_FOR[name])
    return facts


# ------------------------------------------------------------ tier family facts

tier_facts = st.fixed_dictionaries(
    {},
    optional={
        "assessment_completed": st.booleans(),
        "support_needed": st.lists(st.sampled_from(SUPPORT_ACTIVITIES), unique=True, max_size=6),
        "client_groups": st.lists(st.sampled_from(CLIENT_GROUPS), unique=True, max_size=3),
        "obstacles": st.lists(st.sampled_from(DOMAINS), unique=True, max_size=7),
    },
)

# ------------------------------------------------------------ event payloads


@st.composite
def assessments(draw: st.DrawFn, on: date) -> dict[str, Any]:
    examined = draw(st.lists(st.sampled_from(DOMAINS), min_size=1, unique=True))
    return {
        "assessed_on": on.isoformat(),
        "kind": draw(st.sampled_from(["initial", "review"])),
        "depth": draw(st.sampled_from(ASSESSMENT_DEPTHS)),
        "assessor_id": "assessor_1",
        "domains_examined": examined,
        "obstacles": draw(st.lists(st.sampled_from(examined), unique=True)),
        "client_groups": draw(st.lists(st.sampled_from(CLIENT_GROUPS), unique=True, max_size=2)),
        "support_needed": draw(st.lists(st.sampled_from(SUPPORT_ACTIVITIES), unique=True, max_size=4)),
    }


@st.composite
def case_histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A sequence of steps for one case: ('record', (type, payload)) or ('decide', 'tiers')."""
    day = FIRST_DAY + timedelta(days=draw(st.integers(0, 60)))
    steps: list[tuple[str, Any]] = []
    if draw(st.booleans()):
        steps.append(
            (
                "record",
                ("referral_received", {"received_on": day.isoformat(), "source": "employer"}),
            )
        )
    for _ in range(draw(st.integers(1, 4))):
        day += timedelta(days=draw(st.integers(0, 30)))
        kind = draw(st.sampled_from(["assessment", "decide", "work"]))
        if kind == "assessment":
            steps.append(("record", ("assessment_completed", draw(assessments(day)))))
        elif kind == "work":
            steps.append(
                (
                    "record",
                    (
                        "work_status_changed",
                        {
                            "status": "absent",
                            "effective_on": day.isoformat(),
                            "off_work_since": (day - timedelta(days=draw(st.integers(0, 400)))).isoformat(),
                        },
                    ),
                )
            )
        steps.append(("decide", "tiers"))
    return steps


# ------------------------------------------------------------ any shipped family's facts


def family_facts(spec: Any, params: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Facts for any family, concentrated on the boundaries its rules test (each ±1): the
    search `vrrules check` runs over invariants, so the tests and the check draw alike."""
    return facts_strategy(spec, params)


# ------------------------------------------------------------ case lifecycles


def _stories() -> list[Any]:
    from vrrules.events.importer import load_case_file  # noqa: PLC0415
    from vrrules.samples import SAMPLE_CASES  # noqa: PLC0415

    return list(load_case_file(SAMPLE_CASES).cases)


_STORIES = _stories()
# what a case system records, and the decisions it asks for, in the sample stories
lifecycle_records = st.sampled_from(
    [(s.record, s.payload) for h in _STORIES for s in h.steps if s.record is not None]
)
lifecycle_decisions = st.sampled_from(
    [(s.decide, s.as_of, s.facts) for h in _STORIES for s in h.steps if s.decide is not None]
)

# ------------------------------------------------------------ hostile input

# values meant to break parsers, number handling, templating and evaluation
HOSTILE_SCALARS = [
    "9" * 400,
    "-9" * 200,
    "1e309",
    ".nan",
    ".inf",
    "-.inf",
    "NaN",
    "0x7fffffffffffffff",
    "18446744073709551616",
    "'12.345'",
    '"0.001"',
    "2025-13-45",
    "0000-01-01",
    "10000-01-01",
    "{{ 7*7 }}",
    "${HOME}",
    "%(x)s",
    "__import__('os').system('true')",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=",
    "&a [*a]",
    "*undefined",
    "'" + "x" * 100_000 + "'",
    "[" * 300 + "]" * 300,
    "{" * 300 + "}" * 300,
    "\x00\x01\x02",
    "é\u202e\ufeff",
    "~",
    "",
]


_any_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(HOSTILE_SCALARS),
)
any_json = st.recursive(
    _any_json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


any_event_type = st.one_of(st.sampled_from(sorted(EVENT_TYPES)), st.text(max_size=20))
any_payload = st.one_of(
    any_json,
    st.dictionaries(
        st.sampled_from(
            [
                "received_on",
                "source",
                "assessed_on",
                "kind",
                "depth",
                "status",
                "effective_on",
                "costs",
                "planned_months",
                "approved_on",
                "practitioner_id",
                "role",
                "clinician",
            ]
        ),
        any_json,
        max_size=6,
    ),
)


any_bill_facts = st.dictionaries(
    st.sampled_from(["code", "provider_type", "service_kind", "first_review_billed_before", "x", ""]),
    any_json,
    max_size=5,
)


# ------------------------------------------------------------------- typed values (load)


def money_amounts() -> st.SearchStrategy[Decimal]:
    """Money as the load stage types it: Decimal, exact to the cent, either sign."""
    return st.integers(-(10**12), 10**12).map(lambda cents: Decimal(cents).scaleb(-2))


def iso_dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
