"""Issues: create, read, update, list; assignees and lock."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import now_iso
from . import route
from .repos import RANK, role_of


def _issue_list(ctx: Ctx, pulls_too: bool = True) -> list:
    repo = ctx.repo()
    state = ctx.query.get("state", "open")
    wanted = {n.strip().lower() for n in ctx.query.get("labels", "").split(",") if n.strip()} \
        if isinstance(ctx.query.get("labels"), str) else \
        {n.lower() for n in ctx.query.get("labels", [])}
    out = []
    for issue in repo.issues.values():
        if state != "all" and issue.state != state:
            continue
        if wanted and not wanted <= {n.lower() for n in issue.labels}:
            continue
        # Logins compare case-insensitively, as on GitHub.
        if "creator" in ctx.query and issue.user.lower() != ctx.query["creator"].lower():
            continue
        assignee = ctx.query.get("assignee")
        if assignee == "none" and issue.assignees or assignee not in (None, "*", "none") and \
                assignee.lower() not in {a.lower() for a in issue.assignees}:
            continue
        if "since" in ctx.query and issue.updated_at < ctx.query["since"]:
            continue
        out.append(issue)
    key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[
        ctx.query.get("sort", "created")]
    out.sort(key=lambda i: (len(i.comments) if key == "comments" else getattr(i, key), i.number),
             reverse=ctx.query.get("direction", "desc") == "desc")
    return out


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx: Ctx) -> Reply:
    return paginate(ctx, [ctx.ser.issue(i) for i in _issue_list(ctx)])


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    author = ctx.fake.bot_login
    issue = ctx.fake.add_issue(repo.full_name, title=str(ctx.body["title"]), body=ctx.body.get("body"),
                               user=author, labels=ctx.body.get("labels", []),
                               assignees=ctx.body.get("assignees", []))
    return Reply(status=201, json=ctx.ser.issue(issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(json=ctx.ser.issue(ctx.issue()))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    body = ctx.body or {}
    if "title" in body and body["title"] is not None:
        issue.title = str(body["title"])
    if "body" in body:
        issue.body = body["body"]
    if "state" in body and body["state"] != issue.state:
        issue.state = body["state"]
        if issue.state == "closed":
            issue.closed_at, issue.closed_by = now_iso(), ctx.fake.bot_login
            issue.state_reason = body.get("state_reason") or "completed"
        else:
            issue.closed_at, issue.state_reason = None, "reopened"
    elif body.get("state_reason") and issue.state == "closed":
        issue.state_reason = body["state_reason"]
    if "labels" in body:
        issue.labels = []
        for label in body["labels"]:
            name = label["name"] if isinstance(label, dict) else label
            issue.labels.append(ctx.fake.add_label(issue.repo, name).name)
    if "assignees" in body:
        issue.assignees = [ctx.state.login(a) for a in body["assignees"]]
    issue.updated_at = now_iso()
    return Reply(json=ctx.ser.issue(issue))


def _assignable(ctx: Ctx, issue, login: str) -> str | None:
    """The account's login when GitHub lets it be assigned to ``issue``: people with triage
    access or more (as ``GET /repos/.../assignees/{assignee}``), members of the owning
    organisation, and people who took part in the issue (its author, its commenters)."""
    user = ctx.state.user(login)
    if user is None:
        return None
    repo = ctx.repo()
    org = ctx.state.org(repo.owner)
    took_part = {issue.user.lower(), *(c.user.lower() for c in issue.comments)}
    if (RANK.index(role_of(ctx, repo, user.login)) >= RANK.index("triage")
            or (org is not None and user.login in org.members) or user.login.lower() in took_part):
        return user.login
    return None


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees")
def add_assignees(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    for login in (ctx.body or {}).get("assignees", []):
        # GitHub silently ignores people who cannot be assigned, and keeps the account's spelling.
        found = _assignable(ctx, issue, login)
        if found is not None and found not in issue.assignees:
            issue.assignees.append(found)
    return Reply(status=201, json=ctx.ser.issue(issue))


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/assignees")
def remove_assignees(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    drop = {login.lower() for login in (ctx.body or {}).get("assignees", [])}
    issue.assignees = [a for a in issue.assignees if a.lower() not in drop]
    return Reply(json=ctx.ser.issue(issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/assignees/{assignee}")
def check_assignee(ctx: Ctx) -> Reply:
    if _assignable(ctx, ctx.issue(), ctx.params["assignee"]) is None:
        raise not_found()
    return Reply(status=204)


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/lock")
def lock(ctx: Ctx) -> Reply:
    ctx.issue().locked = True
    return Reply(status=204)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/lock")
def unlock(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    if not issue.locked:
        raise GitHubError(404, "Not Found")
    issue.locked = False
    return Reply(status=204)


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events")
def list_events(ctx: Ctx) -> Reply:
    return paginate(ctx, ctx.issue().events)


@route("GET", "/repos/{owner}/{repo}/issues/events")
def list_repo_events(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    out = [{**e, "issue": ctx.ser.issue(i)} for i in repo.issues.values() for e in i.events]
    out.sort(key=lambda e: e["id"], reverse=True)
    return paginate(ctx, out)


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline")
def timeline(ctx: Ctx) -> Reply:
    """Events and comments in order (reviews and commits are left out)."""
    issue = ctx.issue()
    repo = ctx.repo()
    comments = [{**ctx.ser.comment(repo, c, issue.number), "event": "commented",
                 "actor": ctx.ser.user(c.user)} for c in issue.comments]
    items = sorted([*issue.events, *comments], key=lambda e: (e["created_at"], e["id"]))
    return paginate(ctx, items)
