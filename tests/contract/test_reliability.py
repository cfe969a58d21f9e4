"""Concurrent writer processes and killed writers, on SQLite and PostgreSQL.

Real processes: several deciding on one case at once lose and duplicate nothing (a conflict
is retried, or reported, never dropped); a writer killed at any moment leaves every event it
had committed intact and nothing half-written.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, SPECS
from tests.contract.writers import contend, open_case
from vrrules import CaseRecords
from vrrules.audit import verify_store
from vrrules.events.domain import Case

WRITERS = 4
OPERATIONS = 12
KILLS = 6


def test_writers_racing_on_one_case_lose_and_duplicate_nothing(shared_store: str) -> None:
    with CaseRecords(shared_store, SPECS) as records:
        open_case(records, "RACE-1")
    start_at = time.time() + 8  # after every process has started and warmed up
    jobs = [(shared_store, "RACE-1", worker, OPERATIONS, start_at) for worker in range(WRITERS)]
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        results = pool.map(contend, jobs)
    committed = [version for result in results for version in result["committed"]]
    conflicts = sum(result["conflicts"] for result in results)
    retried = sum(result["retried"] for result in results)
    kind = "postgres" if shared_store.startswith("postgresql") else "sqlite"
    print(f"{kind}: {len(committed)} committed, {retried} retried, {conflicts} reported")
    # every call either committed exactly one event or was reported as a conflict
    assert len(committed) + conflicts == WRITERS * OPERATIONS
    assert len(set(committed)) == len(committed), "two writers were told they wrote the same event"
    with CaseRecords(shared_store, SPECS) as records:
        history = records.history("RACE-1")
        assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
        assert len(history) == 2 + len(committed), "an event was lost or one was stored twice"
        assert set(committed) == set(range(3, len(history) + 1))
        report = verify_store(records)
        assert report.ok, report.render()
        assert report.decisions == sum(isinstance(e, Case.DecisionRecorded) for e in history)


def _start_writer(store: str, prefix: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.contract.writers", store, prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_writers_killed_at_random_moments_lose_nothing_committed(shared_store: str) -> None:
    rng = random.Random(20251125)
    reported: dict[str, int] = {}
    for kill in range(KILLS):
        writer = _start_writer(shared_store, f"K{kill}")
        assert writer.stdout is not None
        deadline = time.monotonic() + 60
        wanted = rng.randint(2, 25)  # committed calls to let through before the kill
        lines = 0
        while lines < wanted and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                _, errors = writer.communicate(timeout=30)
                pytest.fail(f"writer stopped by itself: {errors}")
            case_ref, version = line.split()
            reported[case_ref] = max(reported.get(case_ref, 0), int(version))
            lines += 1
        time.sleep(rng.random() * 0.05)  # land the kill anywhere inside the next call
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=30)  # drains and closes the pipes
        for line in rest.splitlines():  # lines printed just before the kill
            case_ref, version = line.split()
            reported[case_ref] = max(reported.get(case_ref, 0), int(version))
        assert writer.returncode == -signal.SIGKILL
    with CaseRecords(shared_store, SPECS) as records:
        report = verify_store(records)
        assert report.ok, report.render()  # every chain whole: nothing half-written
        for case_ref, version in reported.items():
            history = records.history(case_ref)
            # all reported events are there; the killed call may have committed one more
            assert len(history) >= version, f"{case_ref}: reported {version}, store holds {len(history)}"
        assert report.cases >= len(reported)
