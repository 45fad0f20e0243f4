"""Intake reads a few fields with simdjson instead of parsing the whole payload: the
queue's subject must be exactly what features later compute from the parsed payload."""
from __future__ import annotations

import json

import orjson
import pytest

from bot.core.events import Event
from bot.web.envelope import EnvelopeReader, MalformedBody, UnexpectedFields
from tests.fixtures.webhooks import EXAMPLES_DIR

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))


def _expected(event_name: str, payload: dict):
    event = Event(name=event_name, payload=payload)
    inst = event.installation_id
    return event.action, event.repo, event.subject, None if inst is None else int(inst)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_envelope_matches_the_event_model_on_every_real_example(path):
    raw = path.read_bytes()
    event_name = path.stem.split(".")[0]
    env = EnvelopeReader().read(event_name, raw)
    assert (env.action, env.repo, env.subject, env.installation_id) == _expected(event_name, json.loads(raw))


def test_one_reader_serves_many_bodies_in_a_row():
    reader = EnvelopeReader()
    subjects = [reader.read(p.stem.split(".")[0], p.read_bytes()).subject for p in EXAMPLES]
    assert subjects == [_expected(p.stem.split(".")[0], json.loads(p.read_bytes()))[2] for p in EXAMPLES]


@pytest.mark.parametrize("payload, subject", [
    ({"repository": {"full_name": "o/r"}, "issue": {"number": 7}}, "o/r#7"),
    # pull_request wins over issue, as in Event.item
    ({"repository": {"full_name": "o/r"}, "issue": {"number": 7}, "pull_request": {"number": 9}}, "o/r#9"),
    ({"repository": {"full_name": "o/r"}, "number": 12}, "o/r#12"),
    ({"repository": {"full_name": "o/r"}, "issue": {"title": "no number"}, "number": 3}, "o/r#3"),
    ({"repository": {"full_name": "o/r"}}, "o/r"),
    ({"repository": {}, "installation": {"id": 42}}, "installation:42"),
    ({"repository": None, "installation": {"id": 42}}, "installation:42"),
    ({"zen": "Keep it logically awesome."}, "ping"),
])
def test_subject_rules(payload, subject):
    env = EnvelopeReader().read("ping", orjson.dumps(payload))
    assert env.subject == subject == Event(name="ping", payload=payload).subject


def test_text_bodies_are_read_too():
    env = EnvelopeReader().read("issues", '{"action": "opened", "repository": {"full_name": "o/ü"}}')
    assert (env.action, env.repo) == ("opened", "o/ü")


@pytest.mark.parametrize("raw", [b"{not json", b'{"a": 1,}', b"\xff\xfe", b"[1, 2]", b'"text"', b"",
                                 b'{"n": 123456789012345678901234567890}',
                                 # simdjson skips a byte-order mark, the worker's JSON parser does
                                 # not: acknowledged, such a delivery could only ever die.
                                 b'\xef\xbb\xbf{"repository": {"full_name": "o/r"}}'])
def test_malformed_bodies(raw):
    reader = EnvelopeReader()
    with pytest.raises(MalformedBody):
        reader.read("issues", raw)
    # and the reader is still usable afterwards
    assert reader.read("issues", b'{"repository": {"full_name": "o/r"}}').subject == "o/r"


@pytest.mark.parametrize("payload", [
    {"repository": "o/r"},
    {"repository": [1]},
    {"installation": "x"},
    {"installation": {"id": "not a number"}},
    {"repository": {"full_name": "o/r"}, "issue": {"number": {"n": 1}}},
    {"repository": {"full_name": "o/r"}, "number": [1]},
    {"repository": {"full_name": {"x": 1}}},
    # GitHub sends numbers as JSON integers: a string would fail wherever it is counted on.
    {"repository": {"full_name": "o/r"}, "number": "12"},
    {"repository": {"full_name": "o/r", "id": "abc"}},
    {"installation": {"id": "1"}},
    {"installation": {"id": 1.0}},
    {"sender": [{"login": "a"}]},
])
def test_fields_of_the_wrong_shape(payload):
    with pytest.raises(UnexpectedFields):
        EnvelopeReader().read("issues", orjson.dumps(payload))


@pytest.mark.parametrize("payload, message", [
    ({"repository": {"full_name": "o/r", "id": "abc"}}, "repository.id must be an integer, not a string"),
    ({"installation": {"id": True}}, "installation.id must be an integer, not a boolean"),
    ({"sender": ["a"]}, "sender must be an object, not a list"),
    ({"issue": {"number": 1, "user": {"login": 7}}}, "issue.user.login must be a string, not an integer"),
])
def test_the_refusal_names_the_field_and_what_it_should_be(payload, message):
    with pytest.raises(UnexpectedFields, match=message):
        EnvelopeReader().read("issues", orjson.dumps(payload))
    # The worker's check of a stored row says the same.
    from bot.core.payload_shape import shape_problem
    assert message in shape_problem(payload)


def test_a_proxy_left_alive_does_not_break_the_next_read():
    reader = EnvelopeReader()
    kept = reader._parser.parse(b'{"repository": {"full_name": "o/r"}}')  # as a traceback could
    assert reader.read("issues", b'{"repository": {"full_name": "o/s"}}').subject == "o/s"
    del kept
