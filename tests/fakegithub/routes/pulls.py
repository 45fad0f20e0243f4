"""Pull requests: read, update, files (max 3,000), commits (max 250), reviewers, merge, patch/diff."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import Issue, now_iso
from . import route
from .repos import role_of

FILES_CAP = 3000
COMMITS_CAP = 250


def as_patch(issue: Issue) -> str:
    """A `git format-patch`-like text, one mail per commit (what `.patch` returns)."""
    assert issue.pull is not None
    diff = as_diff(issue)
    mails = []
    n = len(issue.pull.commits)
    for i, c in enumerate(issue.pull.commits, 1):
        subject, _, rest = c.message.partition("\n")
        mails.append(f"From {c.sha} Mon Sep 17 00:00:00 2001\nFrom: {c.author_name} <{c.author_email}>\n"
                     f"Date: {c.date}\nSubject: [PATCH {i}/{n}] {subject}\n\n{rest.strip()}\n---\n"
                     + (diff if i == n else "") + "--\n2.43.0\n\n")
    return "".join(mails)


def as_diff(issue: Issue) -> str:
    assert issue.pull is not None
    parts = []
    for f in issue.pull.files:
        old = f.previous_filename or f.filename
        parts.append(f"diff --git a/{old} b/{f.filename}\n--- a/{old}\n+++ b/{f.filename}\n"
                     f"{f.patch or ''}\n")
    return "".join(parts)


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    state = ctx.query.get("state", "open")
    pulls = [i for i in repo.issues.values() if i.pull and (state == "all" or i.state == state)
             and ctx.query.get("base") in (None, i.pull.base_ref)
             and ctx.query.get("head") in (None, f"{(i.pull.head_repo or i.repo).split('/')[0]}:{i.pull.head_ref}")]
    pulls.sort(key=lambda i: i.number, reverse=ctx.query.get("direction", "desc") == "desc")
    return paginate(ctx, [ctx.ser.pull(i) for i in pulls])


@route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls")
def pulls_for_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    sha = ctx.params["commit_sha"]
    pulls = [i for i in repo.issues.values() if i.pull and (
        i.pull.head_sha == sha or i.pull.merge_commit_sha == sha or any(c.sha == sha for c in i.pull.commits))]
    return paginate(ctx, [ctx.ser.pull(i) for i in pulls])


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    if ctx.accepts("application/vnd.github.patch"):
        return Reply(text=as_patch(issue), content_type="application/vnd.github.patch; charset=utf-8")
    if ctx.accepts("application/vnd.github.diff"):
        return Reply(text=as_diff(issue), content_type="application/vnd.github.diff; charset=utf-8")
    return Reply(json=ctx.ser.pull(issue))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    body = ctx.body or {}
    for key in ("title", "body"):
        if key in body:
            setattr(issue, key, body[key])
    if "state" in body:
        issue.state = body["state"]
        issue.closed_at = now_iso() if issue.state == "closed" else None
    if "base" in body:
        issue.pull.base_ref = body["base"]
    issue.updated_at = now_iso()
    return Reply(json=ctx.ser.pull(issue))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_files(ctx: Ctx) -> Reply:
    return paginate(ctx, [ctx.ser.pull_file(f) for f in ctx.pull().pull.files], cap=FILES_CAP)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_commits(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    return paginate(ctx, [ctx.ser.commit(issue.repo, c) for c in issue.pull.commits], cap=COMMITS_CAP)


def _reviewers(ctx: Ctx, issue: Issue) -> dict:
    repo = ctx.repo()
    return {"users": [ctx.ser.user(u) for u in issue.pull.requested_reviewers],
            "teams": [ctx.ser.team(repo.owner, t) for t in issue.pull.requested_teams]}


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def get_reviewers(ctx: Ctx) -> Reply:
    return Reply(json=_reviewers(ctx, ctx.pull()))


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def request_reviewers(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    repo = ctx.repo()
    body = ctx.body or {}
    for login in body.get("reviewers", []):
        login = ctx.state.login(login)  # any case; kept in the account's own spelling
        if login == issue.user:
            raise GitHubError(422, "Review cannot be requested from pull request author.")
        # Collaborators through teams and organisation ownership count, as on GitHub.
        if role_of(ctx, repo, login) == "none":
            raise GitHubError(422, "Reviews may only be requested from collaborators. One or more of "
                                   "the users or teams you specified is not a collaborator of the "
                                   f"{repo.full_name} repository.")
        if login not in issue.pull.requested_reviewers:
            issue.pull.requested_reviewers.append(login)
    for slug in body.get("team_reviewers", []):
        if slug not in issue.pull.requested_teams:
            issue.pull.requested_teams.append(slug)
    return Reply(status=201, json=ctx.ser.pull(issue))


@route("DELETE", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def remove_reviewers(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    body = ctx.body or {}
    drop = {login.lower() for login in body.get("reviewers", [])}
    issue.pull.requested_reviewers = [r for r in issue.pull.requested_reviewers if r.lower() not in drop]
    issue.pull.requested_teams = [t for t in issue.pull.requested_teams
                                  if t not in body.get("team_reviewers", [])]
    return Reply(json=ctx.ser.pull(issue))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def is_merged(ctx: Ctx) -> Reply:
    if not ctx.pull().pull.merged:
        raise not_found()
    return Reply(status=204)


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    p = issue.pull
    if p.merged or issue.state != "open":
        raise GitHubError(405, "Pull Request is not mergeable")
    sha = (ctx.body or {}).get("sha")
    if sha and sha != p.head_sha:
        raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
    p.merged, p.merged_at, p.merged_by = True, now_iso(), ctx.fake.bot_login
    p.merge_commit_sha = f"{p.head_sha[:-6]}merged"[:40]
    issue.state, issue.closed_at = "closed", p.merged_at
    return Reply(json={"sha": p.merge_commit_sha, "merged": True,
                       "message": "Pull Request successfully merged"})
