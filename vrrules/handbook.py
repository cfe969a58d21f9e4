"""The policy handbook: every family, rule, parameter table and reference, readable without YAML.

A reviewer checks the policy against its sources here. The Markdown is the handbook (it
reads well on a code host too); the HTML is that Markdown rendered by markdown-it-py (tables
on) into a jinja2 page with a table of contents, never Markdown shown as text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from vrrules._pages import render
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.model import (
    AllOf,
    AnyOf,
    Comparison,
    FamilySpec,
    NotOf,
    ParamRef,
    Reference,
    Rule,
)
from vrrules.policies.wording import outcome_text, value_text

__all__ = ["condition_lines", "condition_text", "handbook_html", "handbook_markdown"]

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
    "count_gte": "has at least",
    "count_lte": "has at most",
}


def _operand(value: Any, markdown: bool, spec: FamilySpec | None) -> str:
    if isinstance(value, ParamRef):
        name = f"*{value.param}*" if markdown else value.param
        shown = _single_value(spec, value.param)
        return f"{name} ({shown})" if shown is not None else name
    if isinstance(value, list):
        return ", ".join(_operand(v, markdown, spec) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`" if markdown else str(value)


def _single_value(spec: FamilySpec | None, name: str) -> str | None:
    """A parameter's value in words when the version gives it one value only."""
    if spec is None or name not in spec.parameters:
        return None
    param = spec.parameters[name]
    values = [v for v in param.values.values() if v is not None]
    if len(values) != 1 or len(param.values) != 1:
        return None
    if isinstance(values[0], list):
        return None  # a code list: named, its codes are in the parameter table
    return value_text(values[0], param.type, param.unit)


def _comparison(condition: Comparison, markdown: bool, spec: FamilySpec | None) -> str:
    fact = f"`{condition.fact}`" if markdown else condition.fact
    if condition.operator == "present":
        return f"{fact} is {'known' if condition.present else 'unknown'}"
    if condition.operator.startswith("count_"):
        count = condition.operand
        if isinstance(count, ParamRef):
            name = f"*{count.param}*" if markdown else count.param
            param = spec.parameters.get(count.param) if spec is not None else None
            values = list(param.values.values()) if param is not None else []
            shown = f"{name} ({values[0]})" if len(values) == 1 and values[0] is not None else name
        else:
            shown = str(count)
        one = count == 1
        return f"{fact} {_WORDS[condition.operator]} {shown} {'entry' if one else 'entries'}"
    operand = _operand(condition.operand, markdown, spec)
    return f"{fact} {_WORDS[condition.operator]} {operand}"


def condition_text(condition: Any, *, markdown: bool = False, spec: FamilySpec | None = None) -> str:
    """A condition on one line in words, e.g. ``all of: client_groups has at least 1 entry;
    obstacles has at least multi_layered_min_domains entries``.

    With ``markdown``, facts and codes are code spans and parameters are in italics; with the
    family's ``spec``, a parameter with a single value shows it in brackets.
    """
    if isinstance(condition, AllOf | AnyOf):
        items = condition.all if isinstance(condition, AllOf) else condition.any
        word = "all of" if isinstance(condition, AllOf) else "any of"
        inner = "; ".join(
            f"({condition_text(c, markdown=markdown, spec=spec)})"
            if isinstance(c, AllOf | AnyOf)
            else condition_text(c, markdown=markdown, spec=spec)
            for c in items
        )
        return f"{word}: {inner}"
    if isinstance(condition, NotOf):
        return f"not ({condition_text(condition.not_, markdown=markdown, spec=spec)})"
    assert isinstance(condition, Comparison)
    return _comparison(condition, markdown, spec)


def condition_lines(condition: Any, spec: FamilySpec | None = None, depth: int = 0) -> list[str]:
    """A condition as a nested Markdown list: one line per test, groups indented beneath
    "all of these hold" or "any of these holds"."""
    pad = "  " * depth
    if isinstance(condition, AllOf | AnyOf):
        items = condition.all if isinstance(condition, AllOf) else condition.any
        head = "all of these hold:" if isinstance(condition, AllOf) else "any of these holds:"
        lines = [f"{pad}- {head}"]
        for item in items:
            lines += condition_lines(item, spec, depth + 1)
        return lines
    if isinstance(condition, NotOf):
        inner = condition.not_
        if isinstance(inner, Comparison):
            return [f"{pad}- not: {_comparison(inner, True, spec)}"]
        return [f"{pad}- none of this holds:", *condition_lines(inner, spec, depth + 1)]
    assert isinstance(condition, Comparison)
    return [f"{pad}- {_comparison(condition, True, spec)}"]


def _reference(ref: Reference) -> str:
    parts = [ref.document, ref.section]
    if ref.seed:
        parts.append(f"source file {ref.seed}")
    if ref.url:
        parts.append(f"<{ref.url}>")
    if ref.note:
        parts.append(ref.note)
    return "; ".join(_cell(p) for p in parts)


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell (or a line): pipes escaped, no line breaks."""
    return re.sub(r"\s+", " ", str(text)).replace("|", "\\|").strip()


HIT_POLICY_WORDS = {
    "first": "the first matching rule decides",
    "collect": "every matching rule reports",
    "unique": "at most one rule can match (checked)",
    "any": "rules that match together agree (checked)",
}


def _parameter_rows(spec: FamilySpec) -> list[str]:
    rows = [
        "| parameter | value | from | until | source |",
        "|---|---|---|---|---|",
    ]
    for name, param in spec.parameters.items():
        described = f"`{name}`: {_cell(param.description)}"
        if not param.values:
            rows.append(
                f"| {described} | unpublished: {_cell(param.unpublished)} | - | - | "
                f"{_reference(param.reference)} |"
            )
            continue
        days = list(param.values)
        for index, when in enumerate(days):
            value = param.values[when]
            shown = (
                "no published value" if value is None else _cell(value_text(value, param.type, param.unit))
            )
            last = index + 1 == len(days)
            until = "open-ended" if last else (days[index + 1] - timedelta(days=1)).isoformat()
            rows.append(
                f"| {described if index == 0 else ''} | {shown} | {when.isoformat()} | {until} | "
                f"{_reference(param.reference) if index == 0 else ''} |"
            )
    return rows


def _when(condition: Any, spec: FamilySpec) -> list[str]:
    """A rule's condition under "When ...": a top-level group's items listed directly."""
    if isinstance(condition, AllOf | AnyOf):
        items = condition.all if isinstance(condition, AllOf) else condition.any
        head = "When all of these hold:" if isinstance(condition, AllOf) else "When any of these holds:"
        return [head, "", *(line for item in items for line in condition_lines(item, spec))]
    return ["When:", "", *condition_lines(condition, spec)]


def _months(months: list[int] | None) -> str:
    if not months:
        return "all year"
    return ", ".join(calendar.month_abbr[m] for m in months)


def _rule_outcome(spec: FamilySpec, rule: Rule) -> str:
    """A rule's outcome in words: parameters with a single value shown by it, others by name."""
    values: dict[str, Any] = {}
    for key, value in rule.outcome.items():
        if isinstance(value, ParamRef) and value.param in spec.parameters:
            param = spec.parameters[value.param]
            single = [v for v in param.values.values() if v is not None]
            values[key] = single[0] if len(param.values) == 1 and single else value
        else:
            values[key] = value
    return outcome_text(values, spec, rule_id=rule.id)


def _family(spec: FamilySpec) -> list[str]:
    until = f"to {spec.effective_until.isoformat()}" if spec.effective_until else "open-ended"
    policy = HIT_POLICY_WORDS[spec.hit_policy]
    if spec.always_decides:
        policy += "; some rule applies to every case (checked)"
    lines = [
        f"## {spec.title} ({spec.family} {spec.version})",
        "",
        f"In force from {spec.effective_from.isoformat()}, {until}; {policy}.",
        "",
        *([_cell(spec.summary), ""] if spec.summary else []),
        f"Source: {_reference(spec.reference)}",
        "",
    ]
    if spec.readings:
        lines += ["### Readings", ""]
        lines += [f"- *{r.id}*: {_cell(r.text)}" for r in spec.readings]
        lines.append("")
    if spec.parameters:
        lines += ["### Parameters", "", *_parameter_rows(spec), ""]
    for table_name, table in spec.tables.items():
        lines += [f"### Table {table_name}", "", _cell(table.description), ""]
        for period in table.periods:
            lines += [
                f"From {period.from_.isoformat()} to {period.until.isoformat()} "
                f"({_reference(period.reference)}):",
                "",
                "| location | lodging | meals | months |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {_cell(r.location)} | {value_text(r.lodging, 'money')} | "
                f"{value_text(r.meals, 'money')} | {_months(r.months)} |"
                for r in period.rows
            ]
            lines.append("")
    lines += ["### Rules", ""]
    for number, rule in enumerate(spec.rules, start=1):
        lines += [
            f"#### {number}. {rule.id}",
            "",
            *_when(rule.when, spec),
            "",
            f"Then: {_cell(_rule_outcome(spec, rule))}.",
            "",
            f"Why: {_cell(rule.reason)}",
            "",
            *([f"To change it: {_cell(rule.fix)}", ""] if rule.fix else []),
            f"Source: {_reference(rule.reference)}",
            "",
        ]
    if spec.no_rule_outcome:
        lines += [f"When no rule applies: {_cell(outcome_text(spec.no_rule_outcome, spec))}.", ""]
    if spec.invariants:
        lines += ["### Invariants", ""]
        lines += [f"- *{i.id}*: {_cell(i.description)}" for i in spec.invariants]
        lines.append("")
    return lines


def slug(text: str, taken: dict[str, int]) -> str:
    """A heading's anchor as code hosts make it (lower case, punctuation dropped, spaces as
    hyphens), made unique with ``-1``, ``-2`` ... in document order."""
    base = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
    count = taken.get(base, 0)
    taken[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


_TITLE = "vrrules policy handbook"


def _specs(library: PolicyLibrary) -> Iterable[FamilySpec]:
    for family in library.families():
        for compiled in library.versions(family):
            yield compiled.spec


def _contents(body: Sequence[str]) -> list[str]:
    """The table of contents: a link to each family version, anchors as the HTML gives them."""
    taken: dict[str, int] = {}
    slug(_TITLE, taken)
    slug("Contents", taken)
    lines = ["## Contents", ""]
    for line in body:
        match = re.match(r"^(#{2,6}) (.*)$", line)
        if match:
            anchor = slug(match.group(2), taken)
            if len(match.group(1)) == 2:
                lines.append(f"- [{match.group(2)}](#{anchor})")
    return [*lines, ""]


def handbook_markdown(library: PolicyLibrary) -> str:
    """The whole handbook as Markdown: a table of contents, then each family version with its
    readings, parameter tables (value, from, until, source), rules as conditions in words,
    and invariants."""
    body: list[str] = []
    for spec in _specs(library):
        body += _family(spec)
    head = [
        f"# {_TITLE}",
        "",
        "Generated from the specs; every rule cites its source. Dates are ISO (YYYY-MM-DD); "
        "a value's *until* is the last day it is in force.",
        "",
    ]
    return "\n".join([*head, *_contents(body), *body]).rstrip() + "\n"


def _markdown() -> MarkdownIt:
    """CommonMark with tables, raw HTML off (spec text is shown, never interpreted), and
    heading ids matching the table of contents' links."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    taken: dict[str, int] = {}

    def heading_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("id", slug(tokens[idx + 1].content, taken))
        rendered: str = renderer.renderToken(tokens, idx, options, env)
        return rendered

    md.add_render_rule("heading_open", heading_open)
    return md


def handbook_html(library: PolicyLibrary) -> str:
    """The handbook as one HTML page: the Markdown rendered (tables, lists, links), in the
    package's jinja2 template."""
    body = _markdown().render(handbook_markdown(library))
    return render("handbook.html.j2", title=_TITLE, body=Markup(body))
