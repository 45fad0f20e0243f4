"""A small, strict schema language for the YAML rules.

Validation walks PyYAML *nodes* rather than constructed values, so every problem
keeps the line it came from; plain Python values are turned into nodes first (they
just have no line). Unknown keys, wrong types and duplicate keys are all problems,
and all of them are reported at once: a maintainer fixing a config file wants the
full list, not one error per push.

Validating against a ``base`` value merges while validating: mappings merge key by
key (keys missing from the node keep the base's value), lists and scalars replace.
That is how a repository override is laid over the bundled rules in one pass.
"""
from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from typing import Any as AnyValue, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .nodes import (
    MISSING, Ctx, Problem, construct, describe_node, join_path, mapping_pairs, to_node,
)

__all__ = [
    "Problem", "Schema", "Str", "Int", "Float", "Bool", "Duration", "List", "Map", "Obj",
    "Field", "OneOf", "Any", "MISSING", "validate", "to_node",
]


class Schema:
    """A type in the DSL. ``check`` returns the value, or MISSING after recording problems."""
    #: which node classes this type can accept; OneOf uses it to pick the error to show
    accepts: tuple[type, ...] = (ScalarNode,)

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        raise NotImplementedError

    def _expect(self, node: Node, path: str, ctx: Ctx) -> AnyValue:
        return ctx.fail(path, node, f"expected {self.describe()}, got {describe_node(node)}")


class _Scalar(Schema):
    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        if not isinstance(node, ScalarNode):
            return self._expect(node, path, ctx)
        try:
            value = construct(node)
        except yaml.YAMLError as exc:
            return ctx.fail(path, node, f"unreadable value: {getattr(exc, 'problem', exc)}")
        return self.convert(value, node, path, ctx)

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        raise NotImplementedError


@dataclass(frozen=True)
class Str(_Scalar):
    choices: Sequence[str] | None = None
    pattern: str | None = None   # must match the whole string

    def describe(self) -> str:
        return "a string"

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        if not isinstance(value, str):
            return self._expect(node, path, ctx)
        if self.choices is not None and value not in self.choices:
            return ctx.fail(path, node, f"expected one of {', '.join(self.choices)}; got {value!r}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return ctx.fail(path, node, f"{value!r} does not match the pattern {self.pattern!r}")
        return value


def _bounded(value: float, lo: float | None, hi: float | None, node: Node, path: str,
             ctx: Ctx, shown: str) -> AnyValue:
    if lo is not None and value < lo:
        return ctx.fail(path, node, f"{shown} is below the minimum {lo}")
    if hi is not None and value > hi:
        return ctx.fail(path, node, f"{shown} is above the maximum {hi}")
    return value


@dataclass(frozen=True)
class Int(_Scalar):
    min: int | None = None
    max: int | None = None

    def describe(self) -> str:
        return "an integer"

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        if isinstance(value, bool) or not isinstance(value, int):
            return self._expect(node, path, ctx)
        return _bounded(value, self.min, self.max, node, path, ctx, str(value))


@dataclass(frozen=True)
class Float(_Scalar):
    min: float | None = None
    max: float | None = None

    def describe(self) -> str:
        return "a number"

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self._expect(node, path, ctx)
        return _bounded(float(value), self.min, self.max, node, path, ctx, str(value))


@dataclass(frozen=True)
class Bool(_Scalar):
    def describe(self) -> str:
        return "true or false"

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        return value if isinstance(value, bool) else self._expect(node, path, ctx)


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float | None:
    """Seconds in '90s', '5m', '72h', '2d', '1w' or '1h30m'; None if it is not a duration."""
    text = text.strip()
    if not _DURATION.fullmatch(text):
        return None
    return float(sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text)))


@dataclass(frozen=True)
class Duration(_Scalar):
    """Bare numbers are refused on purpose: is ``sla: 72`` hours or seconds?"""
    min: float | None = None   # seconds
    max: float | None = None

    def describe(self) -> str:
        return "a duration such as 90s, 5m, 72h or 2d"

    def convert(self, value: AnyValue, node: Node, path: str, ctx: Ctx) -> AnyValue:
        seconds = parse_duration(value) if isinstance(value, str) else None
        if seconds is None:
            return self._expect(node, path, ctx)
        return _bounded(seconds, self.min, self.max, node, path, ctx, str(value))


@dataclass(frozen=True)
class Any(Schema):
    accepts = (ScalarNode, SequenceNode, MappingNode)

    def describe(self) -> str:
        return "any value"

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        try:
            return construct(node)
        except yaml.YAMLError as exc:
            return ctx.fail(path, node, f"unreadable value: {getattr(exc, 'problem', exc)}")


@dataclass(frozen=True)
class List(Schema):
    item: Schema
    min_len: int = 0
    accepts = (SequenceNode,)

    def describe(self) -> str:
        return "a list"

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        if not isinstance(node, SequenceNode):
            return self._expect(node, path, ctx)
        if len(node.value) < self.min_len:
            return ctx.fail(path, node, f"expected at least {self.min_len} item(s), got {len(node.value)}")
        items = [self.item.check(child, join_path(path, i), ctx, MISSING) for i, child in enumerate(node.value)]
        return MISSING if any(v is MISSING for v in items) else items


@dataclass(frozen=True)
class Map(Schema):
    """Free-form keys, typed values (label names, areas, team names...)."""
    value: Schema
    accepts = (MappingNode,)

    def describe(self) -> str:
        return "a mapping"

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        if not isinstance(node, MappingNode):
            return self._expect(node, path, ctx)
        result = copy.deepcopy(base) if isinstance(base, dict) else {}
        failed = False
        for key, _, value_node in mapping_pairs(node, path, ctx):
            value = self.value.check(value_node, join_path(path, key), ctx, result.get(key, MISSING))
            failed |= value is MISSING
            result[key] = value
        return MISSING if failed else result


@dataclass(frozen=True)
class Field:
    type: Schema
    default: AnyValue = MISSING
    required: bool = False
    doc: str = ""


@dataclass(frozen=True, init=False)
class Obj(Schema):
    """Fixed keys. An absent field takes the base's value, else its default (checked against
    its type when the schema is built, so "72h" is a fine Duration default), else a nested
    Obj's defaults, {} for a Map, [] for a List, else None."""
    fields: Mapping[str, Field]
    accepts = (MappingNode,)

    def __init__(self, fields: Mapping[str, Field]) -> None:
        checked = {}
        for name, spec in fields.items():
            if spec.default is not MISSING:
                value, problems = validate(spec.default, spec.type, "<default>", name)
                if problems:
                    raise ValueError(f"bad default for {name}: {'; '.join(map(str, problems))}")
                spec = Field(spec.type, value, spec.required, spec.doc)
            checked[name] = spec
        object.__setattr__(self, "fields", checked)

    def with_field(self, name: str, spec: Field) -> "Obj":
        """A copy with one more field (first). Only the new field's default is checked:
        the others were converted already (a Duration default is seconds by now)."""
        new = Obj({name: spec})
        combined = Obj.__new__(Obj)
        object.__setattr__(combined, "fields", {**new.fields, **self.fields})
        return combined

    def describe(self) -> str:
        return "a mapping"

    def defaults(self) -> dict | None:
        """The value of an absent Obj: its defaults, or None if some field is required."""
        if any(f.required for f in self.fields.values()):
            return None
        return {name: _default(spec) for name, spec in self.fields.items()}

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        if not isinstance(node, MappingNode):
            return self._expect(node, path, ctx)
        base = base if isinstance(base, dict) else {}
        result: dict = {}
        failed = False
        present = set()
        for key, key_node, value_node in mapping_pairs(node, path, ctx):
            spec = self.fields.get(key)
            if spec is None:
                ctx.fail(join_path(path, key), key_node, _unknown_key(key, self.fields))
                failed = True
                continue
            present.add(key)
            result[key] = spec.type.check(value_node, join_path(path, key), ctx, base.get(key, MISSING))
            failed |= result[key] is MISSING
        for name, spec in self.fields.items():
            if name in present:
                continue
            if name in base:
                result[name] = copy.deepcopy(base[name])
            elif spec.required:
                ctx.fail(join_path(path, name), node, "required key is missing")
                failed = True
            else:
                result[name] = _default(spec)
        return MISSING if failed else {name: result[name] for name in self.fields if name in result}


def _unknown_key(key: str, known: Mapping[str, Field]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}known keys: {', '.join(sorted(known)) or 'none'})"


def _default(spec: Field) -> AnyValue:
    if spec.default is not MISSING:
        return copy.deepcopy(spec.default)
    if isinstance(spec.type, Obj):
        return spec.type.defaults()
    if isinstance(spec.type, (Map, List)):  # so features can iterate without a None check
        return {} if isinstance(spec.type, Map) else []
    return None


@dataclass(frozen=True, init=False)
class OneOf(Schema):
    options: tuple[Schema, ...]

    def __init__(self, *options: Schema) -> None:
        object.__setattr__(self, "options", options)

    @property
    def accepts(self) -> tuple[type, ...]:  # type: ignore[override]
        return tuple({kind for option in self.options for kind in option.accepts})

    def describe(self) -> str:
        return " or ".join(option.describe() for option in self.options)

    def check(self, node: Node, path: str, ctx: Ctx, base: AnyValue) -> AnyValue:
        fitting = [o for o in self.options if isinstance(node, o.accepts)]
        for option in fitting:
            trial = Ctx(ctx.source)
            value = option.check(node, path, trial, base)
            if not trial.problems:
                return value
        if len(fitting) == 1:  # only one shape could be meant: its own problems say most
            return fitting[0].check(node, path, ctx, base)
        return self._expect(node, path, ctx)


def validate(node_or_value: AnyValue, schema: Schema, source: str, path: str = "",
             base: AnyValue = MISSING) -> tuple[AnyValue, list[Problem]]:
    """(value with defaults filled, problems). The value is None whenever there are problems.

    ``base``: an already validated value to merge over (see the module docstring)."""
    ctx = Ctx(source)
    value = schema.check(to_node(node_or_value), path, ctx, base)
    if ctx.problems:
        return None, sorted(ctx.problems, key=lambda p: p.line or 0)  # stable: file order
    return value, []
