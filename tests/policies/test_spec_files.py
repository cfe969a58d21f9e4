"""What a specs folder is read from: only regular files, each of a bounded size; the layout
(specs/<family>/<version>.yaml, folders below a family's folder belong to it); hidden files
and folders are never specs.

A device, a named pipe or a folder where a spec, worked-examples, case or facts file is
expected is refused before anything opens it for reading (each test that could hang runs
in a daemon thread, so that a regression fails here rather than stalling the run)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.policies.test_spec_refusals import _sample_spec
from vrrules import PolicyLibrary, SpecInvalidError
from vrrules.policies.examples import load_examples
from vrrules.policies.yamlsource import SOURCE_FILE_LIMIT, FileNotRegularError, read_at_most, read_source_file

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
needs_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception, failing (not hanging) when it takes longer."""
    found: list[Any] = []

    def work() -> None:
        try:
            found.append(("ok", call()))
        except BaseException as error:  # handed back to the test
            found.append(("raised", error))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    assert found, f"{call} did not return within {seconds} s (a blocking read?)"
    kind, value = found[0]
    if kind == "raised":
        raise value
    return value


def _family(tmp_path: Path, name: str = "sample") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return folder


def _refused(root: Path) -> SpecInvalidError:
    with pytest.raises(SpecInvalidError) as caught:
        _within(10, lambda: PolicyLibrary(root))
    return caught.value


@needs_zero
def test_a_spec_that_is_a_link_to_a_device_is_refused_unread(tmp_path: Path) -> None:
    family = _family(tmp_path)
    (family / "1.yaml").write_text(_sample_spec("1", "2025-10-01"))
    (family / "2.yaml").symlink_to("/dev/zero")
    (problem,) = _refused(tmp_path).diagnostics
    assert (problem.code, problem.file) == ("file_not_regular", str(family / "2.yaml"))
    assert "expected the spec file to be a regular file, got a character device" in problem.message
    assert "(a link to /dev/zero)" in problem.message
    assert problem.hint is not None and "'2.yaml'" in problem.hint


@needs_fifo
def test_a_spec_that_is_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    family = _family(tmp_path)
    os.mkfifo(family / "1.yaml")
    (problem,) = _refused(tmp_path).diagnostics
    assert problem.code == "file_not_regular"
    assert "got a named pipe (FIFO)" in problem.message and str(family / "1.yaml") in problem.message


def test_a_folder_named_like_a_spec_is_refused(tmp_path: Path) -> None:
    (_family(tmp_path) / "1.yaml").mkdir()
    (problem,) = _refused(tmp_path).diagnostics
    assert problem.code == "file_not_regular" and "got a folder" in problem.message


def test_a_spec_over_the_limit_is_refused_reading_no_more_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = _family(tmp_path) / "1.yaml"
    big.write_text(_sample_spec("1", "2025-10-01") + "#" * SOURCE_FILE_LIMIT + "\n")
    asked: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: asked.append(n) or real_read(fd, n))
    (problem,) = _refused(tmp_path).diagnostics
    assert problem.code == "file_too_large" and problem.file == str(big)
    assert f"at most {SOURCE_FILE_LIMIT:,} bytes, got more" in problem.message
    assert sum(asked) <= SOURCE_FILE_LIMIT + 1
    # a file just under the limit is read
    assert read_source_file(big, limit=big.stat().st_size)[1] == []


@needs_zero
def test_the_shared_reader_never_reads_past_its_count_and_refuses_what_is_not_a_file(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "a.yaml"
    plain.write_bytes(b"x" * 100)
    assert read_at_most(plain, 10, "facts file") == b"x" * 10
    with pytest.raises(FileNotRegularError) as caught:
        read_at_most(Path("/dev/zero"), 10, "facts file")
    assert caught.value.code == "file_not_regular"
    assert "expected the facts file to be a regular file" in caught.value.message
    assert isinstance(caught.value, ValueError)


@needs_fifo
def test_worked_examples_that_are_a_pipe_are_refused_at_once(tmp_path: Path) -> None:
    examples = _family(tmp_path) / "examples.yaml"
    os.mkfifo(examples)
    with pytest.raises(SpecInvalidError) as caught:
        _within(10, lambda: load_examples(examples))
    assert caught.value.codes == ["file_not_regular"]
    assert "expected the worked-examples file to be a regular file" in str(caught.value)


# ------------------------------------------------------------------------------- layout


def test_hidden_files_and_folders_are_never_specs_nor_refused_as_misnamed(tmp_path: Path) -> None:
    family = _family(tmp_path)
    (family / "1.yaml").write_text(_sample_spec("1", "2025-10-01"))
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("on: push\n")
    (workflows / "lint.yaml").write_text("not: [a spec\n")
    (tmp_path / ".git" / "refs").mkdir(parents=True)
    (tmp_path / ".git" / "refs" / "x.yml").write_text("x")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    (family / ".draft.yaml").write_text("family: other\n")
    library = PolicyLibrary(tmp_path)
    assert library.files == [family / "1.yaml"] and library.families() == ["sample"]
    library.refresh()  # and again: the hidden folders are not watched either
    assert library.files == [family / "1.yaml"]


def test_a_spec_in_a_folder_below_its_familys_folder_belongs_to_that_family(tmp_path: Path) -> None:
    family = _family(tmp_path)
    (family / "old").mkdir()
    (family / "old" / "1.yaml").write_text(_sample_spec("1", "2025-10-01", "2025-12-31"))
    (family / "2.yaml").write_text(_sample_spec("2", "2026-01-01"))
    library = PolicyLibrary(tmp_path)
    assert [c.version for c in library.versions("sample")] == ["1", "2"]
    # the family's own folder given: its subfolders are its own too
    assert [c.version for c in PolicyLibrary(family).versions("sample")] == ["1", "2"]


def test_a_nested_spec_of_another_family_is_told_its_family_folders_name(tmp_path: Path) -> None:
    tiers = _family(tmp_path, "tiers")
    (tiers / "old").mkdir()
    nested = tiers / "old" / "2024.yaml"
    nested.write_text(_sample_spec("1", "2025-10-01"))
    (problem,) = _refused(tmp_path).diagnostics
    assert (problem.code, problem.file) == ("family_folder_mismatch", str(nested))
    assert "the folder 'tiers' directly below the specs folder, which holds it in old/" in problem.message
    assert "got family 'sample'" in problem.message
    assert problem.hint is not None
    assert "correct 'family' to 'tiers'" in problem.hint and "'old'" not in problem.hint
    assert "folder named 'sample' directly below the specs folder" in problem.hint


def test_a_yml_beside_a_yaml_of_the_same_name_is_not_told_to_take_that_name(tmp_path: Path) -> None:
    family = _family(tmp_path)
    (family / "2025.1.yaml").write_text(_sample_spec("1", "2025-10-01"))
    (family / "2025.1.yml").write_text(_sample_spec("1", "2025-10-01"))
    (problem,) = _refused(tmp_path).diagnostics
    assert (problem.code, problem.file) == ("spec_file_misnamed", str(family / "2025.1.yml"))
    assert "'2025.1.yaml' is beside it and is read" in problem.message
    assert problem.hint is not None and not problem.hint.startswith("rename it to '2025.1.yaml'")
    assert "remove '2025.1.yml' if it is an old copy of '2025.1.yaml'" in problem.hint
