"""What a decision says: the outcome, the rules that fired, why, and on what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from vrrules.policies.wording import outcome_text

__all__ = ["Decision", "DecisionStatus", "FiredRule"]

DecisionStatus = Literal["decided", "no_rule_applied"]


@dataclass(frozen=True)
class FiredRule:
    """One rule that fired, with its explanation and source clause."""

    rule_id: str
    reason: str
    reference: Mapping[str, Any]
    outcome: Mapping[str, Any]
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule_id": self.rule_id,
            "reason": self.reason,
            "reference": dict(self.reference),
            "outcome": dict(self.outcome),
        }
        if self.fix is not None:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Decision:
    """The result of deciding one family on one set of facts on one date."""

    family: str
    version: str
    spec_sha256: str
    as_of: date
    facts: dict[str, Any]
    status: DecisionStatus
    outcome: dict[str, Any] | None
    fired: tuple[FiredRule, ...] = field(default=())

    @property
    def fired_rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.rule_id for rule in self.fired)

    def explain(self) -> str:
        """A few readable lines: the outcome, then each fired rule with its reason and source."""
        head = f"{self.family} {self.version} on {self.as_of.isoformat()}: "
        if self.status == "no_rule_applied":
            head += "no rule applied"
            if self.outcome:
                head += f" (recorded as: {outcome_text(self.outcome)})"
        else:
            head += outcome_text(self.outcome)
        lines = [head]
        for rule in self.fired:
            ref = rule.reference
            source = ", ".join(str(ref[k]) for k in ("document", "section") if ref.get(k))
            lines.append(f"  - {rule.rule_id}: {rule.reason} [{source}]")
            if rule.fix:
                lines.append(f"    to change this: {rule.fix}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "version": self.version,
            "spec_sha256": self.spec_sha256,
            "as_of": self.as_of.isoformat(),
            "facts": dict(self.facts),
            "status": self.status,
            "outcome": None if self.outcome is None else dict(self.outcome),
            "fired": [rule.as_dict() for rule in self.fired],
        }
