"""Who the bot is comes from GitHub (``GET /app``), not only from ``core.bot_login``.

App names are global, so a maintainer may have to register the manifest under another name.
With the rules' default login the bot would then not know its own comments: it would run the
commands quoted in its own replies and never find its own cards."""
from __future__ import annotations

from typing import Any

from bot.github import TransientGitHubError
from bot.runtime import app_login
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub.server import FakeGitHub
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"


def comment_payload(fake, number: int, comment, login: str) -> dict[str, Any]:
    payload = retarget(load_example("issue_comment", "created"), REPO, fake)
    payload["issue"] = fake.serializer.issue(fake.issue(REPO, number))
    payload["comment"] = fake.serializer.comment(fake.repo(REPO), comment, number)
    payload["sender"] = fake.serializer.user(login)
    return payload


@BOTH_BACKENDS
async def test_an_app_registered_under_another_name_knows_its_own_comments(database_url):
    fake = FakeGitHub(app_slug="acme-flow")
    await fake.start()
    try:
        fake.add_repo(REPO)
        fake.add_user("mary")
        fake.add_user("acme-flow[bot]", type="Bot")
        fake.set_permission(REPO, "mary", "write")
        fake.add_label(REPO, "bug")
        issue = fake.add_issue(REPO, user="mary")
        async with BotHarness(fake, database_url=database_url) as bot:
            assert bot.runtime.bot_login == "acme-flow[bot]"
            assert bot.runtime.executor.bot_login == "acme-flow[bot]"
            # A comment by the App itself that quotes a command (as a help reply would).
            own = fake.add_comment(REPO, issue.number, "Try `/label bug`:\n/label bug", "acme-flow[bot]")
            await bot.deliver("issue_comment", comment_payload(fake, issue.number, own, "acme-flow[bot]"))
            assert fake.issue(REPO, issue.number).labels == []
            assert own.reactions == []
            # A maintainer's command still runs, and the reaction is the App's.
            said = fake.add_comment(REPO, issue.number, "/label bug", "mary")
            await bot.deliver("issue_comment", comment_payload(fake, issue.number, said, "mary"))
            assert fake.issue(REPO, issue.number).labels == ["bug"]
            assert [r.user for r in said.reactions] == ["acme-flow[bot]"]
        assert not fake.violations, fake.violations
    finally:
        await fake.close()


class _Down:
    dry_run = False

    def app(self):
        return self

    async def getitem(self, url: str) -> Any:
        raise TransientGitHubError("gave up after 3 attempts: 502", status=502)


class _NoCredentials:
    dry_run = True

    def app(self):  # pragma: no cover - must not be asked
        raise AssertionError("no /app call without credentials")


async def test_the_rules_login_stands_when_github_cannot_say():
    assert await app_login(_Down(), "contributor-flow[bot]") is None
    assert await app_login(_NoCredentials(), "contributor-flow[bot]") is None
