"""Load the vendored GitHub specs once per process (they are big; tests start many fakes)."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
METHODS = ("get", "put", "post", "patch", "delete")
# Parameters whose values may contain "/" (file paths, refs, "base...head" with branch names).
GREEDY_PARAMS = {"path", "basehead", "ref"}


@dataclass
class Operation:
    method: str
    template: str
    operation_id: str
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    regex: re.Pattern[str] = field(repr=False)
    literal_segments: int = 0


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    with gzip.open(FIXTURES / "openapi.json.gz", "rb") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def graphql_introspection() -> dict[str, Any]:
    with gzip.open(FIXTURES / "schema.json.gz", "rb") as fh:
        return json.load(fh)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (parameters, requestBodies) to its component."""
    while "$ref" in node:
        _, _, section, name = node["$ref"].split("/", 3)
        node = openapi()["components"][section][name]
    return node


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    parts = []
    literals = 0
    segments = template.strip("/").split("/")
    for i, seg in enumerate(segments):
        m = re.fullmatch(r"\{(\w+)\}", seg)
        if m:
            name = m.group(1)
            last = i == len(segments) - 1
            pattern = ".+" if (name in GREEDY_PARAMS and last) else "[^/]+"
            parts.append(f"(?P<{name}>{pattern})")
        else:
            literals += 1
            parts.append(re.escape(seg))
    return re.compile("/" + "/".join(parts) + "$"), literals


@lru_cache(maxsize=1)
def operations() -> list[Operation]:
    """All operations, most specific template first so literals beat parameters."""
    ops = []
    for template, item in openapi()["paths"].items():
        shared = item.get("parameters", [])
        regex, literals = _template_regex(template)
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            params = [resolve(p) for p in shared + op.get("parameters", [])]
            body = op.get("requestBody")
            ops.append(Operation(
                method=method.upper(), template=template, operation_id=op.get("operationId", ""),
                parameters=params, request_body=resolve(body) if body else None,
                regex=regex, literal_segments=literals,
            ))
    ops.sort(key=lambda o: (-o.literal_segments, o.template.count("{")))
    return ops


def match(method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
    """(operation, raw path params, path_known). path_known is True when some other method matches."""
    path_known = False
    for op in operations():
        m = op.regex.match(path)
        if not m:
            continue
        if op.method == method:
            return op, m.groupdict(), True
        path_known = True
    return None, {}, path_known
