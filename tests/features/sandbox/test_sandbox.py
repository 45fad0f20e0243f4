"""Sandbox deployments: rules, decisions as actions (real database on both back ends), the
card's line and the card job. The payloads are GitHub's vendored examples."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.context import JobContext, RepoHandle
from bot.core.actions import CreateDeployment, Note, Record, UpsertComment
from bot.features import all_features, pr_context, sandbox
from bot.features.sandbox import handlers, lines, refresh, store
from bot.github import PermanentGitHubError
from bot.rules.loader import merge_repo_override
from bot.rules.registry import sections_of
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, bundled_rules, fixed_roles, make_context

REPO = "Codertocat/Hello-World"        # the vendored examples' repository
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
MERGE = "a" * 40
OTHER_MERGE = "b" * 40
DEPLOYED = "d" * 40
COMPARE = "/repos/{owner}/{repo}/compare/{basehead}{?per_page}"
ON = {"sandbox": {"enabled": True}}


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


# --- rules -----------------------------------------------------------------------------------------

def override(text: str):
    sections = sections_of(all_features())
    return merge_repo_override(bundled_rules(), text, ".github/contributor-flow.yml", sections)


def test_the_section_is_off_until_a_repository_turns_it_on():
    rules = bundled_rules()
    assert not rules.enabled("sandbox")
    assert dict(rules.section("sandbox"), enabled=None) == {
        "enabled": None, "environment": "sandbox", "branches": [], "create": False, "required_contexts": []}
    on, problems = override("sandbox:\n  enabled: true\n  branches: [main, release/2.x]\n  create: true\n"
                            "  required_contexts: [ci/build]\n  environment: Staging sandbox\n")
    assert problems == [] and on.enabled("sandbox")
    assert on.section("sandbox")["branches"] == ["main", "release/2.x"]


@pytest.mark.parametrize("text, line, words", [
    ("sandbox:\n  enabled: true\n  deploy: yes\n", 3, "deploy"),
    ("sandbox:\n  create: 'yes'\n", 2, "true or false"),
    ("sandbox:\n  branches: main\n", 2, "list"),
    ("sandbox:\n  branches:\n    - main\n    - 'bad branch'\n", 4, "pattern"),
    ("sandbox:\n  environment: \"two\\nlines\"\n", 2, "pattern"),
    ("sandbox:\n  required_contexts: [ci, 3]\n", 2, "string"),
])
def test_a_bad_section_is_refused_with_its_line(text, line, words):
    rules, problems = override(text)
    assert problems and problems[0].line == line, [str(p) for p in problems]
    assert words in str(problems[0]).lower() or words in problems[0].path
    assert not rules.enabled("sandbox")  # the override is refused whole


# --- decisions -------------------------------------------------------------------------------------

def closed_payload(*, merged: bool = True, base: str = "master", sha: str = MERGE, number: int = 2) -> dict:
    payload = load_example("pull_request", "reopened")
    payload["action"] = "closed"
    pr = payload["pull_request"]
    pr.update(number=number, state="closed", merged=merged, merge_commit_sha=sha,
              merged_at="2026-11-26T11:00:00Z" if merged else None)
    pr["base"]["ref"] = base
    return payload


@pytest.mark.parametrize("rules, payload, merged", [
    (ON, closed_payload(), True),                                                   # default branch
    (ON, closed_payload(merged=False), False),
    (ON, closed_payload(base="feature"), False),
    (ON, closed_payload(sha="not-a-sha"), False),
    ({"sandbox": {"enabled": True, "branches": ["release"]}}, closed_payload(base="release"), True),
    ({"sandbox": {"enabled": True, "branches": ["release"]}}, closed_payload(), False),  # listed replace the default
])
async def test_a_merge_into_a_sandbox_branch_waits(db, rules, payload, merged):
    assert payload["repository"]["default_branch"] == "master"
    event, ctx = make_context("pull_request", payload, db=db, rules=bundled_rules(rules), now=NOW)
    actions = await handlers.on_pull_closed(event, ctx)
    records = of(actions, Record)
    assert bool(records) is merged
    if merged:
        assert records[0].op == "merged" and records[0].args["merge_sha"] == MERGE
        assert records[0].args["merged_at"] == datetime(2026, 11, 26, 11, 0, tzinfo=timezone.utc).timestamp()


def push_payload(**changes: Any) -> dict:
    payload = load_example("push")
    payload.update({"ref": "refs/heads/master", "after": DEPLOYED, "deleted": False, **changes})
    return payload


CREATE = {"sandbox": {"enabled": True, "create": True, "required_contexts": ["ci/build"]}}


@pytest.mark.parametrize("rules, payload, deployed", [
    (CREATE, push_payload(), True),
    (ON, push_payload(), False),                                                    # create off
    (CREATE, push_payload(deleted=True, after="0" * 40), False),
    (CREATE, push_payload(ref="refs/tags/v1.0"), False),
    (CREATE, push_payload(ref="refs/heads/feature"), False),
    ({"sandbox": {"enabled": True, "create": True, "branches": ["feature"]}},
     push_payload(ref="refs/heads/feature"), True),
])
async def test_a_push_to_a_sandbox_branch_asks_for_one_deployment(db, rules, payload, deployed):
    event, ctx = make_context("push", payload, db=db, rules=bundled_rules(rules), now=NOW)
    actions = await handlers.on_push(event, ctx)
    made = of(actions, CreateDeployment)
    assert len(made) == (1 if deployed else 0)
    if deployed and rules is CREATE:
        assert made[0].sha == DEPLOYED and made[0].environment == "sandbox"
        assert made[0].required_contexts == ("ci/build",)
        assert made[0].payload["bot"] == "contributor-flow[bot]"


def status_payload(state: str = "success", *, sha: str = DEPLOYED, deployment_id: int = 500, status_id: int = 900,
                   environment: str = "sandbox", **status: Any) -> dict:
    payload = load_example("deployment_status", "created")
    payload["deployment"].update(sha=sha, id=deployment_id, environment=environment)
    payload["deployment_status"].update(state=state, id=status_id, environment=environment,
                                        created_at="2026-11-26T11:30:00Z", **status)
    return payload


def compare_reader(statuses: dict[str, str]) -> RecordingReader:
    """Compare answers by the merge commit (the base): its status, or 404."""
    def compare(v: dict[str, Any]) -> dict:
        base = v["basehead"].split("...")[0]
        if base not in statuses:
            raise PermanentGitHubError("404 Not Found", status=404)
        return {"status": statuses[base]}
    return RecordingReader({COMPARE: compare})


async def waiting(db, *numbers_shas: tuple[int, str], merged_at: datetime = NOW - timedelta(hours=2)) -> None:
    for number, sha in numbers_shas:
        await store.merged(db, repo=REPO, number=number, merge_sha=sha, base_ref="master",
                           merged_at=merged_at.timestamp())


async def decide_status(db, payload: dict, reader: RecordingReader, rules=ON) -> list:
    event, ctx = make_context("deployment_status", payload, db=db, rules=bundled_rules(rules), reader=reader, now=NOW)
    return await handlers.on_deployment_status(event, ctx)


async def apply(db, actions) -> None:
    for action in actions:
        if isinstance(action, Record):
            await sandbox.FEATURE.writers[action.op](db, **action.args)


@pytest.mark.parametrize("payload, compares, live", [
    (status_payload(), {MERGE: "ahead", OTHER_MERGE: "behind"}, [1]),
    (status_payload(), {MERGE: "identical", OTHER_MERGE: "diverged"}, [1]),
    (status_payload(), {OTHER_MERGE: "ahead"}, [2]),                                  # MERGE unknown: 404
    (status_payload(environment="Sandbox"), {MERGE: "ahead", OTHER_MERGE: "ahead"}, [1, 2]),
    (status_payload(environment="production"), {MERGE: "ahead"}, []),
    (status_payload("in_progress"), {MERGE: "ahead"}, []),
    (status_payload("inactive"), {MERGE: "ahead"}, []),
    (status_payload(sha="nope"), {MERGE: "ahead"}, []),
])
async def test_a_deployment_status_settles_the_waiting_prs_it_includes(db, payload, compares, live):
    await waiting(db, (1, MERGE), (2, OTHER_MERGE))
    actions = await decide_status(db, payload, compare_reader(compares))
    records = of(actions, Record)
    assert (records[0].args["numbers"] if records else []) == live
    assert not [a for a in actions if not isinstance(a, (Record, Note))]  # quiet: no GitHub action


async def test_the_deployed_commit_itself_needs_no_compare(db):
    await waiting(db, (1, DEPLOYED))
    reader = compare_reader({})
    [record, _] = await decide_status(db, status_payload(), reader)
    assert record.args["numbers"] == [1] and reader.calls == []


async def test_a_failure_keeps_waiting_and_a_later_success_makes_it_live(db):
    await waiting(db, (1, MERGE))
    reader = compare_reader({MERGE: "ahead"})
    failed = await decide_status(db, status_payload("failure", log_url="https://ci.example.org/run/7"), reader)
    await apply(db, failed)
    row = await store.pull(db, REPO, 1)
    assert row["state"] == "failed" and row["log_url"] == "https://ci.example.org/run/7"
    assert "failed ([log](https://ci.example.org/run/7))" in await sandbox.status_line(db, REPO, 1)
    live = await decide_status(db, status_payload(deployment_id=501, status_id=901,
                                                  environment_url="https://sandbox.example.org/"), reader)
    await apply(db, live)
    assert (await store.pull(db, REPO, 1))["state"] == "live"
    # No longer waiting: a later status of any deployment leaves its line alone.
    assert await decide_status(db, status_payload("failure", deployment_id=502, status_id=902), reader) == []


async def test_an_older_status_never_replaces_a_newer_ones_line(db):
    await waiting(db, (1, MERGE))
    reader = compare_reader({MERGE: "ahead"})
    newer_failure = await decide_status(db, status_payload("error", deployment_id=600, status_id=950), reader)
    older_success = await decide_status(db, status_payload(deployment_id=599, status_id=940), reader)
    await apply(db, newer_failure)
    assert await decide_status(db, status_payload(deployment_id=599, status_id=940), reader) == []
    await apply(db, older_success)  # decided before the newer one was written: the writer refuses it
    row = await store.pull(db, REPO, 1)
    assert (row["state"], row["deployment_id"]) == ("failed", 600)


async def test_waiting_prs_expire_and_old_merges_cost_no_compare(db):
    await waiting(db, (1, MERGE), merged_at=NOW - timedelta(days=15))
    reader = compare_reader({MERGE: "ahead"})
    assert await decide_status(db, status_payload(), reader) == [] and reader.calls == []
    handle = RepoHandle(repo=REPO, installation_id=1, rules=bundled_rules(ON), gh=RecordingReader(),
                        roles_of=fixed_roles({}))
    actions = await refresh.refresh_cards(job(db, [handle]))
    await apply(db, actions)
    assert (await store.pull(db, REPO, 1))["state"] == "expired"
    assert "no deployment that includes `aaaaaaa` succeeded within 14 days" in await sandbox.status_line(db, REPO, 1)


# --- the line --------------------------------------------------------------------------------------

def row(**fields: Any) -> dict:
    base = {"merge_sha": MERGE, "state": "waiting", "deployed_sha": DEPLOYED, "env_url": None, "log_url": None,
            "status_at": datetime(2026, 11, 26, 11, 30, tzinfo=timezone.utc).timestamp()}
    return {**base, **fields}


@pytest.mark.parametrize("fields, text", [
    ({}, "Sandbox: waiting for a deployment that includes `aaaaaaa`"),
    ({"state": "live", "env_url": "https://sandbox.example.org/pr"},
     "Sandbox: live at [https://sandbox.example.org/pr](https://sandbox.example.org/pr) since 2026-11-26 11:30 UTC"
     " (deployment of `ddddddd`)"),
    ({"state": "live", "env_url": "javascript:alert(1)"},
     "Sandbox: live since 2026-11-26 11:30 UTC (deployment of `ddddddd`)"),
    ({"state": "failed"},
     "Sandbox: the deployment of `ddddddd` failed; waiting for the next deployment that includes `aaaaaaa`"),
])
def test_the_line(fields, text):
    assert lines.status_text(row(**fields), wait_days=14) == text


@pytest.mark.parametrize("url, safe", [
    ("https://x.example/a)[pwned](https://evil.example", "https://x.example/a%29%5Bpwned%5D%28https://evil.example"),
    ("https://x.example/<!--card-->`x`", "https://x.example/%3C!--card--%3E%60x%60"),
    ("https://x.example/@admin", "https://x.example/@admin"),
    ("https://x.example/a b", None),
    ("https://x.example/a\nb", None),
    ("ftp://x.example/", None),
    ("https:///nohost", None),
    ("javascript:alert(1)//https://x.example", None),
])
def test_a_url_from_a_status_cannot_break_the_card(url, safe):
    assert lines.safe_url(url) == safe
    if safe:
        text, target = lines.link(safe).removeprefix("[").removesuffix(")").split("](")
        assert target == safe and not set(target) & set("()[]<>` ")
        assert "@admin" not in text  # the shown text pings nobody


# --- the card job ------------------------------------------------------------------------------------

def job(db, handles: list[RepoHandle], now: datetime = NOW) -> JobContext:
    async def repos() -> list[RepoHandle]:
        return handles
    return JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos, clock=lambda: now)


def merged_pull(number: int = 1) -> dict:
    return {"number": number, "state": "closed", "merged": True, "draft": False, "changed_files": 1,
            "head": {"sha": "e" * 40}, "base": {"ref": "master"}, "user": {"login": "alice", "id": 7},
            "labels": [], "body": ""}


def card_reader() -> RecordingReader:
    return RecordingReader({"/repos/{owner}/{repo}/pulls/{pull_number}": lambda v: merged_pull(v["pull_number"])},
                           lists={"/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}": [
                               {"filename": "README.md", "status": "modified"}]})


async def test_the_card_job_renders_the_changed_line_once_where_the_card_exists(db):
    await waiting(db, (1, MERGE), (2, OTHER_MERGE))
    # PR 1 had its card while open (pr_context remembered its head); PR 2 never had one.
    await pr_context.FEATURE.writers["remember_head"](db, repo=REPO, number=1, head_sha="e" * 40)
    await pr_context.FEATURE.writers["remember_first_timer"](db, repo=REPO, number=1, author_id=7, first_timer=False)
    handle = RepoHandle(repo=REPO, installation_id=1, rules=bundled_rules({**ON, "components": {"codeowners": False}}),
                        gh=card_reader(), roles_of=fixed_roles({}))
    actions = await refresh.refresh_cards(job(db, [handle]))
    [card] = of(actions, UpsertComment)
    assert card.number == 1 and "- Sandbox: waiting for a deployment that includes `aaaaaaa`" in card.body
    assert [(r.op, r.args["number"]) for r in of(actions, Record) if r.feature == "sandbox"] == [("carded", 1), ("carded", 2)]
    # The card comes before its record: a run failing between them renders it again.
    assert actions.index(card) < actions.index(of(actions, Record)[-2])
    await apply(db, actions)
    assert await refresh.refresh_cards(job(db, [handle])) == []
    live = await decide_status(db, status_payload(environment_url="https://sandbox.example.org/"),
                               compare_reader({MERGE: "ahead"}))
    await apply(db, live)
    [card] = of(await refresh.refresh_cards(job(db, [handle])), UpsertComment)
    assert "- Sandbox: live at [https://sandbox.example.org/](https://sandbox.example.org/) since" in card.body


async def test_the_card_job_leaves_a_repository_with_the_section_off(db):
    await waiting(db, (1, MERGE))
    await pr_context.FEATURE.writers["remember_head"](db, repo=REPO, number=1, head_sha="e" * 40)
    reader = card_reader()
    handle = RepoHandle(repo=REPO, installation_id=1, rules=bundled_rules(), gh=reader, roles_of=fixed_roles({}))
    actions = await refresh.refresh_cards(job(db, [handle]))
    assert [a.op for a in actions] == ["carded"] and reader.calls == []


async def test_a_repository_out_of_reach_stays_due_and_old_lines_are_forgotten(db):
    await waiting(db, (1, MERGE))
    await store.merged(db, repo="other/repo", number=5, merge_sha=OTHER_MERGE, base_ref="main",
                       merged_at=(NOW - timedelta(hours=1)).timestamp())
    handle = RepoHandle(repo="other/repo", installation_id=2, rules=bundled_rules(), gh=RecordingReader(),
                        roles_of=fixed_roles({}))
    actions = await refresh.refresh_cards(job(db, [handle]))   # REPO's token not to be had this run
    assert [(a.op, a.args["repo"]) for a in actions] == [("carded", "other/repo")]
    await apply(db, actions)
    assert [r["repo"] for r in await store.due_cards(db, 10)] == [REPO]
    # A month later: the line expired, then is forgotten with the settled ones.
    later = NOW + timedelta(days=31)
    await apply(db, await refresh.refresh_cards(job(db, [], now=later)))
    await apply(db, await refresh.refresh_cards(job(db, [], now=later)))
    assert await store.pull(db, REPO, 1) is None and await store.pull(db, "other/repo", 5) is None
