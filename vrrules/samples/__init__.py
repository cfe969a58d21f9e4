"""Sample case histories shipped with vrrules, written for this project (no real people)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_CASES"]

SAMPLE_CASES = Path(__file__).with_name("cases.yaml")
