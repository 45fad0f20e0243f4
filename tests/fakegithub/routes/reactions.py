"""Reactions on issues, issue comments and review comments.

GitHub answers 200 with the existing reaction when the same user already reacted the same way,
and 201 when it created one: idempotent executors rely on that.
"""

from __future__ import annotations

from ..context import Ctx, Reply, not_found, paginate
from ..state import Reaction, now_iso
from . import route
from .comments import find_comment


def _list(ctx: Ctx, reactions: list[Reaction]) -> Reply:
    content = ctx.query.get("content")
    return paginate(ctx, [ctx.ser.reaction(r) for r in reactions if content in (None, r.content)])


def _create(ctx: Ctx, reactions: list[Reaction]) -> Reply:
    user = ctx.fake.bot_login
    for r in reactions:
        if r.user == user and r.content == ctx.body["content"]:
            return Reply(status=200, json=ctx.ser.reaction(r))
    reaction = Reaction(id=ctx.state.next_id(), content=ctx.body["content"], user=user,
                        created_at=now_iso())
    reactions.append(reaction)
    return Reply(status=201, json=ctx.ser.reaction(reaction))


def _delete(ctx: Ctx, reactions: list[Reaction]) -> Reply:
    for r in reactions:
        if r.id == ctx.params["reaction_id"]:
            reactions.remove(r)
            return Reply(status=204)
    raise not_found()


def _review_comment_reactions(ctx: Ctx) -> list[Reaction]:
    for issue in ctx.repo().issues.values():
        for c in issue.pull.review_comments if issue.pull else []:
            if c.id == ctx.params["comment_id"]:
                return c.reactions
    raise not_found()


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions")
def list_issue(ctx: Ctx) -> Reply:
    return _list(ctx, ctx.issue().reactions)


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions")
def create_issue(ctx: Ctx) -> Reply:
    return _create(ctx, ctx.issue().reactions)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}")
def delete_issue(ctx: Ctx) -> Reply:
    return _delete(ctx, ctx.issue().reactions)


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def list_comment(ctx: Ctx) -> Reply:
    return _list(ctx, find_comment(ctx)[2].reactions)


@route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def create_comment(ctx: Ctx) -> Reply:
    return _create(ctx, find_comment(ctx)[2].reactions)


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}")
def delete_comment(ctx: Ctx) -> Reply:
    return _delete(ctx, find_comment(ctx)[2].reactions)


@route("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions")
def list_review_comment(ctx: Ctx) -> Reply:
    return _list(ctx, _review_comment_reactions(ctx))


@route("POST", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions")
def create_review_comment(ctx: Ctx) -> Reply:
    return _create(ctx, _review_comment_reactions(ctx))


@route("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions/{reaction_id}")
def delete_review_comment(ctx: Ctx) -> Reply:
    return _delete(ctx, _review_comment_reactions(ctx))
