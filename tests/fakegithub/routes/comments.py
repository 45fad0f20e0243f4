"""Issue and PR conversation comments."""

from __future__ import annotations

from ..context import Ctx, Reply, not_found, paginate
from ..state import Comment, Issue, Repo, now_iso
from . import route


def find_comment(ctx: Ctx) -> tuple[Repo, Issue, Comment]:
    repo = ctx.repo()
    cid = ctx.params["comment_id"]
    for issue in repo.issues.values():
        for comment in issue.comments:
            if comment.id == cid:
                return repo, issue, comment
    raise not_found()


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    repo = ctx.repo()
    since = ctx.query.get("since")
    comments = [c for c in issue.comments if since is None or c.updated_at >= since]
    return paginate(ctx, [ctx.ser.comment(repo, c, issue.number) for c in comments])


@route("GET", "/repos/{owner}/{repo}/issues/comments")
def list_repo_comments(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    since = ctx.query.get("since")
    pairs = [(i, c) for i in repo.issues.values() for c in i.comments
             if since is None or c.updated_at >= since]
    # Ascending ids by default; `direction` counts only with `sort`, as on GitHub.
    sort = ctx.query.get("sort")
    stamp = {"created": "created_at", "updated": "updated_at"}.get(sort or "")
    pairs.sort(key=lambda p: (getattr(p[1], stamp), p[1].id) if stamp else p[1].id,
               reverse=sort is not None and ctx.query.get("direction") == "desc")
    return paginate(ctx, [ctx.ser.comment(repo, c, i.number) for i, c in pairs])


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    comment = ctx.fake.add_comment(issue.repo, issue.number, ctx.body["body"], ctx.fake.bot_login)
    issue.updated_at = now_iso()
    data = ctx.ser.comment(ctx.repo(), comment, issue.number)
    return Reply(status=201, json=data, headers={"Location": data["url"]})


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(ctx: Ctx) -> Reply:
    repo, issue, comment = find_comment(ctx)
    return Reply(json=ctx.ser.comment(repo, comment, issue.number))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(ctx: Ctx) -> Reply:
    repo, issue, comment = find_comment(ctx)
    comment.body = ctx.body["body"]
    comment.updated_at = now_iso()
    return Reply(json=ctx.ser.comment(repo, comment, issue.number))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(ctx: Ctx) -> Reply:
    _, issue, comment = find_comment(ctx)
    issue.comments.remove(comment)
    return Reply(status=204)
