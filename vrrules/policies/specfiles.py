"""Where specs are read from: the spec files of a folder, and the default folder.

Kept apart from :mod:`vrrules.policies.library` (which compiles them) so that finding and
fingerprinting the files imports nothing of the policy stages: ``vrrules due`` compares the
files' contents with those its kept due list was worked out from, without loading them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_specs_dir", "is_example_file", "misnamed_spec_files", "spec_files"]


def is_example_file(path: Path) -> bool:
    """Worked examples live beside specs as ``examples.yaml`` or ``*.examples.yaml``."""
    return path.name == "examples.yaml" or path.name.endswith(".examples.yaml")


def spec_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.yaml") if not is_example_file(p))


def misnamed_spec_files(root: Path) -> list[Path]:
    """YAML files under ``root`` that :func:`spec_files` does not read: ``.yml``, ``.YAML``...

    A library refuses them (``spec_file_misnamed``) rather than pass over a spec or worked
    examples an author meant it to read."""
    if root.is_file():
        return []
    found = (p for p in root.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and p.suffix != ".yaml")
    return sorted(p for p in found if p.is_file())


def default_specs_dir() -> Path:
    """``$VRRULES_SPECS``, else the checkout's ``specs/``, else the copy bundled in the wheel."""
    configured = os.environ.get("VRRULES_SPECS")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "specs"
    if checkout.is_dir():
        return checkout
    return package / "_bundled_specs"
