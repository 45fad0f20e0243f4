"""The repositories the periodic jobs walk follow the App's own lifecycle: an uninstall or a
repository taken out of the installation forgets them (a job no longer mints a token for them
and logs a 404 at every run), an install or an added repository makes them known at once, and a
delivery queued before the removal does not bring them back. When the uninstall's delivery never
came, the first job run that is answered 404 for the installation's token forgets it."""
from __future__ import annotations

import logging
import time

from bot.github.errors import InstallationGone
from bot.store import deliveries, state
from tests.conftest import BOTH_BACKENDS

TOKENS = "/app/installations/{installation_id}/access_tokens"


def repos_of(payload_repos):
    return lambda p: p.update(payload_repos)


def listed(*names, private=False):
    return [{"id": 1000 + sum(map(ord, n)), "node_id": f"R_{n}", "name": n.split("/")[1],
             "full_name": n, "private": private} for n in names]


async def known(bot) -> dict[str, tuple[int, int | None]]:
    return {r["repo"]: (r["installation_id"], r["is_private"]) for r in await state.installations(bot.runtime.db)}


@BOTH_BACKENDS
async def test_install_add_remove_uninstall(bot):
    await bot.deliver_example("installation", "created", patch=repos_of(
        {"repositories": listed("octo/repo") + listed("octo/secret", private=True)}))
    assert await known(bot) == {"octo/repo": (1, 0), "octo/secret": (1, 1)}

    await bot.deliver_example("installation_repositories", "added", patch=repos_of(
        {"repositories_added": listed("octo/tools"), "repositories_removed": []}))
    await bot.deliver_example("installation_repositories", "removed", patch=repos_of(
        {"repositories_added": [], "repositories_removed": listed("octo/secret")}))
    assert set(await known(bot)) == {"octo/repo", "octo/tools"}
    assert {h.repo for h in await bot.runtime.repo_handles()} == {"octo/repo", "octo/tools"}

    await bot.deliver_example("installation", "deleted", patch=repos_of(
        {"repositories": listed("octo/repo", "octo/tools")}))
    assert await known(bot) == {}
    before = len(bot.fake.calls_to("POST", TOKENS, ok_only=False))
    assert await bot.runtime.repo_handles() == []
    assert len(bot.fake.calls_to("POST", TOKENS, ok_only=False)) == before  # nothing asked of GitHub


@BOTH_BACKENDS
async def test_a_repository_added_back_is_known_again(bot):
    await bot.deliver_example("installation_repositories", "removed", patch=repos_of(
        {"repositories_added": [], "repositories_removed": listed("octo/repo")}))
    assert "octo/repo" not in await known(bot)
    await bot.deliver_example("installation_repositories", "added", patch=repos_of(
        {"repositories_added": listed("octo/repo"), "repositories_removed": []}))
    assert (await known(bot))["octo/repo"] == (1, 0)


async def test_a_delivery_received_before_the_uninstall_does_not_bring_it_back(db):
    at = time.time()
    await state.remember_installation(db, "octo/repo", 7)
    assert await state.forget_installation(db, 7, at=at) == ["octo/repo"]
    # Queued before the uninstall, processed after it: not remembered.
    await state.remember_installation(db, "octo/repo", 7, False, private_at=at - 5)
    assert await state.installations(db) == []
    # Received after the uninstall (GitHub's 404 was wrong after all, and the installation
    # still sends deliveries): the latest word wins, it is known again.
    await state.remember_installation(db, "octo/repo", 7, private_at=at + 5)
    assert [r["repo"] for r in await state.installations(db)] == ["octo/repo"]
    await db.execute("DELETE FROM repo_installations")
    await state.forget_repos(db, 8, ["octo/a"], at=at)
    await state.remember_installation(db, "octo/a", 8, True, private_at=at - 1)
    await state.remember_installation(db, "octo/b", 8, True, private_at=at - 1)  # not removed
    assert [r["repo"] for r in await state.installations(db)] == ["octo/b"]
    await state.remember_installation(db, "octo/a", 8, True, private_at=at + 1)  # added back since
    assert [r["repo"] for r in await state.installations(db)] == ["octo/a", "octo/b"]


@BOTH_BACKENDS
async def test_a_job_forgets_an_installation_github_no_longer_has(bot, caplog, monkeypatch):
    """The uninstall's delivery was lost: the first job run answered 404 for the token forgets
    the installation (once, with one warning); the next runs neither mint nor log."""
    caplog.set_level(logging.INFO)
    await bot.deliver_example("issues", "opened")
    await state.remember_installation(bot.runtime.db, "octo/other", 1)
    bot.fake.add_repo("acme/kept")
    bot.fake.add_installation("acme", installation_id=5)
    await state.remember_installation(bot.runtime.db, "acme/kept", 5)
    monkeypatch.setattr(InstallationGone, "settle_after", 0.0)
    bot.fake.state.installations.pop(1)
    bot.fake.auth.tokens.clear()
    bot.runtime.repo_rules.invalidate("octo/repo")
    bot.runtime.repo_rules.invalidate("octo/other")

    handles = await bot.runtime.repo_handles()
    assert [h.repo for h in handles] == ["acme/kept"]
    assert set(await known(bot)) == {"acme/kept"}
    gone = [r.getMessage() for r in caplog.records if "installation 1 is gone" in r.getMessage()]
    assert len(gone) == 1 and "octo/other" in gone[0] and "octo/repo" in gone[0]
    mints = len(bot.fake.calls_to("POST", TOKENS, ok_only=False))
    caplog.clear()

    assert [h.repo for h in await bot.runtime.repo_handles()] == ["acme/kept"]
    assert len(bot.fake.calls_to("POST", TOKENS, ok_only=False)) == mints
    assert not [r for r in caplog.records if "installation 1" in r.getMessage()]


async def test_an_installation_told_of_moments_ago_is_only_left_out(bot):
    """GitHub may answer 404 for an installation made a second ago: a job run then leaves it
    out without forgetting it, and it is there for the next run."""
    await bot.deliver_example("issues", "opened", patch=lambda p: p.update(installation={"id": 779}))
    assert (await known(bot))["octo/repo"][0] == 779
    bot.runtime.repo_rules.invalidate("octo/repo")
    assert await bot.runtime.repo_handles() == []
    assert (await known(bot))["octo/repo"][0] == 779
    bot.fake.add_installation("octo", installation_id=779)
    bot.runtime.repo_rules.invalidate("octo/repo")
    assert [h.repo for h in await bot.runtime.repo_handles()] == ["octo/repo"]


# --- suspended: an owner suspended the App on the installation ---------------------------------

@BOTH_BACKENDS
async def test_a_suspended_installation_is_left_out_until_unsuspended(bot):
    await bot.deliver_example("issues", "opened")
    await bot.deliver_example("installation", "suspend")
    bot.fake.state.installations[1].suspended = True
    bot.fake.auth.tokens.clear()
    before = len(bot.fake.calls_to("POST", TOKENS, ok_only=False))
    assert await bot.runtime.repo_handles() == []
    assert len(bot.fake.calls_to("POST", TOKENS, ok_only=False)) == before  # not even tried
    assert "octo/repo" in await known(bot)  # kept: it comes back with the App

    bot.fake.state.installations[1].suspended = False
    await bot.deliver_example("installation", "unsuspend")
    bot.runtime.repo_rules.invalidate("octo/repo")
    assert [h.repo for h in await bot.runtime.repo_handles()] == ["octo/repo"]


@BOTH_BACKENDS
async def test_a_job_finds_an_installation_suspended_and_tries_it_now_and_then(bot, caplog, monkeypatch):
    """The suspend delivery was lost: the job run refused a token records the suspension with
    one warning; the next runs leave it out without asking GitHub, until the hourly probe finds
    it unsuspended."""
    import bot.runtime as runtime_module

    caplog.set_level(logging.INFO)
    await bot.deliver_example("issues", "opened")
    bot.fake.state.installations[1].suspended = True
    bot.fake.auth.tokens.clear()
    bot.runtime.repo_rules.invalidate("octo/repo")

    assert await bot.runtime.repo_handles() == []
    warned = [r for r in caplog.records if "installation 1 is suspended" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    caplog.clear()
    mints = len(bot.fake.calls_to("POST", TOKENS, ok_only=False))
    assert await bot.runtime.repo_handles() == []
    assert len(bot.fake.calls_to("POST", TOKENS, ok_only=False)) == mints

    monkeypatch.setattr(runtime_module, "SUSPENDED_PROBE", 0.0)  # the hour has passed
    bot.runtime.repo_rules.invalidate("octo/repo")
    assert await bot.runtime.repo_handles() == []  # tried: still suspended, not warned again
    assert len(bot.fake.calls_to("POST", TOKENS, ok_only=False)) == mints + 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "installation 1" in r.getMessage()]

    bot.fake.state.installations[1].suspended = False
    bot.runtime.repo_rules.invalidate("octo/repo")
    assert [h.repo for h in await bot.runtime.repo_handles()] == ["octo/repo"]
    assert await state.suspended_installations(bot.runtime.db) == {}


async def test_a_delivery_for_a_suspended_installation_is_retried_not_dead(bot):
    """Suspension ends when an owner says so: a delivery waits as through an outage (and can
    be run again by hand once it is dead), unlike one for an uninstalled App."""
    await bot.deliver_example("issues", "opened")
    bot.fake.state.installations[1].suspended = True
    bot.fake.auth.tokens.clear()
    bot.runtime.repo_rules.invalidate("octo/repo")
    delivery = await bot.deliver_example("issues", "opened", wait=False)
    assert await bot.wait_for(delivery, states=("failed", "dead")) == "failed"
    stored = await deliveries.get(bot.runtime.db, delivery)
    assert "installation 1 is suspended" in stored.last_error


# --- repositories deleted or archived ----------------------------------------------------------

def repository_event(action: str, archived: bool):
    """GitHub's examples have none for these actions: the edited one, with the action and the
    flag GitHub's payloads carry."""
    def patch(p):
        p["action"] = action
        p.pop("changes", None)
        p["repository"]["archived"] = archived
    return patch


@BOTH_BACKENDS
async def test_an_archived_repository_is_left_out_until_unarchived(bot):
    bot.fake.add_repo("octo/tools")
    await bot.deliver_example("issues", "opened", repo="octo/tools")
    await bot.deliver_example("issues", "opened")
    await bot.deliver_example("repository", "edited", patch=repository_event("archived", True))
    assert [h.repo for h in await bot.runtime.repo_handles()] == ["octo/tools"]
    assert "octo/repo" in await known(bot)  # still installed: the dashboard keeps its figures
    await bot.deliver_example("repository", "edited", patch=repository_event("unarchived", False))
    assert [h.repo for h in await bot.runtime.repo_handles()] == ["octo/repo", "octo/tools"]


async def test_archived_follows_the_newest_delivery_received(db):
    await state.remember_installation(db, "octo/repo", 1)
    await state.set_archived(db, "octo/repo", True, at=100.0)
    await state.set_archived(db, "octo/repo", False, at=90.0)  # received before: changes nothing
    assert await state.archived_repos(db) == {"octo/repo"}
    await state.set_archived(db, "octo/repo", False, at=110.0)
    assert await state.archived_repos(db) == set()


@BOTH_BACKENDS
async def test_a_deleted_repository_is_forgotten(bot):
    await bot.deliver_example("issues", "opened")
    await bot.deliver_example("repository", "edited", patch=repository_event("deleted", False))
    assert "octo/repo" not in await known(bot)
    assert await bot.runtime.repo_handles() == []
