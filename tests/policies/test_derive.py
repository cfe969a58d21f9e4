"""Derived facts: exact arithmetic and look-ups before deciding, unknown when an input is."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given

from tests import strategies as gen
from vrrules import ParameterMissingError, SpecSource
from vrrules.policies.compiler import compile_or_raise
from vrrules.policies.derive import derived_names, whole_months

REFERENCE = {"document": "Test document", "section": "1"}


def _family(facts: dict[str, Any], **extra: Any) -> Any:
    data = {
        "family": "derived",
        "version": "1",
        "title": "Derived",
        "effective_from": "2025-10-01",
        "hit_policy": "first",
        "reference": REFERENCE,
        "facts": facts,
        "rules": [
            {
                "id": "any",
                "when": {"fact": next(iter(facts)), "present": True},
                "outcome": {"ok": True},
                "reason": "r",
                "reference": REFERENCE,
            }
        ],
        **extra,
    }
    return compile_or_raise(SpecSource(json.dumps(data), "derived.yaml"))


def test_sums_differences_and_fractions_are_exact_to_the_cent() -> None:
    family = _family(
        {
            "a": {"type": "money", "description": "a"},
            "b": {"type": "money", "description": "b"},
            "total": {"type": "money", "description": "a+b", "derive": {"sum": ["a", "b"]}},
            "left": {
                "type": "money",
                "description": "cap-total",
                "derive": {"difference": [{"param": "cap"}, "total"]},
            },
            "third": {
                "type": "money",
                "description": "a third, rounded down",
                "derive": {"fraction": {"of": "total", "numerator": 1, "denominator": 3, "rounding": "down"}},
            },
        },
        parameters={
            "cap": {
                "type": "money",
                "description": "cap",
                "reference": REFERENCE,
                "values": {"2025-10-01": "1.00"},
            }
        },
    )
    facts = family.check_facts({"a": "0.10", "b": "0.20"}, as_of=date(2025, 10, 1))
    assert facts == {"a": "0.10", "b": "0.20", "total": "0.30", "left": "0.70", "third": "0.10"}
    assert derived_names(family.spec) == {"total", "left", "third"}


def test_a_derived_fact_is_unknown_when_an_input_is_or_no_date_is_given() -> None:
    family = _family(
        {
            "a": {"type": "money", "description": "a"},
            "left": {
                "type": "money",
                "description": "cap-a",
                "derive": {"difference": [{"param": "cap"}, "a"]},
            },
        },
        parameters={
            "cap": {
                "type": "money",
                "description": "cap",
                "reference": REFERENCE,
                "values": {"2025-10-01": "1.00"},
            }
        },
    )
    assert family.check_facts({}, as_of=date(2025, 10, 1)) == {}
    assert family.check_facts({"a": "0.25"}) == {"a": "0.25"}  # no date: no parameters to derive with
    assert family.check_facts({"a": "0.25"}, as_of=date(2025, 10, 1))["left"] == "0.75"


def test_days_between_counts_whole_days_and_refuses_derived_facts_given() -> None:
    family = _family(
        {
            "start": {"type": "date", "description": "start"},
            "end": {"type": "date", "description": "end"},
            "days": {"type": "days", "description": "days", "derive": {"days_between": ["start", "end"]}},
            "span": {
                "type": "days",
                "description": "both ends",
                "derive": {"days_between": ["start", "end"], "inclusive": True},
            },
        }
    )
    facts = family.check_facts({"start": "2025-10-01", "end": "2025-10-31"})
    assert (facts["days"], facts["span"]) == (30, 31)
    with pytest.raises(ValueError, match="derived fact"):
        family.check_facts({"start": "2025-10-01", "days": 3})


def test_a_table_with_no_row_or_period_is_parameter_missing_not_a_guess() -> None:
    row = {"location": "Olympia", "lodging": "100.00", "meals": "50.00"}
    period = {"from": "2025-10-01", "until": "2025-12-31", "reference": REFERENCE, "rows": [row]}
    family = _family(
        {
            "city": {"type": "text", "description": "city"},
            "on": {"type": "date", "description": "day"},
            "lodging": {
                "type": "money",
                "description": "rate",
                "derive": {"lookup": {"table": "rates", "key": "city", "date": "on", "column": "lodging"}},
            },
        },
        tables={"rates": {"description": "rates", "periods": [period]}},
    )
    assert family.check_facts({"city": "Olympia", "on": "2025-11-01"})["lodging"] == "100.00"
    with pytest.raises(ParameterMissingError, match="not guessed"):
        family.check_facts({"city": "Seattle", "on": "2025-11-01"})
    with pytest.raises(ParameterMissingError, match="no period"):
        family.check_facts({"city": "Olympia", "on": "2026-01-01"})


@given(start=gen.iso_dates(), end=gen.iso_dates())
def test_whole_months_never_overcounts(start: date, end: date) -> None:
    months = whole_months(start, end)
    if end < start:
        assert months is None
        return
    assert months is not None and months >= 0
    year, month = divmod(start.month - 1 + months, 12)
    assert date(start.year + year, month + 1, 1) <= end  # the month it counts to has begun
