"""Whether a repository has the Discussion category a job posts to (the RFC review agenda, the
weekly funnel report). Asked before posting: a post to a missing category fails, and a job that
recorded its week as done would never try again once the category is created."""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CATEGORIES = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    discussionCategories(first: 50) { nodes { name } }
  }
}
"""


async def missing_category(gh: Any, repo: str, category: str) -> str | None:
    """Why ``category`` cannot be used in ``repo`` now, or None if it can (or if there is no
    GitHub access to ask: the executor then says). GitHub down is raised: the next run asks."""
    from ..github import TransientGitHubError

    if gh is None:
        return None
    owner, name = repo.split("/", 1)
    try:
        data = await gh.graphql(CATEGORIES, owner=owner, name=name)
    except TransientGitHubError:
        raise
    except Exception as exc:
        log.info("discussion categories of %s: %s", repo, exc)
        data = None
    nodes = (((data or {}).get("repository") or {}).get("discussionCategories") or {}).get("nodes") or []
    if any(node and str(node.get("name") or "").casefold() == category.casefold() for node in nodes):
        return None
    return f"the Discussion category {category!r} does not exist in {repo} (or the app cannot see it)"
