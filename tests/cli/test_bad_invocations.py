"""A corpus of bad invocations: each ends with no traceback, its documented exit code and
one ``error[code]:`` line on stderr; with ``--json`` also an error document on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Files, assert_clean_failure, run
from tests.conftest import SPECS

USAGE, INPUT, FINDING = 2, 3, 1
RATES = ["--document", "GSA", "--section", "WA"]
CASE = ["audit", "case", "VR-2025-0102", "--store", "{store}"]
VERIFY = ["audit", "verify", "--store", "{store}"]
DECIDE = ["decide", "VR-2025-0102", "tiers", "--store", "{store}", "--dry-run"]
CHECKPOINT = ["audit", "checkpoint", "--store", "{store}"]
VERIFY_BUNDLE = ["audit", "verify-bundle", "{bundle}"]
DUE = ["due", "--store", "{store}", "--as-of"]

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
    # --json given to a group, which prints no document: it goes after a command's name
    ("root-json", ["--json"], USAGE, "usage"),
    ("root-json-before-command", ["--json", "cases", "--store", "{store}"], USAGE, "usage"),
    ("audit-json", ["audit", "--json"], USAGE, "usage"),
    ("audit-json-before-command", ["audit", "--json", "verify", "--store", "{store}"], USAGE, "usage"),
    (
        "case-json-before-command",
        ["case", "--json", "show", "VR-2025-0102", "--store", "{store}"],
        USAGE,
        "usage",
    ),
    # demo
    ("demo-cases-missing", ["demo", "--cases", "nope.yaml"], USAGE, "usage"),
    ("demo-cases-folder", ["demo", "--cases", "{folder}"], USAGE, "usage"),
    ("demo-cases-junk", ["demo", "--cases", "{junk}", "--store", "{tmp}/d1.db"], INPUT, "input_invalid"),
    (
        "demo-cases-refused",
        ["demo", "--cases", "{bad_cases}", "--store", "{tmp}/d2.db"],
        INPUT,
        "event_invalid",
    ),
    ("demo-cases-deep", ["demo", "--cases", "{deep}", "--store", "{tmp}/d3.db"], INPUT, None),
    ("demo-cases-empty", ["demo", "--cases", "{empty}", "--store", "{tmp}/d4.db"], INPUT, "input_invalid"),
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
    ("check-invariant-broken", ["check", "{broken_invariant}"], FINDING, "invariant_broken"),
    ("check-examples-misfit", ["check", "{misfit_examples}"], FINDING, "example_fact_unknown"),
    (
        "check-examples-misfit-no-search",
        ["check", "{misfit_examples}", "--invariant-examples", "0"],
        FINDING,
        "example_fact_unknown",
    ),
    ("check-invariant-examples-word", ["check", "--invariant-examples", "many"], USAGE, "usage"),
    ("check-invariant-examples-negative", ["check", "--invariant-examples", "-1"], USAGE, "usage"),
    ("check-invariant-examples-huge", ["check", "--invariant-examples", "99999999999"], USAGE, "usage"),
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
    ("key-signing-no-name", ["key", "--signing"], USAGE, "usage"),
    ("key-signing-bad-name", ["key", "--signing", "two words"], INPUT, "signing_key_invalid"),
    ("key-signing-plus-name", ["key", "--signing", "a+b"], INPUT, "signing_key_invalid"),
    ("key-out-without-signing", ["key", "--out", "{tmp}/k"], USAGE, "usage"),
    ("key-signing-out-exists", ["key", "--signing", "a", "--out", "{tmp}/auditor"], USAGE, "usage"),
    ("key-signing-out-no-folder", ["key", "--signing", "a", "--out", "{tmp}/no/such/k"], USAGE, "usage"),
    ("key-signing-out-folder", ["key", "--signing", "a", "--out", "{folder}/x.txt/k"], USAGE, "usage"),
    # audit checkpoint
    ("checkpoint-no-out", CHECKPOINT, USAGE, "usage"),
    ("checkpoint-no-store", ["audit", "checkpoint", "--out", "{tmp}/c1"], USAGE, "usage"),
    ("checkpoint-out-exists", [*CHECKPOINT, "--out", "{junk}"], USAGE, "usage"),
    ("checkpoint-out-folder", [*CHECKPOINT, "--out", "{folder}"], USAGE, "usage"),
    ("checkpoint-out-is-store", [*CHECKPOINT, "--out", "{store}", "--force", "--no-leaves"], USAGE, "usage"),
    ("checkpoint-leaves-exist", [*CHECKPOINT, "--out", "{tmp}/taken.checkpoint"], USAGE, "usage"),
    ("checkpoint-out-no-folder", [*CHECKPOINT, "--out", "{tmp}/no/such/c"], USAGE, "usage"),
    (
        "checkpoint-key-missing",
        [*CHECKPOINT, "--out", "{tmp}/c2", "--signing-key", "{missing}"],
        USAGE,
        "usage",
    ),
    (
        "checkpoint-key-junk",
        [*CHECKPOINT, "--out", "{tmp}/c3", "--signing-key", "{junk}"],
        INPUT,
        "signing_key_invalid",
    ),
    (
        "checkpoint-key-is-public",
        [*CHECKPOINT, "--out", "{tmp}/c4", "--signing-key", "{verifier}"],
        INPUT,
        "signing_key_invalid",
    ),
    ("checkpoint-key-bytes", [*CHECKPOINT, "--out", "{tmp}/c5", "--signing-key", "{random}"], INPUT, None),
    ("checkpoint-key-too-large", [*CHECKPOINT, "--out", "{tmp}/c6", "--signing-key", "{big}"], INPUT, None),
    ("checkpoint-origin-space", [*CHECKPOINT, "--out", "{tmp}/c7", "--origin", "a b"], USAGE, "usage"),
    (
        "checkpoint-store-bytes",
        ["audit", "checkpoint", "--store", "{random}", "--out", "{tmp}/c8"],
        INPUT,
        "store_not_vrrules",
    ),
    (
        "checkpoint-store-text",
        ["audit", "checkpoint", "--store", "{junk}", "--out", "{tmp}/c9"],
        INPUT,
        "store_not_vrrules",
    ),
    (
        "checkpoint-store-empty",
        ["audit", "checkpoint", "--store", "{empty}", "--out", "{tmp}/c10"],
        INPUT,
        "store_not_vrrules",
    ),
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
    ("verify-store-empty", ["audit", "verify", "--store", "{empty}"], INPUT, "store_not_vrrules"),
    # audit verify against checkpoints, keys, shards
    ("verify-checkpoint-missing", [*VERIFY, "--checkpoint", "{missing}"], USAGE, "usage"),
    ("verify-checkpoint-folder", [*VERIFY, "--checkpoint", "{folder}"], USAGE, "usage"),
    ("verify-checkpoint-junk", [*VERIFY, "--checkpoint", "{junk}"], INPUT, "checkpoint_malformed"),
    ("verify-checkpoint-empty", [*VERIFY, "--checkpoint", "{empty}"], INPUT, "checkpoint_malformed"),
    ("verify-checkpoint-bytes", [*VERIFY, "--checkpoint", "{random}"], INPUT, "checkpoint_malformed"),
    ("verify-checkpoint-too-large", [*VERIFY, "--checkpoint", "{big}"], INPUT, "input_too_large"),
    ("verify-checkpoint-a-bundle", [*VERIFY, "--checkpoint", "{bundle}"], INPUT, None),
    ("verify-leaves-junk", [*VERIFY, "--checkpoint", "{bad_leaves}"], INPUT, "leaves_invalid"),
    (
        "verify-checkpoint-other-log",
        [*VERIFY, "--checkpoint", "{memory_checkpoint}"],
        FINDING,
        "not_verified",
    ),
    (
        "verify-unsigned-with-key",
        [*VERIFY, "--checkpoint", "{unsigned}", "--public-key", "{verifier}"],
        INPUT,
        "checkpoint_unverified",
    ),
    (
        "verify-signed-by-another-key",
        [*VERIFY, "--checkpoint", "{checkpoint}", "--public-key", "{other_verifier}"],
        INPUT,
        "checkpoint_unverified",
    ),
    (
        "verify-since-unsigned-with-key",
        [*VERIFY, "--since", "{unsigned}", "--public-key", "{verifier}"],
        INPUT,
        "checkpoint_unverified",
    ),
    (
        "verify-public-key-junk",
        [*VERIFY, "--checkpoint", "{checkpoint}", "--public-key", "{junk}"],
        INPUT,
        "signing_key_invalid",
    ),
    (
        "verify-public-key-empty",
        [*VERIFY, "--checkpoint", "{checkpoint}", "--public-key", "{empty}"],
        INPUT,
        "signing_key_invalid",
    ),
    (
        "verify-public-key-is-secret",
        [*VERIFY, "--checkpoint", "{checkpoint}", "--public-key", "{signer}"],
        INPUT,
        "signing_key_invalid",
    ),
    (
        "verify-public-key-missing",
        [*VERIFY, "--checkpoint", "{checkpoint}", "--public-key", "{missing}"],
        USAGE,
        "usage",
    ),
    ("verify-public-key-alone", [*VERIFY, "--public-key", "{verifier}"], USAGE, "usage"),
    ("verify-since-junk", [*VERIFY, "--since", "{junk}"], INPUT, "checkpoint_malformed"),
    ("verify-since-missing", [*VERIFY, "--since", "{missing}"], USAGE, "usage"),
    ("verify-since-and-digest", [*VERIFY, "--since", "{checkpoint}", "--digest", "{digest}"], USAGE, "usage"),
    ("verify-shard-no-out", [*VERIFY, "--shard", "0/2"], USAGE, "usage"),
    ("verify-out-no-shard", [*VERIFY, "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-k-too-big", [*VERIFY, "--shard", "2/2", "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-zero", [*VERIFY, "--shard", "0/0", "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-negative", [*VERIFY, "--shard", "-1/2", "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-words", [*VERIFY, "--shard", "half", "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-huge", [*VERIFY, "--shard", "0/99999999999", "--out", "{tmp}/p.json"], USAGE, "usage"),
    ("verify-shard-out-exists", [*VERIFY, "--shard", "0/2", "--out", "{junk}"], USAGE, "usage"),
    ("verify-shard-out-is-store", [*VERIFY, "--shard", "0/2", "--out", "{store}", "--force"], USAGE, "usage"),
    (
        "verify-shard-html",
        [*VERIFY, "--shard", "0/2", "--out", "{tmp}/p.json", "--html", "{tmp}/p.html"],
        USAGE,
        "usage",
    ),
    # audit merge
    ("merge-no-args", ["audit", "merge"], USAGE, "usage"),
    ("merge-missing", ["audit", "merge", "{missing}"], USAGE, "usage"),
    ("merge-folder", ["audit", "merge", "{folder}"], USAGE, "usage"),
    ("merge-junk", ["audit", "merge", "{junk}"], INPUT, "partial_invalid"),
    ("merge-empty", ["audit", "merge", "{empty}"], INPUT, "partial_invalid"),
    ("merge-bytes", ["audit", "merge", "{random}"], INPUT, "input_not_text"),
    ("merge-a-bundle", ["audit", "merge", "{bundle}"], INPUT, "partial_invalid"),
    ("merge-one-of-two", ["audit", "merge", "{partial0}"], INPUT, "argument_invalid"),
    ("merge-same-twice", ["audit", "merge", "{partial0}", "{partial0}"], INPUT, "argument_invalid"),
    ("merge-specs", ["--specs", "{specs}", "audit", "merge", "{partial0}", "{partial1}"], USAGE, "usage"),
    # audit migrate
    ("migrate-no-store", ["audit", "migrate"], USAGE, "usage"),
    ("migrate-store-missing", ["audit", "migrate", "--store", "{missing}"], USAGE, "usage"),
    ("migrate-store-text", ["audit", "migrate", "--store", "{junk}"], INPUT, "store_not_vrrules"),
    ("migrate-store-bytes", ["audit", "migrate", "--store", "{random}"], INPUT, "store_not_vrrules"),
    ("migrate-store-folder", ["audit", "migrate", "--store", "{folder}"], USAGE, "usage"),
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
    (
        "bundle-checkpoint-missing",
        ["audit", "bundle", "--store", "{store}", "--out", "{tmp}/b2.json", "--checkpoint", "{missing}"],
        USAGE,
        "usage",
    ),
    (
        "bundle-checkpoint-junk",
        ["audit", "bundle", "--store", "{store}", "--out", "{tmp}/b3.json", "--checkpoint", "{junk}"],
        INPUT,
        "checkpoint_malformed",
    ),
    (
        "bundle-checkpoint-not-extended",
        [
            "audit",
            "bundle",
            "--store",
            "{store}",
            "--out",
            "{tmp}/b4.json",
            "--checkpoint",
            "{ahead_checkpoint}",
        ],
        INPUT,
        "checkpoint_not_extended",
    ),
    ("verify-checkpoint-ahead", [*VERIFY, "--checkpoint", "{ahead_checkpoint}"], FINDING, "not_verified"),
    ("verify-bundle-not-anchored", VERIFY_BUNDLE, FINDING, "not_anchored"),
    (
        "verify-bundle-other-checkpoint",
        [*VERIFY_BUNDLE, "--checkpoint", "{memory_checkpoint}"],
        FINDING,
        "bundle_invalid",
    ),
    (
        "verify-bundle-other-key",
        [*VERIFY_BUNDLE, "--public-key", "{other_verifier}"],
        FINDING,
        "bundle_invalid",
    ),
    (
        "verify-bundle-checkpoint-junk",
        [*VERIFY_BUNDLE, "--checkpoint", "{junk}"],
        INPUT,
        "checkpoint_malformed",
    ),
    ("verify-bundle-checkpoint-missing", [*VERIFY_BUNDLE, "--checkpoint", "{missing}"], USAGE, "usage"),
    (
        "verify-bundle-public-key-junk",
        [*VERIFY_BUNDLE, "--public-key", "{junk}"],
        INPUT,
        "signing_key_invalid",
    ),
    (
        "verify-bundle-unsigned-kept-with-key",
        [*VERIFY_BUNDLE, "--checkpoint", "{unsigned}", "--public-key", "{verifier}"],
        INPUT,
        "checkpoint_unverified",
    ),
    ("verify-bundle-random", ["audit", "verify-bundle", "{random}"], FINDING, "bundle_invalid"),
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
    ("decide-facts-junk", [*DECIDE, "--facts", "{junk}"], INPUT, "input_invalid"),
    ("decide-facts-too-large", [*DECIDE, "--facts", "{big}"], INPUT, "input_too_large"),
    ("decide-facts-deep", [*DECIDE, "--facts", "{deep}"], INPUT, None),
    (
        "decide-facts-unknown",
        ["decide", "VR-2025-0102", "billing", "--store", "{store}", "--dry-run", "--facts", "{facts}"],
        INPUT,
        None,
    ),
    ("decide-facts-empty", [*DECIDE, "--facts", "{empty}"], INPUT, "input_invalid"),
    ("import-missing", ["import", "{missing}", "--store", "{tmp}/i.db"], USAGE, "usage"),
    ("import-empty", ["import", "{empty}", "--store", "{tmp}/i0.db"], INPUT, "input_invalid"),
    ("import-junk", ["import", "{junk}", "--store", "{tmp}/i1.db"], INPUT, "input_invalid"),
    ("import-refused", ["import", "{bad_cases}", "--store", "{tmp}/i2.db"], INPUT, "event_invalid"),
    ("import-no-store", ["import", "{cases}"], USAGE, "usage"),
    ("facts-unknown-family", ["facts", "nope"], INPUT, "policy_not_in_force"),
    ("facts-before-force", ["facts", "tiers", "--as-of", "1999-01-01"], INPUT, "policy_not_in_force"),
    ("facts-bad-date", ["facts", "tiers", "--as-of", "soon"], USAGE, "usage"),
    # due
    ("due-no-store", ["due", "--as-of", "2026-01-15"], USAGE, "usage"),
    ("due-no-as-of", [*DUE[:3]], USAGE, "usage"),
    ("due-store-missing", ["due", "--store", "{missing}", "--as-of", "2026-01-15"], USAGE, "usage"),
    ("due-store-text", ["due", "--store", "{junk}", "--as-of", "2026-01-15"], INPUT, "store_not_vrrules"),
    ("due-store-bytes", ["due", "--store", "{random}", "--as-of", "2026-01-15"], INPUT, "store_not_vrrules"),
    ("due-store-empty", ["due", "--store", "{empty}", "--as-of", "2026-01-15"], INPUT, "store_not_vrrules"),
    ("due-store-folder", ["due", "--store", "{folder}", "--as-of", "2026-01-15"], USAGE, "usage"),
    ("due-month-13", [*DUE, "2026-13-01"], USAGE, "usage"),
    ("due-feb-30", [*DUE, "2026-02-30"], USAGE, "usage"),
    ("due-compact-date", [*DUE, "20260115"], USAGE, "usage"),
    ("due-week-date", [*DUE, "2026-W03-1"], USAGE, "usage"),
    ("due-within-negative", [*DUE, "2026-01-15", "--within", "-1"], USAGE, "usage"),
    ("due-within-word", [*DUE, "2026-01-15", "--within", "soon"], USAGE, "usage"),
    ("due-within-huge", [*DUE, "2026-01-15", "--within", "99999999999999999999"], USAGE, "usage"),
    ("due-within-too-far", [*DUE, "2026-01-15", "--within", "36501"], USAGE, "usage"),
    ("due-within-fraction", [*DUE, "2026-01-15", "--within", "1.5"], USAGE, "usage"),
    ("due-specs-missing", ["--specs", "/nonexistent/specs", *DUE, "2026-01-15"], USAGE, "usage"),
    # audit corrections
    ("corrections-no-store", ["audit", "corrections"], USAGE, "usage"),
    ("corrections-store-missing", ["audit", "corrections", "--store", "{missing}"], USAGE, "usage"),
    ("corrections-store-text", ["audit", "corrections", "--store", "{junk}"], INPUT, "store_not_vrrules"),
    ("corrections-store-bytes", ["audit", "corrections", "--store", "{random}"], INPUT, "store_not_vrrules"),
    ("corrections-store-empty", ["audit", "corrections", "--store", "{empty}"], INPUT, "store_not_vrrules"),
    (
        "corrections-unknown-case",
        ["audit", "corrections", "NOPE-1", "--store", "{store}"],
        INPUT,
        "case_unknown",
    ),
    (
        "corrections-specs",
        ["--specs", "{specs}", "audit", "corrections", "--store", "{store}"],
        USAGE,
        "usage",
    ),
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
        "audit checkpoint",
        "audit merge",
        "audit migrate",
        "cases",
        "case show",
        "decide",
        "import",
        "facts",
        "due",
        "audit corrections",
    ]:
        assert any(c == command or c.startswith(command + " ") for c in commands), command


@pytest.mark.parametrize(
    ("args", "where", "fix"),
    [
        (["audit", "--json"], "'vrrules audit'", "vrrules audit COMMAND [OPTIONS] --json"),
        (["--json", "audit"], "'vrrules'", "vrrules audit COMMAND [OPTIONS] --json"),
        (["--json"], "'vrrules'", "vrrules COMMAND [OPTIONS] --json"),
        (
            ["audit", "--json", "verify", "--store", "{store}"],
            "'vrrules audit'",
            "vrrules audit verify --store {store} --json",
        ),
        (
            ["--json", "audit", "due", "--store", "{store}"],
            "'vrrules'",
            "vrrules audit due --store {store} --json",
        ),
        (["--specs", "{specs}", "--json", "check"], "'vrrules'", "vrrules --specs {specs} check --json"),
        (
            ["case", "--json", "show", "VR-2025-0102"],
            "'vrrules case'",
            "vrrules case show VR-2025-0102 --json",
        ),
    ],
)
def test_json_given_to_a_group_says_where_it_goes(
    files: Files, args: list[str], where: str, fix: str
) -> None:
    ran = run(files.fill(args))
    assert_clean_failure(ran, USAGE, "usage")
    line = ran.error_lines[0]
    assert f"expected --json after a command's name, got it after {where}, a group of commands" in line
    assert files.fill([fix])[0] in line, line
    assert ran.json()["error"]["code"] == "usage"  # --json was asked for: the error document too
    if "COMMAND" in fix:  # no command named: the group's commands are listed
        assert "verify" in line or "cases" in line or "show" in line, line


def test_json_after_the_command_under_a_group_is_taken(files: Files) -> None:
    ran = run(["audit", "due", "--store", str(files.store), "--as-of", "2026-02-02", "--json"])
    assert ran.code == 0 and ran.json()["ok"], ran.err


EMPTY_TEXTS = {
    "empty": "",
    "blank": "\n  \n",
    "comments": "# nothing yet\n\n# still nothing\n",
    "marker": "---\n",
}


def _readers_of(given: Path, files: Files, tmp_path: Path) -> list[tuple[list[str], str, str]]:
    """Each command that reads ``given`` as a facts or case file, with what its refusal must
    say the file should hold and the fix it points at."""
    store = ["--store", str(files.store), "--dry-run"]
    facts = ["decide", "VR-2025-0102", "billing", *store, "--facts", str(given)]
    cases = ["import", str(given), "--store", str(tmp_path / "none.db")]
    demo = ["demo", "--cases", str(given), "--store", str(tmp_path / "demo.db")]
    case_file = "expected a case file holding a mapping with 'cases'"
    return [
        (facts, "expected a facts file holding a mapping of fact names to values", "'vrrules facts billing'"),
        (cases, case_file, "sample case file"),
        (demo, case_file, "sample case file"),
    ]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("kind", sorted(EMPTY_TEXTS))
def test_an_empty_facts_or_case_file_is_told_what_it_should_hold(
    files: Files, tmp_path: Path, kind: str, suffix: str
) -> None:
    empty = tmp_path / f"{kind}{suffix}"
    empty.write_text(EMPTY_TEXTS[kind])
    for args, holds, fix in _readers_of(empty, files, tmp_path):
        ran = run(args)
        assert_clean_failure(ran, INPUT, "input_invalid")
        line = ran.error_lines[0]
        assert holds in line and f"got an empty file (nothing but blank lines or comments) at {empty}" in line
        assert fix in line, line
        assert "spec" not in line, line  # not the spec reader's hint: this is no spec
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "demo.db").exists()


NOT_MAPPINGS = {
    # name: (YAML text, JSON text, what the message says was got)
    "null": ("null\n", "null", "got null"),
    "tilde": ("~\n", None, "got null"),  # JSON has no '~'
    "list": ("- code: local_1038m\n", '[{"code": "local_1038m"}]', "got a list of 1 item(s)"),
    "text": ("just some text\n", '"just some text"', "got the text 'just some text' alone"),
    "number": ("3\n", "3", "got the number 3 alone"),
    "boolean": ("true\n", "true", "got true alone"),
}


@pytest.mark.parametrize(
    ("kind", "suffix"),
    [(k, s) for k in sorted(NOT_MAPPINGS) for s in (".yaml", ".json") if s == ".yaml" or NOT_MAPPINGS[k][1]],
)
def test_a_facts_or_case_file_that_is_not_a_mapping_is_told_what_it_should_hold(
    files: Files, tmp_path: Path, kind: str, suffix: str
) -> None:
    """A facts file of 'null' was taken for no facts and a decision recorded; a case file of
    'null' was event_invalid in pydantic's words ('a valid dictionary or instance of CaseFile')."""
    yaml_text, json_text, got = NOT_MAPPINGS[kind]
    text = yaml_text if suffix == ".yaml" else json_text
    assert text is not None
    given = tmp_path / f"{kind}{suffix}"
    given.write_text(text)
    for args, holds, fix in _readers_of(given, files, tmp_path):
        ran = run(args)
        assert_clean_failure(ran, INPUT, "input_invalid")
        line = ran.error_lines[0]
        assert holds in line and f"{got}" in line and f"at {given};" in line, line
        assert fix in line, line
        assert "CaseFile" not in line and "dictionary" not in line, line
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "demo.db").exists()


@pytest.mark.parametrize("text", ["{}\n", "{}"])
def test_an_empty_mapping_of_facts_is_no_extra_facts(files: Files, tmp_path: Path, text: str) -> None:
    """'{}' gives no facts beside the case's own: the decision is the one without --facts."""
    given = tmp_path / ("facts.yaml" if text.endswith("\n") else "facts.json")
    given.write_text(text)
    args = ["decide", "VR-2025-0102", "tiers", "--store", str(files.store), "--dry-run", "--json"]
    with_empty = run([*args, "--facts", str(given)])
    without = run(args)
    assert with_empty.code == without.code == 0, with_empty.err
    assert with_empty.json()["outcome"] == without.json()["outcome"]


def test_money_facts_not_as_written_are_facts_invalid_at_the_fact(files: Files, tmp_path: Path) -> None:
    given = tmp_path / "funds.yaml"
    args = [
        "decide",
        "WA-2025-0017",
        "billing",
        "--store",
        str(files.store),
        "--dry-run",
        "--facts",
        str(given),
    ]
    for amount, plain in (('"1e3"', "1000.00"), ('"١٢٣"', "123.00"), ('" 100 "', "100.00"), ('"+5"', "5.00")):
        given.write_text(f"option_2_funds: {amount}\n")
        ran = run(args)
        assert_clean_failure(ran, INPUT, "facts_invalid")
        line = ran.error_lines[0]
        assert "fact 'option_2_funds' expected money written as text of ASCII digits" in line, line
        assert f"'{plain}' if that is the amount meant" in line, line
    given.write_text('option_2_funds: "1000.00"\n')
    assert run(args).code == 0


LONG = "1" * 5000  # past Python's int-string conversion limit (4300 digits): int() raises ValueError


def _input_readers(given: Path, files: Files, tmp_path: Path) -> list[tuple[list[str], int, str, Path]]:
    """Each command that reads ``given``'s text as an input file of its suffix's kind (facts,
    cases, a partial report; a spec folder's worked examples for YAML), with its exit, its
    code and the file it reads."""
    yaml_case_code = "event_invalid" if given.suffix == ".yaml" else "input_invalid"
    readers = [(args, INPUT, "input_invalid", given) for args, _, _ in _readers_of(given, files, tmp_path)]
    readers[1:] = [(args, INPUT, yaml_case_code, given) for args, _, _, _ in readers[1:]]
    if given.suffix == ".json":
        readers.append((["audit", "merge", str(files.partial0), str(given)], INPUT, "partial_invalid", given))
    else:
        folder = tmp_path / "tiers"
        folder.mkdir(exist_ok=True)
        (folder / "2025.1.yaml").write_text((SPECS / "tiers" / "2025.1.yaml").read_text())
        (folder / "examples.yaml").write_text(given.read_text())
        readers.append((["check", str(folder)], FINDING, "yaml_number_invalid", folder / "examples.yaml"))
        readers.append((["test", str(folder)], INPUT, "spec_invalid", folder / "examples.yaml"))
    return readers


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_number_too_long_to_read_is_an_input_error_naming_the_file_and_line(
    files: Files, tmp_path: Path, suffix: str
) -> None:
    """A whole number of 5,000 digits in any file the command line reads was error[internal]
    (ValueError: Exceeds the limit (4300 digits) for integer string conversion)."""
    given = tmp_path / f"long{suffix}"
    given.write_text(
        f'{{"family": "tiers",\n"examples": {LONG}}}'
        if suffix == ".json"
        else f"family: tiers\nexamples: {LONG}\n"
    )
    for args, exit_code, code, read in _input_readers(given, files, tmp_path):
        ran = run(args)
        assert_clean_failure(ran, exit_code, code)
        line = ran.error_lines[0]
        assert "at most 4,300 digits" in line and "Exceeds the limit" not in line, line
        assert f"{read}:2" in line or f"line 2 of {read}" in line, line
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "demo.db").exists()


def test_a_key_twice_in_a_json_input_is_refused_naming_the_key_and_the_file(
    files: Files, tmp_path: Path
) -> None:
    """JSON readers keep the last of two equal keys without a word (a fact given twice took the
    second value, a case file's 'cases' twice the second list); the YAML reader refused them."""
    given = tmp_path / "twice.json"
    given.write_text('{"cases": [],\n "option_2_funds": "1.00", "shard": [0, 2], "option_2_funds": "2.00"}')
    for args, exit_code, code, _ in _input_readers(given, files, tmp_path):
        ran = run(args)
        assert_clean_failure(ran, exit_code, code)
        line = ran.error_lines[0]
        assert "got 'option_2_funds' twice" in line and str(given) in line, line
    nested = tmp_path / "nested.json"
    nested.write_text(
        '{"cases": [{"case_ref": "X-1", "case_ref": "X-2", "opened_on": "2025-11-03", "steps": []}]}'
    )
    ran = run(["import", str(nested), "--store", str(tmp_path / "none.db")])
    assert_clean_failure(ran, INPUT, "input_invalid")
    assert "got 'case_ref' twice" in ran.error_lines[0]
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "demo.db").exists()


RATE_FILES = {
    "money with an exponent": ("location,lodging,meals\nA,1e3,55\n", [], "got '1e3'"),
    "money with an underscore": ("location,lodging,meals\nA,94,7_6\n", [], "got '7_6'"),
    "a cell more": ("location,lodging,meals\nA,94,55,extra\n", [], "expected 3 cells"),
    "a cell fewer": ("location,lodging,meals\nA,94\n", [], "expected 3 cells"),
    "a cell too long": ('location,lodging,meals\nA,"' + "9" * 200_000 + '",55\n', [], "field limit"),
    "others naming no row": ("location,lodging,meals\nA,94,55\n", ["--others", "B"], "got 'B', which no row"),
}


@pytest.mark.parametrize("kind", sorted(RATE_FILES))
def test_a_rate_file_not_as_written_is_refused_at_its_line(tmp_path: Path, kind: str) -> None:
    """'1e3' and '7_6' were printed as 1E+3 and 76, an extra cell dropped, an unknown --others
    printed; a missing cell and a long one were error[internal]."""
    text, extra, words = RATE_FILES[kind]
    given = tmp_path / "rates.csv"
    given.write_text(text)
    ran = run(["rates", str(given), "--from", "2025-10-01", "--until", "2026-09-30", *RATES, *extra])
    assert_clean_failure(ran, INPUT, "spec_invalid")
    line = ran.error_lines[0]
    assert "[rate_table_invalid]" in line and words in line and f"{given.name}" in line, line
    assert ran.out == ""
