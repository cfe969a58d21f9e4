"""A corpus of bad invocations: each ends with no traceback, its documented exit code and
one ``error[code]:`` line on stderr; with ``--json`` also an error document on stdout."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Files, assert_clean_failure, run

USAGE, INPUT, FINDING = 2, 3, 1
RATES = ["--document", "GSA", "--section", "WA"]
CASE = ["audit", "case", "VR-2025-0102", "--store", "{store}"]
VERIFY = ["audit", "verify", "--store", "{store}"]
DECIDE = ["decide", "VR-2025-0102", "tiers", "--store", "{store}", "--dry-run"]

# (id, arguments with {placeholders}, exit code, error code or None for any)
CORPUS: list[tuple[str, list[str], int, str | None]] = [
    # the root and unknown names
    ("unknown-command", ["nope"], USAGE, "usage"),
    ("unknown-root-option", ["--bogus", "demo"], USAGE, "usage"),
    ("specs-missing", ["--specs", "/nonexistent/specs", "check"], USAGE, "usage"),
    ("specs-where-none-read", ["--specs", "{specs}", "replay", "--store", "{store}"], USAGE, "usage"),
    ("specs-for-verify", ["--specs", "{specs}", *VERIFY], USAGE, "usage"),
    ("specs-for-key", ["--specs", "{specs}", "key"], USAGE, "usage"),
    ("specs-for-schema", ["--specs", "{specs}", "schema"], USAGE, "usage"),
    # demo
    ("demo-cases-missing", ["demo", "--cases", "nope.yaml"], USAGE, "usage"),
    ("demo-cases-folder", ["demo", "--cases", "{folder}"], USAGE, "usage"),
    ("demo-cases-junk", ["demo", "--cases", "{junk}", "--store", "{tmp}/d1.db"], INPUT, "event_invalid"),
    (
        "demo-cases-refused",
        ["demo", "--cases", "{bad_cases}", "--store", "{tmp}/d2.db"],
        INPUT,
        "event_invalid",
    ),
    ("demo-cases-deep", ["demo", "--cases", "{deep}", "--store", "{tmp}/d3.db"], INPUT, None),
    ("demo-store-exists", ["demo", "--store", "{junk}"], USAGE, "store_exists"),
    ("demo-store-folder", ["demo", "--store", "{folder}"], USAGE, "usage"),
    ("demo-store-scheme", ["demo", "--store", "foo://bar"], USAGE, "usage"),
    ("demo-store-no-folder", ["demo", "--store", "{tmp}/no/such/demo.db"], USAGE, "usage"),
    ("demo-unknown-option", ["demo", "--cases"], USAGE, "usage"),
    # replay and stores
    ("replay-no-store", ["replay"], USAGE, "usage"),
    ("replay-store-missing", ["replay", "--store", "{missing}"], USAGE, "usage"),
    ("replay-store-text", ["replay", "--store", "{junk}"], INPUT, "store_not_vrrules"),
    ("replay-store-bytes", ["replay", "--store", "{random}"], INPUT, "store_not_vrrules"),
    ("replay-store-folder", ["replay", "--store", "{folder}"], USAGE, "usage"),
    ("replay-store-mysql", ["replay", "--store", "mysql://u:secret@h/db"], USAGE, "usage"),
    # check, test
    ("check-missing", ["check", "/nonexistent"], USAGE, "usage"),
    ("check-refused", ["check", "{bad_specs}"], FINDING, "spec_invalid"),
    ("check-two-folders", ["--specs", "{specs}", "check", "{bad_specs}"], USAGE, "usage"),
    ("test-missing", ["test", "/nonexistent"], USAGE, "usage"),
    ("test-no-examples", ["test", "{empty_folder}"], FINDING, "examples_missing"),
    ("test-junk-examples", ["test", "{folder}/x.txt"], INPUT, "spec_invalid"),
    ("test-extra-argument", ["test", "{specs}", "more"], USAGE, "usage"),
    # schema, handbook
    ("schema-out-file", ["schema", "--out", "{junk}"], USAGE, "usage"),
    ("handbook-out-file", ["handbook", "--out", "{junk}"], USAGE, "usage"),
    ("handbook-missing", ["handbook", "/nonexistent"], USAGE, "usage"),
    ("handbook-refused", ["handbook", "{bad_specs}", "--out", "{tmp}/hb"], INPUT, "spec_invalid"),
    # diff, publish
    ("diff-no-args", ["diff"], USAGE, "usage"),
    ("diff-new-missing", ["diff", "{specs}", "/nonexistent"], USAGE, "usage"),
    ("diff-store-text", ["diff", "{specs}", "{specs}", "--store", "{junk}"], INPUT, "store_not_vrrules"),
    ("diff-refused", ["diff", "{specs}", "{bad_specs}"], INPUT, "spec_invalid"),
    ("publish-no-by", ["publish", "--store", "{tmp}/p.db", "--note", "n"], USAGE, "usage"),
    (
        "publish-missing",
        ["publish", "/nonexistent", "--store", "{tmp}/p.db", "--by", "a", "--note", "b"],
        USAGE,
        "usage",
    ),
    (
        "publish-refused",
        ["publish", "{bad_specs}", "--store", "{tmp}/p.db", "--by", "a", "--note", "b"],
        INPUT,
        "spec_invalid",
    ),
    # rates
    ("rates-no-args", ["rates"], USAGE, "usage"),
    (
        "rates-csv-missing",
        ["rates", "{missing}", "--from", "2025-10-01", "--until", "2026-09-30", *RATES],
        USAGE,
        "usage",
    ),
    (
        "rates-month-13",
        ["rates", "{csv}", "--from", "2025-13-01", "--until", "2026-09-30", *RATES],
        USAGE,
        "usage",
    ),
    (
        "rates-week-date",
        ["rates", "{csv}", "--from", "2025-W01-1", "--until", "2026-09-30", *RATES],
        USAGE,
        "usage",
    ),
    (
        "rates-basic-date",
        ["rates", "{csv}", "--from", "20251103", "--until", "2026-09-30", *RATES],
        USAGE,
        "usage",
    ),
    (
        "rates-until-first",
        ["rates", "{csv}", "--from", "2026-10-01", "--until", "2026-09-30", *RATES],
        USAGE,
        "usage",
    ),
    (
        "rates-bad-csv",
        ["rates", "{bad_csv}", "--from", "2025-10-01", "--until", "2026-09-30", *RATES],
        INPUT,
        None,
    ),
    (
        "rates-no-document",
        ["rates", "{csv}", "--from", "2025-10-01", "--until", "2026-09-30"],
        USAGE,
        "usage",
    ),
    ("key-extra", ["key", "extra"], USAGE, "usage"),
    # audit verify, digest
    ("audit-unknown", ["audit", "nope"], USAGE, "usage"),
    ("verify-no-store", ["audit", "verify"], USAGE, "usage"),
    ("verify-digest-missing", [*VERIFY, "--digest", "{missing}"], USAGE, "usage"),
    ("verify-digest-empty", [*VERIFY, "--digest", "{empty}"], INPUT, "digest_invalid"),
    ("verify-digest-junk", [*VERIFY, "--digest", "{junk}"], INPUT, "digest_invalid"),
    ("verify-digest-folder", [*VERIFY, "--digest", "{folder}"], USAGE, "usage"),
    ("verify-digest-too-large", [*VERIFY, "--digest", "{big}"], INPUT, "input_too_large"),
    ("verify-digest-differs", [*VERIFY, "--digest", "{wrong_digest}"], FINDING, "not_verified"),
    ("verify-workers-zero", [*VERIFY, "--workers", "0"], USAGE, "usage"),
    ("verify-workers-huge", [*VERIFY, "--workers", "99999999999999999999"], USAGE, "usage"),
    ("verify-workers-word", [*VERIFY, "--workers", "many"], USAGE, "usage"),
    ("verify-html-is-store", [*VERIFY, "--html", "{store}", "--force"], USAGE, "usage"),
    ("verify-html-exists", [*VERIFY, "--html", "{junk}"], USAGE, "usage"),
    ("verify-store-bytes", ["audit", "verify", "--store", "{random}"], INPUT, "store_not_vrrules"),
    ("digest-out-exists", ["audit", "digest", "--store", "{store}", "--out", "{junk}"], USAGE, "usage"),
    ("digest-out-folder", ["audit", "digest", "--store", "{store}", "--out", "{folder}"], USAGE, "usage"),
    (
        "digest-out-is-store",
        ["audit", "digest", "--store", "{store}", "--out", "{store}", "--force"],
        USAGE,
        "usage",
    ),
    # audit case
    ("case-month-13", [*CASE, "--as-of", "2026-13-01"], USAGE, "usage"),
    ("case-week-date", [*CASE, "--as-of", "2025-W01-1"], USAGE, "usage"),
    ("case-basic-date", [*CASE, "--as-of", "20251103"], USAGE, "usage"),
    ("case-feb-30", [*CASE, "--as-of", "2025-02-30"], USAGE, "usage"),
    ("case-version-huge", [*CASE, "--version", "99999999999999999999"], USAGE, "usage"),
    ("case-version-zero", [*CASE, "--version", "0"], USAGE, "usage"),
    ("case-version-negative", [*CASE, "--version", "-3"], USAGE, "usage"),
    ("case-version-beyond", [*CASE, "--version", "10000"], USAGE, "usage"),
    ("case-known-at-hour-25", [*CASE, "--known-at", "2026-01-31T25:00"], USAGE, "usage"),
    ("case-known-at-words", [*CASE, "--known-at", "yesterday"], USAGE, "usage"),
    ("case-unknown", ["audit", "case", "NOPE-1", "--store", "{store}"], INPUT, "case_unknown"),
    # what-if, bundles
    (
        "what-if-draft-missing",
        ["audit", "what-if", "--store", "{store}", "--draft", "/nonexistent"],
        USAGE,
        "usage",
    ),
    (
        "what-if-draft-refused",
        ["audit", "what-if", "--store", "{store}", "--draft", "{bad_specs}"],
        INPUT,
        "spec_invalid",
    ),
    ("what-if-html-exists", ["audit", "what-if", "--store", "{store}", "--html", "{junk}"], USAGE, "usage"),
    ("bundle-no-out", ["audit", "bundle", "--store", "{store}"], USAGE, "usage"),
    (
        "bundle-unknown-case",
        ["audit", "bundle", "NOPE-1", "--store", "{store}", "--out", "{tmp}/b.json"],
        INPUT,
        "case_unknown",
    ),
    ("bundle-out-exists", ["audit", "bundle", "--store", "{store}", "--out", "{junk}"], USAGE, "usage"),
    ("verify-bundle-missing", ["audit", "verify-bundle", "{missing}"], USAGE, "usage"),
    ("verify-bundle-junk", ["audit", "verify-bundle", "{junk}"], FINDING, "bundle_invalid"),
    ("verify-bundle-empty", ["audit", "verify-bundle", "{empty}"], FINDING, "bundle_invalid"),
    ("verify-bundle-folder", ["audit", "verify-bundle", "{folder}"], USAGE, "usage"),
    # the case commands
    ("cases-no-store", ["cases"], USAGE, "usage"),
    ("cases-store-text", ["cases", "--store", "{junk}"], INPUT, "store_not_vrrules"),
    ("case-show-no-ref", ["case", "show", "--store", "{store}"], USAGE, "usage"),
    ("case-show-unknown", ["case", "show", "NOPE-1", "--store", "{store}"], INPUT, "case_unknown"),
    ("case-unknown-subcommand", ["case", "nope"], USAGE, "usage"),
    ("decide-no-store", ["decide", "VR-2025-0102", "tiers"], USAGE, "usage"),
    ("decide-unknown-case", ["decide", "NOPE-1", "tiers", "--store", "{store}"], INPUT, "case_unknown"),
    (
        "decide-unknown-family",
        ["decide", "VR-2025-0102", "nope", "--store", "{store}"],
        INPUT,
        "policy_not_in_force",
    ),
    ("decide-feb-30", [*DECIDE, "--as-of", "2025-02-30"], USAGE, "usage"),
    ("decide-facts-missing", [*DECIDE, "--facts", "{missing}"], USAGE, "usage"),
    ("decide-facts-junk", [*DECIDE, "--facts", "{junk}"], INPUT, "facts_invalid"),
    ("decide-facts-too-large", [*DECIDE, "--facts", "{big}"], INPUT, "input_too_large"),
    ("decide-facts-deep", [*DECIDE, "--facts", "{deep}"], INPUT, None),
    (
        "decide-facts-unknown",
        ["decide", "VR-2025-0102", "billing", "--store", "{store}", "--dry-run", "--facts", "{facts}"],
        INPUT,
        None,
    ),
    ("import-missing", ["import", "{missing}", "--store", "{tmp}/i.db"], USAGE, "usage"),
    ("import-junk", ["import", "{junk}", "--store", "{tmp}/i1.db"], INPUT, "event_invalid"),
    ("import-refused", ["import", "{bad_cases}", "--store", "{tmp}/i2.db"], INPUT, "event_invalid"),
    ("import-no-store", ["import", "{cases}"], USAGE, "usage"),
    ("facts-unknown-family", ["facts", "nope"], INPUT, "policy_not_in_force"),
    ("facts-before-force", ["facts", "tiers", "--as-of", "1999-01-01"], INPUT, "policy_not_in_force"),
    ("facts-bad-date", ["facts", "tiers", "--as-of", "soon"], USAGE, "usage"),
]


@pytest.mark.parametrize(("args", "exit_code", "code"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_bad_invocation_fails_cleanly(
    files: Files, args: list[str], exit_code: int, code: str | None
) -> None:
    assert_clean_failure(run(files.fill(args)), exit_code, code)


# every tenth case again with --json: an error document on stdout (a finding: the command's own)
@pytest.mark.parametrize(
    ("args", "exit_code", "code"), [c[1:] for c in CORPUS[::4]], ids=[c[0] for c in CORPUS[::4]]
)
def test_bad_invocation_with_json_prints_one_document(
    files: Files, args: list[str], exit_code: int, code: str | None
) -> None:
    ran = run([*files.fill(args), "--json"])
    assert_clean_failure(ran, exit_code, code)
    document = ran.json()
    if exit_code != FINDING:
        assert document["error"]["exit_code"] == exit_code
        assert ran.error_lines[0].startswith(f"error[{document['error']['code']}]")


def test_the_corpus_is_large_and_spans_every_command() -> None:
    assert len(CORPUS) >= 60
    commands = {" ".join(a for a in args[:2] if not a.startswith(("-", "{"))) for _, args, _, _ in CORPUS}
    for command in [
        "demo",
        "replay",
        "check",
        "test",
        "schema",
        "handbook",
        "diff",
        "publish",
        "rates",
        "key",
        "audit verify",
        "audit digest",
        "audit case",
        "audit what-if",
        "audit bundle",
        "audit verify-bundle",
        "cases",
        "case show",
        "decide",
        "import",
        "facts",
    ]:
        assert any(c == command or c.startswith(command + " ") for c in commands), command
