"""Check runs: one per (name, head SHA), created once and updated in place (a new one
when a completed check starts again)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import actions as A
from ..store import state
from .issues import _split

if TYPE_CHECKING:  # pragma: no cover
    from . import ActionEnv

MAX_TEXT = 65535


def _payload(action: A.UpsertCheckRun) -> dict[str, Any]:
    data: dict[str, Any] = {"status": action.status}
    if action.conclusion:
        data["status"] = "completed"
        data["conclusion"] = action.conclusion
    if action.title or action.summary:
        output = {"title": action.title[:255] or action.name,
                  "summary": action.summary[:MAX_TEXT] or action.title}
        if action.text:
            output["text"] = action.text[:MAX_TEXT]
        data["output"] = output
    for key in ("details_url", "started_at", "completed_at"):
        value = getattr(action, key)
        if value:
            data[key] = value
    return data


async def _find(env: "ActionEnv", action: A.UpsertCheckRun) -> dict | None:
    uv = {**_split(action.repo), "ref": action.head_sha}
    async for run in env.api.getiter("/repos/{owner}/{repo}/commits/{ref}/check-runs"
                                     "?check_name={check_name}&filter=latest",
                                     {**uv, "check_name": action.name}, iterable_key="check_runs"):
        # Other apps' runs of the same name usually carry "external_id": null.
        if run.get("name") == action.name and (run.get("external_id") or "").startswith("contributor-flow"):
            return run
    return None


async def upsert_check_run(action: A.UpsertCheckRun, env: "ActionEnv") -> Any:
    """One run per (name, head), updated in place, except that a completed run is never taken
    back to queued or in_progress (GitHub refuses it): a check that starts again, such as a
    pipeline re-run from the Actions UI, gets a new run, which GitHub then shows as the check."""
    known = await state.check_run(env.db, action.repo, action.head_sha, action.name)
    if known is None:
        found = await _find(env, action)
        if found:
            known = (str(found["id"]), found.get("status") == "completed")
    data = _payload(action)
    completed = data["status"] == "completed"
    run_id = known[0] if known is not None and (completed or not known[1]) else None
    if run_id is None:  # a first run, or a completed check starting again
        made = await env.api.post("/repos/{owner}/{repo}/check-runs", _split(action.repo),
                                  data={"name": action.name, "head_sha": action.head_sha,
                                        "external_id": f"contributor-flow:{action.name}", **data})
        run_id, result = str(made["id"]), f"created {made['id']}"
    else:
        await env.api.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}",
                            {**_split(action.repo), "check_run_id": int(run_id)}, data=data)
        result = f"updated {run_id}"
    await state.remember_check_run(env.db, action.repo, action.head_sha, action.name, run_id, completed)
    return result
