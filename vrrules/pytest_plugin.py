"""pytest plugin: collects the worked examples beside the specs as test items.

Registered through the ``pytest11`` entry point, so plain ``pytest`` runs every
``examples.yaml`` / ``*.examples.yaml`` file it meets (``testpaths`` includes ``specs``).
Each example is one test; a failure shows expected versus got and the rules that fired.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vrrules.errors import SpecInvalidError
from vrrules.events.caseview import CASE_SOURCES
from vrrules.policies.examples import Example, load_examples, run_example
from vrrules.policies.library import PolicyLibrary, is_example_file

__all__ = ["ExampleItem", "ExamplesFile"]

_libraries: dict[Path, PolicyLibrary] = {}


def _library_for(folder: Path) -> PolicyLibrary:
    library = _libraries.get(folder)
    if library is None:
        library = PolicyLibrary(folder, case_sources=CASE_SOURCES)
        _libraries[folder] = library
    return library


class ExampleFailedError(Exception):
    pass


class ExamplesFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        examples = load_examples(self.path)
        for example in examples.examples:
            yield ExampleItem.from_parent(self, name=example.name, family=examples.family, example=example)


class ExampleItem(pytest.Item):
    def __init__(self, *, family: str, example: Example, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.example = example

    def runtest(self) -> None:
        result = run_example(_library_for(self.path.parent), self.family, self.example)
        if not result.passed:
            raise ExampleFailedError(result.report())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExampleFailedError | SpecInvalidError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.family}: {self.name}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and is_example_file(file_path):
        return ExamplesFile.from_parent(parent, path=file_path)
    return None
