"""Which deliveries recovery asks for: table-driven over the App's delivery log."""
from __future__ import annotations

import pytest

from bot.features.recovery.plan import Attempt, event_filter, missed, parse_time

NOW = parse_time("2026-11-26T12:00:00Z")
HOUR = 3600.0
DAY = 24 * HOUR


def att(id, guid, status=502, event="issues", action="opened", age=HOUR, redelivery=False):
    return Attempt(id=id, guid=guid, event=event, action=action, status_code=status,
                   delivered_at=NOW - age, redelivery=redelivery)


ALL = event_filter([], {"issues", "pull_request.opened", "push"})

CASES = [
    ("a failed delivery is asked for", [att(1, "a")], set(), {}, ["a:1"]),
    ("a 2xx answer means delivered", [att(1, "a", status=202)], set(), {}, []),
    ("connection failures (status 0) count as failed", [att(1, "a", status=0)], set(), {}, ["a:1"]),
    ("a later successful redelivery settles it",
     [att(1, "a"), att(2, "a", status=202, redelivery=True)], set(), {}, []),
    ("stored by the bot (GitHub counted a timeout) is not asked for", [att(1, "a")], {"a"}, {}, []),
    ("older than the window is ignored", [att(1, "a", age=3 * DAY + 1)], set(), {}, []),
    ("the latest failed attempt is the one asked for",
     [att(1, "a", age=2 * HOUR), att(5, "a", redelivery=True)], set(), {}, ["a:5"]),
    ("an attempt already asked for is not asked for twice",
     [att(1, "a")], set(), {"a": ({1}, 1)}, []),
    ("a redelivery that failed again is asked for once more",
     [att(1, "a", age=2 * HOUR), att(7, "a", redelivery=True)], set(), {"a": ({1}, 1)}, ["a:7"]),
    ("at most max_requests per delivery",
     [att(9, "a")], set(), {"a": ({1, 5, 7}, 3)}, []),
    ("events no feature handles are skipped", [att(1, "a", event="star", action="created")],
     set(), {}, []),
    ("event.action keys match that action only",
     [att(1, "a", event="pull_request", action="closed"), att(2, "b", event="pull_request")],
     set(), {}, ["b:2"]),
    ("oldest first", [att(3, "new", age=HOUR), att(2, "old", age=5 * HOUR),
                      att(1, "mid", age=3 * HOUR, event="push", action="")],
     set(), {}, ["old:2", "mid:1", "new:3"]),
]


@pytest.mark.parametrize("attempts,stored,asked,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_missed(attempts, stored, asked, expected):
    got = missed(attempts, now=NOW, max_age=3 * DAY, wanted=ALL, stored=stored, asked=asked,
                 max_requests=3)
    assert [f"{m.guid}:{m.attempt_id}" for m in got] == expected


def test_rules_events_replace_the_handled_ones():
    wanted = event_filter(["issues.opened", "push"], {"pull_request"})
    assert wanted("issues", "opened") and wanted("push", "")
    assert not wanted("issues", "closed") and not wanted("pull_request", "opened")


def test_attempt_from_githubs_shape():
    item = {"id": 12345678, "guid": "0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "delivered_at": "2019-06-03T00:57:16Z", "redelivery": False, "duration": 0.27,
            "status": "OK", "status_code": 200, "event": "issues", "action": "opened",
            "installation_id": 123, "repository_id": 456, "throttled_at": None}
    a = Attempt.from_api(item)
    assert (a.id, a.ok, a.event, a.action) == (12345678, True, "issues", "opened")
    assert a.delivered_at == parse_time("2019-06-03T00:57:16+00:00")
    assert Attempt.from_api({**item, "action": None, "status_code": 0}).action == ""
