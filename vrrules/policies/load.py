"""The load stage: a spec's text becomes a typed :class:`FamilySpec`, or located diagnostics.

Strict YAML first (safe tags only, no duplicate keys, every value's line kept), then the
pydantic models. Values are typed here, once, by their declared type: money parameters are
``Decimal``, day counts ``int``, code lists lists of codes, and every date a ``date``, each
through the one parser in :mod:`vrrules.policies.values`. Later stages never parse text.

Loading needs nothing but the text, so replaying a stored release starts here too.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from vrrules.errors import Diagnostic
from vrrules.policies.model import FamilySpec
from vrrules.policies.yamlsource import YamlDocument, read_yaml

__all__ = ["LoadedSpec", "SpecSource", "load", "parse_yaml"]


@dataclass(frozen=True)
class SpecSource:
    """The exact text of a spec and where it came from; its hash identifies the release."""

    text: str
    file: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadedSpec:
    """A typed spec with the document it was read from (for the lines of later diagnostics)."""

    spec: FamilySpec
    document: YamlDocument
    source: SpecSource


def parse_yaml(
    source: SpecSource, *, plain_only: bool = True
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    document, diagnostics = read_yaml(source.text, source.file, plain_only=plain_only)
    if document is not None and not isinstance(document.data, dict):
        diagnostics.append(
            Diagnostic(
                code="spec_not_mapping",
                message="expected a mapping with family, version, rules…, "
                f"got {type(document.data).__name__}",
                file=source.file,
                line=1,
                hint="start from an existing spec under specs/",
            )
        )
        return None, diagnostics
    return document, diagnostics


_PYDANTIC_CODES = {
    "missing": "spec_field_missing",
    "extra_forbidden": "spec_field_unknown",
}


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _yaml_path(raw: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Map a pydantic error location onto the YAML path, dropping union tags on the way."""
    path: list[str | int] = []
    node = raw
    for part in loc:
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue
        found, child = _child(node, part)
        if found:
            path.append(part)
            node = child
        elif isinstance(node, dict) and isinstance(part, str) and path[-1:] != [part]:
            # a missing or unknown key: name it, it is where the problem is
            path.append(part)
            node = None
    return tuple(path)


def _rule_id_at(raw: Any, path: tuple[str | int, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = raw.get("rules") if isinstance(raw, dict) else None
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rule_id = rules[path[1]].get("id")
            return str(rule_id) if rule_id is not None else f"#{path[1] + 1}"
    return None


def _hint_for(code: str, field_name: str | None) -> str:
    hints = {
        "spec_field_missing": f"add '{field_name}'",
        "spec_field_unknown": f"remove '{field_name}' or correct its spelling (see docs/spec-format.md)",
        "date_not_iso": "write the date as YYYY-MM-DD, e.g. 2025-07-01",
        "money_invalid": 'quote the amount with at most two decimals, e.g. "1234.50"',
        "condition_operator_count": "give one test per condition; combine tests with all/any",
        "parameter_value_invalid": "write the value in the parameter's type",
        "condition_value_mismatch": "write a value the operator takes (docs/spec-format.md lists them)",
    }
    return hints.get(code, "correct the value to the expected form")


def _schema_diagnostics(error: ValidationError, document: YamlDocument, file: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[str, tuple[str | int, ...]]] = set()
    for item in error.errors(include_url=False):
        code = _PYDANTIC_CODES.get(item["type"], item["type"])
        if not code.startswith(
            (
                "spec_",
                "date_",
                "money_",
                "condition_",
                "fact_",
                "name_",
                "parameter_",
                "invariant_",
                "derivation_",
            )
        ):
            code = "spec_field_invalid"
        path = _yaml_path(document.data, tuple(item["loc"]))
        if (code, path) in seen:
            continue  # a union reports one mistake once per alternative
        seen.add((code, path))
        dotted = ".".join(str(p) for p in path) or None
        got = item.get("input")
        message = item["msg"]
        if item["type"] == "missing":
            message = f"expected a value for '{path[-1] if path else '?'}', got nothing"
        elif item["type"] == "extra_forbidden":
            message = f"expected only known fields here, got the unknown field '{path[-1]}'"
        elif code == "spec_field_invalid":
            message = f"{message}; got {_short(got)}"
        out.append(
            Diagnostic(
                code=code,
                message=message,
                file=file,
                line=document.line_of(path),
                rule=_rule_id_at(document.data, path),
                field=dotted,
                hint=_hint_for(code, str(path[-1]) if path else None),
            )
        )
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load(source: SpecSource, *, plain_only: bool = True) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    """Read and type one spec; ``None`` with every diagnostic when it cannot be typed.

    ``plain_only=False`` (a stored release replayed) takes the explicit core tags, anchors and
    aliases to plain values that specs loaded with before they were refused."""
    document, diagnostics = parse_yaml(source, plain_only=plain_only)
    if document is None or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    try:
        spec = FamilySpec.model_validate(document.data)
    except ValidationError as error:
        return None, [*diagnostics, *_schema_diagnostics(error, document, source.file)]
    return LoadedSpec(spec, document, source), diagnostics
