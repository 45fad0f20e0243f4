"""The types of the payload fields the pipeline relies on, checked before a delivery is taken.

A signed payload GitHub would never send (``repository.id: "abc"``, ``sender`` a list) used
to be acknowledged, then fail in processing on every retry until it died. Intake checks these
fields and answers 400 naming the first one that is wrong; the worker checks them again for a
row stored some other way (an older version's intake), and ends it at once.

One table serves both readers: intake walks simdjson's proxies, the worker parsed dicts, so
the walk takes how to look a key up and what an object is.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

MISSING = object()
# What an INTEGER / BIGINT column holds: ids are stored (repository.id by repo_names).
_INT64 = range(-(2 ** 63), 2 ** 63)

# Kinds GitHub sends for these fields; null (or absent) is always accepted: GitHub sends null
# for several (a deleted user, an issue body), and the pipeline reads them all with a default.
STRING, INTEGER, BOOLEAN, OBJECT = "a string", "an integer", "a boolean", "an object"

# Parents come before their fields: a field is only looked at when its parent is an object.
FIELDS: tuple[tuple[str, str], ...] = (
    ("action", STRING),
    ("number", INTEGER),
    ("repository", OBJECT),
    ("repository.id", INTEGER),
    ("repository.name", STRING),
    ("repository.full_name", STRING),
    ("repository.private", BOOLEAN),
    ("repository.default_branch", STRING),
    ("repository.owner", OBJECT),
    ("repository.owner.login", STRING),
    ("installation", OBJECT),
    ("installation.id", INTEGER),
    ("sender", OBJECT),
    ("sender.login", STRING),
    ("sender.id", INTEGER),
    ("sender.type", STRING),
    ("organization", OBJECT),
    ("organization.login", STRING),
    ("issue", OBJECT),
    ("issue.number", INTEGER),
    ("issue.user", OBJECT),
    ("issue.user.login", STRING),
    ("issue.pull_request", OBJECT),
    ("pull_request", OBJECT),
    ("pull_request.number", INTEGER),
    ("pull_request.user", OBJECT),
    ("pull_request.user.login", STRING),
    ("comment", OBJECT),
    ("comment.id", INTEGER),
    ("comment.body", STRING),
    ("comment.user", OBJECT),
    ("comment.user.login", STRING),
    ("changes", OBJECT),
)
# (field, its parent's name or None at the top, its key, kind): worked out once, not per body.
_PATHS = tuple((name, name.rpartition(".")[0] or None, name.rpartition(".")[2], kind)
               for name, kind in FIELDS)


def _dict_get(obj: Mapping[str, Any], key: str) -> Any:
    return obj.get(key, MISSING)


def _is_dict(value: Any) -> bool:
    return isinstance(value, Mapping)


def _kind_of(value: Any, is_object: Callable[[Any], bool]) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if is_object(value):
        return "an object"
    return "a list"


def _fits(value: Any, kind: str, is_object: Callable[[Any], bool]) -> bool:
    if kind == INTEGER:
        return type(value) is int  # not a bool, not 1.0, not "1"
    if kind == STRING:
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    return is_object(value)


def shape_problem(payload: Any, *, get: Callable[[Any, str], Any] = _dict_get,
                  is_object: Callable[[Any], bool] = _is_dict,
                  get_top: Callable[[str], Any] | None = None) -> str | None:
    """The first field of FIELDS whose type is not GitHub's, as a message for whoever sent
    it; None when all are right. ``get(obj, key)`` returns MISSING for an absent key;
    ``get_top(key)``, when given, looks up the top level (a reader that knows its keys)."""
    objects: dict[str, Any] = {}
    for name, parent_name, key, kind in _PATHS:
        if parent_name is None:
            value = get_top(key) if get_top is not None else get(payload, key)
        else:
            parent = objects.get(parent_name)
            if parent is None:
                continue  # absent, null, or already reported
            value = get(parent, key)
        if value is MISSING or value is None:
            continue
        if not _fits(value, kind, is_object):
            return f"payload field {name} must be {kind}, not {_kind_of(value, is_object)}"
        if kind is INTEGER and value not in _INT64:
            return f"payload field {name} is out of range (more than 64 bits)"
        if kind is OBJECT:
            objects[name] = value
    return None
