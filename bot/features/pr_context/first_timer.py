"""Is the author contributing for the first time?

A first-timer has no earlier merged pull request in the repository (or in the whole
owner, if the rules say so), judged by user id: ``author_association`` alone is not
enough (it says nothing about the organisation, and a renamed account keeps its id
but not its login). Two sources, cheapest first:

1. this feature's table of merged PR authors (by id; fed by ``pull_request.closed``);
2. the search API ``is:pr is:merged author:<login>``, whose hits are kept only when
   their author has the same id (history from before the bot was installed).

If the search fails, GitHub's own ``author_association`` is the fallback.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from bot.core.events import is_bot_account
from bot.github.urls import is_repo_url

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context

# Associations that say "no commit in the repository", so no merged pull request: GitHub
# gives NONE, not FIRST_TIME_CONTRIBUTOR, to some such authors (one whose earlier pull
# request was closed unmerged, say). CONTRIBUTOR and above have one, or are insiders.
FIRST_ASSOCIATIONS = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"})


async def merged_in_store(ctx: "Context", *, user_id: int, repo: str, owner: str, scope: str,
                          number: int) -> bool:
    if scope == "org":
        sql = ("SELECT 1 FROM pr_context_merged"
               " WHERE owner = ? AND user_id = ? AND NOT (repo = ? AND number = ?)")
        params: tuple[Any, ...] = (owner.lower(), user_id, repo, number)
    else:
        sql = "SELECT 1 FROM pr_context_merged WHERE repo = ? AND user_id = ? AND number <> ?"
        params = (repo, user_id, number)
    return await ctx.db.fetchval(sql + " LIMIT 1", params) is not None


async def merged_in_search(ctx: "Context", *, login: str, user_id: int, repo: str, owner: str,
                           owner_is_org: bool, scope: str, number: int) -> bool:
    where = f"repo:{repo}" if scope == "repo" else f"{'org' if owner_is_org else 'user'}:{owner}"
    found = await ctx.gh.getitem("/search/issues{?q,per_page}",
                                 {"q": f"is:pr is:merged author:{login} {where}", "per_page": 100})
    for item in found.get("items") or ():
        same_person = (item.get("user") or {}).get("id") == user_id
        # The whole repository name: in org scope, #7 of "repo-docs" is not #7 of "repo".
        same_pr = item.get("number") == number and is_repo_url(item.get("repository_url"), repo)
        if same_person and not same_pr:
            return True
    return False


FALLBACK = "author_association"


async def is_first_timer(ctx: "Context", pr: Mapping[str, Any], *, scope: str) -> tuple[bool, str]:
    """(first-timer?, how it was decided) for the PR's author. A reason starting with
    ``FALLBACK`` is a guess the caller should not keep: the next event searches again."""
    user = pr.get("user") or {}
    if is_bot_account(user) or not user.get("id"):
        return False, "bot or unknown author"
    repo = ctx.repo
    owner_info = (ctx.event.payload.get("repository") or {}).get("owner") or {}
    owner = str(owner_info.get("login") or repo.split("/", 1)[0])
    owner_is_org = owner_info.get("type") == "Organization"
    number = int(pr.get("number") or 0)
    user_id = int(user["id"])
    if await merged_in_store(ctx, user_id=user_id, repo=repo, owner=owner, scope=scope, number=number):
        return False, "merged pull request on record"
    try:
        if await merged_in_search(ctx, login=str(user.get("login")), user_id=user_id, repo=repo,
                                  owner=owner, owner_is_org=owner_is_org, scope=scope, number=number):
            return False, "merged pull request found by search"
    except Exception as exc:  # search has its own, tighter rate limit
        association = str(pr.get("author_association") or "")
        return association in FIRST_ASSOCIATIONS, f"{FALLBACK} {association} (search failed: {exc})"
    return True, f"no merged pull request by user id {user_id} in the {scope}"
