"""The load stage: strict YAML (safe data only, duplicates and tags refused, lines kept), then a
typed FamilySpec whose money, dates, day counts and codes are typed once, by one parser each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given

from tests import strategies as gen
from tests.policies.samples import SAMPLE
from vrrules import FactsInvalidError, SpecSource
from vrrules.events import payloads
from vrrules.policies import facts as facts_module
from vrrules.policies import model, values
from vrrules.policies.compiler import compile_or_raise, compile_source, load_release
from vrrules.policies.load import load
from vrrules.policies.yamlsource import read_yaml


def test_dates_stay_text_and_lines_are_kept() -> None:
    document, problems = read_yaml("a: 2025-07-01\nb:\n  - x\n  - y\n", "f.yaml")
    assert problems == [] and document is not None
    assert document.data == {"a": "2025-07-01", "b": ["x", "y"]}
    assert document.line_of(("b", 1)) == 4
    assert document.line_of(("b", 7, "deeper")) == 2  # falls back to the nearest known path


def test_nested_duplicate_keys_are_found() -> None:
    _, problems = read_yaml("a:\n  b: 1\n  b: 2\n", "f.yaml")
    assert [p.code for p in problems] == ["yaml_duplicate_key"]
    assert problems[0].line == 3 and "first on line 2" in problems[0].message


def test_every_python_tag_is_refused_and_nothing_runs(tmp_path: object) -> None:
    for tag in [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system",
        "!include other.yaml",
        "!!binary aGVsbG8=",
    ]:
        _, problems = read_yaml(f"a: {tag}\n", "f.yaml")
        assert [p.code for p in problems] == ["yaml_tag_refused"], tag


def test_billion_laughs_is_refused_quickly() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    _, problems = read_yaml(text, "f.yaml")
    assert problems and all(p.code == "yaml_alias_refused" for p in problems)


def test_two_documents_are_a_syntax_error() -> None:
    _, problems = read_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert [p.code for p in problems] == ["yaml_syntax"]


def test_parameter_values_are_typed_by_their_declared_type_at_load() -> None:
    loaded, diagnostics = load(SpecSource(SAMPLE, "sample.yaml"))
    assert diagnostics == [] and loaded is not None
    params = loaded.spec.parameters
    assert params["limit"].values == {
        date(2025, 10, 1): Decimal("100.00"),
        date(2026, 1, 1): Decimal("150.50"),
    }
    assert all(type(v) is Decimal for v in params["limit"].values.values())
    assert params["steps"].values == {date(2025, 10, 1): 3}
    assert params["wanted"].values == {date(2025, 10, 1): ["a", "b"]}
    assert loaded.spec.effective_from == date(2025, 10, 1)


def test_a_parameter_value_of_the_wrong_type_is_refused_by_load_with_its_name_and_line() -> None:
    text = SAMPLE.replace("values: {2025-10-01: 3}", "values: {2025-10-01: three}")
    loaded, diagnostics = load(SpecSource(text, "sample.yaml"))
    assert loaded is None
    (problem,) = diagnostics
    assert problem.code == "parameter_value_invalid"
    assert "'steps'" in problem.message and "'three'" in problem.message
    assert problem.line is not None and "steps" in text.splitlines()[problem.line - 1]


def test_one_money_parser_and_one_date_parser_serve_specs_facts_and_events() -> None:
    assert model.parse_money is values.parse_money
    # facts and event payloads take money through one check of its written form, which then
    # hands it to the one parser
    assert payloads.money_as_written is facts_module.money_as_written
    assert model.parse_iso_date is values.parse_iso_date
    assert facts_module.parse_money is values.parse_money
    assert facts_module.parse_iso_date is values.parse_iso_date


@pytest.mark.parametrize("text", ["2025-W01-1", "20250101", "2025-1-01", "01/02/2025", "2025-02-30"])
def test_only_iso_calendar_dates_are_dates_anywhere(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        values.parse_iso_date(text)
    compiled = compile_or_raise(SpecSource(SAMPLE, "sample.yaml"))
    with pytest.raises(FactsInvalidError):
        compiled.check_facts({"seen_on": text})
    loaded, diagnostics = load(
        SpecSource(SAMPLE.replace("effective_from: 2025-10-01", f"effective_from: {text}"), "s")
    )
    assert loaded is None and [d.code for d in diagnostics] == ["date_not_iso"]


@given(amount=gen.money_amounts())
def test_money_text_round_trips_through_the_one_parser(amount: Decimal) -> None:
    assert values.parse_money(values.recorded(amount)) == amount
    assert values.recorded(values.parse_money(str(amount))) == str(amount)


@pytest.mark.parametrize("bad", [1.5, "12.345", "abc", True, "NaN", None])
def test_money_refuses_floats_and_fractions_of_cents(bad: object) -> None:
    with pytest.raises(ValueError, match="two decimals"):
        values.parse_money(bad)


# One value of the wrong kind per operator, and the words that name what that operator takes.
_WRONG_OPERANDS = {
    "equals": ("[1]", "one value ("),
    "not_equals": ("{a: 1}", "one value ("),
    "lt": ("1.5", "one value to order by"),
    "lte": ("[2]", "one value to order by"),
    "gt": ("{param: Limit}", "{param: name}, its name in lower_snake_case"),
    "gte": ("1.5", 'money is quoted text such as "1234.50"'),
    "in": ("3", "a list of values"),
    "not_in": ("[a, 1.5]", "(item 2: 1.5)"),
    "contains": ("[a]", "one code (text)"),
    "contains_any": ("a", "a list of codes"),
    "contains_all": ("[1]", "a list of codes"),
    "contains_none": ("1.5", "a list of codes"),
    "count_gte": ("1.5", "a whole number (a count of codes"),
    "count_lte": ("[1]", "a whole number (a count of codes"),
    "present": ("'x'", "true or false"),
}
_COMPARED = "- {fact: needs, contains_any: {param: wanted}}"


def test_every_operator_has_a_wrong_value_below() -> None:
    assert set(_WRONG_OPERANDS) == set(model.COMPARISON_OPERATORS) == set(model.OPERAND_EXPECTED)


@pytest.mark.parametrize("op", sorted(_WRONG_OPERANDS))
def test_a_wrong_value_is_refused_in_the_words_of_its_operator(op: str) -> None:
    written, words = _WRONG_OPERANDS[op]
    text = SAMPLE.replace(_COMPARED, f"- {{fact: needs, {op}: {written}}}")
    loaded, diagnostics = load(SpecSource(text, "sample.yaml"))
    assert loaded is None
    (problem,) = diagnostics  # one refusal, not one per member of a union
    assert (problem.code, problem.rule, problem.field) == (
        "condition_value_mismatch",
        "needs",
        f"rules.1.when.all.0.{op}",
    )
    assert f"expected {model.OPERAND_EXPECTED[op]} for {op}, got " in problem.message
    assert words in problem.message
    assert "Input should be" not in problem.message  # pydantic's words for one union member
    assert problem.line is not None and op in text.splitlines()[problem.line - 1]


def test_a_fractional_count_says_a_whole_number_was_expected_and_where() -> None:
    text = SAMPLE.replace(_COMPARED, "- {fact: needs, count_gte: 1.5}")
    _, diagnostics = load(SpecSource(text, "sample.yaml"))
    (problem,) = diagnostics
    assert "expected a whole number (a count of codes, from 0 up)" in problem.message
    assert "got 1.5" in problem.message
    assert "rule 'needs'" in str(problem) and "field 'rules.1.when.all.0.count_gte'" in str(problem)


def test_an_operator_given_null_says_so() -> None:
    text = SAMPLE.replace(_COMPARED, "- {fact: needs, count_gte: null}")
    _, diagnostics = load(SpecSource(text, "sample.yaml"))
    (problem,) = diagnostics
    assert problem.code == "condition_value_mismatch"
    assert "for count_gte, got null" in problem.message


@pytest.mark.parametrize(
    ("comparison", "read_as"),
    [
        ("{fact: level, equals: 1.0}", "True"),  # pydantic's lax union takes 1.0 for true
        ("{fact: level, gte: 2.0}", "2"),
        ("{fact: level, in: [1, 0.0]}", "[1, False]"),
        ("{fact: needs, count_gte: 3.0}", "3"),
        ("{fact: level, present: 1}", "True"),
        ("{fact: level, present: 'false'}", "False"),
    ],
)
def test_a_value_the_models_would_read_as_another_is_refused_by_check(comparison: str, read_as: str) -> None:
    text = SAMPLE.replace(_COMPARED, f"- {comparison}")
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert (problem.code, problem.rule) == ("condition_value_mismatch", "needs")
    assert f"(it would be read as {read_as})" in problem.message
    # load alone still takes it: a stored release that decided once replays as it did
    assert load_release(SpecSource(text, "sample.yaml")).spec.rules[1].id == "needs"


def test_outcome_values_and_defaults_count_as_written() -> None:
    text = SAMPLE.replace("outcome: {result: needs}", "outcome: {result: needs, tier: 1.0}").replace(
        "level: {type: int, description: a level}", "level: {type: int, description: a level, default: 2.0}"
    )
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is None
    assert sorted((d.code, d.field) for d in diagnostics) == [
        ("fact_default_invalid", "facts.level.default"),
        ("spec_field_invalid", "rules.1.outcome.tier"),
    ]
    assert any("would be recorded as True" in d.message for d in diagnostics)


@pytest.mark.parametrize(
    ("written", "code", "words"),
    [
        ('!!int "3"', "yaml_tag_refused", "got the tag '!!int'"),
        ("!!str 3", "yaml_tag_refused", "got the tag '!!str'"),
        ("! 3", "yaml_tag_refused", "got the tag '!'"),
        ("&three 3", "yaml_alias_refused", "got an anchor (&three)"),
    ],
)
def test_every_explicit_tag_and_anchor_in_a_spec_is_refused_but_a_stored_release_replays(
    written: str, code: str, words: str
) -> None:
    """``!!int "4"`` is the number 4 written as text: the as-written checks never see it."""
    text = SAMPLE.replace("values: {2025-10-01: 3}", f"values: {{2025-10-01: {written}}}", 1)
    assert text != SAMPLE
    compiled, diagnostics = compile_source(SpecSource(text, "tagged.yaml"))
    assert compiled is None
    (problem,) = [d for d in diagnostics if d.code == code]
    assert words in problem.message
    assert problem.line is not None and written in text.splitlines()[problem.line - 1]
    if written != "!!str 3":  # a release that loaded once replays as it did
        assert load_release(SpecSource(text, "tagged.yaml")).spec.family


def test_an_alias_to_a_plain_value_is_refused_where_it_stands() -> None:
    document, problems = read_yaml("a: &d 3\nb:\n  c: *d\n", "f.yaml")
    assert [p.code for p in problems] == ["yaml_alias_refused", "yaml_alias_refused"]
    assert problems[1].line == 3 and problems[1].field == "b.c"
    assert "an alias (*name) to the value '3' (anchored on line 1)" in problems[1].message
    # text holding &, * and ! is no anchor, alias or tag
    document, problems = read_yaml('a: "R&D *x* !"\nb: [1, 2]\n', "f.yaml")
    assert problems == [] and document is not None and document.data["a"] == "R&D *x* !"


@pytest.mark.parametrize(
    ("written", "read_as"),
    [("7_6", 76), ("010", 8), ("0x4c", 76), ("0b11", 3), ("+5", 5), ("1:16", 76), ("-0_1", -1)],
)
def test_a_whole_number_yaml_reads_as_another_is_refused_but_a_stored_release_replays(
    written: str, read_as: int
) -> None:
    """YAML 1.1 reads ``010`` as 8 and ``1:16`` as 76: every file read refuses a whole number
    not written in plain decimal digits, saying what it would have been read as."""
    text = SAMPLE.replace("values: {2025-10-01: 3}", f"values: {{2025-10-01: {written}}}", 1)
    assert text != SAMPLE
    compiled, diagnostics = compile_source(SpecSource(text, "numbers.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert problem.code == "yaml_number_invalid" and problem.field == "parameters.steps.values.2025-10-01"
    assert f"got {written!r}, which YAML reads as {read_as}" in problem.message
    assert problem.line is not None and written in text.splitlines()[problem.line - 1]
    assert load_release(SpecSource(text, "numbers.yaml")).spec.parameters["steps"].values == {
        date(2025, 10, 1): read_as
    }
    for plain in ("0", "-3", "76"):
        assert read_yaml(f"a: {plain}\n", "f.yaml")[1] == []


@pytest.mark.parametrize(
    "written",
    ["1" * 4301, "-" + "9" * 6000, "0x" + "f" * 4000, "[1, " + "2" * 5000 + "]", "? " + "1" * 5000],
    ids=["decimal", "negative", "hex", "in a list", "as a key"],
)
def test_a_whole_number_too_long_to_read_is_refused_with_its_line(written: str) -> None:
    """Past Python's int-string conversion limit (4300 digits), int() and str() raise
    ValueError: such a number is a located diagnostic in every YAML file, not a crash."""
    text = f"first: 1\n{written}\n: key\n" if written.startswith("?") else f"first: 1\nsecond: {written}\n"
    _, problems = read_yaml(text, "long.yaml")
    assert [p.code for p in problems] == ["yaml_number_invalid"]
    assert problems[0].line == 2 and "long.yaml:2" in str(problems[0])
    assert "expected a number of at most 4,300 digits" in problems[0].message
    assert read_yaml("a: " + "1" * 4300 + "\n", "f.yaml")[1] == []  # at the limit: read
