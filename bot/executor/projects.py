"""Projects (v2) and Discussions: GraphQL only, ids looked up by name and cached."""
from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from ..core import actions as A
from ..core.pages import dig, pages
from ..store import state
from .issues import _split

if TYPE_CHECKING:  # pragma: no cover
    from . import ActionEnv


def _is_transient(exc: BaseException) -> bool:
    from ..github import TransientGitHubError

    return isinstance(exc, TransientGitHubError)


class ConfigurationError(Exception):
    """A board, field, option or category named in the rules does not exist."""


# Fields and project items are read page by page (GitHub serves at most 100 a page): a
# board's Status field may come after the hundredth field.
PROJECT_QUERY = """
query($owner: String!, $number: Int!, $after: String) {
  organization(login: $owner) { projectV2(number: $number) { ...board } }
}
fragment board on ProjectV2 {
  id title
  fields(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ... on ProjectV2FieldCommon { id name }
      ... on ProjectV2SingleSelectField { id name options { id name } }
    }
  }
}
"""
USER_PROJECT_QUERY = PROJECT_QUERY.replace("organization(login: $owner)", "user(login: $owner)")

ADD_ITEM = """
mutation($project: ID!, $content: ID!) {
  addProjectV2ItemById(input: {projectId: $project, contentId: $content}) { item { id } }
}
"""
SET_FIELD = """
mutation($project: ID!, $item: ID!, $field: ID!, $option: String!) {
  updateProjectV2ItemFieldValue(input: {projectId: $project, itemId: $item, fieldId: $field,
                                        value: {singleSelectOptionId: $option}}) {
    projectV2Item { id }
  }
}
"""
ITEMS_OF = """
query($content: ID!, $after: String) {
  node(id: $content) {
    ... on Issue { projectItems(first: 100, after: $after) { ...items } }
    ... on PullRequest { projectItems(first: 100, after: $after) { ...items } }
  }
}
fragment items on ProjectV2ItemConnection {
  pageInfo { hasNextPage endCursor }
  nodes { id project { id } }
}
"""
DELETE_ITEM = """
mutation($project: ID!, $item: ID!) {
  deleteProjectV2Item(input: {projectId: $project, itemId: $item}) { deletedItemId }
}
"""
CATEGORIES = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    id
    discussionCategories(first: 50) { nodes { id name } }
  }
}
"""
# The newest discussions of a category: to find one whose creation went through although
# the answer was lost (GitHub applied the mutation, the bot saw a 502 or a timeout).
RECENT_DISCUSSIONS = """
query($owner: String!, $name: String!, $category: ID!) {
  repository(owner: $owner, name: $name) {
    discussions(first: 50, categoryId: $category, orderBy: {field: CREATED_AT, direction: DESC}) {
      nodes { id url body category { id } author { __typename login } }
    }
  }
}
"""
CREATE_DISCUSSION = """
mutation($repo: ID!, $category: ID!, $title: String!, $body: String!) {
  createDiscussion(input: {repositoryId: $repo, categoryId: $category, title: $title, body: $body}) {
    discussion { id url number }
  }
}
"""


class ProjectCache:
    """Board and field ids change rarely: cache them for ten minutes. Keys name the
    installation: what one installation's token can see says nothing of another's."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple, tuple[float, Any]] = {}

    def get(self, key: tuple) -> Any:
        hit = self._items.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def put(self, key: tuple, value: Any) -> None:
        self._items[key] = (time.monotonic(), value)


async def _board(env: "ActionEnv", cache: ProjectCache, owner: str, number: int, *, fresh: bool = False) -> dict:
    """The board (ids of its fields and options), cached; ``fresh``: read it again."""
    key = ("board", env.installation, owner, number)
    board = None if fresh else cache.get(key)
    if board is None:
        for query, root in ((PROJECT_QUERY, "organization"), (USER_PROJECT_QUERY, "user")):
            try:
                board = await _read_board(env, query, root, owner, number)
            except Exception as exc:
                # GitHub answers NOT_FOUND errors for an unknown owner or board number.
                if _is_transient(exc):
                    raise
                continue
            if board is not None:
                break
        if board is None:
            raise ConfigurationError(f"project board {owner}#{number} not found")
        cache.put(key, board)
    return board


async def _read_board(env: "ActionEnv", query: str, root: str, owner: str, number: int) -> dict | None:
    """The board with all its fields (every page of them), or None."""
    board: dict | None = None
    fields: list[Any] = []
    async for data in pages(lambda after: env.api.graphql(query, owner=owner, number=number, after=after),
                            root, "projectV2", "fields"):
        page = dig(data, root, "projectV2")
        if page is None:
            return None
        board = board or page
        fields += dig(page, "fields", "nodes") or []
    return {**board, "fields": {"nodes": fields}} if board is not None else None


def _named(nodes: Any, name: str) -> dict | None:
    """The node called ``name``: spelt so, else ignoring case (as GitHub's own names are
    unique whatever the case)."""
    nodes = [n for n in nodes or () if n and n.get("name")]
    return (next((n for n in nodes if n["name"] == name), None)
            or next((n for n in nodes if n["name"].casefold() == name.casefold()), None))


def _field_option(board: dict, field: str, value: str) -> tuple[str, str]:
    """Ids of the single-select ``field`` and its option ``value``, or ConfigurationError."""
    single_selects = [n for n in (board.get("fields") or {}).get("nodes") or () if n and "options" in n]
    node = _named(single_selects, field)
    option = _named(node.get("options"), value) if node else None
    if node is None or option is None:
        raise ConfigurationError(f"board {board.get('title')!r} has no field {field!r} with option {value!r}")
    return node["id"], option["id"]


async def add_to_project(action: A.AddToProject, env: "ActionEnv", cache: ProjectCache) -> Any:
    owner, number = action.project_owner, action.project_number
    cached = cache.get(("board", env.installation, owner, number)) is not None
    board = await _board(env, cache, owner, number)
    field_id = option_id = None
    if action.value is not None:
        try:
            field_id, option_id = _field_option(board, action.field, action.value)
        except ConfigurationError:
            if not cached:
                raise
            # Options renamed or added since the board was cached: read it again.
            board = await _board(env, cache, owner, number, fresh=True)
            field_id, option_id = _field_option(board, action.field, action.value)
            cached = False
    item = await env.api.getitem("/repos/{owner}/{repo}/issues/{issue_number}",
                                 {**_split(action.repo), "issue_number": action.number})
    # addProjectV2ItemById returns the existing item when the content is already there.
    added = await env.api.graphql(ADD_ITEM, project=board["id"], content=item["node_id"])
    item_id = added["addProjectV2ItemById"]["item"]["id"]
    if field_id:
        try:
            await env.api.graphql(SET_FIELD, project=board["id"], item=item_id, field=field_id,
                                  option=option_id)
        except Exception as exc:
            if _is_transient(exc) or not cached:
                raise
            # Editing a field's options through the API makes them again with new ids: the
            # cached ones are refused. Read the board again and set the status once more.
            board = await _board(env, cache, owner, number, fresh=True)
            field_id, option_id = _field_option(board, action.field, action.value)
            await env.api.graphql(SET_FIELD, project=board["id"], item=item_id, field=field_id,
                                  option=option_id)
    return item_id


async def remove_from_project(action: A.RemoveFromProject, env: "ActionEnv", cache: ProjectCache) -> Any:
    """Delete the issue's item on the board, found through the issue's own project items
    (adding it to learn its id would put it back on a board someone cleared)."""
    board = await _board(env, cache, action.project_owner, action.project_number)
    issue = await env.api.getitem("/repos/{owner}/{repo}/issues/{issue_number}",
                                  {**_split(action.repo), "issue_number": action.number})
    async for data in pages(lambda after: env.api.graphql(ITEMS_OF, content=issue["node_id"], after=after),
                            "node", "projectItems"):
        for item in dig(data, "node", "projectItems", "nodes") or ():
            if item and (item.get("project") or {}).get("id") == board["id"]:
                await env.api.graphql(DELETE_ITEM, project=board["id"], item=item["id"])
                return item["id"]
    return None  # not on the board any more


async def _categories(env: "ActionEnv", cache: ProjectCache, repo_name: str) -> dict:
    key = ("categories", env.installation, repo_name)
    repo = cache.get(key)
    if repo is None:
        owner, name = repo_name.split("/", 1)
        data = await env.api.graphql(CATEGORIES, owner=owner, name=name)
        repo = (data or {}).get("repository") or {}
        if repo:
            cache.put(key, repo)
    return repo


def discussion_marker(key: str) -> str:
    """The hidden line that names the discussion an action creates, so it can be found."""
    return f"<!-- contributor-flow:discussion:{hashlib.sha256(key.encode()).hexdigest()[:20]} -->"


def _by_the_bot(author: Any, bot_login: str) -> bool:
    """Whether a discussion's author is the bot. GraphQL names an App's bot user without the
    "[bot]" REST adds, and a user account may hold that bare name: the type tells them apart."""
    if not isinstance(author, dict):
        return False  # a deleted account (GitHub's ghost): not the bot, which is never deleted
    login = str(author.get("login") or "")
    if author.get("__typename") != "Bot" and not login.endswith("[bot]"):
        return False
    return login.removesuffix("[bot]").casefold() == bot_login.removesuffix("[bot]").casefold()


async def _find_discussion(env: "ActionEnv", repo_name: str, category_id: str, marker: str) -> dict | None:
    owner, name = repo_name.split("/", 1)
    data = await env.api.graphql(RECENT_DISCUSSIONS, owner=owner, name=name, category=category_id)
    nodes = (((data or {}).get("repository") or {}).get("discussions") or {}).get("nodes") or []
    # The marker is a hash of a predictable key: anyone who may post in the category can write
    # it, so only the bot's own post counts (else the week's report would never be posted).
    return next((d for d in nodes if d and marker in (d.get("body") or "")
                 and ((d.get("category") or {}).get("id") in (None, category_id))
                 and _by_the_bot(d.get("author"), env.bot_login)), None)


async def create_discussion(action: A.CreateDiscussion, env: "ActionEnv", cache: ProjectCache) -> Any:
    # The key names the feature too: two features may both post weekly to one category.
    key = (state.created_key(action, env.feature)
           or f"discussion:{action.repo}:{env.feature}:{action.category}:{env.fingerprint}")
    existing = await state.created_object(env.db, key)
    if existing:
        return f"exists {existing}"
    # Repository and category ids are looked up by name once and cached.
    repo = await _categories(env, cache, action.repo)
    category = next((c for c in repo.get("discussionCategories", {}).get("nodes", [])
                     if c["name"].casefold() == action.category.casefold()), None)
    if category is None:
        raise ConfigurationError(f"discussion category {action.category!r} not found in {action.repo}")
    # createDiscussion is never sent twice by the client (a lost answer fails the call), and
    # the ledger above is written only after the answer. So before creating, one query
    # (a weekly post's worth) looks among the category's newest for the marker the body
    # carries: an earlier attempt whose answer was lost, or whose row was not written.
    marker = discussion_marker(key)
    found = await _find_discussion(env, action.repo, category["id"], marker)
    if found is not None:
        await state.remember_created(env.db, key, action.repo, "discussion",
                                     str(found.get("url") or found["id"]))
        return f"exists {found.get('url') or found['id']}"
    made = await env.api.graphql(CREATE_DISCUSSION, repo=repo["id"], category=category["id"],
                                 title=action.title, body=f"{action.body}\n\n{marker}")
    disc = made["createDiscussion"]["discussion"]
    await state.remember_created(env.db, key, action.repo, "discussion", str(disc.get("url") or disc["id"]))
    return disc.get("url")
