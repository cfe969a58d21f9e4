"""Hypothesis writes the option values: dates, counts, paths and junk. Whatever it writes,
the command ends with a documented exit code, and a failure is one coded line, never a
traceback."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import EXIT_CODES, Files, run

SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

junk = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
dates = st.one_of(
    st.dates().map(str),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{4}-W[0-9]{2}-[0-9]\Z"),
    st.from_regex(r"\A[0-9]{8}\Z"),
    junk,
)
counts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.from_regex(r"\A[0-9]{1,30}\Z"),
    junk,
)
paths = st.one_of(
    junk, st.sampled_from(["", ".", "/", "/nonexistent/x", "memory", "sqlite:///", "postgresql://"])
)


def _assert_documented(args: list[str]) -> None:
    ran = run(args)
    assert "Traceback" not in ran.out + ran.err, (args, ran.err)
    assert ran.code in EXIT_CODES, (args, ran.code)
    if ran.code:
        assert len(ran.error_lines) == 1, (args, ran.err)


@SETTINGS
@given(as_of=dates, version=st.one_of(st.none(), counts))
def test_audit_case_dates_and_versions(files: Files, as_of: str, version: str | None) -> None:
    args = ["audit", "case", "VR-2025-0102", "--store", str(files.store), f"--as-of={as_of}"]
    _assert_documented([*args, f"--version={version}"] if version is not None else args)


@SETTINGS
@given(start=dates, until=dates)
def test_rates_dates(files: Files, start: str, until: str) -> None:
    args = [
        "rates",
        str(files.csv),
        f"--from={start}",
        f"--until={until}",
        "--document",
        "d",
        "--section",
        "s",
    ]
    _assert_documented(args)


@SETTINGS
@given(workers=counts, digest=paths)
def test_verify_counts_and_digest_paths(files: Files, workers: str, digest: str) -> None:
    _assert_documented(
        ["audit", "verify", "--store", str(files.store), f"--workers={workers}", f"--digest={digest}"]
    )


@SETTINGS
@given(
    store=paths, command=st.sampled_from([["replay"], ["cases"], ["audit", "digest"], ["case", "show", "X"]])
)
def test_store_locations(store: str, command: list[str]) -> None:
    _assert_documented([*command, f"--store={store}"])


@SETTINGS
@given(family=junk, as_of=st.one_of(st.none(), dates))
def test_facts_family_and_date(family: str, as_of: str | None) -> None:
    _assert_documented(["facts", family, *([f"--as-of={as_of}"] if as_of is not None else [])])


@SETTINGS
@given(name=junk, force=st.booleans())
def test_output_paths(files: Files, name: str, force: bool) -> None:
    # relative names under a scratch folder: whatever is written stays there
    scratch = files.tmp / "outputs"
    scratch.mkdir(exist_ok=True)
    previous = Path.cwd()
    os.chdir(scratch)
    try:
        args = ["audit", "digest", "--store", str(files.store), f"--out=out-{name}"]
        _assert_documented([*args, "--force"] if force else args)
    finally:
        os.chdir(previous)


shares = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,12}/-?[0-9]{1,12}\Z"),
    st.tuples(st.integers(-2, 1030), st.integers(-2, 1030)).map(lambda p: f"{p[0]}/{p[1]}"),
    junk,
)


@SETTINGS
@given(share=shares)
def test_verify_shard_values(files: Files, share: str) -> None:
    out = files.tmp / "outputs" / "generated-part.json"
    out.parent.mkdir(exist_ok=True)
    _assert_documented(
        ["audit", "verify", "--store", str(files.store), f"--shard={share}", f"--out={out}", "--force"]
    )


@SETTINGS
@given(checkpoint=paths, key=st.one_of(st.none(), paths))
def test_verify_checkpoint_and_key_paths(files: Files, checkpoint: str, key: str | None) -> None:
    args = ["audit", "verify", "--store", str(files.store), f"--checkpoint={checkpoint}"]
    _assert_documented([*args, f"--public-key={key}"] if key is not None else args)


@SETTINGS
@given(as_of=dates, within=st.one_of(st.none(), counts))
def test_due_dates_and_days(files: Files, as_of: str, within: str | None) -> None:
    args = ["due", "--store", str(files.store), f"--as-of={as_of}"]
    _assert_documented([*args, f"--within={within}"] if within is not None else args)
