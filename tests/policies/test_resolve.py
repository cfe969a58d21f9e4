"""The resolve stage: typed parameters in force on a date, resolved once per period and shared."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.policies.samples import SAMPLE
from vrrules import ParameterMissingError, SpecSource
from vrrules.policies.compiler import compile_or_raise
from vrrules.policies.load import load
from vrrules.policies.resolve import ParameterTimeline, parameter_periods, resolve_parameters


def _spec(text: str = SAMPLE):  # type: ignore[no-untyped-def]
    loaded, diagnostics = load(SpecSource(text, "sample.yaml"))
    assert loaded is not None, diagnostics
    return loaded.spec


def test_values_in_force_are_typed_and_change_on_their_dates() -> None:
    spec = _spec()
    assert resolve_parameters(spec, date(2025, 12, 31), "f")["limit"] == Decimal("100.00")
    on_new_year = resolve_parameters(spec, date(2026, 1, 1), "f")
    assert on_new_year == {"limit": Decimal("150.50"), "steps": 3, "wanted": ["a", "b"]}
    assert [start for start, _ in parameter_periods(spec)] == [date(2025, 10, 1), date(2026, 1, 1)]


def test_the_timeline_resolves_each_period_once() -> None:
    timeline = ParameterTimeline(_spec(), "sample.yaml")
    first = timeline.on(date(2025, 10, 5))
    assert timeline.on(date(2025, 12, 31)) is first  # same period: the cached values
    assert timeline.on(date(2026, 3, 1)) is not first
    assert timeline.period_of(date(2025, 12, 31)) != timeline.period_of(date(2026, 1, 1))
    with pytest.raises(TypeError):
        first["limit"] = Decimal(0)  # type: ignore[index]


def test_a_day_without_a_value_names_the_parameter_and_that_day_every_time() -> None:
    text = SAMPLE.replace('      2026-01-01: "150.50"', "      2026-01-01: null")
    timeline = ParameterTimeline(_spec(text), "sample.yaml")
    for day in (date(2026, 2, 1), date(2026, 3, 1)):
        with pytest.raises(ParameterMissingError) as caught:
            timeline.on(day)
        assert day.isoformat() in str(caught.value) and caught.value.details["parameters"] == ["limit"]
    assert timeline.on(date(2025, 10, 1))["limit"] == Decimal("100.00")


def test_derivation_and_lowering_read_the_same_resolved_values() -> None:
    compiled = compile_or_raise(SpecSource(SAMPLE, "sample.yaml"))
    day = date(2026, 1, 2)
    assert compiled.lowered_on(day).params is compiled.parameters_on(day)
    assert compiled.lowered_on(date(2026, 5, 1)) is compiled.lowered_on(day)  # lowered once per period
