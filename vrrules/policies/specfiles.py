"""Where specs are read from: the spec files of a folder, and the default folder.

The layout: ``specs/<family>/<version>.yaml``, worked examples beside them in
``examples.yaml`` or ``NAME.examples.yaml``. A family's folder may hold folders of its own
(``specs/tiers/old/2024.1.yaml``): their files belong to that family, the folder directly
below the specs folder. Files directly in the folder given name no family folder (a family's
own folder given, ``vrrules check specs/tiers``, or a flat folder such as tests/bad_specs).
Hidden files and folders (a name starting with ``.``: ``.git/``, ``.github/``,
``.pre-commit-config.yaml``) are never specs, examples or misnamed specs: they are not looked at.

Kept apart from :mod:`vrrules.policies.library` (which compiles them) so that finding and
fingerprinting the files imports nothing of the policy stages: ``vrrules due`` compares the
files' contents with those its kept due list was worked out from, without loading them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "default_specs_dir",
    "family_folder",
    "is_example_file",
    "misnamed_spec_files",
    "source_entries",
    "spec_files",
]


def is_example_file(path: Path) -> bool:
    """Worked examples live beside specs as ``examples.yaml`` or ``*.examples.yaml``."""
    return path.name == "examples.yaml" or path.name.endswith(".examples.yaml")


def source_entries(root: Path) -> list[Path]:
    """Every entry under ``root`` but hidden ones, and nothing below a hidden folder.

    Folders are listed too (a folder named ``2025.1.yaml`` is refused as no regular file, not
    passed over); a link to a folder is listed but not followed."""
    found: list[Path] = []
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found.extend(Path(folder, name) for name in (*folders, *files) if not name.startswith("."))
    return found


def spec_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in source_entries(root) if p.suffix == ".yaml" and not is_example_file(p))


def misnamed_spec_files(root: Path) -> list[Path]:
    """YAML files under ``root`` that :func:`spec_files` does not read: ``.yml``, ``.YAML``...

    A library refuses them (``spec_file_misnamed``) rather than pass over a spec or worked
    examples an author meant it to read. Hidden files and folders are not looked at."""
    if root.is_file():
        return []
    found = (p for p in source_entries(root) if p.suffix.lower() in (".yaml", ".yml") and p.suffix != ".yaml")
    return sorted(p for p in found if p.is_file())


def family_folder(root: Path, path: Path) -> Path | None:
    """The family folder ``path`` sits in: the folder directly below ``root`` that holds it
    (``specs/tiers`` for ``specs/tiers/2025.1.yaml`` and ``specs/tiers/old/2024.1.yaml``);
    ``None`` for a file directly in ``root``."""
    if root.is_file():
        return None
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    return root / parts[0] if len(parts) > 1 else None


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
