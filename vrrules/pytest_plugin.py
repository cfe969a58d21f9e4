"""pytest plugin: collects the worked examples beside the specs as test items, when asked to.

Registered through the ``pytest11`` entry point, so it is loaded wherever vrrules is
installed; like OpenFisca's, it collects nothing until a project names its spec folders
in its pytest configuration::

    [tool.pytest.ini_options]
    vrrules_specs = ["specs"]

Only ``examples.yaml`` / ``*.examples.yaml`` files under those folders become tests, so an
unrelated ``examples.yaml`` elsewhere is left alone. Each example is one test; a failure
shows expected versus got and the rules that fired. The specs beside the examples are
loaded as ``vrrules check`` loads them: load, check and lint, so a lint error fails the
examples of its folder.

With ``vrrules_invariant_examples = N`` (default 0: off) each invariant a spec file under
those folders declares is a test too: the search ``vrrules check`` runs
(:func:`vrrules.policies.invariants.find_breach`, derandomised), with ``N`` facts tried; a
failure shows the facts, the rules that fired and the outcome::

    [tool.pytest.ini_options]
    vrrules_specs = ["specs"]
    vrrules_invariant_examples = 150
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vrrules.errors import SpecInvalidError
from vrrules.policies.examples import Example, load_examples, run_example
from vrrules.policies.family import CompiledFamily
from vrrules.policies.invariants import find_breach
from vrrules.policies.library import PolicyLibrary, is_example_file
from vrrules.policies.model import Invariant

__all__ = ["ExampleItem", "ExamplesFile", "InvariantItem", "SpecFile"]

INI_OPTION = "vrrules_specs"
INVARIANTS_OPTION = "vrrules_invariant_examples"

_libraries: dict[Path, PolicyLibrary] = {}


def _library_for(folder: Path) -> PolicyLibrary:
    library = _libraries.get(folder)
    if library is None:
        library = PolicyLibrary(folder, lint=True)
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


class InvariantBrokenError(Exception):
    pass


class SpecFile(pytest.File):
    """A spec file: one test per invariant of the version it holds."""

    def collect(self) -> Iterator[pytest.Item]:
        resolved = self.path.resolve()
        for family in (library := _library_for(self.path.parent)).families():
            for compiled in library.versions(family):
                if Path(compiled.source.file).resolve() != resolved:
                    continue
                for invariant in compiled.spec.invariants:
                    yield InvariantItem.from_parent(
                        self,
                        name=f"{family} {compiled.version}: {invariant.id}",
                        compiled=compiled,
                        invariant=invariant,
                    )


class InvariantItem(pytest.Item):
    def __init__(self, *, compiled: CompiledFamily, invariant: Invariant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compiled = compiled
        self.invariant = invariant

    def runtest(self) -> None:
        budget = _invariant_examples(self.config)
        breach = find_breach(self.compiled, self.invariant, max_examples=budget)
        if breach is not None:
            raise InvariantBrokenError(str(breach.diagnostic()))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, InvariantBrokenError | SpecInvalidError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def _invariant_examples(config: pytest.Config) -> int:
    text = str(config.getini(INVARIANTS_OPTION) or "0").strip()
    if not text.isdigit():
        raise pytest.UsageError(f"{INVARIANTS_OPTION}: expected a whole number from 0, got {text!r}")
    return int(text)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_OPTION,
        type="paths",
        default=[],
        help="folders of vrrules specs whose worked examples (examples.yaml, *.examples.yaml) "
        "are collected as tests; nothing is collected when unset",
    )
    parser.addini(
        INVARIANTS_OPTION,
        default="0",
        help="facts tried per invariant declared by the specs under vrrules_specs, each invariant "
        "a test (the search `vrrules check` runs); 0, the default, collects none",
    )


def _spec_folders(config: pytest.Config) -> list[Path]:
    return [Path(p).resolve() for p in config.getini(INI_OPTION)]


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix != ".yaml":
        return None
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(folder) for folder in _spec_folders(parent.config)):
        return None
    if is_example_file(file_path):
        return ExamplesFile.from_parent(parent, path=file_path)
    if _invariant_examples(parent.config) > 0:
        return SpecFile.from_parent(parent, path=file_path)
    return None
