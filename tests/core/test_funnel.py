"""Funnel arithmetic on hand-made histories: cumulative stages, new-contributor windows,
rates, medians, bots and UTC monthly cohorts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.core.funnel import STAGES, BotPolicy, Contributor, compute, cumulative, months_between

UTC = timezone.utc
JAN = datetime(2026, 1, 1, tzinfo=UTC)


def t(days: float = 0, hours: float = 0) -> float:
    return (JAN + timedelta(days=days, hours=hours)).timestamp()


def person(uid: int, login: str, contact=None, pr=None, merge=None, approver=None, bot=False):
    return Contributor(uid, login, (contact, pr, merge, approver), is_bot=bot)


@pytest.mark.parametrize("raw, expected", [
    ((1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0)),
    # First act is a PR: stage 1 and 2 at the same instant.
    ((None, 5.0, None, None), (5.0, 5.0, None, None)),
    # A merge with no recorded open (history imported from the middle): 1-3 at the merge.
    ((None, None, 7.0, None), (7.0, 7.0, 7.0, None)),
    # Approver rights first: every stage at once.
    ((9.0, None, None, 3.0), (3.0, 3.0, 3.0, 3.0)),
    ((None, None, None, None), (None, None, None, None)),
])
def test_cumulative_stages(raw, expected):
    assert cumulative(raw) == expected


@pytest.mark.parametrize("login, is_bot, uid, policy, excluded", [
    ("alice", False, 1, BotPolicy(), False),
    ("dependabot[bot]", False, 2, BotPolicy(), True),
    ("renovate", True, 3, BotPolicy(), True),
    ("k8s-ci-robot", False, 4, BotPolicy(deny=("*-robot",)), True),
    ("K8S-CI-ROBOT", False, 4, BotPolicy(deny=("*-robot",)), True),
    ("helper[bot]", True, 5, BotPolicy(allow=("helper[bot]",)), False),
    ("ghost", False, 10137, BotPolicy(allow=("ghost",)), True),
    ("renamed", False, 10137, BotPolicy(), True),
])
def test_bot_policy(login, is_bot, uid, policy, excluded):
    assert policy.excludes(login, is_bot, uid) is excluded


def test_rates_medians_and_subsets():
    people = [
        person(1, "a", contact=t(1), pr=t(1, 10), merge=t(2, 10), approver=t(20)),
        person(2, "b", contact=t(2), pr=t(2, 20)),
        person(3, "c", pr=t(3)),                      # PR without a prior comment
        person(4, "d", contact=t(4)),
    ]
    f = compute(people, JAN, JAN + timedelta(days=31))
    assert [s.name for s in f.stages] == list(STAGES)
    assert [s.contributors for s in f.stages] == [4, 3, 1, 1]
    assert [s.rate_from_first for s in f.stages] == [1.0, 0.75, 0.25, 0.25]
    assert [s.rate_from_previous for s in f.stages] == [1.0, 0.75, round(1 / 3, 4), 1.0]
    # Gaps to first_pr: 10 h, 20 h, 0 h -> median 10 h; merge 24 h; approver 17 d 14 h.
    assert [s.median_hours_from_previous for s in f.stages] == [None, 10.0, 24.0, 18 * 24 - 10]
    assert f.newcomers == ("a", "b", "c", "d")


def test_new_means_new_against_all_history_and_stages_by_window_end():
    people = [
        person(1, "old", contact=t(-40), pr=t(5)),     # active before the window: not new
        person(2, "new", contact=t(3), pr=t(10), merge=t(40)),  # merged after the window ends
        person(3, "later", contact=t(35)),             # first seen after the window
    ]
    f = compute(people, JAN, JAN + timedelta(days=31))
    assert [s.contributors for s in f.stages] == [1, 1, 0, 0]
    assert f.newcomers == ("new",)


def test_bots_and_ghost_are_left_out():
    people = [person(1, "alice", contact=t(1)), person(2, "ci[bot]", contact=t(1), bot=True),
              person(10137, "ghost", contact=t(1)), person(5, "stale-robot", contact=t(2))]
    f = compute(people, JAN, JAN + timedelta(days=10), BotPolicy(deny=("*-robot",)))
    assert f.stage("first_contact").contributors == 1
    assert f.newcomers == ("alice",)


def test_cohorts_split_on_utc_month_boundaries():
    last_second_of_jan = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    first_second_of_feb = datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC).timestamp()
    # 2026-02-01 00:30 in Paris is still January in UTC... the other way round:
    # 2026-01-31 23:30 UTC is February 1st in Paris, and counts for January.
    paris_feb = datetime(2026, 1, 31, 23, 30, tzinfo=UTC).timestamp()
    people = [person(1, "a", contact=last_second_of_jan, pr=first_second_of_feb),
              person(2, "b", contact=first_second_of_feb),
              person(3, "c", contact=paris_feb)]
    f = compute(people, JAN, datetime(2026, 3, 1, tzinfo=UTC))
    months = {c.month: [s.contributors for s in c.stages] for c in f.cohorts}
    assert months == {"2026-01": [2, 1, 0, 0], "2026-02": [1, 0, 0, 0]}


def test_empty_window_has_zero_counts_and_no_rates():
    f = compute([], JAN, JAN + timedelta(days=7))
    assert [s.contributors for s in f.stages] == [0, 0, 0, 0]
    assert all(s.rate_from_first is None and s.median_hours_from_previous is None for s in f.stages)
    assert [c.month for c in f.cohorts] == ["2026-01"]


@pytest.mark.parametrize("since, until, months", [
    (JAN, datetime(2026, 2, 1, tzinfo=UTC), ["2026-01"]),
    (JAN, datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC), ["2026-01", "2026-02"]),
    (datetime(2025, 12, 15, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), ["2025-12", "2026-01"]),
])
def test_months_between(since, until, months):
    assert months_between(since, until) == months


def test_json_shape_is_the_contract():
    f = compute([person(1, "a", contact=t(1))], JAN, JAN + timedelta(days=3)).to_dict()
    assert [s["name"] for s in f["stages"]] == list(STAGES)
    assert set(f["stages"][0]) == {"name", "contributors", "rate_from_first", "rate_from_previous",
                                   "median_hours_from_previous"}
    assert f["cohorts"][0]["month"] == "2026-01"
    assert [s["name"] for s in f["cohorts"][0]["stages"]] == list(STAGES)
