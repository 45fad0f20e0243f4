"""Retries, Retry-After, rate limits and pacing against the fake GitHub's fault injection.

These use real time: the fake flags any request that arrives before its Retry-After has passed,
so the client must really wait (Retry-After is 1 s here).
"""
from __future__ import annotations

import asyncio
import time

import pytest

from bot.github import GitHub, RateLimited, TransientGitHubError
from tests.fakegithub.server import FakeGitHub

from .conftest import REPO, counter

REPO_VARS = {"owner": "octo", "repo": "widgets"}
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.mark.parametrize("kind", ["502", "429", "secondary_403"])
async def test_each_fault_kind_is_retried_and_retry_after_honoured(fake: FakeGitHub, github: GitHub,
                                                                  metrics, kind: str):
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    fake.faults.configure(share=0.5, kinds=(kind,), retry_after=1, seed=3)
    titles = [(await api.getitem("/repos/{owner}/{repo}/issues/{n}", {**REPO_VARS, "n": issue.number}))["title"]
              for _ in range(6)]
    fake.faults.off()
    assert titles == [issue.title] * 6
    assert fake.faults.injected and set(fake.faults.injected) == {kind}
    assert fake.violations == []
    status = {"502": 502, "429": 429, "secondary_403": 403}[kind]
    assert counter(metrics, "/repos/{owner}/{repo}/issues/{n}", status) == len(fake.faults.injected)


async def test_calls_started_after_a_retry_after_all_wait_it_out(fake: FakeGitHub, make_github):
    github = make_github(max_attempts=1)  # the first call gives up at once, leaving the gate held
    fake.add_issue(REPO)
    api = await github.installation(1)
    fake.faults.configure(share=1.0, kinds=("secondary_403",), retry_after=1, seed=5)
    with pytest.raises(TransientGitHubError):
        await api.getitem("/repos/{owner}/{repo}/issues/1", REPO_VARS)
    faulted_at = fake.calls[-1].time
    fake.faults.off()
    results = await asyncio.gather(*(api.getitem("/repos/{owner}/{repo}/issues/1", REPO_VARS)
                                     for _ in range(12)))
    assert len(results) == 12
    later = fake.calls_to("GET", "/repos/{owner}/{repo}/issues/{issue_number}")[1:]
    assert len(later) == 12
    assert min(c.time for c in later) >= faulted_at + 1.0
    assert fake.violations == []


async def test_mutations_retried_through_faults(fake: FakeGitHub, github: GitHub):
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    # Rate-limit answers mean "not applied": those are retried. (A 502 on a POST is not: see below.)
    fake.faults.configure(share=0.4, kinds=("429", "secondary_403"), retry_after=1, seed=2,
                          only_methods=("POST",))
    for n in range(4):
        await api.post("/repos/{owner}/{repo}/issues/{n}/comments", {**REPO_VARS, "n": issue.number},
                       data={"body": f"c{n}"})
    assert [c.body for c in fake.issue(REPO, issue.number).comments] == ["c0", "c1", "c2", "c3"]
    assert fake.faults.injected
    assert fake.violations == []


async def test_a_comment_whose_answer_was_lost_is_not_sent_again(fake: FakeGitHub, github: GitHub):
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    fake.faults.configure(share=1.0, kinds=("502",), only_methods=("POST",), after_effect=True)
    with pytest.raises(TransientGitHubError):
        await api.post("/repos/{owner}/{repo}/issues/{n}/comments", {**REPO_VARS, "n": issue.number},
                       data={"body": "once"})
    assert [c.body for c in fake.issue(REPO, issue.number).comments] == ["once"]


async def test_idempotent_posts_are_retried_through_502(fake: FakeGitHub, github: GitHub):
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    fake.faults.configure(share=0.5, kinds=("502",), seed=3, only_methods=("POST",))
    await api.post("/repos/{owner}/{repo}/issues/{n}/labels", {**REPO_VARS, "n": issue.number},
                   data={"labels": ["bug"]})
    assert [l.name if hasattr(l, "name") else l for l in fake.issue(REPO, issue.number).labels] == ["bug"]


async def test_gives_up_after_max_attempts(fake: FakeGitHub, make_github):
    github = make_github(max_attempts=3)
    api = await github.installation(1)
    fake.faults.configure(share=1.0, kinds=("502",), seed=1)
    started = len(fake.calls)
    with pytest.raises(TransientGitHubError) as caught:
        await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert caught.value.status == 502
    assert len(fake.calls) - started == 3


async def test_long_retry_after_raises_rate_limited_and_holds_the_installation(fake: FakeGitHub, make_github):
    github = make_github(max_wait=60.0)
    api = await github.installation(1)
    fake.faults.configure(share=1.0, kinds=("429",), retry_after=600, seed=1)
    before = time.time()
    with pytest.raises(RateLimited) as caught:
        await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert caught.value.retry_at == pytest.approx(before + 600, abs=5)
    sent = len(fake.calls)
    fake.faults.off()
    # Other calls of the installation do not hammer GitHub during the wait: they fail fast.
    with pytest.raises(RateLimited):
        await api.getitem("/repos/{owner}/{repo}/issues", REPO_VARS)
    assert len(fake.calls) == sent
    assert fake.violations == []


async def test_stalled_requests_time_out_and_are_retried(fake: FakeGitHub, make_github):
    github = make_github(timeout=0.3)
    api = await github.installation(1)
    fake.faults.configure(share=0.0, stall_share=0.5, stall_seconds=1.0, seed=4)
    for _ in range(3):
        repo = await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
        assert repo["full_name"] == REPO


async def test_mutations_are_spaced_per_installation(fake: FakeGitHub, make_github):
    github = make_github(mutation_interval=0.25)
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    await asyncio.gather(*(api.post("/repos/{owner}/{repo}/issues/{n}/comments",
                                    {**REPO_VARS, "n": issue.number}, data={"body": f"c{i}"})
                           for i in range(4)))
    await asyncio.gather(*(api.getitem("/repos/{owner}/{repo}", REPO_VARS) for _ in range(4)))
    posts = sorted(c.time for c in fake.calls_to("POST", COMMENTS))
    assert len(posts) == 4
    assert all(b - a >= 0.24 for a, b in zip(posts, posts[1:]))
    reads = sorted(c.time for c in fake.calls_to("GET", "/repos/{owner}/{repo}"))
    assert reads[-1] - reads[0] < 0.5  # reads are not paced (paced, four would span at least 0.72 s)


async def test_a_shared_hold_longer_than_any_github_limit_holds_an_hour_at_most(fake: FakeGitHub, make_github):
    # A hold recorded in github_holds by an older version from a garbled Retry-After (years
    # away) is read again at every start: it must not keep the installation silent for good.
    github = make_github(max_wait=60.0)
    github.hold("1", time.time() + 10 ** 9)
    api = await github.installation(1)
    with pytest.raises(RateLimited) as caught:
        await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert caught.value.retry_at <= time.time() + 3600 + 5
