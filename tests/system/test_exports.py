"""The public surface is small and explicit; nothing private leaks into it."""

from __future__ import annotations

from pathlib import Path

import vrrules


def test_all_names_exist_and_are_public() -> None:
    for name in vrrules.__all__:
        assert hasattr(vrrules, name), name
        assert not name.startswith("_") or name == "__version__"


def test_no_unlisted_public_names() -> None:
    # names starting with "@" are pytest's assertion-rewriting helpers, not ours
    public = {n for n in dir(vrrules) if n.isidentifier() and not n.startswith("_")}
    subpackages = {
        "errors",
        "events",
        "policies",
        "samples",
        "cli",
        "pytest_plugin",
        "authoring",
        "audit",
        "report",
        "handbook",
        "specdiff",
    }
    assert public - set(vrrules.__all__) - subpackages == set()


def test_package_is_typed() -> None:
    assert (Path(vrrules.__file__).parent / "py.typed").exists()
