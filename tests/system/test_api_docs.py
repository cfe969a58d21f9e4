"""The API reference (mkdocs + mkdocstrings) covers the public surface and builds with
warnings as errors. The build runs when the ``docs`` extra is installed (CI installs it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import vrrules

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_lists_every_public_name() -> None:
    page = (ROOT / "docs" / "api" / "vrrules.md").read_text(encoding="utf-8")
    listed = {line.strip().removeprefix("- ") for line in page.splitlines() if line.strip().startswith("- ")}
    assert set(vrrules.__all__) - {"__version__"} <= listed


def test_the_reference_builds_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.skip("the docs extra is not installed: pip install -e '.[docs]'")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "site" / "api" / "vrrules" / "index.html").read_text(encoding="utf-8")
    assert 'id="vrrules.CaseRecords"' in page and 'id="vrrules.Decision.explain"' in page
