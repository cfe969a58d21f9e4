"""A seeded generator of realistic case histories, and of stores holding them.

Each generated case follows one of the sample case stories (``vrrules/samples/cases.yaml``:
a referral, a practitioner, assessments, plans, bills and the decisions a case system asks
for along the way), moved in time by up to four weeks and with its assessment findings
redrawn: the support needed, the obstacles and the client groups are sampled from the
codes the payloads allow, so the tier and the other decisions vary from case to case.
The same seed gives the same histories, byte for byte::

    python -m benchmarks.generate STORE DECISIONS [--seed 7]
    python -m benchmarks.generate STORE CASES --cases [--seed 7]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from vrrules import CaseRecords
from vrrules.events.importer import CaseHistory, ImportSummary, Step, import_cases, load_case_file
from vrrules.events.payloads import CLIENT_GROUPS, DOMAINS, SUPPORT_ACTIVITIES
from vrrules.samples import SAMPLE_CASES

TEMPLATES = load_case_file(SAMPLE_CASES).cases
DECISIONS_PER_ROUND = sum(1 for t in TEMPLATES for s in t.steps if s.decide)


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, date):
        return value + timedelta(days=days)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    return value


def _redraw(payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    drawn = dict(payload)
    examined = drawn.get("domains_examined") or list(DOMAINS)
    drawn["support_needed"] = sorted(rng.sample(SUPPORT_ACTIVITIES, rng.randint(0, 3)))
    drawn["obstacles"] = sorted(rng.sample(examined, rng.randint(0, min(3, len(examined)))))
    drawn["client_groups"] = sorted(rng.sample(CLIENT_GROUPS, rng.choice((0, 0, 0, 1, 2))))
    return drawn


def histories(count_rounds: int, seed: int, start: int = 0) -> Iterator[CaseHistory]:
    """``count_rounds`` rounds of every template, as new cases; round ``r`` uses seed (seed, r)."""
    for round_number in range(start, start + count_rounds):
        rng = random.Random(f"{seed}:{round_number}")
        for index, template in enumerate(TEMPLATES):
            days = rng.randint(0, 28)
            steps = []
            for step in template.steps:
                data = step.model_dump(exclude_none=True)
                data = _shift(data, days)
                if step.record == "assessment_completed":
                    data["payload"] = _redraw(data["payload"], rng)
                steps.append(Step.model_validate(data))
            yield CaseHistory(
                case_ref=f"G{seed}-{round_number:07d}-{index:02d}",
                opened_on=template.opened_on + timedelta(days=days),
                # one worker per generated case, as in life, not every case of a template
                worker=f"{template.worker} {seed}-{round_number}" if template.worker else None,
                steps=steps,
            )


def _generate_part(args: tuple[str, int, int, int]) -> ImportSummary:
    store, seed, start, rounds = args
    with CaseRecords(store) as records:
        return import_cases(records, histories(rounds, seed, start), batch_size=300)


def _run_rounds(store: str, seed: int, start: int, rounds: int, workers: int) -> list[ImportSummary]:
    share = -(-rounds // workers)
    parts = [(store, seed, start + w * share, min(share, rounds - w * share)) for w in range(workers)]
    parts = [p for p in parts if p[3] > 0]
    if len(parts) == 1:
        return [_generate_part(parts[0])]
    with multiprocessing.get_context("spawn").Pool(len(parts)) as pool:
        return pool.map(_generate_part, parts)


def _add(total: ImportSummary, part: ImportSummary) -> None:
    total.cases += part.cases
    total.events += part.events
    total.decisions += part.decisions
    total.undecided += part.undecided
    for family, n in part.by_family.items():
        total.by_family[family] = total.by_family.get(family, 0) + n


def generate_store(
    store: str, decisions: int, seed: int = 7, workers: int = 2, *, already: ImportSummary | None = None
) -> ImportSummary:
    """Fill ``store`` with generated cases until it holds at least ``decisions`` decisions.

    Rounds are split between ``workers`` processes; each builds and decides its cases in
    memory and writes batches in one transaction each (SQLite serialises the writes). Some
    decide steps cannot decide (a value the sources do not publish), so further rounds are
    added, with the next round numbers, until the count is reached. ``already`` continues a
    store that holds the first rounds.
    """
    with CaseRecords(store):  # create the tables once, before the writers start
        pass
    total = ImportSummary()
    next_round = 0
    if already is not None:
        _add(total, already)
        next_round = already.cases // len(TEMPLATES)
    while total.decisions < decisions:
        rounds = max(1, -(-(decisions - total.decisions) // DECISIONS_PER_ROUND))
        for part in _run_rounds(store, seed, next_round, rounds, workers):
            _add(total, part)
        next_round += rounds
    return total


def generate_cases(store: str, cases: int, seed: int = 7, workers: int = 2) -> ImportSummary:
    """Fill ``store`` with at least ``cases`` generated cases (whole rounds of every template):
    the due list's benchmark is sized in cases, not decisions."""
    with CaseRecords(store):  # create the tables once, before the writers start
        pass
    total = ImportSummary()
    for part in _run_rounds(store, seed, 0, max(1, -(-cases // len(TEMPLATES))), workers):
        _add(total, part)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store", help="a new SQLite file (or any store location)")
    parser.add_argument("decisions", type=int, help="at least this many decisions (or cases: --cases)")
    parser.add_argument("--cases", action="store_true", help="the count is of cases, not decisions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if Path(args.store).exists():
        print(f"{args.store} exists; give a new file", file=sys.stderr)
        return 2
    started = time.perf_counter()
    make = generate_cases if args.cases else generate_store
    summary = make(args.store, args.decisions, args.seed, args.workers)
    elapsed = time.perf_counter() - started
    print(
        f"{summary.cases:,} cases, {summary.events:,} events, {summary.decisions:,} decisions "
        f"({summary.undecided:,} undecided) in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
