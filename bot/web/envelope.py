"""What intake must know of a delivery before it answers: that the body is one valid
JSON object, and the few fields the queue is keyed on (action, repository, subject,
installation). The worker parses the whole payload later, from the stored body.

Why not ``orjson.loads``: building, then freeing, the Python objects of a 12 KB payload
costs intake more than everything else it does besides the HMAC. simdjson validates
the whole document (structure and UTF-8) into its own buffer, and only the fields read
here become Python objects. The values are worked out exactly as ``Event`` works them
out from a parsed payload, so the queue's subject is the one features see.
"""
from __future__ import annotations

from dataclasses import dataclass

import simdjson

from ..core.payload_shape import MISSING, shape_problem


class MalformedBody(ValueError):
    """Not JSON, or not one object: answered 400."""


class UnexpectedFields(ValueError):
    """Valid JSON with a field the pipeline relies on of a type GitHub never sends (see
    core.payload_shape): answered 400 with the message, which names the field."""


@dataclass(frozen=True, slots=True)
class Envelope:
    action: str
    repo: str
    subject: str
    installation_id: int | None


_Object, _Array = simdjson.Object, simdjson.Array


def _object(value, what: str):
    if value is None:
        return None
    if not isinstance(value, _Object):
        raise UnexpectedFields(f"{what} is not an object")
    return value


def _scalar(value, what: str):
    if isinstance(value, (_Object, _Array)):
        raise UnexpectedFields(f"{what} is not a scalar")
    return value


def _number(value, what: str) -> int | None:
    value = _scalar(value, what)
    if value is None:
        return None
    if not isinstance(value, (int, float, str)):
        raise UnexpectedFields(f"{what} is not a number")
    try:
        return int(value)
    except ValueError:
        raise UnexpectedFields(f"{what} is not a number") from None


class EnvelopeReader:
    """One per event loop: a simdjson parser reuses its buffers from one body to the next."""

    def __init__(self) -> None:
        self._parser = simdjson.Parser()

    def read(self, event_name: str, body: bytes | str) -> Envelope:
        if body[:1] == "\ufeff" or body[:3] == b"\xef\xbb\xbf":
            # simdjson skips a byte-order mark; the worker's parser (json.loads) refuses it, so
            # such a body acknowledged could never be processed. GitHub sends none.
            raise MalformedBody("body is not valid JSON")
        try:
            doc = self._parser.parse(body)
        except RuntimeError as exc:
            if "re-use a parser" in str(exc):
                # A proxy of the last document outlived it (e.g. held by a traceback):
                # a fresh parser rather than an error.
                self._parser = simdjson.Parser()
                return self.read(event_name, body)
            raise MalformedBody("body is not valid JSON") from None  # e.g. an integer wider than 64 bits
        except (ValueError, UnicodeDecodeError):
            raise MalformedBody("body is not valid JSON") from None
        try:
            return _envelope(event_name, doc)
        finally:
            del doc  # the parser can take the next body only once no proxy of this one is left


def _field(obj, key: str):
    # Not obj.get(key): a missing key costs simdjson an exception inside get(), about
    # 3 microseconds; the nested fields read here are nearly always present.
    try:
        return obj[key]
    except KeyError:
        return None


def _shape_get(obj, key: str):
    try:
        return obj[key]
    except KeyError:
        return MISSING


def _is_object(value) -> bool:
    return isinstance(value, _Object)


def _envelope(event_name: str, doc) -> Envelope:
    if not isinstance(doc, _Object):
        raise MalformedBody("body must be a JSON object")
    present = set(doc.keys())  # a handful of top-level keys, several of them usually absent

    def top(key: str):
        return doc[key] if key in present else None

    # Acknowledged, a payload of the wrong shape could only fail in processing until it died.
    problem = shape_problem(doc, get=_shape_get, is_object=_is_object,
                            get_top=lambda key: doc[key] if key in present else MISSING)
    if problem is not None:
        raise UnexpectedFields(problem)

    action = _scalar(top("action"), "action")
    repository = _object(top("repository") or None, "repository")
    repo = _scalar(_field(repository, "full_name"), "repository.full_name") if repository is not None else None
    repo = str(repo or "")
    installation = _object(top("installation") or None, "installation")
    installation_id = (_number(_field(installation, "id"), "installation.id")
                       if installation is not None else None)
    number = None
    for key in ("pull_request", "issue"):  # Event.item's order
        item = top(key)
        if isinstance(item, _Object):
            number = _number(_field(item, "number"), f"{key}.number")
            break
    if number is None:
        number = _number(top("number"), "number")
    if repo and number is not None:
        subject = f"{repo}#{number}"
    elif repo:
        subject = repo
    elif installation_id is not None:
        subject = f"installation:{installation_id}"
    else:
        subject = event_name
    return Envelope(action=str(action or ""), repo=repo, subject=subject, installation_id=installation_id)
