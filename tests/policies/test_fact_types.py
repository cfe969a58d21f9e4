"""Every fact type refuses a value of another shape with facts_invalid, naming the fact, what it
expected and what it got: a code list holding lists or mappings (unhashable: once a raw
TypeError), a datetime for a date (once recorded with its time and refused raw on reading
back), true for a number, a list where one value is meant."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SPECS
from tests.policies.samples import SAMPLE
from vrrules import CaseRecords, FactsInvalidError, SpecSource, compile_or_raise
from vrrules.events.importer import CaseHistory, import_cases
from vrrules.policies.facts import recorded_facts
from vrrules.policies.model import FactDecl

CODES = ["a", "b"]

# (fact type, a value of another shape, what the message says was expected)
WRONG: list[tuple[str, Any, str]] = [
    ("set", [[1]], "each element a code"),
    ("set", [{"a": 1}], "each element a code"),
    ("set", ["a", ["b"]], "each element a code"),
    ("set", [None], "each element a code"),
    ("set", [1], "each element a code"),
    ("set", [True], "each element a code"),
    ("set", [b"a"], "each element a code"),
    ("set", {"a": 1}, "a list of codes"),
    ("set", "a", "a list of codes"),
    ("set", 5, "a list of codes"),
    ("int", True, "a whole number"),
    ("int", [1], "a whole number"),
    ("int", {"a": 1}, "a whole number"),
    ("int", 1.0, "a whole number"),
    ("days", False, "a whole number"),
    ("days", [[1]], "a whole number"),
    ("bool", 1, "true or false"),
    ("bool", [True], "true or false"),
    ("text", ["x"], "text"),
    ("text", {"a": "x"}, "text"),
    ("enum", ["a"], "one of"),
    ("enum", {"a": 1}, "one of"),
    ("money", [1], "money"),
    ("money", {"a": "1.00"}, "money"),
    ("money", True, "money"),
    ("date", datetime(2025, 10, 2, 9, 30), "a date (datetime.date or 'YYYY-MM-DD'), not a datetime"),
    ("date", datetime(2025, 10, 2), "a date (datetime.date or 'YYYY-MM-DD'), not a datetime"),
    ("date", [date(2025, 10, 2)], "a date"),
    ("date", {"a": 1}, "a date"),
    ("date", "2025-10-02T00:00", "a date"),
]


def _decl(kind: str) -> FactDecl:
    return FactDecl(type=kind, description="d", values=CODES if kind in ("set", "enum") else None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "value", "expected"), WRONG, ids=[f"{k}-{v!r}" for k, v, _ in WRONG])
def test_a_value_of_another_shape_is_facts_invalid_naming_fact_expected_and_got(
    kind: str, value: Any, expected: str
) -> None:
    with pytest.raises(FactsInvalidError) as caught:
        recorded_facts({"the_fact": _decl(kind)}, {"the_fact": value}, "here")
    error = caught.value
    assert error.code == "facts_invalid"
    assert "fact 'the_fact'" in error.message and f"expected {expected}" in error.message
    assert " got " in error.message and error.details["fact"] == "the_fact"


@pytest.mark.parametrize(
    ("kind", "value", "recorded"),
    [
        ("set", ["b", "a", "a"], ["a", "b"]),
        ("set", ("a",), ["a"]),
        ("set", frozenset({"b"}), ["b"]),
        ("int", 3, 3),
        ("money", Decimal("1.50"), "1.50"),
        ("date", date(2025, 10, 2), "2025-10-02"),
        ("date", "2025-10-02", "2025-10-02"),
    ],
)
def test_values_of_the_right_shape_still_record(kind: str, value: Any, recorded: Any) -> None:
    assert recorded_facts({"the_fact": _decl(kind)}, {"the_fact": value}, "here") == {"the_fact": recorded}


def test_a_long_refused_value_is_quoted_short() -> None:
    with pytest.raises(FactsInvalidError) as caught:
        recorded_facts({"the_fact": _decl("set")}, {"the_fact": [list(range(10_000))]}, "here")
    assert len(caught.value.message) < 400 and "..." in caught.value.message


@pytest.mark.parametrize(
    ("facts", "got"), [([("level", 1)], "list"), ({1: 2, "level": 3}, "a key 1"), ("level", "str")]
)
def test_facts_that_are_not_a_mapping_of_names_are_facts_invalid(facts: Any, got: str) -> None:
    compiled = compile_or_raise(SpecSource(text=SAMPLE, file="sample.yaml"))
    with pytest.raises(FactsInvalidError, match="a mapping of fact names") as caught:
        compiled.decide(facts, date(2025, 10, 2))
    assert got in caught.value.message


@pytest.mark.parametrize(
    ("fact", "value"),
    [("needs", [["a"]]), ("needs", [{"a": 1}]), ("seen_on", datetime(2025, 10, 2, 12)), ("level", True)],
)
def test_a_compiled_family_refuses_them_on_deciding(fact: str, value: Any) -> None:
    compiled = compile_or_raise(SpecSource(text=SAMPLE, file="sample.yaml"))
    with pytest.raises(FactsInvalidError, match=f"fact {fact!r} expected"):
        compiled.decide({fact: value}, date(2025, 10, 2))


@pytest.mark.parametrize("value", [[[1]], [{"a": 1}], [["worker"]]])
def test_decide_and_import_refuse_a_code_list_of_containers_and_store_nothing(value: Any) -> None:
    facts = {"ojt_signatures": value}
    with CaseRecords("memory", SPECS) as records:
        records.open_case("S-1", "2025-10-06")
        with pytest.raises(FactsInvalidError, match="'ojt_signatures' expected each element a code"):
            records.decide("S-1", "purchases-and-ojt", as_of="2025-10-06", facts=facts)
        assert records.case("S-1").version == 1
        history = CaseHistory.model_validate(
            {
                "case_ref": "S-2",
                "opened_on": "2025-10-06",
                "steps": [{"decide": "purchases-and-ojt", "as_of": "2025-10-06", "facts": facts}],
            }
        )
        with pytest.raises(FactsInvalidError, match="'ojt_signatures' expected each element a code"):
            import_cases(records, [history])
        assert list(records.case_refs()) == ["S-1"]
