"""Triggering pipelines: workflow_dispatch and repository_dispatch."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import actions as A
from .issues import _split

if TYPE_CHECKING:  # pragma: no cover
    from . import ActionEnv


async def dispatch_workflow(action: A.DispatchWorkflow, env: "ActionEnv") -> Any:
    inputs = {k: str(v) for k, v in dict(action.inputs).items()}
    if len(inputs) > 25:
        raise ValueError("workflow_dispatch takes at most 25 inputs")
    await env.api.post("/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
                       {**_split(action.repo), "workflow_id": action.workflow},
                       data={"ref": action.ref, "inputs": inputs})
    return "dispatched"


async def repository_dispatch(action: A.RepositoryDispatch, env: "ActionEnv") -> Any:
    payload = dict(action.client_payload)
    if len(payload) > 10:
        raise ValueError("repository_dispatch client_payload takes at most 10 keys")
    await env.api.post("/repos/{owner}/{repo}/dispatches", _split(action.repo),
                       data={"event_type": action.event_type[:100], "client_payload": payload})
    return "dispatched"
