"""The pipeline end to end: handler isolation and retries, dead deliveries, self and
bot events, the repo's rules override (good, broken, last good), replay."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from bot.core import actions as A
from bot.features.base import Feature
from bot.store import deliveries

from .botprocess import ROOT, config_push

REPO = "octo/repo"


def add_feature(bot, name, handler, event="issues.opened"):
    bot.runtime.features.append(Feature(name=name, handlers={event: [handler]}))


async def test_a_failing_handler_does_not_stop_the_others_and_is_retried(bot, fake_github):
    for _ in range(3):  # our issue must not share a number with the example payload's
        issue = fake_github.add_issue(REPO)
    calls = {"flaky": 0}

    async def labeller(event, ctx):
        return [A.AddLabels(repo=ctx.repo, number=issue.number, labels=("seen",))]

    async def flaky(event, ctx):
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("transient bug")
        return [A.Comment(repo=ctx.repo, number=issue.number, body="flaky handler done")]

    add_feature(bot, "labeller", labeller)
    add_feature(bot, "flaky", flaky)
    did = await bot.deliver_example("issues", "opened")
    assert await bot.status(did) == "done"
    row = await deliveries.get(bot.runtime.db, did)
    assert row.attempts == 2 and calls["flaky"] == 2
    # The labeller's action ran in the first attempt and was not repeated in the second.
    # (Only calls about our issue: the real features act on the example's own issue too.)
    mine = f"/issues/{issue.number}/"
    labels = fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
    comments = fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    assert len([c for c in labels if mine in c.path]) == 1
    assert len([c for c in comments if mine in c.path]) == 1


async def test_a_delivery_that_keeps_failing_ends_dead_and_can_be_requeued(bot, fake_github):
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  max_attempts: 2\n")
    fails = {"on": True}

    async def broken(event, ctx):
        if fails["on"]:
            raise ValueError("always")
        return []

    add_feature(bot, "broken", broken)
    did = await bot.deliver_example("issues", "opened")
    assert await bot.status(did) == "dead"
    fails["on"] = False
    assert await deliveries.requeue(bot.runtime.db, dead=True) == 1
    bot.worker.wake.set()
    assert await bot.wait_for(did) == "done"


async def test_events_of_the_bot_itself_and_of_other_bots_are_ignored(bot, fake_github):
    seen = []

    async def spy(event, ctx):
        seen.append(event.sender_login)
        return []

    add_feature(bot, "spy", spy, event="issue_comment.created")

    def sender(login, type_):
        def patch(p):
            p["sender"] = {"login": login, "id": 99, "type": type_}
        return patch

    await bot.deliver_example("issue_comment", "created", patch=sender("contributor-flow[bot]", "Bot"))
    await bot.deliver_example("issue_comment", "created", patch=sender("renovate[bot]", "Bot"))
    await bot.deliver_example("issue_comment", "created", patch=sender("alice", "User"))
    assert seen == ["alice"]
    # A repository may let a named bot through.
    fake_github.put_file(REPO, ".github/contributor-flow.yml", 'core:\n  allowed_bots: ["renovate[bot]"]\n')
    bot.runtime.repo_rules.invalidate(REPO)
    await bot.deliver_example("issue_comment", "created", patch=sender("renovate[bot]", "Bot"))
    assert seen == ["alice", "renovate[bot]"]


async def test_a_feature_that_accepts_bot_events_sees_them_but_never_its_own(bot):
    seen = []

    async def spy(event, ctx):
        seen.append(event.sender_login)
        return []

    bot.runtime.features.append(Feature(name="botspy", handlers={"issue_comment.created": [spy]},
                                        accepts_bot_events=True))
    for login in ("dependabot[bot]", "contributor-flow[bot]"):
        def patch(p, login=login):
            p["sender"] = {"login": login, "id": 7, "type": "Bot"}
        await bot.deliver_example("issue_comment", "created", patch=patch)
    assert seen == ["dependabot[bot]"]


async def test_a_feature_may_hear_the_bots_own_event_and_still_not_other_bots(bot, fake_github):
    """``own_events``: the bot's own reopen (a maintainer's ``/reopen`` it carried out) reaches
    the feature that asks for it, for that event only; other bots' stay filtered by
    ``core.allowed_bots``, and a feature that did not ask never hears the bot's own."""
    own, plain = [], []

    def spy(into):
        async def listen(event, ctx):
            into.append((event.qualified, event.sender_login))
            return []
        return listen

    heard_own = spy(own)
    bot.runtime.features.append(Feature(
        name="ownspy", handlers={"issues.reopened": [heard_own], "issues.closed": [heard_own]},
        own_events=frozenset({"issues.reopened"})))
    bot.runtime.features.append(Feature(name="plainspy", handlers={"issues.reopened": [spy(plain)]}))

    async def send(action, login, type_):
        def patch(p):
            p["action"] = action
            p["sender"] = {"login": login, "id": 7, "type": type_}
        await bot.deliver_example("issues", "reopened", patch=patch)

    for login, type_ in (("contributor-flow[bot]", "Bot"), ("stale[bot]", "Bot"), ("alice", "User")):
        await send("reopened", login, type_)
    await send("closed", "contributor-flow[bot]", "Bot")   # not declared: not heard
    assert own == [("issues.reopened", "contributor-flow[bot]"), ("issues.reopened", "alice")]
    assert plain == [("issues.reopened", "alice")]
    # A bot the repository lets through is heard as a person is, by both.
    fake_github.put_file(REPO, ".github/contributor-flow.yml", 'core:\n  allowed_bots: ["stale[bot]"]\n')
    bot.runtime.repo_rules.invalidate(REPO)
    await send("reopened", "stale[bot]", "Bot")
    assert own[-1] == plain[-1] == ("issues.reopened", "stale[bot]")


async def test_broken_repo_config_keeps_last_good_and_says_why(bot, fake_github):
    path = ".github/contributor-flow.yml"
    good, broken = "core:\n  max_attempts: 3\n", "core:\n  max_atempts: 4\n  dry_run: maybe\n"
    for ref in (None, f"{1:040x}"):
        fake_github.put_file(REPO, path, good, ref=ref)  # the default branch, and the pushed commit
    await bot.deliver("push", config_push(fake_github, REPO, 1))
    assert (await bot.runtime.rules_for(REPO, 1)).rules.section("core")["max_attempts"] == 3
    for ref in (None, f"{2:040x}"):
        fake_github.put_file(REPO, path, broken, ref=ref)
    await bot.deliver("push", config_push(fake_github, REPO, 2))
    result = await bot.runtime.rules_for(REPO, 1)
    assert result.problems and result.rules.section("core")["max_attempts"] == 3
    runs = {r.head_sha: r for r in fake_github.state.check_runs.values()}
    assert runs[f"{1:040x}"].conclusion == "success"
    bad = runs[f"{2:040x}"]
    assert bad.conclusion == "failure"
    summary = bad.output["summary"]
    assert "core.max_atempts: unknown key" in summary and "contributor-flow.yml:2" in summary
    assert "core.dry_run" in summary and "contributor-flow.yml:3" in summary


async def test_a_repository_may_try_the_bot_out_in_dry_run(bot, fake_github):
    for _ in range(3):  # our issue must not share a number with the example payload's
        issue = fake_github.add_issue(REPO)

    async def labeller(event, ctx):
        return [A.AddLabels(repo=ctx.repo, number=issue.number, labels=("seen",))]

    add_feature(bot, "labeller", labeller)
    labels_posted = lambda: [c for c in fake_github.calls_to(  # noqa: E731
        "POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels") if f"/issues/{issue.number}/" in c.path]
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  dry_run: true\n")
    bot.runtime.repo_rules.invalidate(REPO)
    did = await bot.deliver_example("issues", "opened")
    assert await bot.wait_for(did) == "done"
    assert labels_posted() == []                 # decided, logged, not sent
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  dry_run: false\n")
    bot.runtime.repo_rules.invalidate(REPO)
    did = await bot.deliver_example("issues", "opened")
    assert await bot.wait_for(did) == "done"
    assert len(labels_posted()) == 1


async def test_replay_prints_the_decided_actions_without_performing_them(fake_github, tmp_path):
    fake_github.add_repo(REPO)
    fake_github.put_file(REPO, ".github/contributor-flow.yml", "core:\n  bogus: 1\n", ref=f"{7:040x}")
    recording = tmp_path / "push.json"
    recording.write_text(json.dumps({"event": "push", "payload": config_push(fake_github, REPO, 7)}))
    env = {**os.environ, "GITHUB_APP_ID": str(fake_github.app_id), "GITHUB_API_URL": fake_github.url,
           "GITHUB_PRIVATE_KEY": fake_github.private_key_pem,
           "DATABASE_URL": f"sqlite:///{tmp_path}/replay.sqlite3"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "replay", str(recording), cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "UpsertCheckRun" in text and "conclusion='failure'" in text
    assert [c for c in fake_github.calls if c.method != "GET" and "access_tokens" not in c.path] == []
