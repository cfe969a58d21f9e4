"""Every stable code in the source is documented in docs/errors.md, and nothing more."""

from __future__ import annotations

import re
from pathlib import Path

import vrrules
from vrrules.errors import VrrulesError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"

_DIAGNOSTIC = re.compile(r'(?:code=|PydanticCustomError\(\s*|report\(\s*)"([a-z_]+)"|"(spec_field_[a-z]+)"')


def diagnostic_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "vrrules").rglob("*.py"):
        for found in _DIAGNOSTIC.findall(path.read_text()):
            codes.update(code for code in found if code)
    return codes


def error_codes() -> set[str]:
    classes = [getattr(vrrules, name) for name in vrrules.__all__]
    return {c.code for c in classes if isinstance(c, type) and issubclass(c, VrrulesError)}


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))


def test_every_code_is_documented() -> None:
    missing = (diagnostic_codes() | error_codes()) - documented_codes()
    assert not missing, f"add these codes to docs/errors.md: {sorted(missing)}"


def test_no_code_is_documented_that_does_not_exist() -> None:
    stale = documented_codes() - diagnostic_codes() - error_codes()
    assert not stale, f"docs/errors.md documents codes no longer raised: {sorted(stale)}"


def test_error_classes_also_inherit_the_builtin_users_catch() -> None:
    for name in vrrules.__all__:
        obj = getattr(vrrules, name)
        if isinstance(obj, type) and issubclass(obj, VrrulesError) and obj is not VrrulesError:
            assert issubclass(obj, ValueError | LookupError | RuntimeError), name
