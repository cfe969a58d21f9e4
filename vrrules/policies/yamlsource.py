"""Strict YAML reading for specs and worked examples.

Safe YAML only: node tags outside YAML's core schema (``!!python/object``, ``!include``,
any local tag) are refused rather than constructed, duplicate mapping keys are refused
rather than silently overwritten, and dates stay text so that the models can insist on
ISO ``YYYY-MM-DD`` and say so. Every value keeps the line it came from, so a later
stage can point at the exact place of a problem.

Files are read through :func:`read_at_most` (and :func:`read_source_file`, for specs and
worked examples): a path that is not a regular file (a device such as ``/dev/zero``, a named
pipe, a socket, a folder, or a link to one) is refused before anything opens it for reading,
and no more than the limit and one byte is ever read, whatever size the file claims.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vrrules.errors import Diagnostic, FileNotRegularError
from vrrules.policies.reading import SOURCE_FILE_LIMIT, read_at_most

__all__ = [
    "SOURCE_FILE_LIMIT",
    "FileNotRegularError",
    "YamlDocument",
    "read_at_most",
    "read_source_file",
    "read_yaml",
]


def read_source_file(
    path: Path, what: str = "spec file", limit: int = SOURCE_FILE_LIMIT
) -> tuple[str | None, list[Diagnostic]]:
    """The UTF-8 text of a spec or worked-examples file, or the diagnostic that refuses it:
    ``file_not_regular`` (a device, pipe, socket or folder; never opened for reading),
    ``file_too_large`` (more than ``limit`` bytes; no more than ``limit`` + 1 were read),
    ``spec_unreadable`` (missing, not permitted, not UTF-8)."""
    try:
        raw = read_at_most(path, limit + 1, what)
        if len(raw) > limit:
            return None, [
                Diagnostic(
                    code="file_too_large",
                    message=f"expected a {what} of at most {limit:,} bytes, got more at {path}; "
                    f"no more than {limit + 1:,} bytes were read",
                    file=str(path),
                    hint=f"keep each version of a family in a file of its own, or remove {path.name!r} "
                    "if it is not a spec",
                )
            ]
        return raw.decode("utf-8"), []
    except FileNotRegularError as refused:
        return None, [refused.diagnostic]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [
            Diagnostic(
                code="spec_unreadable",
                message=f"expected a UTF-8 text file, got: {exc}",
                file=str(path),
                hint="check the file's permissions and encoding",
            )
        ]


Path_ = tuple[str | int, ...]

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: dates are validated as ISO text later."""


_NoDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# libyaml's parser, where PyYAML was built with it, composes the same nodes (marks included)
# ten times faster: replaying an audit loads every stored release, so it pays there
_Composer: type = _NoDatesLoader
if getattr(yaml, "__with_libyaml__", False):

    class _NoDatesCLoader(yaml.CSafeLoader):
        """The same loader on libyaml's parser."""

    _NoDatesCLoader.yaml_implicit_resolvers = _NoDatesLoader.yaml_implicit_resolvers
    _Composer = _NoDatesCLoader


@dataclass
class YamlDocument:
    """A parsed YAML document: plain data plus the line of every path in it."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def value_at(self, path: Path_) -> tuple[bool, Any]:
        """Whether ``path`` is in the document, and its value as the YAML wrote it."""
        node = self.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
                continue
            if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                continue
            return False, None
        return True, node

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest known prefix of ``path`` (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


_CORE_PREFIX = "tag:yaml.org,2002:"


def _written(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE_PREFIX) if tag.startswith(_CORE_PREFIX) else tag


def _properties(text: str) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]:
    """The explicit tags and the anchors written in ``text``, by the position of their node.

    Only the events know them: a composed node keeps the tag YAML resolved (``!!int "4"`` and
    ``4`` both compose to an int) and no anchor at all."""
    tags: dict[tuple[int, int], str] = {}
    anchors: dict[tuple[int, int], str] = {}
    for event in yaml.parse(text, Loader=_Composer):
        mark = event.start_mark
        if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent) and mark is not None:
            at = (mark.line, mark.column)
            tag = getattr(event, "tag", None)
            if tag is not None:
                tags[at] = tag
            if event.anchor is not None:
                anchors[at] = event.anchor
    return tags, anchors


class _Builder:
    def __init__(self, file: str, text: str, plain_only: bool) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self._scalars = _NoDatesLoader("")
        self._seen: set[int] = set()
        # tags, anchors and aliases are written with '!', '&' and '*': most texts have none
        marked = plain_only and any(mark in text for mark in "!&*")
        self._tags, self._anchors = _properties(text) if marked else ({}, {})
        self._scalar_aliases = plain_only and "*" in text
        self._plain_only = plain_only

    def _refuse_properties(self, node: yaml.Node, path: Path_) -> None:
        """An explicit tag (even a core one: ``!!int "4"`` is a number written as text), an
        anchor, or an alias to a plain value: refused where the reader is strict."""
        at = (node.start_mark.line, node.start_mark.column)
        line = node.start_mark.line + 1
        tag = self._tags.pop(at, None)  # popped: a node met again through an alias is named once
        if tag is not None:
            self.diagnostics.append(
                Diagnostic(
                    code="yaml_tag_refused",
                    message=f"expected plain YAML data, got the tag {_written(tag)!r}: a tag changes "
                    'how the value is read (!!int "4" is the number 4 though written as text) '
                    "and gets around the checks of what is written",
                    file=self.file,
                    line=line,
                    field=_dotted(path),
                    hint="remove the tag and write the value as it is meant: 4 for a number, "
                    '"4" for text, true for true',
                )
            )
        anchor = self._anchors.pop(at, None)
        if anchor is not None:
            self.diagnostics.append(
                Diagnostic(
                    code="yaml_alias_refused",
                    message=f"expected each value written out, got an anchor (&{anchor}): anchors "
                    "and their aliases (*name) repeat values out of sight",
                    file=self.file,
                    line=line,
                    field=_dotted(path),
                    hint=f"remove &{anchor} and write the value out in full wherever *{anchor} stands",
                )
            )

    def build(self, node: yaml.Node, path: Path_, written_on: int | None = None) -> Any:
        """``node``'s data at ``path``; ``written_on``: the line of its key, where an alias stands
        (an alias composes to the anchored node itself, which keeps the anchor's line)."""
        self.lines[path] = node.start_mark.line + 1
        if node.tag in _CORE_TAGS and (self._tags or self._anchors):
            self._refuse_properties(node, path)
        if node.tag not in _CORE_TAGS:
            self.diagnostics.append(
                Diagnostic(
                    code="yaml_tag_refused",
                    message=(
                        f"expected plain YAML data, got the tag {node.tag!r}; "
                        "specs never construct objects or run code"
                    ),
                    file=self.file,
                    line=node.start_mark.line + 1,
                    field=_dotted(path),
                    hint="remove the tag and write the value as plain text, number or list",
                )
            )
            return None
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._seen:
                # Aliases let a few lines expand into gigabytes ("billion laughs").
                self.diagnostics.append(
                    Diagnostic(
                        code="yaml_alias_refused",
                        message="expected each value written out, got an alias (*name) to a list or "
                        f"mapping (anchored on line {node.start_mark.line + 1})",
                        file=self.file,
                        line=written_on or node.start_mark.line + 1,
                        field=_dotted(path),
                        hint="write the value out in full instead of using &anchor / *alias",
                    )
                )
                return None
            self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                refused = len(self.diagnostics)
                key = self.build(key_node, path)
                # building the key recorded its line under the mapping's own path: put it back
                self.lines[path] = node.start_mark.line + 1
                if not isinstance(key, str | int) or isinstance(key, bool):
                    if len(self.diagnostics) > refused:  # the key itself was refused, and said why
                        continue
                    self.diagnostics.append(
                        Diagnostic(
                            code="yaml_key_invalid",
                            message=f"expected a text key, got {key!r}",
                            file=self.file,
                            line=key_node.start_mark.line + 1,
                            field=_dotted(path),
                            hint="write the key as plain text; YAML reads unquoted on/off/yes/no "
                            "as true/false, so quote such a key",
                        )
                    )
                    continue
                if key in result:
                    self.diagnostics.append(
                        Diagnostic(
                            code="yaml_duplicate_key",
                            message=(
                                f"expected each key once, got {key!r} again "
                                f"(first on line {self.lines[(*path, key)]})"
                            ),
                            file=self.file,
                            line=key_node.start_mark.line + 1,
                            field=_dotted((*path, key)),
                            hint="keep one of the two entries",
                        )
                    )
                    continue
                result[key] = self.build(value_node, (*path, key), key_node.start_mark.line + 1)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if self._scalar_aliases:
            if id(node) in self._seen:  # the composer hands back the anchored node itself
                self.diagnostics.append(
                    Diagnostic(
                        code="yaml_alias_refused",
                        message=f"expected each value written out, got an alias (*name) to the "
                        f"value {node.value!r} (anchored on line {node.start_mark.line + 1})",
                        file=self.file,
                        line=written_on or node.start_mark.line + 1,
                        field=_dotted(path),
                        hint="write the value out in full instead of using &anchor / *alias",
                    )
                )
            self._seen.add(id(node))
        return self._number_checked(node, path)

    def _number_checked(self, node: yaml.ScalarNode, path: Path_) -> Any:
        """The scalar's value, where a whole number is one as written: plain decimal digits
        (``7_6``, ``010``, ``0x4c``, ``+5`` and ``1:16`` read as other numbers than they
        seem; refused with ``plain_only``, as tags are), and one Python can write back out
        (past its int-string conversion limit, reading or printing it raises ValueError)."""
        problem: str | None = None
        value: Any
        try:
            value = self._scalars.construct_object(node, deep=True)
        except ValueError:  # int() of a decimal past the limit; YAML reads nothing else so
            value, problem = None, f"a whole number of {len(node.value):,} characters"
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > _PRINTABLE_BITS and not _printable(value):
                value, problem = None, f"a whole number of about {int(value.bit_length() * 0.30103):,} digits"
            elif self._plain_only and node.tag == _INT_TAG and not _PLAIN_INT.fullmatch(node.value):
                self.diagnostics.append(
                    Diagnostic(
                        code="yaml_number_invalid",
                        message=f"expected a whole number written in plain decimal digits, got "
                        f"{node.value!r}, which YAML reads as {value}",
                        file=self.file,
                        line=node.start_mark.line + 1,
                        field=_dotted(path),
                        hint=f"write {value} if that is the number meant (no underscores, base prefixes, "
                        'leading zeros, plus sign or colons); quote it ("...") if it is text',
                    )
                )
        if problem is not None:
            self.diagnostics.append(
                Diagnostic(
                    code="yaml_number_invalid",
                    message=f"expected a number of at most {_int_digits_limit():,} digits, got {problem}",
                    file=self.file,
                    line=node.start_mark.line + 1,
                    field=_dotted(path),
                    hint="write the number the value means; a longer run of digits that is text is quoted",
                )
            )
        return value


_INT_TAG = "tag:yaml.org,2002:int"
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
# a whole number of fewer bits has fewer than 4300 digits (Python's default limit) and prints
_PRINTABLE_BITS = 14_000


def _int_digits_limit() -> int:
    return sys.get_int_max_str_digits() or 4300


def _printable(value: int) -> bool:
    """Whether Python writes ``value`` out in decimal (its int-string conversion limit)."""
    try:
        str(value)
    except ValueError:
        return False
    return True


def _dotted(path: Path_) -> str | None:
    if not path:
        return None
    return ".".join(str(part) for part in path)


def read_yaml(
    text: str, file: str, *, plain_only: bool = True
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse one YAML document strictly; return it with every problem found.

    Refused always: tags outside the core schema, aliases to lists or mappings, duplicate and
    non-text keys. Refused with ``plain_only`` (every file read, every spec checked): any
    explicit tag (``!!int "4"``, ``!!bool "true"``, ``!``), any anchor (``&name``) and an alias
    to a plain value. ``plain_only=False`` is for a stored release, which loaded without those
    refusals once and must replay as it did."""
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        return None, [
            Diagnostic(
                code="yaml_syntax",
                message=f"expected well-formed YAML, got: {exc.problem}",
                file=file,
                line=mark.line + 1 if mark is not None else None,
                hint="check indentation, colons and quotes around that line",
            )
        ]
    except yaml.YAMLError as exc:
        return None, [
            Diagnostic(
                code="yaml_syntax",
                message=f"expected a single well-formed YAML document, got: {exc}",
                file=file,
                hint="keep one document per file",
            )
        ]
    if node is None:
        return None, [
            Diagnostic(
                code="yaml_empty",
                message="expected a YAML mapping, got an empty file",
                file=file,
                line=1,
                hint="start from an existing spec under specs/",
            )
        ]
    builder = _Builder(file, text, plain_only)
    data = builder.build(node, ())
    return YamlDocument(data, builder.lines), builder.diagnostics
