"""Every stable code in the source is documented in docs/errors.md, and nothing more."""

from __future__ import annotations

import re
from pathlib import Path

import vrrules
from vrrules import errors
from vrrules.errors import VrrulesError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"

_DIAGNOSTIC = re.compile(
    r'(?:code=|PydanticCustomError\(\s*|report\(\s*)"([a-z_]+)"|"(spec_field_[a-z]+)"'
)


def diagnostic_codes(folder: Path = ROOT / "vrrules") -> set[str]:
    codes: set[str] = set()
    for path in folder.rglob("*.py"):
        for found in _DIAGNOSTIC.findall(path.read_text()):
            codes.update(code for code in found if code)
    return codes


def error_codes() -> set[str]:
    # every error class of the one error module, whether exported at the top level or not
    classes = [getattr(errors, name) for name in errors.__all__]
    return {c.code for c in classes if isinstance(c, type) and issubclass(c, VrrulesError)}


def test_the_errors_a_case_system_catches_are_exported_at_the_top() -> None:
    for name in (
        "StoreUnavailableError",
        "StoreNotVrrulesError",
        "StoreReadOnlyError",
        "ArgumentInvalidError",
    ):
        assert name in vrrules.__all__ and getattr(vrrules, name) is getattr(errors, name)


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))


def test_every_code_is_documented() -> None:
    missing = (diagnostic_codes() | error_codes()) - documented_codes()
    assert not missing, f"add these codes to docs/errors.md: {sorted(missing)}"


def test_no_code_is_documented_that_does_not_exist() -> None:
    stale = documented_codes() - diagnostic_codes() - error_codes()
    assert not stale, f"docs/errors.md documents codes no longer raised: {sorted(stale)}"


def test_error_classes_also_inherit_the_builtin_users_catch() -> None:
    # PermissionError: a write refused on a read-only store is what open() would raise too
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, VrrulesError) and obj is not VrrulesError:
            assert issubclass(obj, ValueError | LookupError | RuntimeError | PermissionError), name
