"""Users and the rate-limit endpoint."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found
from . import route


@route("GET", "/users/{username}")
def get_user(ctx: Ctx) -> Reply:
    user = ctx.state.user(ctx.params["username"])  # any case, answered in the account's own
    if user is None:
        raise not_found()
    return Reply(json=ctx.ser.user(user.login))


@route("GET", "/user/{account_id}")
def get_user_by_id(ctx: Ctx) -> Reply:
    wanted = str(ctx.params["account_id"])  # the OpenAPI check hands path integers over as int
    for user in ctx.state.users.values():
        if str(user.id) == wanted:
            return Reply(json=ctx.ser.user(user.login))
    raise not_found()


@route("GET", "/user")
def get_authenticated(ctx: Ctx) -> Reply:
    # Installation tokens act as the app, not as a user.
    raise GitHubError(403, "Resource not accessible by integration")


@route("GET", "/rate_limit")
def rate_limit(ctx: Ctx) -> Reply:
    used = ctx.fake.rate_used.get(ctx.headers.get("authorization", ""), 0)
    limit = ctx.fake.rate_limit
    core = {"limit": limit, "used": used, "remaining": max(limit - used, 0),
            "reset": ctx.fake.rate_reset}
    return Reply(json={"resources": {"core": core, "graphql": core, "search": core}, "rate": core})
