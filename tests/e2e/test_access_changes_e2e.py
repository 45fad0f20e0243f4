"""A change of what GitHub grants people takes effect at once, on every replica: the roles
cached for a few minutes (bot/permissions.py) stop being used when a delivery says access
changed (``member``, ``membership``, ``team``, ``organization``, ``repository.transferred``),
also on a replica the webhook never reached (they share only the database).

The real bot over real HTTP against the shared fake GitHub; ``/label`` needs triager or
maintainer, and ``mary`` is one through her collaborator permission until it is taken away."""
from __future__ import annotations

from typing import Any

import pytest

from bot.pipeline import process
from bot.store import deliveries, state
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, comment_payload, retarget

REPO, OTHER = "octo/repo", "octo/other"


def prepare(fake) -> None:
    for repo in (REPO, OTHER):
        fake.add_repo(repo)
        fake.add_label(repo, "bug")
    for login in ("mary", "someone", "boss"):
        fake.add_user(login)
    fake.set_permission(REPO, "mary", "write")


def label_comment(fake, repo: str, login: str) -> tuple[int, dict[str, Any]]:
    """A new issue, and the delivery of ``login`` asking for ``/label bug`` on it."""
    issue = fake.add_issue(repo, user="someone")
    comment = fake.add_comment(repo, issue.number, "/label bug", login)
    return issue.number, comment_payload(fake, repo, issue.number, comment, login)


async def verdict(db, fake, repo: str, number: int) -> str:
    """``accepted`` (labelled) or ``refused`` (the reply naming the roles needed)."""
    labels = fake.issue(repo, number).labels
    refused = [d["summary"] for d in await state.decisions_for(db, repo, number)
               if d["feature"] == "commands" and d["summary"].startswith("refused /label")
               and "needs" in d["summary"]]
    if labels == ["bug"] and not refused:
        return "accepted"
    if labels == [] and refused:
        return "refused"
    return f"unclear: labels {labels}, refusals {refused}"


async def ask_label(bot: BotHarness, repo: str, login: str = "mary") -> str:
    number, payload = label_comment(bot.fake, repo, login)
    await bot.deliver("issue_comment", payload)
    return await verdict(bot.runtime.db, bot.fake, repo, number)


def member_payload(fake, action: str, login: str) -> dict[str, Any]:
    payload = retarget(load_example("member", "edited"), REPO, fake)
    payload["action"] = action
    payload["member"] = fake.serializer.user(login)
    payload["sender"] = fake.serializer.user("boss")
    if action != "edited":
        payload.pop("changes", None)
    return payload


def org_payload(fake, event: str, action: str, login: str, example: str) -> dict[str, Any]:
    """An organisation-wide delivery (no repository) about ``login`` in organisation octo."""
    payload = retarget(load_example(event, example), REPO, fake)
    payload["action"] = action
    org = fake.add_org("octo")
    payload["organization"] = {**payload.get("organization", {}), "login": org.login, "id": org.id,
                               "node_id": org.node_id}
    payload["sender"] = fake.serializer.user("boss")
    if "member" in payload:
        payload["member"] = fake.serializer.user(login)
    if "membership" in payload:
        payload["membership"] = {**payload["membership"], "user": fake.serializer.user(login)}
    if "team" in payload:
        payload["team"] = fake.serializer.team("octo", "core")
    return payload


@BOTH_BACKENDS
@pytest.mark.parametrize("action", ["removed", "edited"])
async def test_a_member_event_takes_a_maintainer_s_access_away_at_once(fake_github, database_url, action):
    fake = fake_github
    prepare(fake)
    async with BotHarness(fake, database_url=database_url) as bot:
        assert await ask_label(bot, REPO) == "accepted"
        if action == "removed":
            del fake.repo(REPO).collaborators["mary"]
        else:
            fake.set_permission(REPO, "mary", "read")
        # Without a word from GitHub the cached answer stands (the documented cache): this is
        # what the delivery below has to end.
        assert await ask_label(bot, REPO) == "accepted"
        await bot.deliver("member", member_payload(fake, action, "mary"))
        assert await ask_label(bot, REPO) == "refused"


@BOTH_BACKENDS
async def test_an_access_change_reaches_the_replica_the_webhook_did_not(fake_github, database_url):
    """Replica A receives (and processes) the ``member`` delivery; replica B, which cached
    mary's roles before, handles the next command: it must not use them any more. Neither
    runs a worker, so which one processes each delivery is the test's choice."""
    fake = fake_github
    prepare(fake)
    async with BotHarness(fake, database_url=database_url, worker=False) as a, \
            BotHarness(fake, database_url=database_url, worker=False) as b:

        async def handled_by(bot: BotHarness, event: str, payload: dict[str, Any]) -> None:
            # Stored by replica A's intake (GitHub sends each delivery to one replica).
            delivery_id = await a.deliver(event, payload, wait=False)
            stored = await deliveries.get(a.runtime.db, delivery_id)
            assert stored is not None
            await process(bot.runtime, stored)

        first, payload = label_comment(fake, REPO, "mary")
        await handled_by(b, "issue_comment", payload)
        assert await verdict(b.runtime.db, fake, REPO, first) == "accepted"
        fake.set_permission(REPO, "mary", "read")
        await handled_by(a, "member", member_payload(fake, "edited", "mary"))
        second, payload = label_comment(fake, REPO, "mary")
        await handled_by(b, "issue_comment", payload)
        assert await verdict(b.runtime.db, fake, REPO, second) == "refused"


def take_team_access(fake, how: str) -> None:
    org = fake.add_org("octo")
    if how == "team.deleted":
        del org.teams["core"]
    elif how == "membership.removed":
        del org.teams["core"].members["mary"]
    else:  # organization.member_removed: out of the organisation, so out of its teams too
        del org.members["mary"]
        for team in org.teams.values():
            team.members.pop("mary", None)


ORG_WIDE = {
    "team.deleted": ("team", "deleted", "deleted"),
    "membership.removed": ("membership", "removed", "removed"),
    "organization.member_removed": ("organization", "member_removed", "member_added"),
}


@BOTH_BACKENDS
@pytest.mark.parametrize("how", sorted(ORG_WIDE))
async def test_an_organisation_wide_event_drops_the_roles_cached_on_its_repositories(
        fake_github, database_url, how):
    """Team and organisation events name no repository (or not every one they affect): every
    role cached on the organisation's repositories stops being used."""
    fake = fake_github
    prepare(fake)
    del fake.repo(REPO).collaborators["mary"]
    team = fake.add_team("octo", "core", members=["mary"])
    team.repos.update({REPO: "push", OTHER: "push"})  # write through the team, on both
    async with BotHarness(fake, database_url=database_url) as bot:
        assert [await ask_label(bot, r) for r in (REPO, OTHER)] == ["accepted", "accepted"]
        take_team_access(fake, how)
        event, action, example = ORG_WIDE[how]
        await bot.deliver(event, org_payload(fake, event, action, "mary", example))
        assert [await ask_label(bot, r) for r in (REPO, OTHER)] == ["refused", "refused"]


@BOTH_BACKENDS
async def test_a_team_taken_off_a_repository_ends_its_roles_there(fake_github, database_url):
    fake = fake_github
    prepare(fake)
    del fake.repo(REPO).collaborators["mary"]
    team = fake.add_team("octo", "core", members=["mary"])
    team.repos.update({REPO: "maintain"})
    async with BotHarness(fake, database_url=database_url) as bot:
        assert await ask_label(bot, REPO) == "accepted"
        del team.repos[REPO]
        payload = retarget(load_example("team", "removed_from_repository"), REPO, fake)
        payload["organization"] = {**payload["organization"], "login": "octo"}
        payload["team"] = fake.serializer.team("octo", "core")
        payload["sender"] = fake.serializer.user("boss")
        await bot.deliver("team", payload)
        assert await ask_label(bot, REPO) == "refused"


def push_payload(fake, repo: str, files: list[str], i: int) -> dict[str, Any]:
    """A push to the default branch modifying ``files``."""
    payload = retarget(load_example("push"), repo, fake)
    payload["ref"] = "refs/heads/main"
    payload["repository"]["default_branch"] = "main"
    payload["after"] = f"{i:040x}"
    payload["commits"] = [{"id": payload["after"], "added": [], "removed": [], "modified": files}]
    payload["sender"] = fake.serializer.user("boss")
    return payload


@BOTH_BACKENDS
async def test_a_push_changing_owners_ends_the_roles_it_gave_at_once(fake_github, database_url):
    fake = fake_github
    prepare(fake)
    fake.add_user("rita")
    fake.put_file(REPO, "OWNERS", "reviewers:\n- rita\n")  # reviewer -> triager
    async with BotHarness(fake, database_url=database_url) as bot:
        assert await ask_label(bot, REPO, "rita") == "accepted"
        fake.put_file(REPO, "OWNERS", "reviewers:\n- someone\n")
        await bot.deliver("push", push_payload(fake, REPO, ["OWNERS"], 1))
        assert await ask_label(bot, REPO, "rita") == "refused"


@BOTH_BACKENDS
async def test_a_change_of_the_rules_role_lists_reaches_the_replica_the_push_did_not(
        fake_github, database_url):
    """The role lists of ``.github/contributor-flow.yml`` (``commands.roles``): the replica
    processing the push reads the rules again; the other one must too, not a minute later."""
    fake = fake_github
    prepare(fake)
    del fake.repo(REPO).collaborators["mary"]
    config = ".github/contributor-flow.yml"
    fake.put_file(REPO, config, "commands:\n  roles:\n    maintainer:\n      logins: [mary]\n")
    async with BotHarness(fake, database_url=database_url, worker=False) as a, \
            BotHarness(fake, database_url=database_url, worker=False) as b:

        async def handled_by(bot: BotHarness, event: str, payload: dict[str, Any]) -> None:
            delivery_id = await a.deliver(event, payload, wait=False)
            stored = await deliveries.get(a.runtime.db, delivery_id)
            assert stored is not None
            await process(bot.runtime, stored)

        first, payload = label_comment(fake, REPO, "mary")
        await handled_by(b, "issue_comment", payload)
        assert await verdict(b.runtime.db, fake, REPO, first) == "accepted"
        fake.put_file(REPO, config, "commands:\n  roles:\n    maintainer:\n      logins: []\n")
        await handled_by(a, "push", push_payload(fake, REPO, [config], 1))
        second, payload = label_comment(fake, REPO, "mary")
        await handled_by(b, "issue_comment", payload)
        assert await verdict(b.runtime.db, fake, REPO, second) == "refused"
