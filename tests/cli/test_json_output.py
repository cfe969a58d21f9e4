"""Every command in every output mode: text, or one JSON document that validates against
its schema published under docs/schemas/cli/ (and an error document when it fails)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.cli.conftest import Files, Ran, run
from vrrules.cli import cli
from vrrules.cli.schemas import cli_json_schemas, schema_name

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "schemas" / "cli"
RATES = ["--from", "2025-10-01", "--until", "2026-09-30", "--document", "GSA", "--section", "WA"]

# (schema, arguments with {placeholders}, exit code); outputs go to fresh paths per mode
COMMANDS: list[tuple[str, list[str], int]] = [
    ("demo", ["demo", "--store", "{tmp}/{mode}-demo.db"], 0),
    ("key", ["key"], 0),
    ("key", ["key", "--signing", "someone.example"], 0),
    ("key", ["key", "--signing", "someone.example", "--out", "{tmp}/{mode}-someone"], 0),
    ("replay", ["replay", "--store", "{store}"], 0),
    ("check", ["check"], 0),
    ("check", ["check", "{bad_specs}"], 1),
    ("check", ["check", "{broken_invariant}"], 1),
    ("check", ["check", "{misfit_examples}", "--invariant-examples", "0"], 1),
    ("test", ["test", "{specs}/tiers"], 0),
    ("test", ["test", "{empty_folder}"], 1),
    ("schema", ["schema", "--out", "{tmp}/{mode}-schemas"], 0),
    ("handbook", ["handbook", "--out", "{tmp}/{mode}-handbook"], 0),
    ("diff", ["diff", "{specs}", "{specs}", "--store", "{store}"], 0),
    (
        "publish",
        ["publish", "{specs}/tiers", "--store", "{tmp}/{mode}-pub.db", "--by", "me", "--note", "n"],
        0,
    ),
    ("rates", ["rates", "{csv}", *RATES], 0),
    ("audit-verify", ["audit", "verify", "--store", "{store}", "--digest", "{digest}", "--per-case"], 0),
    ("audit-verify", ["audit", "verify", "--store", "{store}", "--digest", "{wrong_digest}"], 1),
    (
        "audit-verify",
        [
            "audit",
            "verify",
            "--store",
            "{store}",
            "--checkpoint",
            "{checkpoint}",
            "--public-key",
            "{verifier}",
        ],
        0,
    ),
    ("audit-verify", ["audit", "verify", "--store", "{store}", "--since", "{unsigned}"], 0),
    ("audit-verify", ["audit", "verify", "--store", "{store}", "--checkpoint", "{memory_checkpoint}"], 1),
    (
        "audit-verify",
        ["audit", "verify", "--store", "{store}", "--shard", "1/3", "--out", "{tmp}/{mode}-p.json"],
        0,
    ),
    (
        "audit-checkpoint",
        ["audit", "checkpoint", "--store", "{store}", "--out", "{tmp}/{mode}.checkpoint"],
        0,
    ),
    (
        "audit-checkpoint",
        [
            "audit",
            "checkpoint",
            "--store",
            "{store}",
            "--signing-key",
            "{signer}",
            "--no-leaves",
            "--out",
            "{tmp}/{mode}-signed.checkpoint",
        ],
        0,
    ),
    ("audit-merge", ["audit", "merge", "{partial0}", "{partial1}"], 0),
    ("audit-migrate", ["audit", "migrate", "--store", "memory"], 0),
    ("audit-digest", ["audit", "digest", "--store", "{store}"], 0),
    ("audit-case", ["audit", "case", "VR-2025-0102", "--store", "{store}", "--as-of", "2026-01-31"], 0),
    ("audit-case", ["audit", "case", "VR-2025-0102", "--store", "{store}", "--version", "6"], 0),
    ("audit-case", ["audit", "case", "VR-2025-0102", "--store", "{store}", "--as-of", "2000-01-01"], 0),
    (
        "audit-case",
        [
            "audit",
            "case",
            "VR-2025-0102",
            "--store",
            "{store}",
            "--known-at",
            "2026-01-31T17:00Z",
            "--version",
            "6",
        ],
        0,
    ),
    ("audit-what-if", ["audit", "what-if", "--store", "{store}", "--current-facts"], 0),
    (
        "audit-bundle",
        ["audit", "bundle", "VR-2025-0102", "--store", "{store}", "--out", "{tmp}/{mode}.bundle"],
        0,
    ),
    (
        "audit-bundle",
        [
            "audit",
            "bundle",
            "--store",
            "{store}",
            "--checkpoint",
            "{unsigned}",
            "--out",
            "{tmp}/{mode}-anchored.bundle",
        ],
        0,
    ),
    ("audit-verify-bundle", ["audit", "verify-bundle", "{bundle}", "--checkpoint", "{checkpoint}"], 0),
    ("audit-verify-bundle", ["audit", "verify-bundle", "{bundle}", "--public-key", "{verifier}"], 0),
    ("audit-verify-bundle", ["audit", "verify-bundle", "{bundle}"], 1),
    ("audit-verify-bundle", ["audit", "verify-bundle", "{bundle}", "--checkpoint", "{memory_checkpoint}"], 1),
    ("audit-verify-bundle", ["audit", "verify-bundle", "{junk}"], 1),
    ("cases", ["cases", "--store", "{store}"], 0),
    ("case-show", ["case", "show", "VR-2025-0102", "--store", "{store}"], 0),
    ("decide", ["decide", "VR-2025-0102", "tiers", "--store", "{store}", "--dry-run"], 0),
    ("import", ["import", "{cases}", "--store", "{tmp}/{mode}-import.db"], 0),
    ("facts", ["facts", "tiers"], 0),
    ("facts", ["facts", "billing", "--as-of", "2025-12-01"], 0),
    ("due", ["due", "--store", "{store}", "--as-of", "2026-02-02"], 0),
    ("due", ["due", "--store", "{store}", "--as-of", "2026-02-02", "--within", "30", "--rebuild"], 0),
    ("audit-due", ["audit", "due", "--store", "{store}", "--as-of", "2026-02-02", "--within", "14"], 0),
    ("audit-corrections", ["audit", "corrections", "--store", "{store}"], 0),
    ("audit-corrections", ["audit", "corrections", "VR-2025-0102", "--store", "{store}"], 0),
    ("error", ["due", "--store", "{store}", "--as-of", "2026-13-01"], 2),
    ("error", ["audit", "case", "NOPE-1", "--store", "{store}"], 3),
    ("error", ["audit", "case", "VR-2025-0102", "--store", "{store}", "--as-of", "2026-13-01"], 2),
]


def _run(files: Files, args: list[str], mode: str) -> Ran:
    filled = files.fill([a.replace("{mode}", mode) for a in args])
    return run([*filled, "--json"] if mode == "json" else filled)


@pytest.mark.parametrize(
    ("schema", "args", "exit_code"), COMMANDS, ids=[" ".join(c[1][:3]) for c in COMMANDS]
)
def test_json_output_is_one_document_valid_against_its_schema(
    files: Files, schema: str, args: list[str], exit_code: int
) -> None:
    ran = _run(files, args, "json")
    assert "Traceback" not in ran.out + ran.err
    assert ran.code == exit_code, ran.err
    document = json.loads(ran.out)  # the whole of stdout is one document
    jsonschema.validate(document, cli_json_schemas()[schema_name(schema)])
    if exit_code:
        assert len(ran.error_lines) == 1, ran.err


@pytest.mark.parametrize(
    ("schema", "args", "exit_code"), COMMANDS, ids=[" ".join(c[1][:3]) for c in COMMANDS]
)
def test_text_output_has_the_same_exit_code_and_no_traceback(
    files: Files, schema: str, args: list[str], exit_code: int
) -> None:
    ran = _run(files, args, "text")
    assert "Traceback" not in ran.out + ran.err
    assert ran.code == exit_code, ran.err
    assert ran.out.strip() or exit_code, "a successful command says what it did"
    assert len(ran.error_lines) == (1 if exit_code else 0), ran.err
    with pytest.raises(ValueError):
        json.loads(ran.out)


def test_every_command_has_a_schema_and_a_run_here() -> None:
    names = set()
    for name, command in cli.commands.items():
        sub = getattr(command, "commands", None)
        names.update(f"{name}-{s}" for s in sub) if sub else names.add(name)
    assert names | {"error"} == {c[0] for c in COMMANDS}
    assert {schema_name(n) for n in names | {"error"}} == set(cli_json_schemas())


def test_published_schemas_are_the_ones_the_code_holds() -> None:
    published = {p.name: json.loads(p.read_text()) for p in PUBLISHED.glob("*.schema.json")}
    assert published == cli_json_schemas(), (
        "rewrite them: vrrules schema --out docs/schemas --force (writes docs/schemas/cli/)"
    )
    for schema in published.values():
        jsonschema.Draft202012Validator.check_schema(schema)
