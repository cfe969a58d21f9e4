"""A folder of specs: every family, every version, and which one is in force on a date.

A library runs the load and check stages on every file (the case schema is always checked:
:data:`~vrrules.policies.caseschema.CASE_SCHEMA` unless another is given) and refuses the
folder when any spec has an error. With ``lint=True`` (``vrrules check``, the pytest plugin)
it also runs the lint stage; a library loaded to decide never does.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from vrrules._arguments import day_argument, flag_argument, refuse_unless
from vrrules.errors import Diagnostic, PolicyNotInForceError, SpecInvalidError
from vrrules.policies.compiler import CompiledFamily, SpecSource, compile_source, lint_source
from vrrules.policies.evaluate import Evaluator
from vrrules.policies.specfiles import (
    default_specs_dir,
    family_folder,
    is_example_file,
    misnamed_spec_files,
    spec_files,
)
from vrrules.policies.yamlsource import read_source_file

__all__ = ["PolicyLibrary", "default_specs_dir", "is_example_file", "spec_files"]


@dataclass
class _Loaded:
    path: Path
    stamp: tuple[int, int]
    compiled: CompiledFamily


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:  # a link to nothing: reading it says so (spec_unreadable)
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _misnamed(path: Path) -> Diagnostic:
    wanted = path.with_suffix(".yaml")
    message = (
        f"expected spec and example files to end in .yaml, got {path.name!r}, "
        "which would be passed over: its rules and examples would never be read"
    )
    hint = f"rename it to {wanted.name!r}"
    if wanted.exists():
        message += f"; {wanted.name!r} is beside it and is read"
        hint = (
            f"remove {path.name!r} if it is an old copy of {wanted.name!r}; if it holds another "
            f"version, rename it to that version's name (ending in .yaml); otherwise merge what "
            f"it adds into {wanted.name!r} and remove it"
        )
    return Diagnostic(
        code="spec_file_misnamed",
        message=message,
        file=str(path),
        line=None,
        hint=hint,
    )


def _top_level_line(text: str, key: str) -> int | None:
    """The line a top-level ``key:`` is written on (for diagnostics made across files)."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    return next((n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)


def _ends_later(item: _Loaded, other: _Loaded) -> bool:
    """Whether ``item`` is still in force after ``other``'s last day (open-ended: never ends)."""
    until, other_until = item.compiled.spec.effective_until, other.compiled.spec.effective_until
    return until is None or (other_until is not None and until > other_until)


def _gap(family: str, earlier: _Loaded, later: _Loaded, last: date) -> Diagnostic:
    start = later.compiled.spec.effective_from
    first_day, final_day = last + timedelta(days=1), start - timedelta(days=1)
    old, new = earlier.compiled.version, later.compiled.version
    hole = first_day.isoformat() if first_day == final_day else f"{first_day} to {final_day}"
    return Diagnostic(
        code="version_gap",
        message=f"expected each version of {family!r} to start the day after the one before it "
        f"ends: {old} ends {last}, but {new} starts {start}, so no version is in force on "
        f"{hole} (a decision on those dates reports policy_not_in_force)",
        file=str(earlier.path),
        line=_top_level_line(earlier.compiled.source.text, "effective_until"),
        field="effective_until",
        hint=f"end {old} on {final_day}, or start {new} on {first_day}",
    )


def _family_folders(root: Path, loaded: Iterable[_Loaded]) -> list[Diagnostic]:
    """A spec below the specs folder names the family of the folder directly below it that
    holds it (specs/<family>/..., at any depth: specs/tiers/old/2024.1.yaml is a tiers spec);
    a family's own folder given as the specs folder (vrrules check specs/tiers) counts too."""
    out = []
    given = root.resolve().name
    for item in loaded:
        folder = family_folder(root, item.path)
        family = item.compiled.family
        if folder is None or family in (folder.name, given):
            continue
        nested = item.path.parent != folder
        where = (
            f"the folder {folder.name!r} directly below the specs folder, which holds it in "
            f"{item.path.parent.relative_to(folder).as_posix()}/ (files in folders below a "
            "family's folder belong to that family)"
            if nested
            else f"the folder the file sits in ({folder.name!r})"
        )
        out.append(
            Diagnostic(
                code="family_folder_mismatch",
                message=f"expected the family of {where}, got family {family!r}",
                file=str(item.path),
                line=_top_level_line(item.compiled.source.text, "family"),
                field="family",
                hint=f"correct 'family' to {folder.name!r}, or move the file to a folder "
                f"named {family!r} directly below the specs folder ({(root / family).as_posix()}/)",
            )
        )
    return out


class PolicyLibrary:
    """Loads every spec under a folder, refuses the folder if any spec is malformed.

    ``refresh()`` re-reads only the files that changed on disk, so a long-running case
    system picks up an author's edit on its next decision.
    """

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        case_sources: Mapping[str, str] | None = None,
        evaluator: Evaluator | None = None,
        lint: bool = False,
    ) -> None:
        refuse_unless(
            root is None or isinstance(root, str | os.PathLike),
            "root",
            root,
            "a folder (or file) of specs, or None",
        )
        flag_argument(lint, "lint")
        self.root = Path(root) if root is not None else default_specs_dir()
        self._case_sources = case_sources
        self._evaluator = evaluator
        self._compile = lint_source if lint else compile_source
        self._loaded: dict[Path, _Loaded] = {}
        self._folders: dict[str, int] = {}
        self._listing: list[Path] | None = None
        self._misnamed: list[Path] = []
        self._fixed = False
        self.warnings: list[Diagnostic] = []
        self.refresh()

    @classmethod
    def from_sources(
        cls,
        sources: Iterable[SpecSource],
        *,
        case_sources: Mapping[str, str] | None = None,
        evaluator: Evaluator | None = None,
        lint: bool = False,
    ) -> PolicyLibrary:
        """A library of given spec texts (for example the versions published in a store)."""
        library = cls.__new__(cls)
        library.root = Path("<sources>")
        library._case_sources = case_sources
        library._evaluator = evaluator
        library._compile = lint_source if lint else compile_source
        library._fixed = True
        library._misnamed = []
        library.warnings = []
        diagnostics: list[Diagnostic] = []
        loaded: dict[Path, _Loaded] = {}
        for source in sources:
            compiled, found = library._compile(source, case_sources, evaluator)
            diagnostics.extend(found)
            if compiled is not None:
                loaded[Path(source.file)] = _Loaded(Path(source.file), (0, 0), compiled)
        diagnostics.extend(cls._across_versions(loaded.values()))
        if any(d.severity == "error" for d in diagnostics):
            raise SpecInvalidError(diagnostics)
        library.warnings = [d for d in diagnostics if d.severity != "error"]
        library._loaded = loaded
        return library

    def _compile_file(self, path: Path) -> tuple[CompiledFamily | None, list[Diagnostic]]:
        text, refused = read_source_file(path)
        if text is None:
            return None, refused
        return self._compile(SpecSource(text=text, file=str(path)), self._case_sources, self._evaluator)

    def _folder_stamps(self) -> dict[str, int]:
        if self.root.is_file():
            return {}
        stamps = {}
        pending = [str(self.root)]
        while pending:
            folder = pending.pop()
            stamps[folder] = os.stat(folder).st_mtime_ns
            with os.scandir(folder) as entries:  # hidden folders hold no specs: not watched
                pending.extend(
                    e.path for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
                )
        return stamps

    def _folders_unchanged(self) -> bool:
        # a file added, removed or renamed changes the modification time of its folder
        try:
            return all(os.stat(folder).st_mtime_ns == stamp for folder, stamp in self._folders.items())
        except OSError:
            return False

    def refresh(self) -> None:
        """Re-read changed, new and removed spec files; raise with every problem found."""
        if self._fixed:
            return  # built from given texts: nothing on disk to re-read
        if not self.root.exists():
            raise SpecInvalidError(
                [
                    Diagnostic(
                        code="specs_folder_missing",
                        message=f"expected a folder of spec files, got nothing at {self.root}",
                        file=str(self.root),
                        hint="point VRRULES_SPECS or --specs at the specs/ folder",
                    )
                ]
            )
        # Listing the tree is the costly part of a refresh; a file added or removed changes
        # its folder's modification time, so the listing is redone only when one did.
        if self._listing is None or not self._folders_unchanged():
            self._folders = self._folder_stamps()
            self._listing = spec_files(self.root)
            self._misnamed = misnamed_spec_files(self.root)
        stamps = {path: _stamp(path) for path in self._listing}
        unchanged = stamps == {path: known.stamp for path, known in self._loaded.items()}
        if self._loaded and unchanged and not self._misnamed:
            return  # nothing changed since the last look
        diagnostics: list[Diagnostic] = [_misnamed(path) for path in self._misnamed]
        fresh: dict[Path, _Loaded] = {}
        for path in self._listing:
            stamp = stamps[path]
            known = self._loaded.get(path)
            if known is not None and known.stamp == stamp:
                fresh[path] = known
                continue
            compiled, found = self._compile_file(path)
            diagnostics.extend(found)
            if compiled is not None:
                fresh[path] = _Loaded(path, stamp, compiled)
        misplaced = _family_folders(self.root, fresh.values())
        diagnostics.extend(misplaced)
        # a misplaced file's family is in doubt: it is not measured against that family's versions
        placed = [i for i in fresh.values() if str(i.path) not in {d.file for d in misplaced}]
        diagnostics.extend(self._across_versions(placed))
        self.warnings = [d for d in diagnostics if d.severity != "error"]
        if any(d.severity == "error" for d in diagnostics):
            raise SpecInvalidError(diagnostics)
        self._loaded = fresh

    @staticmethod
    def _across_versions(loaded: Iterable[_Loaded]) -> list[Diagnostic]:
        """Each family's versions: ids once, and periods that neither overlap nor leave a gap."""
        out: list[Diagnostic] = []
        by_family: dict[str, list[_Loaded]] = {}
        for item in loaded:
            by_family.setdefault(item.compiled.family, []).append(item)
        for family, items in by_family.items():
            items.sort(key=lambda i: i.compiled.spec.effective_from)
            versions: dict[str, Path] = {}
            for item in items:
                version = item.compiled.version
                if version in versions:
                    out.append(
                        Diagnostic(
                            code="version_duplicate",
                            message=f"expected each version of {family!r} once, got {version!r} in "
                            f"{versions[version]} and here",
                            file=str(item.path),
                            field="version",
                            line=None,
                            hint="give the newer file a new version id",
                        )
                    )
                versions[version] = item.path
            # the version in force the longest so far: a gap is a day none of them covers
            covering = items[0]
            for earlier, later in itertools.pairwise(items):
                if _ends_later(earlier, covering):
                    covering = earlier
                last = covering.compiled.spec.effective_until
                if last is not None and last + timedelta(days=1) < later.compiled.spec.effective_from:
                    out.append(_gap(family, covering, later, last))
                until = earlier.compiled.spec.effective_until
                start = later.compiled.spec.effective_from
                if until is None or until >= start:
                    out.append(
                        Diagnostic(
                            code="version_overlap",
                            message=f"expected versions of {family!r} not to overlap: "
                            f"{earlier.compiled.version} runs "
                            f"{'open-ended' if until is None else 'until ' + until.isoformat()}, "
                            f"but {later.compiled.version} starts {start.isoformat()}",
                            file=str(earlier.path),
                            # open-ended: no effective_until line, so the period's start
                            line=_top_level_line(earlier.compiled.source.text, "effective_until")
                            or _top_level_line(earlier.compiled.source.text, "effective_from"),
                            field="effective_until",
                            hint=f"end {earlier.compiled.version} the day before {start.isoformat()}",
                        )
                    )
        return out

    @property
    def files(self) -> list[Path]:
        return sorted(self._loaded)

    def families(self) -> list[str]:
        return sorted({item.compiled.family for item in self._loaded.values()})

    def versions(self, family: str) -> list[CompiledFamily]:
        found = [i.compiled for i in self._loaded.values() if i.compiled.family == family]
        return sorted(found, key=lambda c: c.spec.effective_from)

    def in_force(self, family: str, on: date) -> CompiledFamily:
        on = day_argument(on, "on", text=False)
        versions = self.versions(family)
        if not versions:
            raise PolicyNotInForceError(
                f"expected a policy family among {self.families()}, got {family!r} "
                f"(specs folder {self.root})",
                family=family,
            )
        for compiled in versions:
            if compiled.in_force_on(on):
                return compiled
        periods = ", ".join(
            f"{c.version}: {c.spec.effective_from}..{c.spec.effective_until or ''}" for c in versions
        )
        raise PolicyNotInForceError(
            f"expected a date on which a version of {family!r} is in force ({periods}), got {on.isoformat()}",
            family=family,
            on=on,
        )
