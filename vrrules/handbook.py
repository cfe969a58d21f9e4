"""The policy handbook: every family, rule, parameter table and reference, readable without YAML.

A reviewer checks the policy against its sources here. The Markdown is the handbook; the
HTML is the same text for a browser.
"""

from __future__ import annotations

import html
from typing import Any

from vrrules.policies.library import PolicyLibrary
from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Comparison,
    FamilySpec,
    NotOf,
    ParamRef,
    Reference,
)

__all__ = ["handbook_html", "handbook_markdown"]

_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is more than",
    "gte": "is at least",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "includes",
    "contains_any": "includes any of",
    "contains_all": "includes all of",
    "contains_none": "includes none of",
    "count_gte": "holds at least this many:",
    "count_lte": "holds at most this many:",
}


def _value(value: Any) -> str:
    if isinstance(value, ParamRef):
        return f"*{value.param}*"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return f"`{value}`"


def condition_text(condition: Any) -> str:
    """A condition in words, e.g. ``support_needed includes any of *tier2_activities*``."""
    if isinstance(condition, AllOf):
        return "all of (" + "; ".join(condition_text(c) for c in condition.all) + ")"
    if isinstance(condition, AnyOf):
        return "any of (" + "; ".join(condition_text(c) for c in condition.any) + ")"
    if isinstance(condition, NotOf):
        return "not (" + condition_text(condition.not_) + ")"
    assert isinstance(condition, Comparison)
    if condition.operator == "present":
        return f"{condition.fact} is {'known' if condition.present else 'unknown'}"
    return f"{condition.fact} {_WORDS[condition.operator]} {_value(condition.operand)}"


def _reference(ref: Reference) -> str:
    parts = [ref.document, ref.section]
    if ref.seed:
        parts.append(f"source file {ref.seed}")
    if ref.url:
        parts.append(ref.url)
    if ref.note:
        parts.append(ref.note)
    return "; ".join(parts)


HIT_POLICY_WORDS = {
    "first": "the first matching rule decides",
    "collect": "every matching rule reports",
    "unique": "at most one rule can match (checked)",
    "any": "rules that match together agree (checked)",
}


def _family(spec: FamilySpec) -> list[str]:
    until = spec.effective_until.isoformat() if spec.effective_until else "open-ended"
    policy = HIT_POLICY_WORDS[spec.hit_policy]
    if spec.always_decides:
        policy += "; some rule applies to every case (checked)"
    lines = [
        f"## {spec.title} (`{spec.family}` {spec.version})",
        "",
        f"In force {spec.effective_from.isoformat()} to {until}; {policy}.",
        "",
        spec.summary or "",
        "",
        f"Source: {_reference(spec.reference)}",
        "",
    ]
    if spec.readings:
        lines += ["### Readings", ""]
        lines += [f"- **{r.id}**: {r.text}" for r in spec.readings]
        lines.append("")
    if spec.parameters:
        lines += [
            "### Parameters",
            "",
            "| parameter | from | value | unit | source |",
            "|---|---|---|---|---|",
        ]
        for name, param in spec.parameters.items():
            if not param.values:
                lines.append(
                    f"| {name} | - | unpublished: {param.unpublished} | {param.unit or ''} | "
                    f"{_reference(param.reference)} |"
                )
            for when, value in param.values.items():
                shown = "no published value" if value is None else _value(value)
                lines.append(
                    f"| {name} | {when.isoformat()} | {shown} | {param.unit or ''} | "
                    f"{_reference(param.reference)} |"
                )
        lines.append("")
    for table_name, table in spec.tables.items():
        lines += [f"### Table {table_name}", "", table.description, ""]
        for period in table.periods:
            lines += [
                f"{period.from_.isoformat()} to {period.until.isoformat()} ({_reference(period.reference)})",
                "",
                "| location | lodging | meals | months |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {r.location} | {r.lodging} | {r.meals} | {', '.join(map(str, r.months or [])) or 'all'} |"
                for r in period.rows
            ]
            lines.append("")
    lines += ["### Rules", ""]
    for number, rule in enumerate(spec.rules, start=1):
        outcome = ", ".join(
            f"{k} = {_value(v) if isinstance(v, ParamRef) else v}" for k, v in rule.outcome.items()
        )
        lines += [
            f"{number}. **{rule.id}**: when {condition_text(rule.when)}, then {outcome}.",
            f"   {rule.reason}",
            *([f"   To change it: {rule.fix}"] if rule.fix else []),
            f"   Source: {_reference(rule.reference)}",
        ]
    lines.append("")
    if spec.invariants:
        lines += ["### Invariants", ""]
        lines += [f"- **{i.id}**: {i.description}" for i in spec.invariants]
        lines.append("")
    return lines


def handbook_markdown(library: PolicyLibrary) -> str:
    lines = ["# vrrules policy handbook", "", "Generated from the specs; every rule cites its source.", ""]
    for family in library.families():
        for compiled in library.versions(family):
            lines += _family(compiled.spec)
    return "\n".join(lines)


def handbook_html(library: PolicyLibrary) -> str:
    """The handbook's text in a plain HTML page (preformatted, so nothing is lost)."""
    body = html.escape(handbook_markdown(library))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>vrrules policy handbook</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem}"
        "pre{white-space:pre-wrap;font-family:inherit}</style></head>"
        f"<body><pre>{body}</pre></body></html>"
    )
