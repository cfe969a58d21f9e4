"""Money facts are taken only as written: one text form, whole numbers and Decimal.

Decimal() alone reads "1e3", "1_000", " 100 ", "+5", "1e-2" and other scripts' digits
("١٢٣") as amounts, and each was recorded in a decision changed ("١٢٣" as "123.00")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.policies.samples import SAMPLE
from vrrules import CaseRecords, FactsInvalidError, SpecSource
from vrrules.policies.compiler import compile_or_raise

NOT_AS_WRITTEN: list[tuple[Any, str | None]] = [
    ("1e3", "1000.00"),
    ("1E3", "1000.00"),
    ("1_000", "1000.00"),
    (" 100 ", "100.00"),
    ("100\n", "100.00"),
    ("+5", "5.00"),
    ("1e-2", "0.01"),
    ("١٢٣", "123.00"),
    ("\uff11\uff12", "12.00"),  # fullwidth 12
    ("007", "7.00"),
    ("1.", "1.00"),
    (".5", "0.50"),
    ("-.5", "-0.50"),
    ("1,000.00", None),
    ("12 EUR", None),
    ("", None),
]
AS_WRITTEN: list[tuple[Any, str]] = [
    ("1234.50", "1234.50"),
    ("12.5", "12.50"),
    ("12", "12.00"),
    ("0", "0.00"),
    ("0.05", "0.05"),
    ("-3.10", "-3.10"),
    (12, "12.00"),
    (-7, "-7.00"),
    (Decimal("3.10"), "3.10"),
    (Decimal("1E+3"), "1000.00"),  # a Decimal is an amount, not a way of writing one
]


@pytest.fixture(scope="module")
def sample() -> Any:
    return compile_or_raise(SpecSource(SAMPLE, "sample.yaml"))


@pytest.mark.parametrize(("amount", "plain"), NOT_AS_WRITTEN)
def test_money_text_not_in_the_one_written_form_is_refused_saying_what_to_write(
    sample: Any, amount: str, plain: str | None
) -> None:
    with pytest.raises(FactsInvalidError) as caught:
        sample.check_facts({"cost": amount}, "given facts")
    message = caught.value.message
    assert message.startswith("given facts: fact 'cost' expected money written as text of ASCII digits")
    assert f"got {amount!r} (str)" in message and "write it plainly" in message
    assert (f"{plain!r} if that is the amount meant" in message) == (plain is not None), message
    assert caught.value.details["fact"] == "cost"


@pytest.mark.parametrize(("amount", "recorded"), AS_WRITTEN)
def test_money_as_written_is_recorded_to_the_cent(sample: Any, amount: Any, recorded: str) -> None:
    assert sample.check_facts({"cost": amount}, "given facts")["cost"] == recorded


@pytest.mark.parametrize(("amount", "fix"), [(12.5, 'quote it: "12.50"'), (True, None), (0.1 + 0.2, None)])
def test_a_float_or_a_boolean_for_money_is_refused(sample: Any, amount: Any, fix: str | None) -> None:
    with pytest.raises(FactsInvalidError, match="floats, true and false are refused") as caught:
        sample.check_facts({"cost": amount}, "given facts")
    assert (fix is not None and fix in caught.value.message) or fix is None


def test_every_money_example_in_the_shipped_specs_is_in_the_written_form() -> None:
    """The forms in use keep working: the spec examples give money as "1234.50" text."""
    import yaml  # noqa: PLC0415

    from vrrules.policies.facts import money_as_written  # noqa: PLC0415

    checked = 0
    for examples in sorted(SPECS.glob("*/examples.yaml")):
        family = examples.parent
        money = {
            name
            for spec in family.glob("*.yaml")
            if spec.name != "examples.yaml"
            for name, decl in (yaml.safe_load(spec.read_text()).get("facts") or {}).items()
            if isinstance(decl, dict) and decl.get("type") == "money"
        }
        for example in yaml.safe_load(examples.read_text()).get("examples", []):
            for name, value in (example.get("given") or {}).items():
                if name in money and value != "100.001":  # the one example of too many decimals
                    money_as_written(value)
                    checked += 1
    assert checked > 50


def test_a_decision_given_money_not_as_written_records_nothing() -> None:
    bill = {"bill_id": "b1", "code": "local_1038m", "provider_type": "physician", "service_on": "2025-03-03"}
    with CaseRecords("memory", SPECS) as records:
        records.open_case("M-1", "2025-03-01")
        records.record("M-1", "bill_submitted", bill)
        before = records.history("M-1")
        with pytest.raises(FactsInvalidError, match=r"'1000\.00' if that is the amount meant"):
            records.decide("M-1", "billing", facts={"option_2_funds": "1e3"})
        assert records.history("M-1") == before
        made = records.decide("M-1", "billing", facts={"option_2_funds": "1000"})
        assert made.decision.facts["option_2_funds"] == "1000.00"
