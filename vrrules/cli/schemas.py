"""JSON Schemas of what every command prints with ``--json``, one per command.

They are published under ``docs/schemas/cli/`` (a test keeps those files equal to these)
and written by ``vrrules schema --out DIR`` into ``DIR/cli/``. A failing command prints
the ``error`` document instead; a finding (exit 1) prints the command's own document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CLI_SCHEMAS", "cli_json_schemas", "schema_name", "write_cli_schemas"]

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}
_DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_NULL_STR = {"type": ["string", "null"]}
_ANY_OBJECT = {"type": "object"}
_OUTCOME = {"type": ["object", "null"]}
_STRINGS = {"type": "array", "items": _STR}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, extra: bool = False
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties) if required is None else required,
        "additionalProperties": extra,
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_REPLAY_RESULT = _object(
    {
        "case": _STR,
        "event": _INT,
        "family": _STR,
        "version": _STR,
        "status": {"enum": ["reproduced", "differs", "unreplayable"]},
        "differences": _STRINGS,
    },
    extra=True,
)
_DIAGNOSTIC = _object(
    {
        "code": _STR,
        "severity": _STR,
        "message": _STR,
        "file": _STR,
        "line": {"type": ["integer", "null"]},
        "rule": _NULL_STR,
        "field": _NULL_STR,
        "hint": _NULL_STR,
    },
    extra=True,
)
_DUE_ITEM = _object(
    {
        "case": _STR,
        "family": _STR,
        "rule": _STR,
        "finding": _STR,
        "verdict": _STR,
        "due_on": _DATE,
        "days_overdue": _INT,
        "days_left": _INT,
        "reference": _STR,
        "what_to_do": _STR,
    }
)
_COUNTS = {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": _INT}}
_AUDIT_REPORT = {
    "ok": _BOOL,
    "cases": _INT,
    "decisions": _INT,
    "digest": _STR,
    "digest_matches": {"type": ["boolean", "null"]},
    "families": _COUNTS,
    "broken_chains": _array(
        _object({"case": _STR, "first_broken_event": {"type": ["integer", "null"]}, "reason": _NULL_STR})
    ),
    "not_reproduced": _array(_REPLAY_RESULT),
    "log": {"type": ["object", "null"]},
    "since": {},
    "replayed": _BOOL,
}
_AUDIT_REQUIRED = [k for k in _AUDIT_REPORT if k not in ("log", "since")]
_CHANGE = _object(
    {
        "case": _STR,
        "event": _INT,
        "family": _STR,
        "as_of": _DATE,
        "recorded": _object({"outcome": _OUTCOME, "rules": _STRINGS}),
        "now": _object({"outcome": _OUTCOME, "rules": _STRINGS}),
    },
    extra=True,
)
_IMPACT = {"families": _COUNTS, "changes": _array(_CHANGE), "not_decidable": _STRINGS}
_WRITTEN = _object({"written": _STRINGS})
_FIRED = _object({"rule_id": _STR, "reason": _NULL_STR}, required=["rule_id"], extra=True)
_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_SIGNER_KEY = {"type": "string", "pattern": r"^PRIVATE\+KEY\+[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$"}
_VERIFIER_KEY = {"type": "string", "pattern": r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$"}
_DECISION_SUMMARY = _object(
    {
        "family": _STR,
        "version": _STR,
        "status": _STR,
        "outcome": _OUTCOME,
        "rules": _STRINGS,
        "event": _INT,
        "as_of": {"type": ["string", "null"]},
    }
)

CLI_SCHEMAS: dict[str, dict[str, Any]] = {
    "error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "pattern": "^[a-z_]+$"},
                    "message": _STR,
                    "exit_code": {"enum": [2, 3, 4, 130]},
                    "details": _ANY_OBJECT,
                },
                required=["code", "message", "exit_code"],
            )
        }
    ),
    "demo": _object(
        {
            "store": _STR,
            "cases": _INT,
            "decisions": _INT,
            "reproduced": _INT,
            "differs": _INT,
            "unreplayable": _INT,
            "seconds": {"type": "number"},
            "outcomes": {"type": "object", "additionalProperties": _INT},
            "not_decided": _array(
                _object({"case": _STR, "family": _STR, "code": _STR, "reason": _STR, "file": _NULL_STR})
            ),
            "not_reproduced": _array(_REPLAY_RESULT),
            "due": _object(
                {"as_of": {"type": ["string", "null"]}, "within": _INT, "items": _array(_DUE_ITEM)}
            ),
        }
    ),
    "key": {
        "oneOf": [
            _object({"key": _STR, "variable": _STR}),
            _object({"name": _STR, "signer": _SIGNER_KEY, "verifier": _VERIFIER_KEY, "written": _STRINGS}),
        ]
    },
    "replay": _object(
        {"cases": _INT, "decisions": _INT, "reproduced": _INT, "results": _array(_REPLAY_RESULT)}
    ),
    "check": _object(
        {
            "ok": _BOOL,
            "root": _NULL_STR,
            "files": {"type": ["integer", "null"]},
            "families": {
                "type": "object",
                "additionalProperties": _array(
                    _object(
                        {
                            "version": _STR,
                            "effective_from": _DATE,
                            "effective_until": {"type": ["string", "null"]},
                        }
                    )
                ),
            },
            "invariants": {
                "oneOf": [
                    {"type": "null"},
                    _object({"searched": _INT, "examples_each": _INT, "broken": _INT}),
                ]
            },
            "examples": {"oneOf": [{"type": "null"}, _object({"checked": _INT, "problems": _INT})]},
            "diagnostics": _array(_DIAGNOSTIC),
        }
    ),
    "test": _object(
        {
            "ok": _BOOL,
            "root": _STR,
            "examples": _INT,
            "passed": _INT,
            "failed": _INT,
            "failures": _array(_object({"file": _STR, "example": _STR, "at": _DATE, "problems": _STRINGS})),
            "coverage": _object(
                {
                    "covered": _INT,
                    "total": _INT,
                    "uncovered": {"type": "object", "additionalProperties": _STRINGS},
                },
                extra=True,
            ),
        }
    ),
    "schema": _WRITTEN,
    "handbook": _WRITTEN,
    "diff": _object({"changes": _STRINGS, "impact": {"oneOf": [{"type": "null"}, _object(_IMPACT)]}}),
    "publish": _object(
        {
            "ok": _BOOL,
            "versions": _array(
                _object(
                    {"family": _STR, "version": _STR, "result": _STR, "code": _STR, "message": _STR},
                    required=["family", "version", "result"],
                )
            ),
        }
    ),
    "rates": _object({"yaml": _STR, "from": _DATE, "until": _DATE}),
    # the audit documents are the audit layer's reports, which grow (checkpoints, logs): extensible
    "audit-verify": _object(
        {**_AUDIT_REPORT, "anchored": _BOOL, "html": _NULL_STR, "per_case": _STRINGS, "written": _STR},
        required=sorted([*_AUDIT_REQUIRED, "anchored", "html"]),
        extra=True,
    ),
    "audit-checkpoint": _object(
        {
            "written": _STR,
            "leaves": _NULL_STR,
            "heads": _NULL_STR,
            "origin": _STR,
            "size": _INT,
            "root": _HEX64,
            "signed_by": _NULL_STR,
            "checkpoint": _STR,
        }
    ),
    "audit-merge": _object(
        {**_AUDIT_REPORT, "anchored": _BOOL, "partials": _STRINGS},
        required=sorted([*_AUDIT_REQUIRED, "anchored", "partials"]),
        extra=True,
    ),
    "audit-migrate": _object(
        {
            "status": {"enum": ["migrated", "already built"]},
            "records": _INT,
            "chains_checked": _INT,
            "root": _HEX64,
        }
    ),
    "audit-digest": _object(
        {"digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "written": _NULL_STR}
    ),
    "audit-case": _object(
        {
            "case": _STR,
            "known": _BOOL,
            "event": {"type": ["integer", "null"]},
            "as_of": {"type": ["string", "null"]},
            "known_at": {"type": ["string", "null"]},
            "version": {"type": ["integer", "null"]},
            "decisions": _array(
                _object(
                    {
                        "event": _INT,
                        "family": _STR,
                        "version": _STR,
                        "as_of": _DATE,
                        "status": _STR,
                        "outcome": _OUTCOME,
                        "fired": _array(_FIRED),
                        "facts": _ANY_OBJECT,
                    }
                )
            ),
        }
    ),
    "audit-what-if": _object({**_IMPACT, "html": _NULL_STR}, extra=True),
    "audit-due": _object(
        {
            "ok": _BOOL,
            "as_of": _DATE,
            "within": _INT,
            "kept_in_store": _BOOL,
            "position": _INT,
            "store_position": _INT,
            "caught_up": _INT,
            "library_matches": _BOOL,
            "listed": _INT,
            "expected": _INT,
            "missing": _array(_DUE_ITEM),
            "unexpected": _array(_DUE_ITEM),
            "problems": _STRINGS,
        }
    ),
    "audit-corrections": _object(
        {
            "cases": {"type": ["array", "null"], "items": _STR},
            "changed": _array(
                _object(
                    {
                        "case": _STR,
                        "event": _INT,
                        "family": _STR,
                        "as_of": _DATE,
                        "version_read": _INT,
                        "recorded": _OUTCOME,
                        "then": _object({"outcome": _OUTCOME, "rules": _STRINGS, "text": _STR}),
                        "corrected": _object({"outcome": _OUTCOME, "rules": _STRINGS, "text": _STR}),
                        "corrections": _array(
                            _object(
                                {
                                    "event": _INT,
                                    "type": _STR,
                                    "happened_on": {"type": ["string", "null"]},
                                    "recorded_at": _TIMESTAMP,
                                }
                            )
                        ),
                    }
                )
            ),
            "corrected_unchanged": _INT,
            "without_corrections": _INT,
            "not_decidable": _STRINGS,
        }
    ),
    "audit-bundle": _object(
        {
            "written": _STR,
            "cases": _STRINGS,
            "bytes": _INT,
            "checkpoint": _NULL_STR,
            "size": _INT,
            "root": _HEX64,
        }
    ),
    "audit-verify-bundle": _object(
        {
            **_AUDIT_REPORT,
            "verified": _BOOL,
            "anchored": _BOOL,
            "verdict": _STR,
            "bundle_problems": _STRINGS,
        },
        required=sorted([*_AUDIT_REQUIRED, "verified", "anchored", "verdict", "bundle_problems"]),
        extra=True,
    ),
    "cases": _object(
        {
            "cases": _array(
                _object(
                    {
                        "case": _STR,
                        "opened_on": {"type": ["string", "null"]},
                        "events": _INT,
                        "last_event": _object(
                            {
                                "event": _INT,
                                "type": _STR,
                                "business_date": {"type": ["string", "null"]},
                                "recorded_at": _TIMESTAMP,
                            }
                        ),
                        "decisions": _array(_DECISION_SUMMARY),
                    }
                )
            )
        }
    ),
    "case-show": _object(
        {
            "case": _STR,
            "events": _array(
                _object(
                    {
                        "event": _INT,
                        "type": _STR,
                        "business_date": {"type": ["string", "null"]},
                        "business_date_field": _NULL_STR,
                        "recorded_at": _TIMESTAMP,
                        "payload": _ANY_OBJECT,
                        "decision": {"oneOf": [{"type": "null"}, _ANY_OBJECT]},
                    }
                )
            ),
        }
    ),
    "decide": _object(
        {
            "case": _STR,
            "family": _STR,
            "version": _STR,
            "as_of": _DATE,
            "recorded": _BOOL,
            "event": {"type": ["integer", "null"]},
            "status": _STR,
            "outcome": _OUTCOME,
            "fired": _array(_FIRED),
            "facts": _ANY_OBJECT,
            "explanation": _STR,
        }
    ),
    "import": _object(
        {
            "ok": _BOOL,
            "stored": _BOOL,
            "cases": _INT,
            "events": _INT,
            "decisions": _INT,
            "undecided": _array(_object({"case": _STR, "family": _STR, "code": _STR})),
            "failed": _array(_object({"case": _STR, "code": _STR, "message": _STR})),
        }
    ),
    "due": _object(
        {
            "as_of": _DATE,
            "within": _INT,
            "rebuilt": _BOOL,
            "rebuild_reason": _NULL_STR,
            "records_read": _INT,
            "cases_worked_out": _INT,
            "position": _INT,
            "kept_in_store": _BOOL,
            "note": _NULL_STR,
            "overdue": _INT,
            "coming": _INT,
            "items": _array(_DUE_ITEM),
        }
    ),
    "facts": _object(
        {
            "family": _STR,
            "version": _STR,
            "facts": _array(
                _object(
                    {
                        "name": _STR,
                        "type": _STR,
                        "from": {"enum": ["history", "derived", "caller"]},
                        "source": _NULL_STR,
                        "inputs": _STRINGS,
                        "required": _BOOL,
                        "default": {"type": ["boolean", "integer", "string", "null"]},
                        "values": {"type": ["array", "null"], "items": _STR},
                        "description": _STR,
                    }
                )
            ),
        }
    ),
}


def schema_name(command: str) -> str:
    """The file of a command's schema: ``audit verify`` -> ``audit-verify.schema.json``."""
    return f"{command.replace(' ', '-')}.schema.json"


def cli_json_schemas() -> dict[str, dict[str, Any]]:
    """Every schema, complete with ``$schema`` and ``title``, by file name."""
    schemas = {}
    for command, body in CLI_SCHEMAS.items():
        name = schema_name(command)
        title = "error document" if command == "error" else f"vrrules {command.replace('-', ' ', 1)} --json"
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": title,
            **body,
        }
    return schemas


def write_cli_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in cli_json_schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
