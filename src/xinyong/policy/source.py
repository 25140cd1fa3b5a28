"""YAML with line numbers: every value keeps the line it came from, so errors can say ``file:line``.

PyYAML's composer gives marks on nodes; we construct plain Python values from the node tree ourselves
and keep a map from path (tuple of keys and indexes) to line. Duplicate keys, which PyYAML silently
overwrites, are refused here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xinyong.model.errors import PolicyError, Problem

PathKey = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """A parsed YAML document and where each of its values sits in the file."""

    path: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """Best line for a location: the deepest prefix of ``loc`` that exists in the file."""
        best = self.lines.get((), 1)
        node = self.data
        walked: list[str | int] = []
        for part in loc:
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            if not (in_dict or in_list):
                continue  # pydantic adds union tags and aliases that are not in the file
            node = node[part]
            walked.append(part)
            best = self.lines.get(tuple(walked), best)
        return best

    def problem(self, loc: Sequence[str | int], code: str, message: str) -> Problem:
        return Problem(str(self.path), self.line_of(loc), code, message)


def read_yaml(path: Path) -> SourceDoc:
    """Parse one YAML file; syntax errors and duplicate keys become :class:`PolicyError` with lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([Problem(str(path), 0, "XS001", f"cannot read file: {exc.strerror}")]) from None
    return parse_yaml(text, path)


#: libyaml's parser when PyYAML was built with it (several times faster: policies and the charter's data
#: files are parsed on every ``policy lint``); the pure-Python one otherwise, and always for the message
#: of a syntax error, so that errors read the same on every installation.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, path: Path) -> SourceDoc:
    if _FAST_LOADER is not yaml.SafeLoader:
        fast = _FAST_LOADER(text)
        try:
            node = fast.get_single_node()
        except yaml.YAMLError:
            node = None  # parsed again below, for the located message
        else:
            doc = SourceDoc(path, None)
            if node is not None:
                doc.data = _build(fast, node, (), doc)
            return doc
        finally:
            fast.dispose()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc = SourceDoc(path, None)
        if node is not None:
            doc.data = _build(loader, node, (), doc)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise PolicyError(
            [Problem(str(path), line, "XS001", f"YAML syntax: {exc.problem or exc.context}")]
        ) from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, loc: PathKey, doc: SourceDoc,
           seen: set[int] | None = None) -> Any:
    """Plain values from the node tree, recording lines. Aliases are refused: a node met twice is an
    alias, and expanding aliases lets a few hundred bytes (or a cycle) exhaust memory."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        raise PolicyError([Problem(str(doc.path), node.start_mark.line + 1, "XS003",
                                   "YAML anchors and aliases are not supported in policy files")])
    line = node.start_mark.line + 1
    doc.lines[loc] = line
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError([Problem(str(doc.path), key_line, "XS003",
                                           "a mapping key must be a plain value, not a list or mapping")])
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise PolicyError([Problem(str(doc.path), key_line, "XS002",
                                           f"duplicate key {key!r} (first at line {doc.lines[(*loc, key)]})")])
            doc.lines[(*loc, key)] = key_line
            out[key] = _build(loader, value_node, (*loc, key), doc, seen)
            doc.lines[(*loc, key)] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*loc, i), doc, seen) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
