"""Dates and amounts computed in the specs: shifts by days and months, period ends, the
earliest and latest of dates, products and sums over a table, at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrrules.errors import SpecInvalidError
from vrrules.policies.compiler import compile_or_raise
from vrrules.policies.derive import add_months, shifted, whole_months
from vrrules.policies.load import SpecSource

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(days, st.integers(0, 400))
def test_adding_months_is_what_whole_months_counts(start: date, months: int) -> None:
    later = add_months(start, months)
    assert whole_months(start, later) == months
    assert later == start or whole_months(start, later - timedelta(days=1)) == months - 1


@given(days, st.integers(-400, 400), st.integers(-5000, 5000))
def test_shifting_back_undoes_shifting_forward_by_days(start: date, months: int, step: int) -> None:
    assert shifted(shifted(start, step, 0), step, 0, minus=True) == start
    assert add_months(start, months).day <= start.day


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        (date(2025, 11, 15), -3, date(2025, 8, 15)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
    ],
)
def test_month_ends(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


SPEC = """
family: arithmetic
version: "1"
title: Date and amount derivations
effective_from: 2018-10-01
hit_policy: collect
reference: {{document: test, section: test}}
facts:
  start: {{type: date, description: a start}}
  other: {{type: date, description: another date}}
  extra: {{type: days, description: extra days, default: 0}}
  rate: {{type: money, description: a daily rate}}
  count: {{type: days, description: a number of days}}
  where: {{type: text, description: a location}}
  until: {{type: date, description: an end}}
  {derived}
parameters:
  limit_days:
    {{type: days, description: days, reference: {{document: t, section: t}}, values: {{2018-10-01: 90}}}}
tables:
  rates:
    description: lodging by month
    periods:
      - from: 2018-10-01
        until: 2019-09-30
        reference: {{document: t, section: t}}
        rows:
          - {{location: King, lodging: "189", meals: "76", months: [10, 11, 12, 1, 2, 3, 4, 5]}}
          - {{location: King, lodging: "257", meals: "76", months: [6, 7, 8, 9]}}
rules:
  - id: report
    when: {{fact: start, present: true}}
    outcome: {{verdict: shown, value: {{fact: value}}}}
    reason: shows the value
    reference: {{document: test, section: test}}
"""


def _value(derived: str, facts: dict[str, Any], on: date = date(2019, 1, 1)) -> Any:
    source = SPEC.format(derived=f"value: {derived}")
    compiled = compile_or_raise(SpecSource(source, "arithmetic.yaml"))
    decision = compiled.decide({"start": "2019-01-31", **facts}, on)
    return decision.facts.get("value")


@pytest.mark.parametrize(
    ("derived", "facts", "expected"),
    [
        (
            "{type: date, description: d, derive: {shift: {date: start, days: [{param: limit_days}, extra]}}}",  # noqa: E501
            {"extra": 10},
            "2019-05-11",
        ),
        (
            "{type: date, description: d, derive: {shift: {date: start, days: [{param: limit_days}]}}}",
            {},
            "2019-05-01",
        ),
        ("{type: date, description: d, derive: {shift: {date: start, months: [1]}}}", {}, "2019-02-28"),
        (
            "{type: date, description: d, derive: {shift: {date: start, days: [30], minus: true}}}",
            {},
            "2019-01-01",
        ),
        ("{type: date, description: d, derive: {period_end: {date: start, months: [24]}}}", {}, "2021-01-30"),
        (
            "{type: date, description: d, derive: {earliest: [start, other]}}",
            {"other": "2019-01-30"},
            "2019-01-30",
        ),
        (
            "{type: date, description: d, derive: {latest: [start, other]}}",
            {"other": "2019-01-30"},
            "2019-01-31",
        ),
        ("{type: date, description: d, derive: {latest: [other, until]}}", {}, None),
        ("{type: date, description: d, derive: {latest: [start, other]}}", {}, "2019-01-31"),
        (
            "{type: money, description: m, derive: {product: [rate, count]}}",
            {"rate": "55.33", "count": 46},
            "2545.18",
        ),
        (
            "{type: money, description: m, derive: {table_sum: "
            "{table: rates, key: where, from: start, to: until, column: lodging}}}",
            {"where": "King", "until": "2019-02-02"},
            "567.00",
        ),
        (
            "{type: money, description: m, derive: {table_sum: "
            "{table: rates, key: where, from: other, to: until, column: both}}}",
            {"where": "King", "other": "2019-05-31", "until": "2019-06-01"},
            str(Decimal("189") + 76 + 257 + 76) + ".00",
        ),
    ],
)
def test_derivations(derived: str, facts: dict[str, Any], expected: Any) -> None:
    assert _value(derived, facts) == expected


@pytest.mark.parametrize(
    ("derived", "words"),
    [
        ("{type: days, description: d, derive: {shift: {date: start, days: [1]}}}", "date"),
        ("{type: date, description: d, derive: {shift: {date: rate, days: [1]}}}", "date fact"),
        ("{type: date, description: d, derive: {shift: {date: start, days: [rate]}}}", "whole days"),
        ("{type: date, description: d, derive: {latest: [start, rate]}}", "date facts"),
        ("{type: money, description: d, derive: {product: [rate, rate]}}", "one amount"),
        ("{type: days, description: d, derive: {product: [rate, count]}}", "gives money"),
        (
            "{type: money, description: d, derive: {table_sum: "
            "{table: nope, key: where, from: start, to: until, column: lodging}}}",
            "table",
        ),
    ],
)
def test_derivations_of_the_wrong_types_are_refused(derived: str, words: str) -> None:
    with pytest.raises(SpecInvalidError, match=words):
        compile_or_raise(SpecSource(SPEC.format(derived=f"value: {derived}"), "arithmetic.yaml"))
