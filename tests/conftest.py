from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import pgserver
from vrrules import CaseRecords

pytest_plugins = ["pytester"]

# An initial assessment that places a case in Tier 2 (a workplace assessment is needed).
TIER2_ASSESSMENT = {
    "assessed_on": "2025-11-10",
    "kind": "initial",
    "depth": "detailed",
    "assessor_id": "vrp_1",
    "domains_examined": ["health", "physical"],
    "obstacles": ["physical"],
    "support_needed": ["workplace_assessment"],
}

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci-fuzz", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def records() -> Iterator[CaseRecords]:
    with CaseRecords(store="memory", specs=SPECS) as case_records:
        yield case_records


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server: the one .ci/run started, or a throw-away one of our own."""
    given = os.environ.get("VRRULES_TEST_POSTGRES")
    if given:
        yield given
        return
    if pgserver.find_bin("initdb") is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        if os.environ.get("VRRULES_REQUIRE_POSTGRES"):
            pytest.fail("VRRULES_REQUIRE_POSTGRES is set but no PostgreSQL server is available")
        pytest.skip("PostgreSQL is not installed here: set VRRULES_TEST_POSTGRES to a server URL")
    folder = Path(tempfile.mkdtemp(prefix="vrrules-pg-"))
    try:
        yield pgserver.start(folder, _free_port())
    finally:
        pgserver.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def empty_store(backend: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """An empty store of one backend: ``memory``, a SQLite file in ``folder``, or PostgreSQL."""
    if backend == "memory":
        return "memory"
    if backend == "sqlite":
        return str(folder / "cases.db")
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store backend in turn, each empty at the start of the test."""
    return empty_store(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store several processes can open at once, empty at the start of the test."""
    return empty_store(request.param, request, tmp_path)


def _reset_postgres(url: str) -> None:
    import psycopg  # noqa: PLC0415 - only the PostgreSQL tests need it

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
