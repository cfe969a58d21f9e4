"""What changed between two spec folders, rule by rule and value by value."""

from __future__ import annotations

from vrrules.handbook import condition_text
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.model import FamilySpec
from vrrules.policies.wording import change_text

__all__ = ["spec_diff"]


def _period(spec: FamilySpec) -> str:
    until = spec.effective_until.isoformat() if spec.effective_until else "open-ended"
    return f"{spec.effective_from.isoformat()} to {until}"


def _family_diff(old: FamilySpec, new: FamilySpec) -> list[str]:
    lines: list[str] = []
    if old.effective_from != new.effective_from or old.effective_until != new.effective_until:
        lines.append(
            f"  in force: was {_period(old)}, now {_period(new)}"
        )
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id in [r.id for r in old.rules if r.id not in new_rules]:
        lines.append(f"  rule removed: {rule_id}")
    for rule in new.rules:
        before = old_rules.get(rule.id)
        if before is None:
            lines.append(f"  rule added: {rule.id}: when {condition_text(rule.when)}")
            continue
        if before.when != rule.when:
            lines.append(
                f"  rule {rule.id}: condition {condition_text(before.when)} -> {condition_text(rule.when)}"
            )
        if before.outcome != rule.outcome:
            for key in [*before.outcome, *(k for k in rule.outcome if k not in before.outcome)]:
                was_out, now_out = before.outcome.get(key), rule.outcome.get(key)
                if was_out != now_out:
                    lines.append(f"  rule {rule.id}: outcome {key} {change_text(was_out, now_out)}")
        if before.reason != rule.reason:
            lines.append(f"  rule {rule.id}: reason changed")
        if before.reference != rule.reference:
            lines.append(f"  rule {rule.id}: reference changed")
    old_order = [r.id for r in old.rules if r.id in new_rules]
    new_order = [r.id for r in new.rules if r.id in old_rules]
    if old_order != new_order:
        lines.append(f"  rule order (priority): was {', '.join(old_order)}; now {', '.join(new_order)}")
    for name in sorted(set(old.parameters) | set(new.parameters)):
        before_param, after_param = old.parameters.get(name), new.parameters.get(name)
        if before_param is None:
            lines.append(f"  parameter added: {name}")
        elif after_param is None:
            lines.append(f"  parameter removed: {name}")
        else:
            kind, unit = after_param.type, after_param.unit
            for day in sorted(set(before_param.values) | set(after_param.values)):
                was, now = before_param.values.get(day), after_param.values.get(day)
                if was != now or (day in before_param.values) != (day in after_param.values):
                    lines.append(
                        f"  parameter {name} from {day.isoformat()}: {change_text(was, now, kind, unit)}"
                    )
    added = sorted(set(new.facts) - set(old.facts))
    removed = sorted(set(old.facts) - set(new.facts))
    if added:
        lines.append(f"  facts added: {', '.join(added)}")
    if removed:
        lines.append(f"  facts removed: {', '.join(removed)}")
    return lines


def spec_diff(old: PolicyLibrary, new: PolicyLibrary) -> list[str]:
    """Lines describing every change, by family and version."""
    lines: list[str] = []
    for family in sorted(set(old.families()) | set(new.families())):
        before = {c.version: c.spec for c in old.versions(family)}
        after = {c.version: c.spec for c in new.versions(family)}
        for version in sorted(set(before) | set(after)):
            if version not in after:
                lines.append(f"{family} {version}: removed")
            elif version not in before:
                lines.append(f"{family} {version}: added")
            else:
                changes = _family_diff(before[version], after[version])
                if changes:
                    lines += [f"{family} {version}:", *changes]
    return lines
