"""YAML nodes for validation: positions, readable descriptions, key paths and Problems.

Kept apart from the schema types so those read as the rules they check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Problem", "MISSING", "Ctx", "to_node", "line_of", "construct", "describe_node",
           "join_path", "mapping_pairs"]


@dataclass(frozen=True)
class Problem:
    file: str
    path: str          # e.g. "routing.bug.rotation[2].login"; "" for the whole file
    line: int | None   # 1-based; None when the value did not come from YAML text
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_constructor = yaml.constructor.SafeConstructor()


class _Representer(yaml.representer.SafeRepresenter):
    pass


# Defaults written in Python are often tuples; they mean lists.
_Representer.add_representer(tuple, yaml.representer.SafeRepresenter.represent_list)


def to_node(value: Any) -> Node:
    """A node for a plain value, so values and YAML text validate the same way."""
    if isinstance(value, Node):
        return value
    # A fresh representer each time: it remembers objects by id(), which is reused.
    return _Representer(sort_keys=False).represent_data(value)


def line_of(node: Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark is not None else None


def construct(node: Node) -> Any:
    # construct_document, not construct_object: it forgets the nodes it has seen afterwards.
    return _constructor.construct_document(node)


def describe_node(node: Node) -> str:
    """How a node reads in a message: 'a list', 'a string ('abc')', ..."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    try:
        value = construct(node)
    except yaml.YAMLError:
        return f"a value tagged {node.tag}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    return f"a {type(value).__name__} ({value})"  # dates and timestamps


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.fullmatch(key):
        key_text = f"[{key!r}]"
        return f"{path}{key_text}"
    return f"{path}.{key}" if path else key


@dataclass
class Ctx:
    source: str
    problems: list[Problem] = field(default_factory=list)

    def fail(self, path: str, node: Node, message: str) -> Any:
        self.problems.append(Problem(self.source, path, line_of(node), message))
        return MISSING


def mapping_pairs(node: MappingNode, path: str, ctx: Ctx) -> list[tuple[str, Node, Node]]:
    """(key, key node, value node) with string keys; bad and duplicate keys are problems."""
    _constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
    seen: dict[str, Node] = {}
    pairs = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            ctx.fail(path, key_node, f"keys must be strings, got {describe_node(key_node)}")
            continue
        key = key_node.value  # the text as written: `2024:` is the key "2024"
        if key in seen:
            ctx.fail(join_path(path, key), key_node, f"duplicate key (first on line {line_of(seen[key])})")
            continue
        seen[key] = key_node
        pairs.append((key, key_node, value_node))
    return pairs
