"""The role resolver against the shared fake GitHub (real HTTP, validated requests)."""
from __future__ import annotations

import pytest
from cachetools import TTLCache

from bot.features.commands.rules import SECTION
from bot.permissions import has_write_access, make_role_lookup, role_from_permission
from bot.rules.loader import load_bundled
from tests.fakegithub.server import FakeGitHub

from .conftest import REPO

PERMISSION = "/repos/{owner}/{repo}/collaborators/{username}/permission"
MEMBERSHIP = "/orgs/{org}/teams/{team_slug}/memberships/{username}"


def bundled_rules(**changes) -> dict:
    rules, _ = load_bundled("rules", [SECTION])
    section = rules.section("commands")
    section.update(changes)
    return section


@pytest.mark.parametrize("role_name,permission,write_is_maintainer,expected", [
    ("admin", "admin", True, {"maintainer"}),
    ("maintain", "write", True, {"maintainer"}),
    ("write", "write", True, {"maintainer"}),
    ("write", "write", False, {"triager"}),
    ("triage", "read", True, {"triager"}),
    ("read", "read", True, set()),
    ("", "none", True, set()),
    ("custom-release-manager", "write", True, {"maintainer"}),  # custom role based on write
])
def test_role_from_permission(role_name, permission, write_is_maintainer, expected):
    data = {"role_name": role_name, "permission": permission}
    assert role_from_permission(data, write_is_maintainer=write_is_maintainer) == expected


@pytest.mark.parametrize("role_name,permission,expected", [
    ("admin", "admin", True), ("maintain", "write", True), ("write", "write", True),
    ("custom-release-manager", "write", True), ("", "admin", True),
    ("triage", "read", False), ("read", "read", False), ("", "none", False), ("", "", False),
])
def test_has_write_access(role_name, permission, expected):
    assert has_write_access({"role_name": role_name, "permission": permission}) is expected


def test_write_access_and_roles_agree_on_every_answer():
    """A CODEOWNERS owner counts only with write access; that and the maintainer role are one
    reading of the permission answer, on any combination GitHub (or a custom role) gives."""
    import itertools

    role_names = ("admin", "maintain", "write", "triage", "read", "custom-role", "ADMIN", "", None)
    permissions = ("admin", "write", "read", "none", "maintain", "triage", "Write", "", None)
    for role_name, permission in itertools.product(role_names, permissions):
        data = {"role_name": role_name, "permission": permission}
        assert has_write_access(data) is ("maintainer" in role_from_permission(data, write_is_maintainer=True)), data


async def test_roles_from_every_source(fake: FakeGitHub, reader):
    for login in ("stranger", "writer", "admin", "triage", "listed", "teamed", "owner1", "reviewer1",
                  "aliased", "codeowner", "codeteam", "codereader", "teamreader"):
        fake.add_user(login)
    fake.set_permission(REPO, "writer", "write")
    fake.set_permission(REPO, "codeowner", "write")
    fake.set_permission(REPO, "codeteam", "maintain")
    fake.set_permission(REPO, "codereader", "read")
    fake.set_permission(REPO, "teamreader", "triage")
    fake.set_permission(REPO, "admin", "admin")
    fake.set_permission(REPO, "triage", "triage")
    fake.add_team("octo", "triagers", members=["teamed"])
    fake.add_team("octo", "core", members=["codeteam", "teamreader"])
    fake.put_file(REPO, "OWNERS", "approvers: [Owner1, docs]\nreviewers: [reviewer1]\n")
    fake.put_file(REPO, "OWNERS_ALIASES", "aliases:\n  docs: [aliased]\n")
    fake.put_file(REPO, ".github/CODEOWNERS", "* @codeowner @codereader @octo/core\n")
    rules = bundled_rules(roles={
        "triager": {"logins": [], "teams": ["triagers"]},
        "maintainer": {"logins": ["Listed"], "teams": []},
        "approver": {"logins": [], "teams": []},
    })
    roles_of = make_role_lookup(reader, REPO, rules, TTLCache(100, ttl=300))
    expected = {
        "stranger": {"anyone"},
        "writer": {"anyone", "maintainer", "triager"},
        "admin": {"anyone", "maintainer", "triager"},
        "triage": {"anyone", "triager"},
        "listed": {"anyone", "maintainer", "triager"},
        "teamed": {"anyone", "triager"},
        "owner1": {"anyone", "approver"},
        "reviewer1": {"anyone", "triager"},
        "aliased": {"anyone", "approver"},
        # GitHub honours a code owner (user or team member) only with write access.
        "codeowner": {"anyone", "approver", "maintainer", "triager"},
        "codeteam": {"anyone", "approver", "maintainer", "triager"},
        "codereader": {"anyone"},
        "teamreader": {"anyone", "triager"},
        "ghost-of-nobody": {"anyone"},  # not a user at all: 404 means no access
    }
    got = {login: set(await roles_of(login)) for login in expected}
    assert got == expected


async def test_a_code_owner_needs_write_access_whatever_write_means_here(fake: FakeGitHub, reader):
    fake.put_file(REPO, ".github/CODEOWNERS", "* @former @writer\n")
    fake.set_permission(REPO, "former", "read")  # a maintainer whose access was taken away
    fake.set_permission(REPO, "writer", "write")
    roles_of = make_role_lookup(reader, REPO, bundled_rules(write_access_is_maintainer=False),
                                TTLCache(100, ttl=300))
    assert await roles_of("former") == {"anyone"}
    assert await roles_of("writer") == {"anyone", "approver", "triager"}


async def test_prow_owners_need_no_write_access(fake: FakeGitHub, reader):
    fake.put_file(REPO, "OWNERS", "approvers: [outside]\n")
    fake.set_permission(REPO, "outside", "read")
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), TTLCache(100, ttl=300))
    assert await roles_of("outside") == {"anyone", "approver"}


async def test_a_stranger_costs_no_codeowners_team_lookup(fake: FakeGitHub, reader):
    teams = [f"team{i}" for i in range(40)]
    for team in teams:
        fake.add_team("octo", team, members=[])
    fake.put_file(REPO, ".github/CODEOWNERS",
                  "".join(f"/area{i}/ @octo/{team}\n" for i, team in enumerate(teams)))
    fake.add_user("stranger")
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), TTLCache(100, ttl=300))
    assert await roles_of("stranger") == {"anyone"}
    assert fake.calls_to("GET", MEMBERSHIP) == []


async def test_author_and_case_insensitive_logins(fake: FakeGitHub, reader):
    fake.set_permission(REPO, "Writer", "write")
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), TTLCache(100, ttl=300))
    assert await roles_of("Writer", item_author="writer") == {"anyone", "author", "maintainer", "triager"}
    assert await roles_of("Writer", item_author="someone") == {"anyone", "maintainer", "triager"}


async def test_lookups_are_cached_per_repo_and_login(fake: FakeGitHub, reader):
    fake.set_permission(REPO, "writer", "write")
    cache: TTLCache = TTLCache(100, ttl=300)
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), cache)
    for _ in range(3):
        assert "maintainer" in await roles_of("writer")
    assert len(fake.calls_to("GET", PERMISSION)) == 1
    # Owner files are read once per repository, not once per login.
    fake.add_user("other")
    await roles_of("other")
    assert len(fake.calls_to("GET", PERMISSION)) == 2
    assert len(fake.calls_to("GET", "/repos/{owner}/{repo}/contents/{path}")) == 5  # OWNERS_ALIASES,
    # OWNERS and the three CODEOWNERS places, all absent


async def test_changed_access_shows_once_the_cache_expires(fake: FakeGitHub, reader):
    fake.set_permission(REPO, "writer", "write")
    now = [0.0]
    cache: TTLCache = TTLCache(100, ttl=300, timer=lambda: now[0])
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), cache)
    assert "maintainer" in await roles_of("writer")
    fake.set_permission(REPO, "writer", "read")
    now[0] = 299
    assert "maintainer" in await roles_of("writer")
    now[0] = 301
    assert await roles_of("writer") == {"anyone"}


async def test_another_access_generation_asks_github_again(fake: FakeGitHub, reader):
    """The caller passes the repository's access generation (moved by a delivery saying access
    changed): answers and owner files cached under another one are not used."""
    fake.add_user("owner1")
    fake.put_file(REPO, "OWNERS", "approvers: [owner1]\n")
    fake.set_permission(REPO, "writer", "write")
    cache: TTLCache = TTLCache(100, ttl=300)
    before = make_role_lookup(reader, REPO, bundled_rules(), cache, (0, 0))
    assert "maintainer" in await before("writer") and "approver" in await before("owner1")
    fake.set_permission(REPO, "writer", "read")
    fake.put_file(REPO, "OWNERS", "approvers: []\n")
    assert "maintainer" in await make_role_lookup(reader, REPO, bundled_rules(), cache, (0, 0))("writer")
    after = make_role_lookup(reader, REPO, bundled_rules(), cache, (1, 0))
    assert await after("writer") == {"anyone"}
    assert await after("owner1") == {"anyone"}
    assert len(fake.calls_to("GET", PERMISSION)) == 4  # writer and owner1, once per generation


async def test_owner_files_can_be_switched_off(fake: FakeGitHub, reader):
    fake.add_user("owner1")
    fake.put_file(REPO, "OWNERS", "approvers: [owner1]\n")
    roles_of = make_role_lookup(reader, REPO, bundled_rules(owners_files=False), TTLCache(100, ttl=300))
    assert await roles_of("owner1") == {"anyone"}
    assert fake.calls_to("GET", "/repos/{owner}/{repo}/contents/{path}") == []


class ScriptedReader:
    """Answers the permission endpoint; team memberships and files fail as told."""

    def __init__(self, team_error=None, permission_error=None):
        self.team_error = team_error
        self.permission_error = permission_error
        self.calls = 0

    async def getitem(self, url, url_vars=None, **kw):
        self.calls += 1
        if "teams" in url:
            raise self.team_error
        if self.permission_error is not None:
            raise self.permission_error
        return {"permission": "write", "role_name": "write"}

    async def get_text(self, url, url_vars=None, **kw):
        from bot.github import PermanentGitHubError
        raise PermanentGitHubError("Not Found", status=404)


async def test_unreadable_team_grants_nothing_but_does_not_fail():
    from bot.github import PermanentGitHubError

    rules = bundled_rules(roles={"approver": {"logins": [], "teams": ["octo/core"]},
                                 "triager": {"logins": [], "teams": []},
                                 "maintainer": {"logins": [], "teams": []}})
    reader = ScriptedReader(team_error=PermanentGitHubError("Forbidden", status=403))
    roles_of = make_role_lookup(reader, REPO, rules, TTLCache(100, ttl=300))
    assert await roles_of("writer") == {"anyone", "maintainer", "triager"}


async def test_transient_errors_propagate_and_are_not_cached():
    from bot.github import TransientGitHubError

    cache: TTLCache = TTLCache(100, ttl=300)
    reader = ScriptedReader(permission_error=TransientGitHubError("Bad Gateway", status=502))
    roles_of = make_role_lookup(reader, REPO, bundled_rules(), cache)
    with pytest.raises(TransientGitHubError):
        await roles_of("writer")
    reader.permission_error = None  # GitHub is back: the retried delivery asks again
    assert "maintainer" in await roles_of("writer")
