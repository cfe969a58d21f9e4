"""Strict YAML reading for specs and worked examples.

Safe YAML only: node tags outside YAML's core schema (``!!python/object``, ``!include``,
any local tag) are refused rather than constructed, duplicate mapping keys are refused
rather than silently overwritten, and dates stay text so that the models can insist on
ISO ``YYYY-MM-DD`` and say so. Every value keeps the line it came from, so a later
stage can point at the exact place of a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from vrrules.errors import Diagnostic

__all__ = ["YamlDocument", "read_yaml"]

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


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self._scalars = _NoDatesLoader("")
        self._seen: set[int] = set()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines[path] = node.start_mark.line + 1
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
                        message="expected each value written out, got an alias (*name) to a list or mapping",
                        file=self.file,
                        line=node.start_mark.line + 1,
                        field=_dotted(path),
                        hint="write the value out in full instead of using &anchor / *alias",
                    )
                )
                return None
            self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path)
                # building the key recorded its line under the mapping's own path: put it back
                self.lines[path] = node.start_mark.line + 1
                if not isinstance(key, str | int) or isinstance(key, bool):
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
                result[key] = self.build(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalars.construct_object(node, deep=True)


def _dotted(path: Path_) -> str | None:
    if not path:
        return None
    return ".".join(str(part) for part in path)


def read_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse one YAML document strictly; return it with every problem found."""
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
    builder = _Builder(file)
    data = builder.build(node, ())
    return YamlDocument(data, builder.lines), builder.diagnostics
