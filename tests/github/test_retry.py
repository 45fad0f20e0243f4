"""Which responses are retried, and how long we wait (pure rules, table-driven)."""
import random

import pytest

from bot.github.retry import (SECONDARY_DEFAULT_WAIT, Hold, Kind, backoff_delay, classify,
                              exhausted_until, parse_retry_after)

NOW = 1_700_000_000.0
SECONDARY = b'{"message": "You have exceeded a secondary rate limit. Please wait."}'


@pytest.mark.parametrize("status, headers, body, kind, wait, hold", [
    (200, {}, b"{}", Kind.DONE, None, Hold.NONE),
    (304, {}, b"", Kind.DONE, None, Hold.NONE),
    (404, {}, b'{"message": "Not Found"}', Kind.DONE, None, Hold.NONE),
    (422, {}, b'{"message": "Validation Failed"}', Kind.DONE, None, Hold.NONE),
    (403, {"x-ratelimit-remaining": "12"}, b'{"message": "Resource not accessible"}', Kind.DONE, None, Hold.NONE),
    (401, {}, b'{"message": "Bad credentials"}', Kind.REAUTH, None, Hold.NONE),
    (502, {}, b"", Kind.RETRY, None, Hold.NONE),
    (503, {"retry-after": "7"}, b"", Kind.RETRY, 7.0, Hold.INSTALLATION),
    (429, {"retry-after": "3"}, b"", Kind.RETRY, 3.0, Hold.INSTALLATION),
    (403, {"retry-after": "2"}, SECONDARY, Kind.RETRY, 2.0, Hold.INSTALLATION),
    (403, {}, SECONDARY, Kind.RETRY, None, Hold.INSTALLATION),
    # Primary limit: wait until reset (plus a second's margin), installation-wide.
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 30))}, b"{}", Kind.RETRY, 31.0, Hold.RESOURCE),
    (429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 900))}, b"{}", Kind.RETRY, 901.0, Hold.RESOURCE),
    # Retry-After wins over the reset instant.
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 900)), "retry-after": "5"}, b"{}", Kind.RETRY, 5.0, Hold.RESOURCE),
])
def test_classify(status, headers, body, kind, wait, hold):
    verdict = classify(status, headers, body, now_epoch=NOW)
    assert verdict.kind is kind
    assert verdict.wait == wait
    assert verdict.hold is hold


@pytest.mark.parametrize("headers, wait", [
    # A wait no GitHub limit asks for (a broken proxy, a garbled header) would hold the
    # installation, on every replica through github_holds, for ever: at most an hour, the
    # primary limit's window.
    ({"retry-after": "99999999999"}, 3600.0),
    ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 10 ** 12))}, 3600.0),
    # Not delta-seconds at all: as if there were no Retry-After (the secondary floor applies).
    ({"retry-after": "inf"}, None),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "1e9"}, None),
])
def test_a_wait_no_github_limit_asks_for_is_bounded(headers, wait):
    verdict = classify(429, headers, b"", now_epoch=NOW)
    assert verdict.kind is Kind.RETRY and verdict.wait == wait
    assert verdict.wait is not None or verdict.floor == SECONDARY_DEFAULT_WAIT


def test_an_emptied_budget_is_held_at_most_an_hour():
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 10 ** 12))}
    assert exhausted_until(headers, NOW) == 3600.0


def test_secondary_limit_without_instructions_waits_at_least_a_minute():
    verdict = classify(403, {}, SECONDARY, now_epoch=NOW)
    assert verdict.floor == SECONDARY_DEFAULT_WAIT
    assert classify(429, {}, b"", now_epoch=NOW).floor == SECONDARY_DEFAULT_WAIT
    assert classify(502, {}, b"", now_epoch=NOW).floor == 0.0


def test_retry_after_as_http_date():
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:00 GMT", 1_700_000_000.0) == pytest.approx(40.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", 1_700_000_000.0) == 0.0  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_backoff_grows_exponentially_with_bounded_jitter():
    rng = random.Random(4)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 30.0)]:
        delays = [backoff_delay(attempt, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert len(set(delays)) > 1  # jittered, so concurrent retries spread out


def test_an_emptied_budget_is_noticed_on_success():
    assert exhausted_until({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 10))}, NOW) == 11.0
    assert exhausted_until({"x-ratelimit-remaining": "3", "x-ratelimit-reset": str(int(NOW + 10))}, NOW) is None
    assert exhausted_until({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW - 5))}, NOW) is None
