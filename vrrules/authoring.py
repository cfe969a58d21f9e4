"""Tools for policy authors: run the worked examples with rule coverage, and the JSON Schema.

``run_examples`` is what ``vrrules test`` prints; the pytest plugin runs the same examples
one test each. ``json_schemas`` is what ``vrrules schema`` writes for YAML-aware editors.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.examples import ExampleFile, ExampleResult, load_examples, run_example
from vrrules.policies.library import PolicyLibrary, is_example_file
from vrrules.policies.model import FamilySpec

__all__ = ["ExampleRun", "json_schemas", "run_examples"]


@dataclass
class ExampleRun:
    """Every example under a folder, run, with which rules they exercised."""

    results: list[tuple[Path, ExampleResult]] = field(default_factory=list)
    rules: dict[str, list[str]] = field(default_factory=dict)  # family -> every rule id, all versions
    fired: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def failed(self) -> list[tuple[Path, ExampleResult]]:
        return [(path, result) for path, result in self.results if not result.passed]

    def uncovered(self) -> dict[str, list[str]]:
        """Rules no passing example makes fire, by family."""
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
        return "\n".join(lines)


def run_examples(root: Path) -> ExampleRun:
    """Run every examples file under ``root`` against the specs beside it."""
    run = ExampleRun()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.yaml") if is_example_file(p))
    libraries: dict[Path, PolicyLibrary] = {}
    for path in files:
        folder = path.parent
        library = libraries.get(folder)
        if library is None:
            library = libraries[folder] = PolicyLibrary(folder, case_sources=CASE_SOURCES)
            for family in library.families():
                ids = run.rules.setdefault(family, [])
                for compiled in library.versions(family):
                    ids.extend(rule.id for rule in compiled.spec.rules if rule.id not in ids)
        examples: ExampleFile = load_examples(path)
        for example in examples.examples:
            result = run_example(library, examples.family, example)
            run.results.append((path, result))
            if result.passed and result.decision is not None:
                run.fired[examples.family].update(result.decision.fired_rule_ids)
    return run


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the spec and worked-example formats, by file name."""
    spec = FamilySpec.model_json_schema(by_alias=True, mode="validation")
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
