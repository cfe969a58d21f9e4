"""Hostile input: malformed or malicious specs, events, case files and facts.

Every one must end in a ``VrrulesError`` with a stable code and a message saying what was
expected and what was got (or be accepted as valid), never a bare exception, a hang or a
crash, and nothing already stored may change. The spec loader and the event import are
fuzzed with Hypothesis; ``HYPOTHESIS_PROFILE=fuzz`` runs many more examples (opt-in), and
CI runs a bounded ``ci-fuzz`` budget.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from tests.conftest import SPECS, empty_store
from vrrules import CaseRecords, PolicyLibrary, SpecSource, VrrulesError
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.importer import load_case_file
from vrrules.policies.compiler import compile_source

TIERS_TEXT = (SPECS / "tiers" / "2025.1.yaml").read_text()
LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)
SPEC_TEXTS = [p.read_text() for p in sorted(SPECS.rglob("*.yaml")) if p.name != "examples.yaml"]
# a spec that takes longer than this to load or refuse counts as a hang
SECONDS = 10.0


def _load(text: str) -> list[str]:
    """Compile one spec text; return the diagnostic codes (empty when it loads cleanly)."""
    started = time.monotonic()
    try:
        compiled, diagnostics = compile_source(SpecSource(text, "fuzzed.yaml"))
    except VrrulesError as error:  # allowed: a stable code
        return [error.code]
    assert time.monotonic() - started < SECONDS, "loading a spec took too long (a hang?)"
    for diagnostic in diagnostics:
        assert diagnostic.code and diagnostic.message, diagnostic
    return [d.code for d in diagnostics if d.severity == "error"] if compiled is None else []


@given(text=st.text(max_size=400))
def test_any_text_as_a_spec_is_loaded_or_refused_with_codes(text: str) -> None:
    _load(text)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    source=st.sampled_from(SPEC_TEXTS),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(["replace", "delete", "duplicate", "insert"])),
        min_size=1,
        max_size=4,
    ),
    value=st.sampled_from(gen.HOSTILE_SCALARS),
)
def test_a_shipped_spec_with_hostile_edits_is_loaded_or_refused_with_codes(
    source: str, edits: list[tuple[int, str]], value: str
) -> None:
    lines = source.splitlines()
    for position, edit in edits:
        at = position % len(lines)
        line = lines[at]
        if edit == "replace" and ":" in line:
            key = line.split(":", 1)[0]
            lines[at] = f"{key}: {value}"
        elif edit == "delete":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, line)
        else:
            lines.insert(at, value)
        if not lines:
            lines = ["{}"]
    _load("\n".join(lines))


def _set_at(data: Any, path: list[int], value: Any) -> Any:
    """Replace one node of a parsed spec, found by following ``path`` through the tree."""
    if not path or not isinstance(data, dict | list) or not data:
        return value
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    data[key] = _set_at(data[key], path[1:], value)
    return data


@given(path=st.lists(st.integers(min_value=0), min_size=1, max_size=6), value=gen.any_json)
def test_a_spec_with_any_value_anywhere_is_loaded_or_refused_with_codes(path: list[int], value: Any) -> None:
    from vrrules.policies.yamlsource import read_yaml  # noqa: PLC0415

    document, _ = read_yaml(TIERS_TEXT, "tiers.yaml")
    assert document is not None
    data = _set_at(json.loads(json.dumps(document.data)), path, value)
    # NaN and infinities are not JSON: YAML spells them .nan and .inf
    text = json.dumps(data, allow_nan=True).replace("NaN", ".nan").replace("-Infinity", "-.inf")
    _load(text.replace("Infinity", ".inf"))


# ------------------------------------------------------------------------------ events


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseRecords]:
    """One case on SQLite, then on PostgreSQL; the fuzzed writes must leave it as it is."""
    path = empty_store(request.param, request, tmp_path_factory.mktemp("hostile"))
    with CaseRecords(path, LIBRARY) as records:
        records.open_case("H-1", date(2025, 11, 3))
        records.record("H-1", "referral_received", {"received_on": "2025-11-03", "source": "gp"})
        yield records


@given(
    event_type=gen.any_event_type,
    payload=gen.any_payload,
    case_ref=st.sampled_from(["H-1", "NOPE", "", "h-1 "]),
)
def test_any_event_is_recorded_or_refused_and_nothing_stored_changes(
    store: CaseRecords, event_type: str, payload: Any, case_ref: str
) -> None:
    records = store
    before = records.history("H-1")
    try:
        records.record(case_ref, event_type, payload)
    except VrrulesError as error:
        assert error.code in {"event_invalid", "case_unknown"}, error
        assert "expected" in error.message and "got" in error.message, error.message
        assert records.history("H-1") == before
    else:
        after = records.history("H-1")
        assert after[: len(before)] == before and len(after) == len(before) + 1


@given(
    facts=gen.any_bill_facts,
    as_of=st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))),
)
def test_any_facts_and_dates_decide_or_are_refused_and_nothing_stored_changes(
    store: CaseRecords, facts: dict[str, Any], as_of: date | None
) -> None:
    records = store
    before = records.history("H-1")
    try:
        records.decide("H-1", "billing", as_of=as_of, facts=facts)
    except VrrulesError as error:
        assert error.code in {"facts_invalid", "parameter_missing", "policy_not_in_force"}, error
        assert records.history("H-1") == before
    else:
        assert len(records.history("H-1")) == len(before) + 1


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("12.345", "too many decimals"),
        ("NaN", "not a number"),
        ("Infinity", "infinite"),
        ("-Infinity", "infinite"),
        ("1e400", "not written as money"),
        (12.5, "a float"),
        ("9" * 40, "too large"),
    ],
)
def test_hostile_money_is_refused_with_its_code(records: CaseRecords, amount: Any, why: str) -> None:
    records.open_case("M-1", date(2024, 9, 2))
    before = records.history("M-1")
    with pytest.raises(VrrulesError) as caught:
        records.record(
            "M-1",
            "plan_submitted",
            {
                "submitted_on": "2024-09-03",
                "received_on": "2024-09-03",
                "planned_start_on": "2024-10-01",
                "school": "public",
                "planned_months": 12,
                "costs": {"tuition": amount},
            },
        )
    assert caught.value.code == "event_invalid", why
    assert "costs" in caught.value.message
    assert records.history("M-1") == before


@given(text=st.text(max_size=300))
def test_any_case_file_is_loaded_or_refused_with_a_code(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("casefile") / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_case_file(path)
    except VrrulesError as error:
        assert error.code == "event_invalid"
        assert str(path) in error.message


# ------------------------------------------------------------------ no code from data


def test_nothing_in_a_spec_or_an_event_is_ever_executed(tmp_path: Path, records: CaseRecords) -> None:
    marker = tmp_path / "pwned"
    attempts = {
        "yaml_tag_refused": TIERS_TEXT.replace(
            "title: VRA tiers of support", f"title: !!python/object/apply:os.system ['touch {marker}']"
        ),
        "condition_not_data": TIERS_TEXT.replace(
            "      not:\n        fact: assessment_completed\n        equals: true",
            f"      \"__import__('os').system('touch {marker}')\"",
        ),
        "text_template_refused": TIERS_TEXT.replace(
            "      No tier can be chosen yet:", "      {{ cycler.__init__.__globals__.os.system('touch x') }}"
        ),
    }
    for code, text in attempts.items():
        assert text != TIERS_TEXT, code
        assert code in _load(text), code
    assert not marker.exists()
    # text in an event is stored and shown as written, never expanded or run
    records.open_case("X-1", date(2025, 11, 3))
    hostile = f"{{{{7*7}}}} ${{HOME}} __import__('os').system('touch {marker}')"
    records.record(
        "X-1", "referral_received", {"received_on": "2025-11-03", "source": "gp", "reason": hostile}
    )
    assert records.case("X-1").referral.reason == hostile  # type: ignore[union-attr]
    assert not marker.exists()


# ------------------------------------------------------------- files that are not files


def _run_within(args: list[str], seconds: float = 15) -> Any:
    """The command line run in a daemon thread: a blocking read fails here, not hangs."""
    import threading  # noqa: PLC0415

    from tests.cli.conftest import run  # noqa: PLC0415

    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(run(args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert found, f"vrrules {' '.join(args)} did not return (a blocking read?)"
    return found[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("kind", ["pipe", "device", "folder"])
@pytest.mark.parametrize("reader", ["facts file", "case file", "spec file"])
def test_a_facts_case_or_spec_file_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str, reader: str
) -> None:
    where = tmp_path / ("facts.yaml" if reader != "case file" else "cases.yaml")
    specs = tmp_path / "specs"
    (specs / "tiers").mkdir(parents=True)
    (specs / "tiers" / "2025.1.yaml").write_text(TIERS_TEXT)
    if reader == "spec file":
        where = specs / "tiers" / "2026.1.yaml"
    if kind == "pipe":
        os.mkfifo(where)
    elif kind == "device":
        if not Path("/dev/zero").exists():
            pytest.skip("needs /dev/zero")
        where.symlink_to("/dev/zero")
    else:
        where.mkdir()
    args = {
        "facts file": ["decide", "VR-1", "tiers", "--store", "memory", "--facts", str(where)],
        "case file": ["import", str(where), "--store", str(tmp_path / "s.db")],
        "spec file": ["check", str(specs)],
    }[reader]
    ran = _run_within(args)
    assert "Traceback" not in ran.err, ran.err
    if kind == "folder" and reader != "spec file":
        assert ran.code == 2  # the option's own path type refuses a folder before it is read
        return
    assert ran.code in (1, 3), ran.err
    assert "file_not_regular" in ran.err + ran.out, ran.err + ran.out
    assert str(where) in ran.err + ran.out


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ('assessment_completed: !!bool "true"\n', "yaml_tag_refused"),
        ("assessment_completed: &yes true\nreturn_to_work_goal_set: *yes\n", "yaml_alias_refused"),
    ],
)
def test_a_facts_file_with_a_tag_or_an_alias_is_refused(tmp_path: Path, written: str, code: str) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(written)
    ran = _run_within(["decide", "VR-1", "tiers", "--store", "memory", "--facts", str(facts)])
    assert ran.code == 3 and "error[input_invalid]" in ran.err, ran.err
    assert f"[{code}]" in ran.err and str(facts) in ran.err


def test_a_case_file_with_an_alias_to_a_plain_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "cases:\n  - case_ref: &ref VR-1\n    opened_on: 2025-11-03\n    steps:\n"
        "      - record: referral_received\n        payload: {received_on: 2025-11-03, source: *ref}\n"
    )
    with pytest.raises(VrrulesError) as caught:
        load_case_file(path)
    assert caught.value.code == "event_invalid"
    assert "[yaml_alias_refused]" in caught.value.message and "&ref" in caught.value.message
