"""Pull request reviews and review comments."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from ..state import Review, ReviewComment, make_node_id, now_iso
from . import route


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    return paginate(ctx, [ctx.ser.review(issue.repo, issue.number, r) for r in issue.pull.reviews])


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}")
def get_review(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    for r in issue.pull.reviews:
        if r.id == ctx.params["review_id"]:
            return Reply(json=ctx.ser.review(issue.repo, issue.number, r))
    raise not_found()


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    body = ctx.body or {}
    event = body.get("event")
    state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED",
             "COMMENT": "COMMENTED", None: "PENDING"}[event]
    if state in ("CHANGES_REQUESTED", "COMMENTED") and not body.get("body") and not body.get("comments"):
        raise GitHubError(422, "Unprocessable Entity",
                          errors=[f"Review body is required for {event}"])
    rid = ctx.state.next_id()
    review = Review(id=rid, node_id=make_node_id("PRR", rid), user=ctx.fake.bot_login, state=state,
                    body=body.get("body", ""), commit_id=body.get("commit_id") or issue.pull.head_sha,
                    submitted_at=now_iso())
    issue.pull.reviews.append(ctx.state.register(review))
    for c in body.get("comments", []):
        _add_comment(ctx, issue, c, review.id)
    return Reply(json=ctx.ser.review(issue.repo, issue.number, review))


def _add_comment(ctx: Ctx, issue, spec: dict, review_id: int | None,
                 in_reply_to: int | None = None) -> ReviewComment:
    cid = ctx.state.next_id()
    comment = ReviewComment(
        id=cid, node_id=make_node_id("PRRC", cid), user=ctx.fake.bot_login, body=spec["body"],
        path=spec.get("path", ""), commit_id=spec.get("commit_id") or issue.pull.head_sha,
        line=spec.get("line"), side=spec.get("side"), in_reply_to_id=in_reply_to,
        created_at=now_iso(), review_id=review_id)
    issue.pull.review_comments.append(ctx.state.register(comment))
    return comment


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments")
def list_review_comments(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    return paginate(ctx, [ctx.ser.review_comment(issue.repo, issue.number, c)
                          for c in issue.pull.review_comments])


@route("GET", "/repos/{owner}/{repo}/pulls/comments")
def list_repo_review_comments(ctx: Ctx) -> Reply:
    """Ascending ids by default; `since` keeps those updated from then on; `direction` counts
    only with `sort` (review comments are not edited here: updated is created)."""
    repo = ctx.repo()
    since = ctx.query.get("since")
    pairs = [(i, c) for i in repo.issues.values() if i.pull for c in i.pull.review_comments
             if since is None or c.created_at >= since]
    sort = ctx.query.get("sort")
    pairs.sort(key=lambda p: (p[1].created_at, p[1].id) if sort else p[1].id,
               reverse=sort is not None and ctx.query.get("direction") == "desc")
    return paginate(ctx, [ctx.ser.review_comment(repo.full_name, i.number, c) for i, c in pairs])


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments")
def create_review_comment(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    comment = _add_comment(ctx, issue, ctx.body, None, ctx.body.get("in_reply_to"))
    return Reply(status=201, json=ctx.ser.review_comment(issue.repo, issue.number, comment))


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies")
def reply_review_comment(ctx: Ctx) -> Reply:
    issue = ctx.pull()
    parent = next((c for c in issue.pull.review_comments if c.id == ctx.params["comment_id"]), None)
    if parent is None:
        raise not_found()
    spec = {"body": ctx.body["body"], "path": parent.path, "line": parent.line, "side": parent.side}
    comment = _add_comment(ctx, issue, spec, None, parent.id)
    return Reply(status=201, json=ctx.ser.review_comment(issue.repo, issue.number, comment))
