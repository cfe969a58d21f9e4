"""The policy names vrrules exports refuse arguments of the wrong type with argument_invalid:
a datetime or text where a date is meant (once a raw TypeError, or a Decision dated with
text), a number for a folder, anything but a SpecSource to compile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from tests.conftest import SPECS
from tests.policies.samples import SAMPLE
from vrrules import ArgumentInvalidError, PolicyLibrary, SpecSource, compile_or_raise

_WHEN = datetime(2025, 11, 10, 9, 30)


@pytest.fixture(scope="module")
def library() -> PolicyLibrary:
    return PolicyLibrary(SPECS)


WRONG: list[tuple[str, Callable[[PolicyLibrary], object], str]] = [
    ("library root number", lambda lib: PolicyLibrary(5), "root"),  # type: ignore[arg-type]
    ("library lint text", lambda lib: PolicyLibrary(SPECS, lint="yes"), "lint"),  # type: ignore[arg-type]
    ("in_force datetime", lambda lib: lib.in_force("tiers", _WHEN), "on"),
    ("in_force text", lambda lib: lib.in_force("tiers", "2025-11-10"), "on"),  # type: ignore[arg-type]
    ("compile number", lambda lib: compile_or_raise(5), "source"),  # type: ignore[arg-type]
    ("compile text", lambda lib: compile_or_raise(SAMPLE), "source"),  # type: ignore[arg-type]
    ("compile text of bytes", lambda lib: compile_or_raise(SpecSource(text=b"x", file="x")), "source"),  # type: ignore[arg-type]
    ("decide datetime", lambda lib: lib.versions("tiers")[0].decide({}, _WHEN), "as_of"),
    ("decide text", lambda lib: lib.versions("tiers")[0].decide({}, "2025-11-10"), "as_of"),  # type: ignore[arg-type]
    ("decide None", lambda lib: lib.versions("tiers")[0].decide({}, None), "as_of"),  # type: ignore[arg-type]
    (
        "decide_exactly datetime",
        lambda lib: lib.versions("tiers")[0].decide_exactly({}, datetime(2025, 11, 10)),
        "as_of",
    ),
]


@pytest.mark.parametrize(("call", "argument"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_an_argument_of_the_wrong_type_is_argument_invalid(
    library: PolicyLibrary, call: Callable[[PolicyLibrary], object], argument: str
) -> None:
    with pytest.raises(ArgumentInvalidError) as caught:
        call(library)
    assert caught.value.details["argument"] == argument
    assert caught.value.message.startswith(f"{argument}: expected ") and ", got " in caught.value.message


def test_a_date_still_decides(library: PolicyLibrary) -> None:
    assert library.in_force("tiers", date(2025, 11, 10)).decide({}, date(2025, 11, 10)).as_of == date(
        2025, 11, 10
    )
