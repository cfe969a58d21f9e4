"""Rate tables from files: read, validate, render for a spec, and look up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from vrrules import SpecInvalidError
from vrrules.cli import main
from vrrules.policies.derive import look_up
from vrrules.policies.model import Reference, Table, TablePeriod
from vrrules.policies.rates import period_yaml, read_rate_csv

REF = Reference(document="OFM per diem table", section="Washington")
CSV = (
    "location,lodging,meals,months\n"
    "standard,94,55,\n"
    'King,189,76,"10,11,12,1,2,3,4,5"\n'
    'King,257,76,"6,7,8,9"\n'
)


def test_a_rate_file_round_trips_into_a_spec_table(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(CSV)
    period = read_rate_csv(path, date(2018, 10, 1), date(2019, 9, 30), REF, "standard")
    again = TablePeriod.model_validate(yaml.safe_load(period_yaml(period))[0])
    assert again == period
    table = Table(description="rates", periods=[again])
    assert look_up("t", table, "King", date(2019, 6, 1), "lodging") == Decimal("257")
    assert look_up("t", table, "King", date(2019, 5, 31), "lodging") == Decimal("189")
    assert look_up("t", table, "Yakima", date(2019, 5, 31), "meals") == Decimal("55")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("location,lodging\nstandard,94\n", "expected the columns"),
        ("location,lodging,meals,months\nKing,189,76,13\n", "months 1-12"),
        ("location,lodging,meals\nstandard,94.005,55\n", "two decimals"),
        ("location,lodging,meals\nstandard,94,55\nstandard,95,55\n", "appears twice"),
        # money exactly as written, as payloads and facts take it (Decimal reads each of these)
        ("location,lodging,meals\nstandard,1e3,55\n", "got '1e3': write it plainly"),
        (
            "location,lodging,meals\nstandard,94,7_6\n",
            "meals: expected money written as text of ASCII digits",
        ),
        ("location,lodging,meals\nstandard,+94,55\n", "('94.00' if that is the amount meant)"),
        ("location,lodging,meals\nstandard,\u0669\u0664,55\n", "digits other than 0-9"),
        ("location,lodging,meals\nstandard,-94,55\n", "lodging: expected a rate from 0 up, got '-94'"),
        ("location,lodging,meals,months\nKing,189,76,+6\n", "months as numbers 1-12 in ASCII digits"),
        ("location,lodging,meals,months\nKing,189,76,\u0666\n", "months as numbers 1-12 in ASCII digits"),
        # a cell more or fewer than the header names: DictReader dropped one, crashed on the other
        ("location,lodging,meals\nstandard,94,55,extra\n", "expected 3 cells (location, lodging, meals)"),
        ("location,lodging,meals\nstandard,94\n", "got 2: 'standard,94'"),
        ("location,location,lodging,meals\nA,B,94,55\n", "each once, got location twice"),
        ("", "expected the columns location, lodging, meals[, months], each once, got []"),
        ('location,lodging,meals\nstandard,"' + "9" * 200_000 + '",55\n', "field larger than field limit"),
    ],
)
def test_a_bad_rate_file_is_refused_with_its_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(text)
    with pytest.raises(SpecInvalidError) as caught:
        read_rate_csv(path, date(2018, 10, 1), date(2019, 9, 30), REF)
    assert caught.value.codes == ["rate_table_invalid"]
    assert words in str(caught.value)


def test_rates_command_prints_the_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(CSV)
    assert (
        main(
            [
                "rates",
                str(path),
                "--from",
                "2018-10-01",
                "--until",
                "2019-09-30",
                "--document",
                "OFM",
                "--section",
                "WA",
                "--others",
                "standard",
            ]
        )
        == 0
    )
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed[0]["all_other_locations"] == "standard"
    assert {"location": "King", "lodging": "257", "meals": "76", "months": [6, 7, 8, 9]} in printed[0]["rows"]


def test_rates_for_other_locations_must_name_a_row(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(CSV)
    with pytest.raises(SpecInvalidError) as caught:
        read_rate_csv(path, date(2018, 10, 1), date(2019, 9, 30), REF, "Standard")
    (problem,) = caught.value.diagnostics
    assert problem.code == "rate_table_invalid"
    assert "one of the rows' ('King', 'standard'), got 'Standard', which no row names" in problem.message
