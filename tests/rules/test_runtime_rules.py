"""Runtime.rules_for and repo_handles: one repository whose rules cannot be read never takes
down the bot for it, nor the periodic jobs of every other repository."""
from __future__ import annotations

import pytest
import pytest_asyncio

from bot.github import GitHubError, TransientGitHubError
from bot.runtime import open_runtime
from bot.store import state
from tests.helpers import app_settings

CONFIG = ".github/contributor-flow.yml"
DEEP = "core:\n  allowed_bots: " + "[" * 1000 + "]" * 1000 + "\n"


@pytest_asyncio.fixture
async def rt(fake_github, tmp_path):
    settings = app_settings(fake_github, f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings) as runtime:
        yield runtime


async def test_a_config_nested_too_deep_is_reported_and_the_jobs_of_every_repo_run(rt, fake_github):
    for repo in ("octo/a-deep", "octo/b-fine"):
        fake_github.add_repo(repo)
        await state.remember_installation(rt.db, repo, 1)
    fake_github.put_file("octo/a-deep", CONFIG, "core:\n  allowed_bots: [renovate]\n")
    good = await rt.rules_for("octo/a-deep", 1)
    fake_github.put_file("octo/a-deep", CONFIG, DEEP)
    rt.repo_rules.invalidate("octo/a-deep")

    result = await rt.rules_for("octo/a-deep", 1)
    assert result.origin == "last-good" and result.rules == good.rules
    assert [p.message for p in result.problems] == ["invalid YAML: nested more than 50 levels deep"]
    handles = await rt.repo_handles()
    assert [h.repo for h in handles] == ["octo/a-deep", "octo/b-fine"]
    assert handles[0].rules["core"]["allowed_bots"] == ["renovate"]


async def test_a_failure_of_the_bot_own_reading_rules_falls_back_to_the_last_good(rt, fake_github,
                                                                                    monkeypatch):
    fake_github.add_repo("octo/a")
    fake_github.put_file("octo/a", CONFIG, "core:\n  allowed_bots: [renovate]\n")
    good = await rt.rules_for("octo/a", 1)

    async def broken(repo, api):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(rt.repo_rules, "get", broken)
    result = await rt.rules_for("octo/a", 1)
    assert result.rules == good.rules and result.origin == "last-good"
    assert (await rt.rules_for("octo/never-read", 1)).rules == rt.bundled


async def test_one_repo_without_a_token_or_rules_is_left_out_of_a_job_run_alone(rt, fake_github,
                                                                                 monkeypatch):
    for repo, inst in (("octo/a", 1), ("octo/gone", 424242), ("octo/down", 1), ("octo/known", 1),
                       ("octo/z", 1)):
        fake_github.add_repo(repo)
        await state.remember_installation(rt.db, repo, inst)  # 424242: uninstalled since
    fake_github.put_file("octo/known", CONFIG, "core:\n  allowed_bots: [renovate]\n")
    await rt.rules_for("octo/known", 1)
    real_get = rt.repo_rules.get

    async def get(repo, api, **kw):
        if repo in ("octo/down", "octo/known"):
            raise TransientGitHubError("gave up after 3 attempts: 502")
        return await real_get(repo, api, **kw)

    monkeypatch.setattr(rt.repo_rules, "get", get)
    handles = {h.repo: h for h in await rt.repo_handles()}
    # Never read and GitHub down now: left out rather than run with rules it may not want.
    assert sorted(handles) == ["octo/a", "octo/known", "octo/z"]
    assert handles["octo/known"].rules["core"]["allowed_bots"] == ["renovate"]


async def test_a_repository_whose_token_cannot_be_had_is_not_decided_on_bundled_rules(rt, fake_github):
    fake_github.add_repo("octo/off")
    fake_github.put_file("octo/off", CONFIG, "core:\n  enabled: false\n")
    # 424242: an installation GitHub will not mint a token for now. Bundled rules would turn
    # on everything the repository switched off; the delivery is tried again instead.
    with pytest.raises(GitHubError):
        await rt.rules_for("octo/off", 424242)
    assert (await rt.rules_for("octo/off", 1)).rules["core"]["enabled"] is False


async def test_a_broken_file_is_logged_once_per_version_not_on_every_event(rt, fake_github, caplog):
    """Every event of the repository used to log the same warning while the file stayed
    broken: on a busy repository, a line per delivery saying nothing new."""
    from bot.core.events import Event
    from bot.pipeline import decide

    fake_github.add_repo("octo/a")
    fake_github.put_file("octo/a", CONFIG, "core:\n  allowed_bots: [renovate]\n")
    await rt.rules_for("octo/a", 1)

    def ping(n: int) -> Event:
        return Event(name="ping", delivery_id=f"d-{n}", payload={
            "zen": "z", "repository": {"full_name": "octo/a"}, "installation": {"id": 1}})

    def broken_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.levelname == "WARNING" and "allowed_bots" in r.getMessage()]

    fake_github.put_file("octo/a", CONFIG, "core:\n  allowed_bots: 7\n")
    for n in range(4):
        rt.repo_rules.invalidate("octo/a")  # read again each time: the file is still broken
        await decide(rt, ping(n))
    assert len(broken_lines()) == 1 and "octo/a" in broken_lines()[0]

    fake_github.put_file("octo/a", CONFIG, "core:\n  allowed_bots: 8\n")  # broken anew
    rt.repo_rules.invalidate("octo/a")
    await decide(rt, ping(9))
    assert len(broken_lines()) == 2
