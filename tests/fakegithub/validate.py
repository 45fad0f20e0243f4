"""Validate REST requests against the vendored OpenAPI operations.

OpenAPI 3.0 schemas are JSON Schema draft 4 plus `nullable`; we rewrite `nullable` into draft-4
terms once, then compile one validator per operation and cache it for the process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema

from . import spec


def _denullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_denullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _denullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [{"type": "null"}, out]}
    return out


@lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    return {"schemas": _denullable(spec.openapi()["components"].get("schemas", {}))}


_STRING_PARAM: dict[str, Any] = {"schema": {"type": "string"}}
_body_validators: dict[tuple[str, str], jsonschema.Draft4Validator | None] = {}


def body_validator(op: spec.Operation) -> jsonschema.Draft4Validator | None:
    key = (op.method, op.template)
    if key not in _body_validators:
        content = (op.request_body or {}).get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            _body_validators[key] = None
        else:
            root = {**_denullable(schema), "components": _components()}
            _body_validators[key] = jsonschema.Draft4Validator(root)
    return _body_validators[key]


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    if kind == "array":
        return raw.split(",")
    return raw


def check_params(op: spec.Operation, path_params: dict[str, str],
                 query: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Typed (path, query) values and the problems found; unknown query names are problems."""
    problems: list[str] = []
    typed_path: dict[str, Any] = {}
    typed_query: dict[str, Any] = {}
    declared = {(p["in"], p["name"]): p for p in op.parameters}
    for name, raw in path_params.items():
        param = declared.get(("path", name), _STRING_PARAM)
        typed_path[name] = _typed(name, raw, param, problems, "path")
    for name, raw in query.items():
        param = declared.get(("query", name))
        if param is None:
            known = sorted(n for (where, n) in declared if where == "query")
            problems.append(f"unknown query parameter {name!r} (known: {known})")
            continue
        typed_query[name] = _typed(name, raw, param, problems, "query")
    for (where, name), param in declared.items():
        if where == "query" and param.get("required") and name not in query:
            problems.append(f"missing required query parameter {name!r}")
    return typed_path, typed_query, problems


_param_validators: dict[int, tuple[dict[str, Any], jsonschema.Draft4Validator]] = {}


def _param_validator(param: dict[str, Any]) -> tuple[dict[str, Any], jsonschema.Draft4Validator]:
    # Parameters are resolved component objects that live as long as the process: id() is stable.
    key = id(param)
    if key not in _param_validators:
        schema = _denullable(param.get("schema", {}))
        _param_validators[key] = (schema, jsonschema.Draft4Validator(schema))
    return _param_validators[key]


def _typed(name: str, raw: str, param: dict[str, Any], problems: list[str], where: str) -> Any:
    schema, validator = _param_validator(param)
    try:
        value = _coerce(raw, schema)
    except ValueError:
        problems.append(f"{where} parameter {name!r}={raw!r} is not a {schema.get('type')}")
        return raw
    for err in validator.iter_errors(value):
        problems.append(f"{where} parameter {name!r}={raw!r}: {err.message}")
    return value


_response_validators: dict[tuple[str, str, int], jsonschema.Draft4Validator | None] = {}


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def response_problems(op: spec.Operation, status: int, body: Any) -> list[str]:
    """Type mismatches between the fake's answer and GitHub's documented response.

    Required-ness is ignored: the fake renders the fields a bot reads, not all of them.
    For tests of the fake itself (a new route should pass this too).
    """
    key = (op.method, op.template, status)
    if key not in _response_validators:
        responses = spec.openapi()["paths"][op.template][op.method.lower()].get("responses", {})
        raw = responses.get(str(status))
        schema = (spec.resolve(raw).get("content", {}).get("application/json") or {}).get("schema") \
            if raw else None
        _response_validators[key] = None if schema is None else jsonschema.Draft4Validator(
            {**_without_required(_denullable(schema)),
             "components": {"schemas": _without_required(_components()["schemas"])}})
    validator = _response_validators[key]
    if validator is None:
        return [f"no documented JSON response {status} for {op.method} {op.template}"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
            for e in validator.iter_errors(body)]


def check_body(op: spec.Operation, body: Any, has_body: bool) -> list[str]:
    required = bool((op.request_body or {}).get("required"))
    validator = body_validator(op)
    if not has_body:
        return ["request body is required"] if required and validator is not None else []
    if validator is None:
        if op.request_body is None and body not in (None, {}):
            return [f"{op.method} {op.template} takes no request body"]
        return []
    problems = []
    for err in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(body)"
        problems.append(f"body {where}: {err.message}")
    return problems
