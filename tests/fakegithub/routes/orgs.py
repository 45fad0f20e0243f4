"""Organisations: members, memberships, teams and team memberships."""

from __future__ import annotations

from ..context import Ctx, Reply, not_found, paginate
from ..state import Org, Team
from . import route


def _org(ctx: Ctx) -> Org:
    org = ctx.state.org(ctx.params["org"])  # organisation names and logins in any case
    if org is None:
        raise not_found()
    return org


def _team(ctx: Ctx) -> Team:
    team = _org(ctx).teams.get(ctx.params["team_slug"])
    if team is None:
        raise not_found()
    return team


@route("GET", "/orgs/{org}")
def get_org(ctx: Ctx) -> Reply:
    org = _org(ctx)
    return Reply(json={"login": org.login, "id": org.id, "node_id": org.node_id,
                       "url": f"{ctx.fake.url}/orgs/{org.login}", "type": "Organization"})


@route("GET", "/orgs/{org}/members")
def list_members(ctx: Ctx) -> Reply:
    org = _org(ctx)
    role = ctx.query.get("role", "all")
    return paginate(ctx, [ctx.ser.user(m) for m, r in org.members.items() if role in ("all", r)])


@route("GET", "/orgs/{org}/members/{username}")
def check_member(ctx: Ctx) -> Reply:
    if ctx.state.login(ctx.params["username"]) not in _org(ctx).members:
        raise not_found()
    return Reply(status=204)


@route("GET", "/orgs/{org}/memberships/{username}")
def get_membership(ctx: Ctx) -> Reply:
    org = _org(ctx)
    login = ctx.state.login(ctx.params["username"])
    role = org.members.get(login)
    if role is None:
        raise not_found()
    return Reply(json={"state": "active", "role": role, "user": ctx.ser.user(login),
                       "organization": {"login": org.login, "id": org.id},
                       "url": f"{ctx.fake.url}/orgs/{org.login}/memberships/{login}"})


@route("GET", "/orgs/{org}/teams")
def list_teams(ctx: Ctx) -> Reply:
    org = _org(ctx)
    return paginate(ctx, [ctx.ser.team(org.login, slug) for slug in org.teams])


@route("GET", "/orgs/{org}/teams/{team_slug}")
def get_team(ctx: Ctx) -> Reply:
    team = _team(ctx)
    return Reply(json=ctx.ser.team(team.org, team.slug))


@route("GET", "/orgs/{org}/teams/{team_slug}/members")
def list_team_members(ctx: Ctx) -> Reply:
    team = _team(ctx)
    role = ctx.query.get("role", "all")
    return paginate(ctx, [ctx.ser.user(m) for m, r in team.members.items() if role in ("all", r)])


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def get_team_membership(ctx: Ctx) -> Reply:
    team = _team(ctx)
    login = ctx.state.login(ctx.params["username"])
    role = team.members.get(login)
    if role is None:
        raise not_found()
    return Reply(json={"role": role, "state": "active",
                       "url": f"{ctx.fake.url}/orgs/{team.org}/teams/{team.slug}/memberships/{login}"})


@route("GET", "/orgs/{org}/teams/{team_slug}/repos")
def list_team_repos(ctx: Ctx) -> Reply:
    team = _team(ctx)
    repos = [ctx.state.repo(r) for r in team.repos]
    return paginate(ctx, [ctx.ser.repo(r) for r in repos if r is not None])
