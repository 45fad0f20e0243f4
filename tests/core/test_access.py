"""Which deliveries say access changed, and the scopes whose cached roles they end."""
from __future__ import annotations

import pytest

from bot.core.access import changed_scopes, generation_of, scopes_of
from bot.core.events import Event
from tests.fixtures.webhooks import load_example

CONFIG = ".github/contributor-flow.yml"


@pytest.mark.parametrize("example,scopes", [
    (("member", "added"), ["repo:codertocat/hello-world"]),
    (("member", "edited"), ["repo:codertocat/hello-world"]),
    (("membership", "removed"), ["owner:octocoders"]),
    (("membership", "added"), ["owner:octocoders"]),
    (("team", "removed_from_repository"), ["repo:octocoders/hello-world"]),
    (("team", "added_to_repository"), ["repo:octocoders/hello-world"]),
    (("team", "deleted"), ["owner:octocoders"]),
    (("team", "created"), []),  # no members, no repositories yet
    (("organization", "member_added"), ["owner:octocoders"]),
    (("organization", "member_invited"), []),  # nothing granted until accepted
    (("organization", "renamed"), []),  # every name changes: nothing cached matches anyway
    (("repository", "transferred"), ["repo:octocoders/hello-world"]),
    (("repository", "renamed"), []),
    (("issues", "opened"), []),
    (("installation", "created"), []),
])
def test_scopes_of_github_s_examples(example, scopes):
    event = Event(name=example[0], payload=load_example(*example))
    assert list(changed_scopes(event, CONFIG)) == scopes


def test_member_removed_and_organization_member_removed():
    member = load_example("member", "edited")
    member["action"] = "removed"
    assert changed_scopes(Event("member", member)) == ("repo:codertocat/hello-world",)
    org = load_example("organization", "member_added")
    org["action"] = "member_removed"
    assert changed_scopes(Event("organization", org)) == ("owner:octocoders",)


def push(files: list[str], ref: str = "refs/heads/main") -> Event:
    payload = load_example("push")
    payload["ref"] = ref
    payload["repository"]["default_branch"] = "main"
    payload["commits"] = [{"added": [], "removed": [], "modified": files}]
    return Event("push", payload)


@pytest.mark.parametrize("files,ref,changed", [
    (["OWNERS"], "refs/heads/main", True),
    (["OWNERS_ALIASES"], "refs/heads/main", True),
    ([".github/CODEOWNERS"], "refs/heads/main", True),
    (["docs/CODEOWNERS"], "refs/heads/main", True),
    ([CONFIG], "refs/heads/main", True),  # the rules' role lists
    (["src/OWNERS"], "refs/heads/main", False),  # only the root OWNERS is read
    (["README.md"], "refs/heads/main", False),
    (["OWNERS"], "refs/heads/feature", False),  # roles come from the default branch
])
def test_pushes(files, ref, changed):
    event = push(files, ref)
    assert bool(changed_scopes(event, CONFIG)) is changed
    assert changed_scopes(event, CONFIG) in ((), (f"repo:{event.repo.lower()}",))


def test_a_push_without_the_config_path_known_looks_at_owner_files_only():
    assert changed_scopes(push([CONFIG])) == ()
    assert changed_scopes(push(["OWNERS"])) != ()


def test_generations_are_the_repository_s_and_its_owner_s():
    assert scopes_of("Octo/Repo") == ("repo:octo/repo", "owner:octo")
    known = {"repo:octo/repo": 3, "owner:octo": 2, "repo:octo/other": 9}
    assert generation_of("octo/repo", known) == (3, 2)
    assert generation_of("Octo/Other", known) == (9, 2)
    assert generation_of("else/where", known) == (0, 0)
