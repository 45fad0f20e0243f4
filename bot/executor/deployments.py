"""Creating a GitHub Deployment (the ``sandbox`` feature's, on a push to a listed branch).

A create is not idempotent, and its answer can be lost after GitHub made the deployment (a 502,
a timeout): the client then fails the call rather than send it again, and the delivery's retry
comes back here. So every attempt first lists the deployments of that commit in that
environment (one call, ``per_page=1``): if there is one, whoever made it (an earlier attempt of
this action, the project's own workflow, a person), nothing is created. Unlike a dispatch's run,
a deployment is listed as soon as GitHub answers the create, so no settling time is needed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import actions as A
from .issues import _split

if TYPE_CHECKING:  # pragma: no cover
    from . import ActionEnv

DEPLOYMENTS = "/repos/{owner}/{repo}/deployments"


async def existing_deployment(env: "ActionEnv", repo: str, sha: str, environment: str) -> dict[str, Any] | None:
    found = await env.api.getitem(DEPLOYMENTS + "{?sha,environment,per_page}",
                                  {**_split(repo), "sha": sha, "environment": environment, "per_page": 1})
    return found[0] if isinstance(found, list) and found else None


async def create_deployment(action: A.CreateDeployment, env: "ActionEnv") -> Any:
    already = await existing_deployment(env, action.repo, action.sha, action.environment)
    if already is not None:
        return f"present {already.get('id')}"
    made = await env.api.post(DEPLOYMENTS, _split(action.repo), data={
        "ref": action.sha, "task": "deploy", "auto_merge": False,
        "required_contexts": list(action.required_contexts), "payload": dict(action.payload),
        "environment": action.environment, "description": action.description[:140],
        "transient_environment": False, "production_environment": False})
    return f"created {(made or {}).get('id')}"
