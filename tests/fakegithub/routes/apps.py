"""The GitHub App itself: installations, installation tokens, hook deliveries."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from ..context import Ctx, GitHubError, Reply, not_found
from ..state import Installation
from . import route


def _installation(ctx: Ctx, inst: Installation) -> dict[str, Any]:
    account = ctx.ser.user(inst.account) if inst.account else None
    return {"id": inst.id, "account": account, "app_id": ctx.fake.app_id, "app_slug": ctx.fake.app_slug,
            "target_type": (account or {}).get("type", "Organization"),
            "repository_selection": "all" if inst.repos is None else "selected",
            "permissions": {"issues": "write", "pull_requests": "write", "checks": "write",
                            "contents": "read", "metadata": "read", "actions": "write",
                            "members": "read", "organization_projects": "write",
                            "discussions": "write"},
            "events": ["issues", "issue_comment", "pull_request", "pull_request_review"]}


@route("GET", "/app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(json={"id": ctx.fake.app_id, "slug": ctx.fake.app_slug, "name": ctx.fake.app_slug,
                       "node_id": f"A_{ctx.fake.app_id}", "owner": None,
                       "installations_count": len(ctx.state.installations)})


@route("GET", "/app/installations")
def list_installations(ctx: Ctx) -> Reply:
    return Reply(json=[_installation(ctx, i) for i in ctx.state.installations.values()])


@route("GET", "/app/installations/{installation_id}")
def get_installation(ctx: Ctx) -> Reply:
    inst = ctx.state.installations.get(ctx.params["installation_id"])
    if inst is None:
        raise not_found()
    return Reply(json=_installation(ctx, inst))


@route("POST", "/app/installations/{installation_id}/access_tokens")
def create_token(ctx: Ctx) -> Reply:
    inst = ctx.state.installations.get(ctx.params["installation_id"])
    if inst is None:
        raise not_found()
    if inst.suspended:
        raise GitHubError(403, "This installation has been suspended")
    tok = ctx.fake.auth.mint(inst.id)
    ctx.fake.auth.tokens_minted += 1
    expires = datetime.fromtimestamp(tok.expires_at, timezone.utc).replace(microsecond=0)
    return Reply(status=201, json={
        "token": tok.token, "expires_at": expires.isoformat().replace("+00:00", "Z"),
        "permissions": _installation(ctx, inst)["permissions"],
        "repository_selection": "all" if inst.repos is None else "selected"})


def _installation_for(ctx: Ctx, account: str, full_name: str | None = None) -> Reply:
    for inst in ctx.state.installations.values():
        if inst.account.lower() == account.lower() and (
                full_name is None or ctx.fake.installation_covers(inst, full_name)):
            return Reply(json=_installation(ctx, inst))
    # The default installation (no account) covers every repository of the fake.
    default = ctx.state.installations.get(1)
    if default is not None and not default.account and ctx.state.user(account) is not None:
        return Reply(json=_installation(ctx, default))
    raise not_found()


@route("GET", "/repos/{owner}/{repo}/installation")
def repo_installation(ctx: Ctx) -> Reply:
    repo = ctx.state.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
    if repo is None:
        raise not_found()
    return _installation_for(ctx, repo.owner, repo.full_name)


@route("GET", "/orgs/{org}/installation")
def org_installation(ctx: Ctx) -> Reply:
    return _installation_for(ctx, ctx.params["org"])


@route("GET", "/users/{username}/installation")
def user_installation(ctx: Ctx) -> Reply:
    return _installation_for(ctx, ctx.params["username"])


@route("GET", "/installation/repositories")
def installation_repos(ctx: Ctx) -> Reply:
    repos = [r for r in ctx.state.repos.values()
             if ctx.fake.installation_covers(ctx.installation, r.full_name)]
    return Reply(json={"total_count": len(repos), "repositories": [ctx.ser.repo(r) for r in repos]})


@route("GET", "/apps/{app_slug}")
def get_app_by_slug(ctx: Ctx) -> Reply:
    if ctx.params["app_slug"] != ctx.fake.app_slug:
        raise not_found()
    return get_app(ctx)


@route("GET", "/app/hook/deliveries")
def list_deliveries(ctx: Ctx) -> Reply:
    """Newest first, cursor-paginated like GitHub (the cursor is opaque to clients)."""
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    items = sorted(ctx.state.deliveries, key=lambda d: d.id, reverse=True)
    cursor = ctx.query.get("cursor")
    if cursor:
        items = [d for d in items if d.id <= int(cursor, 16)]
    page, rest = items[:per_page], items[per_page:]
    headers = {}
    if rest:
        headers["Link"] = (f'<{ctx.fake.url}/app/hook/deliveries?per_page={per_page}'
                           f'&cursor={rest[0].id:x}>; rel="next"')
    return Reply(json=[ctx.fake.delivery_summary(d) for d in page], headers=headers)


def _delivery(ctx: Ctx):
    for d in ctx.state.deliveries:
        if d.id == ctx.params["delivery_id"]:
            return d
    raise not_found()


@route("GET", "/app/hook/deliveries/{delivery_id}")
def get_delivery(ctx: Ctx) -> Reply:
    d = _delivery(ctx)
    return Reply(json={**ctx.fake.delivery_summary(d), "url": d.url,
                       "request": {"headers": {"X-GitHub-Event": d.event, "X-GitHub-Delivery": d.guid},
                                   "payload": d.payload},
                       "response": {"headers": {}, "payload": None}})


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts")
async def redeliver(ctx: Ctx) -> Reply:
    d = _delivery(ctx)
    # GitHub queues the redelivery and answers at once; the bot must not depend on ordering.
    task = asyncio.get_running_loop().create_task(ctx.fake.redeliver(d))
    ctx.fake.pending_redeliveries.add(task)
    task.add_done_callback(ctx.fake.pending_redeliveries.discard)
    return Reply(status=202, json={})
