"""The README's and docs' examples run, the case-system snippet passes mypy --strict, and the
Quick start is the one .ci/run uses.

Every ```python block in README.md and docs/**/*.md is executed, the blocks of one file in
order and in one namespace (as a reader would type them), in a scratch folder. A block that
only illustrates (it needs a server, or shows a fragment) says so in its fence:
```python illustrative``` is compiled (it must still be valid Python) but not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# a fence's info string: the language, then words; "illustrative" marks a block not to run
_FENCE = re.compile(r"^```python([^\n`]*)\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)


def _python_blocks(path: Path) -> list[tuple[str, str, int]]:
    """(code, info words, line) for each ```python block of a document."""
    text = path.read_text(encoding="utf-8")
    return [
        (match.group(2), match.group(1).strip(), text.count("\n", 0, match.start()) + 2)
        for match in _FENCE.finditer(text)
    ]


def _unknown_marks(info: str) -> set[str]:
    return set(info.split()) - {"illustrative"}


@pytest.mark.parametrize(
    "document",
    [d for d in DOCUMENTS if _python_blocks(d)],
    ids=lambda d: str(d.relative_to(ROOT)),
)
def test_python_examples_run(document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for code, info, line in _python_blocks(document):
        assert not _unknown_marks(info), f"{document.name}:{line}: unknown fence words {info!r}"
        name = f"{document.relative_to(ROOT)}:{line}"
        compiled = compile("\n" * (line - 1) + code, str(document), "exec")
        if "illustrative" in info.split():
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(compiled, namespace)
            except Exception as error:  # name the block in the failure
                pytest.fail(f"the example at {name} failed: {type(error).__name__}: {error}")


def test_the_readme_has_runnable_examples() -> None:
    blocks = _python_blocks(ROOT / "README.md")
    assert [code for code, info, _ in blocks if "illustrative" not in info.split()]


def test_the_case_system_snippet_passes_mypy_strict(tmp_path: Path) -> None:
    snippet = next(code for code, info, _ in _python_blocks(ROOT / "README.md") if "CaseRecords" in code)
    path = tmp_path / "readme_snippet.py"
    path.write_text(snippet, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_quick_start_has_two_commands_and_ci_runs_the_second_verbatim() -> None:
    quick = README.split("## Quick start", 1)[1]
    commands = [line for line in _blocks_in(quick)[0].splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def _blocks_in(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)


def test_linked_documents_exist() -> None:
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
            assert (document.parent / target).exists(), f"{document.relative_to(ROOT)} links {target}"


def test_the_readme_lists_every_event_type_the_registry_holds() -> None:
    """The README's list of event types is the registry's, in its order, with its count (it
    listed 15 of 24)."""
    from vrrules.events import payloads  # noqa: F401, PLC0415  (registers every payload class)
    from vrrules.events.registry import EVENT_TYPES  # noqa: PLC0415

    listed = README.split("- Event types (", 1)[1].split(". Payloads are validated", 1)[0]
    count, names = listed.split(")", 1)[0].split(",")[0], re.findall(r"`([a-z0-9_]+)`", listed)
    assert names == list(EVENT_TYPES)
    assert count == str(len(EVENT_TYPES))
