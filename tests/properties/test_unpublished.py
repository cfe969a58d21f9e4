"""An unpublished value blocks only the answers that need it, and soundly: whenever a family
decides without the value, it decides the same with any value the sources might publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SPECS
from vrrules import ParameterMissingError
from vrrules.events.decider import decide_with
from vrrules.policies.compiler import CompiledFamily, compile_or_raise
from vrrules.policies.load import SpecSource

TEXT = (SPECS / "responsiveness" / "2025.1.yaml").read_text(encoding="utf-8")
UNPUBLISHED = (
    "    unpublished: the flyer asks for replies as soon as possible and publishes no number of days\n"
)
ON = date(2025, 11, 10)


def _compiled(text: str) -> CompiledFamily:
    return compile_or_raise(SpecSource(text, str(Path("specs/responsiveness/2025.1.yaml"))))


SHIPPED = _compiled(TEXT)


def _published(days: int) -> CompiledFamily:
    assert UNPUBLISHED in TEXT
    return _compiled(TEXT.replace(UNPUBLISHED, f"    values: {{2025-10-01: {days}}}\n"))


@settings(max_examples=40, deadline=None)
@given(
    unanswered=st.integers(0, 3),
    oldest=st.one_of(st.none(), st.integers(0, 400)),
    published=st.integers(0, 400),
)
def test_deciding_without_the_value_agrees_with_every_value(
    unanswered: int, oldest: int | None, published: int
) -> None:
    facts = {"unanswered": unanswered} | ({"oldest_unanswered_days": oldest} if oldest is not None else {})
    try:
        without = decide_with(SHIPPED, None, ON, facts)
    except ParameterMissingError:
        assert oldest is not None  # only a waiting letter needs the reply period
        return
    with_value = decide_with(_published(published), None, ON, facts)
    assert (without.outcome, without.fired_rule_ids) == (with_value.outcome, with_value.fired_rule_ids)
