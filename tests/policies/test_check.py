"""The check stage: what the models cannot see, and every ``source:`` against the case schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SPECS
from tests.policies.samples import SAMPLE
from vrrules import PolicyLibrary, SpecInvalidError, SpecSource
from vrrules.events import caseview, payloads
from vrrules.policies import caseschema, check
from vrrules.policies.compiler import compile_source, lint_source, load_release
from vrrules.policies.model import Reference
from vrrules.policies.sources import SOURCE_FILES

DEAD_RULE = """  - id: never
    when: {all: [{fact: level, gt: 5}, {fact: level, lt: 3}]}
    outcome: {result: never}
    reason: Contradicts itself.
    reference: {document: Test document, section: "3"}
"""


def test_a_misspelled_source_is_refused_at_load_by_a_library_given_no_schema(tmp_path: Path) -> None:
    text = SAMPLE.replace("source: work.status", "source: work.stauts")
    (tmp_path / "sample.yaml").write_text(text)
    with pytest.raises(SpecInvalidError) as caught:
        PolicyLibrary(tmp_path)  # no case_sources given: the case schema is checked all the same
    (problem,) = caught.value.diagnostics
    assert problem.code == "fact_source_unknown"
    assert problem.file == str(tmp_path / "sample.yaml")
    assert problem.line is not None and "work.stauts" in text.splitlines()[problem.line - 1]
    assert "'work.stauts'" in problem.message


def test_compile_source_checks_the_case_schema_by_default() -> None:
    wrong_type = SAMPLE.replace("source: work.status", "source: work.days_off_work")
    compiled, diagnostics = compile_source(SpecSource(wrong_type, "sample.yaml"))
    assert compiled is None
    assert [d.code for d in diagnostics] == ["fact_source_type"]
    compiled, diagnostics = compile_source(SpecSource(SAMPLE, "sample.yaml"))
    assert compiled is not None and diagnostics == []


def test_another_schema_can_be_given_but_never_none_is_skipped() -> None:
    compiled, diagnostics = compile_source(SpecSource(SAMPLE, "sample.yaml"), {"work.status": "enum"})
    assert compiled is not None
    compiled, diagnostics = compile_source(SpecSource(SAMPLE, "sample.yaml"), {"other.path": "enum"})
    assert compiled is None and [d.code for d in diagnostics] == ["fact_source_unknown"]


def test_the_case_schema_is_declared_once_on_the_policies_side() -> None:
    assert caseview.CASE_SOURCES is caseschema.CASE_SOURCES
    assert dict(caseschema.CASE_SCHEMA) == caseschema.CASE_SOURCES
    assert caseschema.COST_ITEMS == payloads.COST_ITEMS
    assert {f"plan.costs.{item}" for item in payloads.COST_ITEMS} <= set(caseschema.CASE_SOURCES)


def test_check_does_not_lint_but_vrrules_check_does() -> None:
    text = SAMPLE.replace("rules:\n", "rules:\n" + DEAD_RULE)
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is not None and diagnostics == []
    compiled, diagnostics = lint_source(SpecSource(text, "sample.yaml"))
    assert compiled is not None
    assert [(d.code, d.rule) for d in diagnostics] == [("rule_never_fires", "never")]


def test_an_undeclared_fact_in_a_condition_is_located_on_its_rule() -> None:
    text = SAMPLE.replace("when: {fact: cost, gt: {param: limit}}", "when: {fact: costs, gt: {param: limit}}")
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert (problem.code, problem.rule) == ("condition_fact_unknown", "over")
    assert "costs" in text.splitlines()[problem.line - 1]  # type: ignore[operator]


@pytest.mark.parametrize(("op", "always"), [("count_gte", "true"), ("count_lte", "false")])
def test_a_negative_count_of_codes_is_refused_as_a_test_that_cannot_vary(op: str, always: str) -> None:
    text = SAMPLE.replace("- {fact: needs, contains_any: {param: wanted}}", f"- {{fact: needs, {op}: -1}}")
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert (problem.code, problem.rule) == ("condition_value_mismatch", "needs")
    assert "-1" in problem.message and f"always be {always}" in problem.message
    fine = SAMPLE.replace("- {fact: needs, contains_any: {param: wanted}}", f"- {{fact: needs, {op}: 0}}")
    assert compile_source(SpecSource(fine, "sample.yaml"))[1] == []


SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.mark.skipif(
    not (SHARED / "seeds").is_dir(), reason="the source documents are not beside this checkout"
)
def test_the_declared_source_files_are_the_documents_beside_the_project() -> None:
    beside = {p.name for folder in ("seeds", "reference") for p in (SHARED / folder).iterdir()}
    assert set(SOURCE_FILES) <= beside
    assert {p.name for p in (SHARED / "seeds").iterdir()} <= set(SOURCE_FILES)  # every seed document


def test_every_shipped_seed_is_a_declared_source_file() -> None:
    named = {ref.seed for f in PolicyLibrary(SPECS).files for ref in _seeds_in(f)}
    assert named and named <= set(SOURCE_FILES)


def _seeds_in(path: Path) -> list[Reference]:
    spec = compile_source(SpecSource(path.read_text(), str(path)))[0]
    assert spec is not None
    return [ref for ref, _, _ in check._references(spec.spec) if ref.seed is not None]


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ('reference: {document: Test document, section: "1"}', "reference.seed"),
        (
            'reference: {document: Test document, section: "2"}\n    values:\n      2025-10-01: "100.00"',
            "parameters.limit.reference.seed",
        ),
    ],
)
def test_a_seed_naming_no_source_document_is_refused_wherever_it_is(where: str, field: str) -> None:
    text = SAMPLE.replace(where, where.replace('section: "', 'seed: policy-fact.md, section: "'), 1)
    compiled, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert (problem.code, problem.field) == ("reference_seed_unknown", field)
    assert "got 'policy-fact.md'; did you mean 'policy-facts.md'?" in problem.message
    assert problem.line is not None and "policy-fact.md" in text.splitlines()[problem.line - 1]


@pytest.mark.parametrize(
    ("name", "written", "kind"),
    [("limit", '"-100.00"', "money"), ("steps", "-3", "days"), ("limit_count", "-4", "int")],
)
def test_a_negative_count_duration_or_amount_is_refused(name: str, written: str, kind: str) -> None:
    extra = """  limit_count:
    type: int
    unit: weeks
    description: a count
    reference: {document: Test document, section: "2"}
    values: {2025-10-01: 4}
"""
    text = SAMPLE.replace("  wanted:\n", extra + "  wanted:\n")
    fine, diagnostics = compile_source(SpecSource(text, "sample.yaml"))
    assert fine is not None and diagnostics == []
    value = {"limit": '"100.00"', "steps": "3", "limit_count": "4"}[name]
    wrong = text.replace(f"2025-10-01: {value}", f"2025-10-01: {written}", 1)
    assert wrong != text
    compiled, diagnostics = compile_source(SpecSource(wrong, "sample.yaml"))
    assert compiled is None
    (problem,) = diagnostics
    assert (problem.code, problem.field) == (
        "parameter_value_invalid",
        f"parameters.{name}.values.2025-10-01",
    )
    assert f"parameter {name!r} is {kind}" in problem.message
    shown = written.strip('"')
    assert f"from 0 up, got {shown} (value from 2025-10-01)" in problem.message
    assert problem.line is not None and written in wrong.splitlines()[problem.line - 1]
    # a stored release that decided once replays as it did
    assert load_release(SpecSource(wrong, "sample.yaml")).spec.parameters[name].values


def test_zero_is_a_count_and_a_negative_rate_in_a_table_is_refused() -> None:
    zero = SAMPLE.replace("values: {2025-10-01: 3}", "values: {2025-10-01: 0}")
    assert compile_source(SpecSource(zero, "sample.yaml"))[1] == []
    text = (SPECS / "per-diem" / "2015.1.yaml").read_text()
    first = next(line for line in text.splitlines() if "lodging: " in line)
    amount = first.split('lodging: "')[1].split('"')[0]
    wrong = text.replace(first, first.replace(f'lodging: "{amount}"', f'lodging: "-{amount}"'), 1)
    compiled, diagnostics = compile_source(SpecSource(wrong, "per-diem.yaml"))
    assert compiled is None
    (problem,) = [d for d in diagnostics if d.severity == "error"]  # beside the table's known gap
    assert problem.code == "parameter_value_invalid"
    assert f"lodging rate from 0 up, got -{amount}" in problem.message
    assert problem.line is not None and f"-{amount}" in wrong.splitlines()[problem.line - 1]


PER_DIEM = (SPECS / "per-diem" / "2015.1.yaml").read_text()
KING = '          - {location: King, lodging: "189", meals: "76", months: [10, 11, 12, 1, 2, 3, 4, 5]}\n'


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (KING.replace("[10, 11, 12, 1, 2, 3, 4, 5]", "[10, 11, 12, 1, 2, 3, 4, 13]"), "got 13 in months"),
        (
            KING.replace("[10, 11, 12, 1, 2, 3, 4, 5]", "[0, -1]"),
            "expected calendar months 1 to 12, got 0, -1",
        ),
        (KING.replace("[10, 11, 12, 1, 2, 3, 4, 5]", "[]"), "got months: [] (a row that never applies)"),
        (KING.replace("[10, 11, 12, 1, 2, 3, 4, 5]", "[10, 11, 12, 1, 2, 3, 4, 5, 5]"), "got 5 twice"),
        (
            KING + KING.replace('"189"', '"200"').replace("[10, 11, 12, 1, 2, 3, 4, 5]", "[5]"),
            "got months [5] for 'King' again",
        ),
        (
            KING + '          - {location: Spokane, lodging: "1", meals: "1"}\n',
            "a second all-year row for 'Spokane'",
        ),
    ],
    ids=["month 13", "months 0 and -1", "no months", "a month twice", "May in two rows", "duplicate row"],
)
def test_a_rate_tables_bad_months_and_overlapping_rows_are_refused_by_the_check(row: str, words: str) -> None:
    text = PER_DIEM.replace(KING, row, 1)
    assert text != PER_DIEM
    compiled, diagnostics = compile_source(SpecSource(text, "per-diem.yaml"))
    assert compiled is None
    problems = [d for d in diagnostics if d.code == "rate_table_invalid"]
    assert problems, [str(d) for d in diagnostics]
    problem = problems[0]
    assert words in problem.message, problem.message
    assert "table 'per_diem_rates' (period from " in problem.message
    assert problem.field is not None and problem.field.startswith("tables.per_diem_rates.periods.")
    assert problem.line is not None and ("King" in problem.message or "Spokane" in problem.message)
    assert load_release(SpecSource(text, "per-diem.yaml")).family == "per-diem"  # stored releases replay


@pytest.mark.parametrize(
    ("condition", "words", "not_words"),
    [
        (
            "{fact: worker_status, in: []}",
            "got an empty list, which no fact matches",
            "one test per condition",
        ),
        (
            "{fact: needs, count_gte: {param: wanted}}",
            "counts the codes of the set fact 'needs'",
            "a int fact",
        ),
        ("{fact: needs, count_gte: 1.0}", "got 1.0", "read as True"),
        ("{fact: worker_status, equals: no}", 'quote the code, e.g. equals: "no"', None),
    ],
)
def test_a_condition_value_is_refused_in_words_that_fit_it(
    condition: str, words: str, not_words: str | None
) -> None:
    base = "- {fact: needs, contains_any: {param: wanted}}"
    assert base in SAMPLE
    _, diagnostics = compile_source(SpecSource(SAMPLE.replace(base, f"- {condition}"), "s.yaml"))
    (problem,) = [d for d in diagnostics if d.severity == "error"]
    assert problem.code == "condition_value_mismatch"
    assert words in str(problem), str(problem)
    assert not_words is None or not_words not in str(problem)


EARLY = (SPECS / "early-intervention" / "2025.1.yaml").read_text()
SHIFT = "derive: {shift: {date: off_work_since, months: [{param: alert_months}]}}"
FRACTION = "derive: {fraction: {of: full_rate, numerator: 1, denominator: 3, rounding: down}}"


@pytest.mark.parametrize(
    ("base", "edit", "code", "field", "words"),
    [
        (
            EARLY,
            (SHIFT, SHIFT.replace("{param: alert_months}", "12.0")),
            "derivation_invalid",
            "derive.shift.months",
            "got [12.0], which would be read as [12]",
        ),
        (
            EARLY,
            (SHIFT, SHIFT.replace("months: [{param: alert_months}]", "days: [true]")),
            "derivation_invalid",
            "derive.shift.days",
            "got [True], which would be read as [1]",
        ),
        (
            PER_DIEM,
            (FRACTION, FRACTION.replace("numerator: 1", "numerator: 1.0")),
            "derivation_invalid",
            "derive.fraction.numerator",
            "got 1.0, which would be read as 1",
        ),
        (
            PER_DIEM,
            (FRACTION, FRACTION.replace("denominator: 3", "denominator: 3.0")),
            "derivation_invalid",
            "derive.fraction.denominator",
            "got 3.0, which would be read as 3",
        ),
        (
            PER_DIEM,
            (KING, KING.replace("[10, 11,", "[10.0, 11,")),
            "rate_table_invalid",
            ".months",
            "the calendar months of the rows of table 'per_diem_rates'",
        ),
    ],
    ids=["shift months 12.0", "shift days true", "numerator 1.0", "denominator 3.0", "table month 10.0"],
)
def test_whole_numbers_a_spec_gives_itself_count_only_as_written(
    base: str, edit: tuple[str, str], code: str, field: str, words: str
) -> None:
    """YAML reads 12.0 as a float and true as a bool; lax validation took them for 12 and 1,
    so a spec said one thing and meant another. The check refuses them where they stand;
    a stored release that decided with one still replays as it did."""
    text = base.replace(*edit, 1)
    assert text != base
    compiled, diagnostics = compile_source(SpecSource(text, "spec.yaml"))
    assert compiled is None
    problems = [d for d in diagnostics if d.code == code and d.field is not None and d.field.endswith(field)]
    assert problems, [str(d) for d in diagnostics]
    assert words in problems[0].message and "written as whole numbers" in problems[0].message
    assert problems[0].line is not None and text.splitlines()[problems[0].line - 1].strip()
    assert load_release(SpecSource(text, "spec.yaml")).spec.family


PER_DIEM_SPEC = SPECS / "per-diem" / "2015.1.yaml"
FUND_CAP_SPEC = SPECS / "retraining-fund-cap" / "2015.1.yaml"
# each place a spec writes an amount itself: the file, the text there, and the field refused
MONEY_PLACES = {
    "parameter value": (
        FUND_CAP_SPEC,
        '2014-07-01: "17599.11"',
        "2014-07-01: {}",
        "parameters.retraining_fund_cap",
    ),
    "table rate": (
        PER_DIEM_SPEC,
        'lodging: "94"',
        "lodging: {}",
        "tables.per_diem_rates.periods.0.rows.0.lodging",
    ),
    "fact default": (
        PER_DIEM_SPEC,
        'requested_food_per_day, default: "0.00"',
        "requested_food_per_day, default: {}",
        "facts.requested_food_per_day.default",
    ),
    "condition operand": (
        PER_DIEM_SPEC,
        'requested_food_per_day, gt: "0.00"',
        "requested_food_per_day, gt: {}",
        "when",
    ),
}


@pytest.mark.parametrize(("written", "plain"), [('"1e2"', "100.00"), ('"9_4"', "94.00"), ('"+94"', "94.00")])
@pytest.mark.parametrize("place", sorted(MONEY_PLACES))
def test_an_amount_a_spec_writes_counts_as_written_but_a_stored_release_replays(
    place: str, written: str, plain: str
) -> None:
    """Decimal reads "1e2" as 100 and "9_4" as 94: the check stage refuses them in every
    place a spec writes money (money_invalid, the payloads' words), and a release stored
    before still loads as it decided."""
    path, before, after, field = MONEY_PLACES[place]
    original = path.read_text()
    text = original.replace(before, after.format(written), 1)
    assert text != original
    compiled, diagnostics = compile_source(SpecSource(text, path.name))
    assert compiled is None
    (problem,) = [d for d in diagnostics if d.code == "money_invalid"]
    assert field in str(problem.field) and problem.line is not None
    assert written.strip('"') in text.splitlines()[problem.line - 1]
    assert "expected money written as text of ASCII digits" in problem.message
    assert f"{plain!r} if that is the amount meant" in problem.message
    assert load_release(SpecSource(text, path.name)).spec.family


def test_a_table_whose_rates_for_other_locations_name_no_row_is_refused() -> None:
    text = PER_DIEM_SPEC.read_text().replace(
        "all_other_locations: standard", "all_other_locations: Standard", 1
    )
    compiled, diagnostics = compile_source(SpecSource(text, PER_DIEM_SPEC.name))
    assert compiled is None
    (problem,) = [d for d in diagnostics if d.severity == "error"]
    assert problem.code == "rate_table_invalid"
    assert problem.field == "tables.per_diem_rates.periods.0.all_other_locations"
    assert "got 'Standard', which no row names" in problem.message and "'standard'" in problem.message
    assert problem.line is not None and "Standard" in text.splitlines()[problem.line - 1]
