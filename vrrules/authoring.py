"""Tools for policy authors: check specs with the lint, run the worked examples with rule
coverage, and the JSON Schema.

``check_library`` is what ``vrrules check`` loads: every stage that finds problems (load,
check and lint), which a library loaded to decide never runs in full; ``check_examples``
validates the worked examples beside the specs against them (facts declared, rule ids
that exist, error codes vrrules raises), and :mod:`vrrules.policies.invariants` searches
for a decision that breaks a declared invariant. ``run_examples`` is what ``vrrules test``
prints, with rule coverage per version; the pytest plugin runs the same examples one test
each. ``json_schemas`` is what ``vrrules schema`` writes for YAML-aware editors.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from vrrules import errors
from vrrules.errors import Diagnostic, FactsInvalidError, SpecInvalidError, VrrulesError
from vrrules.policies.caseschema import CASE_SOURCES
from vrrules.policies.check import TEMPLATE_MARKERS
from vrrules.policies.examples import ExampleFile, ExampleResult, load_examples, run_example
from vrrules.policies.facts import recorded_facts
from vrrules.policies.family import CompiledFamily
from vrrules.policies.library import PolicyLibrary, is_example_file
from vrrules.policies.lint import example_firing
from vrrules.policies.model import DERIVATIONS, IDENT, FamilySpec
from vrrules.policies.resolve import parameter_periods
from vrrules.policies.specfiles import source_entries
from vrrules.policies.yamlsource import read_yaml

__all__ = [
    "ExampleRun",
    "check_examples",
    "check_library",
    "example_files",
    "json_schemas",
    "known_error_codes",
    "run_examples",
]


def check_library(
    path: Path | str | None = None, *, case_sources: Mapping[str, str] | None = None
) -> PolicyLibrary:
    """Every spec under ``path`` through load, check and lint (what ``vrrules check`` reports).

    Raises :class:`~vrrules.errors.SpecInvalidError` with every error; the returned library's
    ``warnings`` hold the rest, lint findings (``rule_never_fires``, ``lint_inconclusive``) included.
    """
    return PolicyLibrary(path, case_sources=case_sources, lint=True)


def known_error_codes() -> set[str]:
    """The codes a worked example may expect: those of the errors vrrules raises."""
    classes = [getattr(errors, name) for name in errors.__all__]
    return {c.code for c in classes if isinstance(c, type) and issubclass(c, VrrulesError)} - {
        VrrulesError.code
    }


def example_files(root: Path) -> list[Path]:
    """The worked-example files under ``root`` (``examples.yaml``, ``NAME.examples.yaml``)."""
    if root.is_file():
        return [root] if is_example_file(root) else []
    # as the library walks: hidden files and folders (.git/, a hidden examples.yaml) are not read
    return sorted(p for p in source_entries(root) if is_example_file(p))


def _versions_for(library: PolicyLibrary, family: str, on: date) -> list[CompiledFamily]:
    """The version an example dated ``on`` runs against, else (none in force) every version."""
    versions = library.versions(family)
    in_force = [v for v in versions if v.in_force_on(on)]
    return in_force or versions


def _value_refused(versions: list[CompiledFamily], name: str, value: Any, where: str) -> str | None:
    """Why every version declaring ``name`` refuses ``value`` as it (None: one takes it), checked
    as a decision checks the caller's facts."""
    problems = []
    for version in versions:
        decl = version.spec.facts.get(name)
        if decl is None or decl.derive is not None:
            continue
        try:
            recorded_facts({name: decl}, {name: value}, where)
        except FactsInvalidError as error:
            problems.append(error.message)
            continue
        return None
    return problems[0] if problems else None


def check_examples(library: PolicyLibrary, root: Path | None = None) -> tuple[int, list[Diagnostic]]:
    """Validate every worked-example file under ``root`` (default: the library's folder)
    against the specs: each given fact is declared by the family and has a value of its type
    (as a decision would check it: a code list of nested lists is refused), each ``fired:`` id is a
    rule of the version the example runs against, each ``expect_error`` is a code vrrules
    raises. Returns how many examples were read and a located diagnostic per problem."""
    found: list[Diagnostic] = []
    codes = known_error_codes()
    count = 0
    for path in example_files(root if root is not None else library.root):
        try:
            examples = load_examples(path)
        except SpecInvalidError as error:
            found.extend(error.diagnostics)
            continue
        document, _ = read_yaml(path.read_text(encoding="utf-8"), str(path))

        def line(*place: str | int) -> int | None:
            return document.line_of(place) if document is not None else None  # noqa: B023

        if examples.family not in library.families():
            found.append(
                Diagnostic(
                    code="example_family_unknown",
                    message=f"expected a family among {library.families()}, got {examples.family!r}",
                    file=str(path),
                    line=line("family"),
                    field="family",
                    hint="name the family of the specs beside this file",
                )
            )
            continue
        for index, example in enumerate(examples.examples):
            count += 1
            versions = _versions_for(library, examples.family, example.at)
            label = " or ".join(v.version for v in versions)
            declared = {name for v in versions for name in v.spec.facts}
            # an example that expects a refusal may give what the family does not declare
            for name in example.given if example.expect_error is None else ():
                if name not in declared:
                    found.append(
                        Diagnostic(
                            code="example_fact_unknown",
                            message=f"example {example.name!r}: expected a fact {examples.family} {label} "
                            f"declares ({', '.join(sorted(declared))}), got {name!r}",
                            file=str(path),
                            line=line("examples", index, "given", name),
                            field=f"examples.{index}.given.{name}",
                            hint="correct the fact's name, or declare the fact in the spec",
                        )
                    )
                    continue
                refused = _value_refused(versions, name, example.given[name], f"example {example.name!r}")
                if refused is not None:
                    found.append(
                        Diagnostic(
                            code="example_fact_invalid",
                            message=refused,
                            file=str(path),
                            line=line("examples", index, "given", name),
                            field=f"examples.{index}.given.{name}",
                            hint="give the fact a value of its declared type, or expect_error: facts_invalid",
                        )
                    )
            rules = {rule.id for v in versions for rule in v.spec.rules}
            fired = example.expect.fired if example.expect is not None else None
            for position, rule_id in enumerate(fired or []):
                if rule_id not in rules:
                    found.append(
                        Diagnostic(
                            code="example_rule_unknown",
                            message=f"example {example.name!r}: expected a rule id of {examples.family} "
                            f"{label} ({', '.join(sorted(rules))}), got {rule_id!r} under fired",
                            file=str(path),
                            line=line("examples", index, "expect", "fired", position),
                            rule=rule_id,
                            field=f"examples.{index}.expect.fired.{position}",
                            hint="correct the id to one of the rules the spec declares",
                        )
                    )
            if example.expect_error is not None and example.expect_error not in codes:
                found.append(
                    Diagnostic(
                        code="example_error_unknown",
                        message=f"example {example.name!r}: expected an error code vrrules raises "
                        f"({', '.join(sorted(codes))}), got {example.expect_error!r}",
                        file=str(path),
                        line=line("examples", index, "expect_error"),
                        field=f"examples.{index}.expect_error",
                        hint="use one of the codes in docs/errors.md",
                    )
                )
    return count, found


@dataclass
class ExampleRun:
    """Every example under a folder, run, with which rules they exercised."""

    results: list[tuple[Path, ExampleResult]] = field(default_factory=list)
    # coverage is per version, keyed "family version": a copied 2026.1 earns none of 2025.1's
    rules: dict[str, list[str]] = field(default_factory=dict)  # "family version" -> its rule ids
    fired: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # "family version" -> rule -> facts on which the rule would fire (the rule analysis), to write one
    suggestions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))

    @property
    def failed(self) -> list[tuple[Path, ExampleResult]]:
        return [(path, result) for path, result in self.results if not result.passed]

    def uncovered(self) -> dict[str, list[str]]:
        """Rules no passing example makes fire, by family and version (``"tiers 2025.1"``)."""
        return {
            family: missing
            for family, ids in sorted(self.rules.items())
            if (missing := [rule for rule in ids if rule not in self.fired[family]])
        }

    def report(self) -> str:
        lines = [f"{path}: {result.report()}" for path, result in self.failed]
        total = sum(len(ids) for ids in self.rules.values())
        covered = total - sum(len(ids) for ids in self.uncovered().values())
        lines.append(
            f"{len(self.results) - len(self.failed)} passed, {len(self.failed)} failed; "
            f"rule coverage {covered}/{total}"
        )
        for family, missing in self.uncovered().items():
            lines.append(f"  {family}: no example fires {', '.join(missing)}")
            for rule in missing:
                facts = self.suggestions[family].get(rule)
                if facts is not None:
                    lines.append(f"    {rule} fires on e.g. {json.dumps(facts, sort_keys=True)}")
        return "\n".join(lines)


def _suggest(into: dict[str, dict[str, Any]], spec: FamilySpec) -> None:
    for _, params in parameter_periods(spec):
        for index, rule in enumerate(spec.rules):
            if rule.id not in into:
                example = example_firing(spec, params, index)
                if example is not None:
                    into[rule.id] = example


def run_examples(root: Path) -> ExampleRun:
    """Run every examples file under ``root`` against the specs beside it."""
    run = ExampleRun()
    files = example_files(root) if not root.is_file() else [root]
    libraries: dict[Path, PolicyLibrary] = {}
    for path in files:
        folder = path.parent
        library = libraries.get(folder)
        if library is None:
            library = libraries[folder] = PolicyLibrary(folder, lint=True)
            for family in library.families():
                for compiled in library.versions(family):
                    key = f"{family} {compiled.version}"
                    ids = run.rules.setdefault(key, [])
                    ids.extend(rule.id for rule in compiled.spec.rules if rule.id not in ids)
                    _suggest(run.suggestions[key], compiled.spec)
        examples: ExampleFile = load_examples(path)
        for example in examples.examples:
            result = run_example(library, examples.family, example)
            run.results.append((path, result))
            if result.passed and result.decision is not None:
                decision = result.decision
                run.fired[f"{decision.family} {decision.version}"].update(decision.fired_rule_ids)
    return run


ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONEY_TEXT = r"^-?[0-9]+(\.[0-9]{1,2})?$"
# text that holds none of the template markers spec text refuses
NO_TEMPLATE = {"not": {"pattern": "|".join(re.escape(m) for m in TEMPLATE_MARKERS)}}
_DEFAULT_BY_TYPE = {
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "days": {"type": "integer"},
    "money": {"type": "string", "pattern": MONEY_TEXT},
    "date": {"type": "string", "pattern": ISO_DATE},
    "text": {"type": "string"},
    "enum": {"type": "string"},
}
_PARAM_VALUE_BY_TYPE = {
    "int": {"type": ["integer", "null"]},
    "days": {"type": ["integer", "null"]},
    "money": {"anyOf": [{"type": "string", "pattern": MONEY_TEXT}, {"type": "null"}]},
    "text": {"type": ["string", "null"]},
    "bool": {"type": ["boolean", "null"]},
    "codes": {"anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1}, {"type": "null"}]},
}


def _when(prop: str, value: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {prop: {"const": value}}, "required": [prop]}, "then": then}


def _tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """Add what pydantic's schema leaves to validators, where JSON Schema can say it.

    What crosses fields (a condition naming an undeclared fact, a value against its fact's
    type, overlapping periods, duplicate rule ids, the rule analysis) stays with `vrrules check`.
    """
    defs = schema["$defs"]
    props = schema["properties"]
    props["effective_from"]["pattern"] = ISO_DATE
    props["effective_until"] = {"anyOf": [{"type": "string", "pattern": ISO_DATE}, {"type": "null"}]}
    props["facts"]["propertyNames"] = {"pattern": IDENT}
    props["parameters"]["propertyNames"] = {"pattern": IDENT}
    date_sources = sorted(path for path, kind in CASE_SOURCES.items() if kind == "date")
    props["effective_date"]["items"] = {"enum": date_sources}
    # a first-hit (or unique/any) family has no findings to combine
    schema.setdefault("allOf", []).append(
        {"if": {"required": ["combine"]}, "then": {"properties": {"hit_policy": {"const": "collect"}}}}
    )
    for period in ("from", "until"):
        defs["TablePeriod"]["properties"][period]["pattern"] = ISO_DATE
    defs["Parameter"]["properties"]["values"]["propertyNames"] = {"pattern": ISO_DATE}
    defs["Parameter"]["anyOf"] = [
        {"required": ["values"], "properties": {"values": {"minProperties": 1}}},
        {"required": ["unpublished"], "properties": {"unpublished": {"type": "string", "minLength": 1}}},
    ]
    defs["Parameter"]["allOf"] = [
        _when("type", kind, {"properties": {"values": {"additionalProperties": value}}})
        for kind, value in _PARAM_VALUE_BY_TYPE.items()
    ]
    fact = defs["FactDecl"]
    fact["properties"]["source"] = {"anyOf": [{"enum": sorted(CASE_SOURCES)}, {"type": "null"}]}
    fact["allOf"] = [
        *(_when("type", kind, {"required": ["values"]}) for kind in ("enum", "set")),
        *(
            _when("type", kind, {"properties": {"default": value}})
            for kind, value in _DEFAULT_BY_TYPE.items()
        ),
        *(
            _when("source", path, {"properties": {"type": {"const": kind}}})
            for path, kind in CASE_SOURCES.items()
        ),
        {"not": {"required": ["source", "derive"]}},
    ]
    fact["properties"]["values"] = {
        "anyOf": [
            {"type": "array", "items": {"pattern": IDENT}, "minItems": 1, "uniqueItems": True},
            {"type": "null"},
        ]
    }
    # a comparison is the fact and exactly one operator; a derivation is exactly one operation
    defs["Comparison"].update(required=["fact"], minProperties=2, maxProperties=2)
    defs["Derivation"]["oneOf"] = [{"required": [operation]} for operation in DERIVATIONS]
    defs["Invariant"]["oneOf"] = [{"required": ["never"]}, {"required": ["never_finding"]}]
    rule = defs["Rule"]["properties"]
    rule["reason"] = {**rule["reason"], **NO_TEMPLATE}
    rule["fix"] = {"anyOf": [{"type": "string", **NO_TEMPLATE}, {"type": "null"}]}
    rule["outcome"]["additionalProperties"] = {
        "anyOf": [{"not": {"type": "string"}}, {"type": "string", **NO_TEMPLATE}],
        "allOf": [rule["outcome"]["additionalProperties"]],
    }
    return schema


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the spec and worked-example formats, by file name."""
    spec = _tighten(FamilySpec.model_json_schema(by_alias=True, mode="validation"))
    spec["title"] = "vrrules policy spec"
    examples = ExampleFile.model_json_schema(by_alias=True, mode="validation")
    examples["title"] = "vrrules worked examples"
    return {"vrrules-spec.schema.json": spec, "vrrules-examples.schema.json": examples}


def write_json_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
