"""merge_group events in, group check runs out (real database on both back ends); the follow job.

The verdicts are put in place through the owning features' own writers (the CLA's recorded
verdicts and signatures, the patch pipeline's runs) and the executor's check-run ledger, as the
bot itself would have left them."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.context import JobContext, RepoHandle
from bot.core import pipeline as P
from bot.core.actions import Note, Record, UpsertCheckRun
from bot.features import cla, merge_queue, patch_pipeline
from bot.features.merge_queue import follow, handlers, store
from bot.store import state
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, bundled_rules, fixed_roles, make_context

REPO = "octo-org/octo-repo"            # the vendored example's repository
NUMBER = 104
HEAD = "c" * 40                        # the queued pull request's head
OTHER = "d" * 40                       # an older head of it
GROUP = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
STACKED_ON = "929f8209d40f77f4abc622a499c93a83babdbe64"
PULL_URL = "/repos/{owner}/{repo}/pulls/{pull_number}"
CONTENTS_URL = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
CONFIG = "contributor-flow/config"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
ALICE = {"id": 101, "login": "alice"}


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def group_payload(action: str = "checks_requested", *, number: int = NUMBER, head_ref: str | None = None,
                  group_sha: str = GROUP, stacked_on: str = STACKED_ON) -> dict:
    payload = load_example("merge_group", "checks_requested")
    payload["action"] = action
    if action == "destroyed":
        payload["reason"] = "merged"
    payload["merge_group"]["head_sha"] = group_sha
    payload["merge_group"]["head_ref"] = head_ref or f"refs/heads/gh-readonly-queue/main/pr-{number}-{stacked_on}"
    return payload


def pull(state_: str = "open", head: str = HEAD, base: str = "main", *, number: int = NUMBER,
         merged: bool = False) -> dict:
    return {"number": number, "state": state_, "head": {"sha": head}, "base": {"ref": base}, "merged": merged}


def reader(pr: dict | list[dict] | None, files: dict[str, str] | None = None) -> RecordingReader:
    def contents(v: dict[str, Any]) -> dict:
        text = (files or {}).get(v["ref"])
        if text is None:
            from bot.github import PermanentGitHubError

            raise PermanentGitHubError("404 Not Found", status=404)
        return {"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"}
    items: dict[str, Any] = {CONTENTS_URL: contents}
    if isinstance(pr, list):
        pulls = {p["number"]: p for p in pr}

        def one(v: dict[str, Any]) -> dict:
            if v["pull_number"] not in pulls:
                from bot.github import PermanentGitHubError

                raise PermanentGitHubError("404 Not Found", status=404)
            return pulls[v["pull_number"]]
        items[PULL_URL] = one
    elif pr is not None:
        items[PULL_URL] = pr
    return RecordingReader(items)


async def apply(db, actions) -> None:
    """What the executor does with Record actions (and with check runs: its ledger)."""
    features = {"merge_queue": merge_queue.FEATURE, "cla": cla.FEATURE, "patch_pipeline": patch_pipeline.FEATURE}
    for action in actions:
        if isinstance(action, Record):
            await features[action.feature].writers[action.op](db, **action.args)
        elif isinstance(action, UpsertCheckRun):
            await state.remember_check_run(db, action.repo, action.head_sha, action.name, "1", True)


# --- what the other features left behind --------------------------------------------------------

def cla_verdict(head: str = HEAD, *, signed=(ALICE,), missing=(), version="1", mode="cla", unlinked=0,
                number: int = NUMBER):
    async def put(db):
        passed = not missing and not unlinked
        await cla.FEATURE.writers["pr_status"](
            db, repo=REPO, number=number, head_sha=head, state="yes" if passed else "no",
            conclusion="success" if passed else "action_required", missing=list(missing), unlinked=unlinked,
            dco=0, commented=False, updated_at=1.0, mode=mode, version=version, signed=list(signed))
        await state.remember_check_run(db, REPO, head, "cla", "9", True)
    return put


def signature(user: dict, version: str = "1"):
    async def put(db):
        await cla.FEATURE.writers["sign"](db, agreement="octo-org", user_id=user["id"], login=user["login"],
                                          version=version, signed_at=1.0)
    return put


def reported(name: str, head: str = HEAD):
    async def put(db):
        await state.remember_check_run(db, REPO, head, name, "7", True)
    return put


def patches_refused(head: str = HEAD):
    async def put(db):
        await patch_pipeline.FEATURE.writers["record_rejection"](
            db, repo=REPO, number=NUMBER, head_sha=head, reason="patches/a.patch: unsigned",
            patches=["patches/a.patch"], at=1.0)
        await state.remember_check_run(db, REPO, head, "patch-signature", "8", True)
    return put


def pipeline_running(head: str = HEAD):
    async def put(db):
        rules = bundled_rules()
        specs = P.specs_from_rules(rules.section("pipeline")["stages"])
        run = P.apply_workflow_run(P.new_run(head, specs, 1.0), status="in_progress", conclusion=None,
                                   run_id=55, now=2.0)
        await patch_pipeline.FEATURE.writers["save_run"](
            db, repo=REPO, number=NUMBER, run=patch_pipeline.store.run_to_args(run), at=2.0,
            signers="kernel-release", patches=["patches/a.patch"])
        for name in ("patch-signature", "patch-pipeline"):
            await state.remember_check_run(db, REPO, head, name, "8", True)
    return put


VALID = "cla:\n  version: '1'\n"
BROKEN = "cla:\n  versoin: 2\n"

CASES = [
    # (id, setup, pull, head_ref, files at the group commit, rules, expected (name, status, conclusion, title))
    ("signed CLA carried", [cla_verdict(), signature(ALICE)], pull(), None, None, None,
     [("cla", "completed", "success", "Everyone has signed the CLA")]),
    ("CLA version raised since: sign again", [cla_verdict(), signature(ALICE)], pull(), None, None,
     {"cla": {"version": "2"}}, [("cla", "completed", "action_required", "1 person needs to sign the CLA")]),
    ("signed since the PR was checked", [cla_verdict(signed=(), missing=(ALICE,)), signature(ALICE)], pull(),
     None, None, None, [("cla", "completed", "success", "Everyone has signed the CLA")]),
    ("still unsigned", [cla_verdict(signed=(), missing=(ALICE,))], pull(), None, None, None,
     [("cla", "completed", "action_required", "1 person needs to sign the CLA")]),
    ("CLA verdict for another head", [cla_verdict(OTHER), signature(ALICE)], pull(), None, None, None,
     [("cla", "completed", "failure", "No verdict for the queued head")]),
    ("CLA reported on the head but no verdict held", [reported("cla")], pull(), None, None, None,
     [("cla", "completed", "failure", "No verdict for the queued head")]),
    ("nothing reported on the PR: nothing on the group", [reported("cla", OTHER)], pull(), None, None, None, []),
    ("CLA off in this repository", [cla_verdict(), signature(ALICE)], pull(), None, None,
     {"cla": {"enabled": False}}, []),
    ("branch names no PR", [reported("cla", OTHER)], pull(), "refs/heads/main", None, None,
     [("cla", "completed", "failure", "Merge group not tied to a pull request")]),
    ("PR not found", [reported("cla", OTHER)], None, None, None, None,
     [("cla", "completed", "failure", f"Pull request #{NUMBER} not found")]),
    ("PR closed", [cla_verdict(), signature(ALICE)], pull("closed"), None, None, None,
     [("cla", "completed", "failure", f"Pull request #{NUMBER} is closed")]),
    ("PR retargeted", [cla_verdict(), signature(ALICE)], pull(base="develop"), None, None, None,
     [("cla", "completed", "failure", f"Pull request #{NUMBER} targets another branch")]),
    # asked late (a retried delivery) after the group merged: its commit is the base branch's now
    ("PR merged already: nothing reported", [cla_verdict(), signature(ALICE)], pull("closed", merged=True),
     None, None, None, []),
    ("config changed by the PR: decided on the group commit", [reported(CONFIG)], pull(), None,
     {GROUP: VALID}, None, [(CONFIG, "completed", "success", "Configuration is valid")]),
    ("config broken on the group commit", [reported(CONFIG)], pull(), None, {GROUP: BROKEN}, None,
     [(CONFIG, "completed", "failure", "1 problem(s) in .github/contributor-flow.yml")]),
    ("config not changed by the PR: no config check", [], pull(), None, {GROUP: BROKEN}, None, []),
    ("patches refused, the pipeline had run", [patches_refused(), reported("patch-pipeline")], pull(), None, None,
     None, [("patch-signature", "completed", "failure", "Patches not verified"),
            ("patch-pipeline", "completed", "failure", "No verdict for the queued head")]),
    ("patches signed, pipeline still running", [pipeline_running()], pull(), None, None, None,
     [("patch-signature", "completed", "success", "1 patch signed"),
      ("patch-pipeline", "in_progress", None, "patch-apply")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_checks_requested(db, case):
    _, setup, pr, head_ref, files, overrides, expected = case
    for put in setup:
        await put(db)
    gh = reader(pr, files)
    event, ctx = make_context("merge_group", group_payload(head_ref=head_ref), db=db,
                              rules=bundled_rules(overrides), reader=gh, now=NOW)
    actions = await handlers.on_checks_requested(event, ctx)
    checks = of(actions, UpsertCheckRun)
    assert [(c.name, c.status, c.conclusion) for c in checks] == [e[:3] for e in expected]
    for check, want in zip(checks, expected):
        assert check.head_sha == GROUP and check.repo == REPO
        assert check.title.startswith(want[3]), check.title
    # (the CLA verdicts put in place here predate the opener's: who opened #104 is kept too)
    [record] = [r for r in of(actions, Record) if r.op != "opener"]
    assert record.op == "requested" and record.args["head_sha"] == GROUP
    assert [c["name"] for c in record.args["checks"]] == [e[0] for e in expected]
    assert of(actions, Note)
    if files is not None and expected:
        assert [v["ref"] for u, v in gh.calls if u == CONTENTS_URL] == [GROUP]
    if head_ref is None:
        assert [v["pull_number"] for u, v in gh.calls if u == PULL_URL] == [NUMBER]


async def test_the_summary_says_what_was_carried_and_from_where(db):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    event, ctx = make_context("merge_group", group_payload(), db=db, reader=reader(pull()), now=NOW)
    [check] = of(await handlers.on_checks_requested(event, ctx), UpsertCheckRun)
    assert f"#{NUMBER} at `ccccccc`" in check.summary and "### Covered (1)\n- `alice`" in check.summary
    assert "Should that verdict change while the group is queued, this check follows it." in check.summary


async def test_a_destroyed_group_gets_nothing_even_when_asked_again(db):
    await cla_verdict()(db)
    event, ctx = make_context("merge_group", group_payload("destroyed"), db=db, reader=reader(pull()), now=NOW)
    await apply(db, await handlers.on_destroyed(event, ctx))
    event, ctx = make_context("merge_group", group_payload(), db=db, reader=reader(pull()), now=NOW)
    actions = await handlers.on_checks_requested(event, ctx)
    assert [type(a) for a in actions] == [Note] and "after it was destroyed" in actions[0].text


async def test_destroyed_drops_the_groups_records_and_keeps_a_tombstone(db):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    event, ctx = make_context("merge_group", group_payload(), db=db, reader=reader(pull()), now=NOW)
    await apply(db, await handlers.on_checks_requested(event, ctx))
    assert (await store.group(db, REPO, GROUP))["pr_head_sha"] == HEAD
    assert set(await store.reported_digests(db, REPO, GROUP)) == {"cla"}
    assert await state.check_names_on(db, REPO, GROUP) == {"cla"}

    event, ctx = make_context("merge_group", group_payload("destroyed"), db=db, reader=reader(pull()), now=NOW)
    actions = await handlers.on_destroyed(event, ctx)
    assert not of(actions, UpsertCheckRun)
    await apply(db, actions)
    await apply(db, actions)  # a redelivery: the same
    tomb = await store.group(db, REPO, GROUP)
    assert tomb["destroyed_at"] == NOW.timestamp() and tomb["reason"] == "merged"
    assert await store.reported_digests(db, REPO, GROUP) == {}
    assert await state.check_names_on(db, REPO, GROUP) == set()
    assert await store.live_groups(db) == []
    # the pull request's own records are the CLA feature's: untouched
    assert await state.check_names_on(db, REPO, HEAD) == {"cla"}


# --- the follow job ------------------------------------------------------------------------------

def job_context(db, rules, now=NOW) -> JobContext:
    async def repos():
        return [RepoHandle(REPO, 1, rules, RecordingReader(), fixed_roles({}))]
    return JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos, clock=lambda: now)


async def queued(db, rules=None) -> None:
    event, ctx = make_context("merge_group", group_payload(), db=db, rules=rules, reader=reader(pull()), now=NOW)
    await apply(db, await handlers.on_checks_requested(event, ctx))


async def test_follow_reports_a_changed_verdict_once(db):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queued(db)
    assert await follow.follow_groups(job_context(db, bundled_rules())) == []   # nothing changed

    raised = bundled_rules({"cla": {"version": "2"}})
    actions = await follow.follow_groups(job_context(db, raised))
    [check] = of(actions, UpsertCheckRun)
    assert (check.name, check.head_sha, check.conclusion) == ("cla", GROUP, "action_required")
    assert [a.op for a in of(actions, Record)] == ["reported"]
    await apply(db, actions)
    assert await follow.follow_groups(job_context(db, raised)) == []            # reported once


async def test_follow_leaves_decided_once_checks_alone(db):
    """The configuration check is decided on the group commit itself, from GitHub, once."""
    await reported(CONFIG)(db)
    event, ctx = make_context("merge_group", group_payload(), db=db, reader=reader(pull(), {GROUP: VALID}), now=NOW)
    await apply(db, await handlers.on_checks_requested(event, ctx))
    assert await follow.follow_groups(job_context(db, bundled_rules())) == []


async def test_follow_carries_a_pipeline_to_its_end(db):
    await pipeline_running()(db)
    await queued(db)
    found = await patch_pipeline.store.run_for_head(db, REPO, HEAD)
    row, run = found
    done = P.Run(**{**run.__dict__, "status": P.COMPLETED, "conclusion": P.SUCCESS,
                    "stages": tuple(P.Stage(**{**s.__dict__, "status": P.SUCCESS, "started_at": 2.0,
                                               "completed_at": 3.0}) for s in run.stages)})
    await patch_pipeline.FEATURE.writers["save_run"](db, repo=REPO, number=NUMBER,
                                                     run=patch_pipeline.store.run_to_args(done), at=3.0,
                                                     revision=row["revision"])
    actions = await follow.follow_groups(job_context(db, bundled_rules()))
    [check] = of(actions, UpsertCheckRun)
    assert (check.name, check.status, check.conclusion, check.title) == (
        "patch-pipeline", "completed", "success", "All stages passed")


@pytest.mark.parametrize("after", ["destroyed", "followed long enough", "turned off"])
async def test_follow_stops(db, after):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queued(db)
    rules = {"cla": {"version": "2"}}
    now = NOW
    if after == "destroyed":
        event, ctx = make_context("merge_group", group_payload("destroyed"), db=db, reader=reader(pull()), now=NOW)
        await apply(db, await handlers.on_destroyed(event, ctx))
    elif after == "followed long enough":
        now = NOW + timedelta(hours=6, seconds=1)
    else:
        rules["merge_queue"] = {"enabled": False}
    assert of(await follow.follow_groups(job_context(db, bundled_rules(rules), now)), UpsertCheckRun) == []


async def test_a_closed_pull_requests_groups_are_over_without_their_destroyed(db):
    # GitHub does not promise merge_group.destroyed: the PR's merge (or close) ends its groups,
    # so a verdict changing afterwards writes nothing on what is now the base branch's head.
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queued(db)
    repository = group_payload()["repository"]
    other = load_example("pull_request", "closed")
    other["pull_request"]["number"], other["repository"] = NUMBER + 1, repository
    event, ctx = make_context("pull_request", other, db=db, now=NOW)
    assert await handlers.on_pull_closed(event, ctx) == []  # another PR's close ends nothing
    closed = load_example("pull_request", "closed")
    closed["pull_request"]["number"], closed["repository"] = NUMBER, repository
    event, ctx = make_context("pull_request", closed, db=db, now=NOW)
    actions = await handlers.on_pull_closed(event, ctx)
    assert [(a.op, a.args["head_sha"], a.args["reason"]) for a in of(actions, Record)] == [
        ("destroyed", GROUP, "pull request closed")]
    await apply(db, actions)
    assert (await store.group(db, REPO, GROUP))["destroyed_at"] == NOW.timestamp()
    assert of(await follow.follow_groups(job_context(db, bundled_rules({"cla": {"version": "2"}}), NOW)),
              UpsertCheckRun) == []
    assert await handlers.on_pull_closed(event, ctx) == []  # a redelivery: nothing left to end


async def test_follow_prunes_records_past_the_redelivery_window(db):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queued(db)
    event, ctx = make_context("merge_group", group_payload("destroyed"), db=db, reader=reader(pull()), now=NOW)
    await apply(db, await handlers.on_destroyed(event, ctx))
    assert await follow.follow_groups(job_context(db, bundled_rules(), NOW + timedelta(days=2))) == []
    actions = await follow.follow_groups(job_context(db, bundled_rules(), NOW + timedelta(days=3, seconds=1)))
    assert [(a.op, a.args["repo"]) for a in of(actions, Record)] == [("prune", REPO)]
    await apply(db, actions)
    assert await store.group(db, REPO, GROUP) is None


# --- groups stacked on groups: a group's commit holds every pull request ahead of it ---------------

AHEAD = 103                            # queued before #104: #104's group is stacked on its group
MAIN = "e" * 40
AHEAD_HEAD = "f" * 40
BOB = {"id": 102, "login": "bob"}


async def queue(db, number: int, group_sha: str, stacked_on: str, pulls: list[dict], rules=None, now=NOW):
    event, ctx = make_context("merge_group", group_payload(number=number, group_sha=group_sha, stacked_on=stacked_on),
                              db=db, rules=rules, reader=reader(pulls), now=now)
    actions = await handlers.on_checks_requested(event, ctx)
    await apply(db, actions)
    return {c.name: c for c in of(actions, UpsertCheckRun)}


BOTH = [pull(number=AHEAD, head=AHEAD_HEAD), pull()]


async def test_a_group_waits_while_the_pull_request_ahead_in_it_fails(db):
    """Without 'only merge non-failing pull requests', GitHub merges the pull requests ahead
    with a group that passes: bob's unsigned #103 would land on #104's passing group. It
    waits rather than fails: a failure would take #104 out of the queue for #103's verdict."""
    await cla_verdict(AHEAD_HEAD, number=AHEAD, signed=(), missing=(BOB,))(db)
    await cla_verdict()(db)
    await signature(ALICE)(db)
    ahead = await queue(db, AHEAD, STACKED_ON, MAIN, BOTH)
    assert ahead["cla"].conclusion == "action_required"
    group = await queue(db, NUMBER, GROUP, STACKED_ON, BOTH)
    check = group["cla"]                        # never passes while #103's group does not
    assert (check.status, check.conclusion) == ("in_progress", None)
    assert check.title == "Waiting for #103 ahead in this group: 1 person needs to sign the CLA"
    assert "#103" in check.summary and "Everyone has signed the CLA" in check.summary

    # bob signs: the follow job passes both in one run, the group ahead first
    await signature(BOB)(db)
    actions = await follow.follow_groups(job_context(db, bundled_rules()))
    assert [(c.head_sha, c.conclusion) for c in of(actions, UpsertCheckRun)] == [
        (STACKED_ON, "success"), (GROUP, "success")]
    await apply(db, actions)
    assert await follow.follow_groups(job_context(db, bundled_rules())) == []


async def test_a_group_ahead_that_fails_later_holds_the_group_behind_it_in_the_same_run(db):
    await cla_verdict(AHEAD_HEAD, number=AHEAD, signed=(BOB,))(db)
    await signature(BOB)(db)
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queue(db, AHEAD, STACKED_ON, MAIN, BOTH)
    assert (await queue(db, NUMBER, GROUP, STACKED_ON, BOTH))["cla"].conclusion == "success"
    await signature(ALICE, "2")(db)             # alice signs version 2, bob does not
    actions = await follow.follow_groups(job_context(db, bundled_rules({"cla": {"version": "2"}})))
    assert [(c.head_sha, c.conclusion, c.title) for c in of(actions, UpsertCheckRun)] == [
        (STACKED_ON, "action_required", "1 person needs to sign the CLA"),
        (GROUP, None, "Waiting for #103 ahead in this group: 1 person needs to sign the CLA")]


async def test_a_group_ahead_that_is_gone_no_longer_counts(db):
    await cla_verdict(AHEAD_HEAD, number=AHEAD, signed=(), missing=(BOB,))(db)
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queue(db, AHEAD, STACKED_ON, MAIN, BOTH)
    event, ctx = make_context("merge_group", group_payload("destroyed", number=AHEAD, group_sha=STACKED_ON,
                                                           stacked_on=MAIN), db=db, now=NOW)
    await apply(db, await handlers.on_destroyed(event, ctx))
    assert (await queue(db, NUMBER, GROUP, STACKED_ON, BOTH))["cla"].conclusion == "success"


async def test_a_check_decided_on_the_group_commit_itself_is_not_combined(db):
    """The configuration check reads the file at the group's own commit, which already holds
    what is ahead of it."""
    await reported(CONFIG, AHEAD_HEAD)(db)
    await reported(CONFIG)(db)
    event, ctx = make_context("merge_group", group_payload(number=AHEAD, group_sha=STACKED_ON, stacked_on=MAIN),
                              db=db, reader=reader(BOTH, {STACKED_ON: BROKEN}), now=NOW)
    await apply(db, await handlers.on_checks_requested(event, ctx))
    event, ctx = make_context("merge_group", group_payload(), db=db, reader=reader(BOTH, {GROUP: VALID}), now=NOW)
    [check] = of(await handlers.on_checks_requested(event, ctx), UpsertCheckRun)
    assert (check.name, check.conclusion) == (CONFIG, "success")


async def test_the_follow_job_reports_a_bounded_number_of_checks_per_run(db):
    """A CLA version raised with hundreds of groups queued: each run sends a bounded batch
    (the oldest groups first), the next runs the rest, never the same twice."""
    count = follow.MAX_UPDATES + 7
    shas = [f"{i:040x}" for i in range(1, count + 1)]
    for i, sha in enumerate(shas):
        number = 200 + i
        await cla_verdict(number=number)(db)
        await queue(db, number, sha, MAIN, [pull(number=number)], now=NOW + timedelta(seconds=i))
    await signature(ALICE)(db)
    raised = job_context(db, bundled_rules({"cla": {"version": "2"}}))
    first = await follow.follow_groups(raised)
    assert [c.head_sha for c in of(first, UpsertCheckRun)] == shas[:follow.MAX_UPDATES]
    await apply(db, first)
    second = await follow.follow_groups(raised)
    assert [c.head_sha for c in of(second, UpsertCheckRun)] == shas[follow.MAX_UPDATES:]
    await apply(db, second)
    assert await follow.follow_groups(raised) == []


# --- "Re-run" on a group's check -------------------------------------------------------------------

def rerun_payload(kind: str, head_sha: str = GROUP, *, name: str = "cla", pull_requests=()) -> dict:
    """GitHub's example of ``<kind>.rerequested`` for one of the bot's runs on ``head_sha``."""
    payload = load_example(kind, "rerequested")
    payload["repository"] = load_example("merge_group", "checks_requested")["repository"]
    branch = f"gh-readonly-queue/main/pr-{NUMBER}-{STACKED_ON}" if head_sha == GROUP else "work"
    if kind == "check_run":
        payload["check_run"].update(name=name, head_sha=head_sha, external_id=f"contributor-flow:{name}",
                                    pull_requests=list(pull_requests))
        payload["check_run"]["check_suite"].update(head_sha=head_sha, head_branch=branch,
                                                   pull_requests=list(pull_requests))
    else:
        payload["check_suite"].update(head_sha=head_sha, head_branch=branch, pull_requests=list(pull_requests))
    return payload


RERUNS = {"check_run": handlers.on_check_run_rerequested, "check_suite": handlers.on_check_suite_rerequested}


@pytest.mark.parametrize("kind", sorted(RERUNS))
async def test_a_rerun_decides_the_groups_checks_again(db, kind):
    await cla_verdict(signed=(), missing=(ALICE,))(db)
    await pipeline_running()(db)
    await queued(db)
    assert set(await store.reported_digests(db, REPO, GROUP)) == {"cla", "patch-signature", "patch-pipeline"}
    await signature(ALICE)(db)                  # alice signs: the group's cla is still action_required
    gh = reader(pull(), {GROUP: VALID})
    event, ctx = make_context(kind, rerun_payload(kind), db=db, reader=gh, now=NOW + timedelta(minutes=5))
    actions = await RERUNS[kind](event, ctx)
    checks = {c.name: c for c in of(actions, UpsertCheckRun)}
    assert set(checks) == {"cla", "patch-signature", "patch-pipeline"}
    assert {c.head_sha for c in checks.values()} == {GROUP}
    assert (checks["cla"].conclusion, checks["cla"].title) == ("success", "Everyone has signed the CLA")
    [record] = of(actions, Record)
    assert record.op == "requested" and record.args["number"] == NUMBER and record.args["head_sha"] == GROUP
    assert [v["pull_number"] for u, v in gh.calls if u == PULL_URL] == [NUMBER]
    await apply(db, actions)
    # recorded as reported: the follow job has nothing more to say
    assert await follow.follow_groups(job_context(db, bundled_rules())) == []


@pytest.mark.parametrize("kind", sorted(RERUNS))
async def test_a_rerun_never_reports_on_a_destroyed_group(db, kind):
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await queued(db)
    event, ctx = make_context("merge_group", group_payload("destroyed"), db=db, now=NOW)
    await apply(db, await handlers.on_destroyed(event, ctx))
    event, ctx = make_context(kind, rerun_payload(kind), db=db, reader=reader(pull()), now=NOW)
    actions = await RERUNS[kind](event, ctx)
    assert [type(a) for a in actions] == [Note] and "after it was destroyed" in actions[0].text
    assert (await store.group(db, REPO, GROUP))["destroyed_at"] is not None


@pytest.mark.parametrize("kind", sorted(RERUNS))
async def test_a_rerun_of_a_pull_requests_own_check_is_not_the_merge_queues(db, kind):
    await cla_verdict()(db)
    await queued(db)
    gh = reader(pull())
    event, ctx = make_context(kind, rerun_payload(kind, HEAD), db=db, reader=gh, now=NOW)
    assert await RERUNS[kind](event, ctx) == []
    assert gh.calls == []


async def test_a_rerun_of_another_apps_check_on_the_group_is_not_ours(db):
    await cla_verdict()(db)
    await queued(db)
    payload = rerun_payload("check_run", name="build")
    payload["check_run"]["external_id"] = ""
    event, ctx = make_context("check_run", payload, db=db, reader=reader(pull()), now=NOW)
    assert await handlers.on_check_run_rerequested(event, ctx) == []


async def test_the_cla_and_patch_handlers_leave_a_groups_rerun_alone(db):
    """Both also handle check_run.rerequested: on a group's check they must not re-check (and
    comment on, label) the pull request, even were GitHub to list it on the run."""
    await cla_verdict()(db)
    await signature(ALICE)(db)
    await pipeline_running()(db)
    await queued(db)
    listed = [{"number": NUMBER, "head": {"sha": HEAD}, "base": {"ref": "main", "repo": {}}}]
    for name, handler in (("cla", cla.handlers.on_check_rerequested),
                          ("patch-signature", patch_pipeline.handlers.on_check_rerequested)):
        gh = reader(pull())
        gh.items["/repos/{owner}/{repo}/pulls/{number}"] = {**pull(), "commits": 0}   # their features' URL
        event, ctx = make_context("check_run", rerun_payload("check_run", name=name, pull_requests=listed),
                                  db=db, reader=gh, now=NOW)
        assert await handler(event, ctx) == [], name
