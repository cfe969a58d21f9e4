"""Evaluate the tier family many times and print throughput and RSS as it goes.

Shows that engine state is freed after every evaluation: durable_rules holds at most
1024 live sessions per ruleset, so without freeing this would fail at evaluation 1025,
and with a leak RSS would climb. Usage::

    python -m benchmarks.evaluate_memory [N]     # default 1,000,000
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import date
from pathlib import Path

from vrrules import PolicyLibrary
from vrrules.events.caseview import CASE_SOURCES

ROOT = Path(__file__).resolve().parent.parent
FACTS = [
    {"assessment_completed": False},
    {"assessment_completed": True, "support_needed": ["information_and_advice"]},
    {"assessment_completed": True, "support_needed": ["functional_capacity_evaluation"]},
    {"assessment_completed": True, "client_groups": ["disability"], "obstacles": ["physical", "social"]},
    {"assessment_completed": True, "support_needed": ["career_redirection"]},
]


def rss_mib() -> float:
    # ru_maxrss is the peak in KiB on Linux: a peak that stops rising means flat memory
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    tiers = PolicyLibrary(ROOT / "specs", case_sources=CASE_SOURCES).in_force("tiers", date(2025, 11, 10))
    day = date(2025, 11, 10)
    tiers.decide(FACTS[0], day)  # warm up: compile and register once
    checkpoint = max(total // 10, 1)
    print(f"{'evaluations':>12} {'evals/s':>10} {'peak RSS MiB':>13}")
    started = last = time.perf_counter()
    for index in range(1, total + 1):
        tiers.decide(FACTS[index % len(FACTS)], day)
        if index % checkpoint == 0:
            now = time.perf_counter()
            print(f"{index:>12,} {checkpoint / (now - last):>10,.0f} {rss_mib():>13.1f}", flush=True)
            last = now
    elapsed = time.perf_counter() - started
    print(
        f"{total:,} evaluations in {elapsed:.1f} s ({total / elapsed:,.0f}/s), peak RSS {rss_mib():.1f} MiB"
    )


if __name__ == "__main__":
    main()
