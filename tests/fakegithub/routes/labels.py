"""Repository labels and labels on issues (GitHub creates unknown labels when adding them)."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, paginate
from . import route


def _names(body: object) -> list[str]:
    items = body.get("labels", []) if isinstance(body, dict) else (body or [])
    return [i["name"] if isinstance(i, dict) else str(i) for i in items]


def _issue_labels(ctx: Ctx, issue) -> list[dict]:
    repo = ctx.repo()
    return [ctx.ser.label(repo.labels[n.lower()]) for n in issue.labels]


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(ctx: Ctx) -> Reply:
    return paginate(ctx, [ctx.ser.label(lb) for lb in ctx.repo().labels.values()])


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    if ctx.body["name"].lower() in repo.labels:
        raise GitHubError(422, "Validation Failed",
                          errors=[{"resource": "Label", "code": "already_exists", "field": "name"}])
    label = ctx.fake.add_label(repo.full_name, ctx.body["name"], ctx.body.get("color", "ededed"),
                               ctx.body.get("description"))
    return Reply(status=201, json=ctx.ser.label(label))


@route("GET", "/repos/{owner}/{repo}/labels/{name}")
def get_label(ctx: Ctx) -> Reply:
    label = ctx.repo().labels.get(ctx.params["name"].lower())
    if label is None:
        raise not_found()
    return Reply(json=ctx.ser.label(label))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_issue_labels(ctx: Ctx) -> Reply:
    return paginate(ctx, _issue_labels(ctx, ctx.issue()))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_issue_labels(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    for name in _names(ctx.body):
        label = ctx.fake.add_label(issue.repo, name)
        if label.name.lower() not in (n.lower() for n in issue.labels):
            issue.labels.append(label.name)
    return Reply(json=_issue_labels(ctx, issue))


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def set_issue_labels(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    issue.labels = [ctx.fake.add_label(issue.repo, n).name for n in _names(ctx.body)]
    return Reply(json=_issue_labels(ctx, issue))


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def clear_issue_labels(ctx: Ctx) -> Reply:
    ctx.issue().labels = []
    return Reply(status=204)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
def remove_issue_label(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    name = ctx.params["name"].lower()
    if name not in (n.lower() for n in issue.labels):
        raise GitHubError(404, "Label does not exist")
    issue.labels = [n for n in issue.labels if n.lower() != name]
    return Reply(json=_issue_labels(ctx, issue))
