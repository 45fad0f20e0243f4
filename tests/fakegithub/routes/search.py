"""Issue and PR search with the qualifiers a bot uses.

Supported: repo:, org:, user:, is:pr|issue, type:pr|issue, is:open|closed, state:, is:merged,
is:unmerged, is:draft, author:, assignee:, no:assignee, review-requested:, label: (quoted values
ok), created:/updated: with >, >=, <, <= or a..b ranges, and free words against title and body.
Unknown qualifiers are reported as violations so a query the fake ignores is never silently wrong.
"""

from __future__ import annotations

import shlex

from ..context import Ctx, Reply, paginate
from ..state import Issue
from . import route
from .repos import on_branch


def _date_ok(value: str, spec: str) -> bool:
    value = value[:len(spec.lstrip("<>=").split("..")[0])] if spec else value
    if ".." in spec:
        lo, hi = spec.split("..")
        return (lo == "*" or value >= lo) and (hi == "*" or value <= hi)
    for op in (">=", "<=", ">", "<"):
        if spec.startswith(op):
            ref = spec[len(op):]
            return {">=": value >= ref, "<=": value <= ref, ">": value > ref, "<": value < ref}[op]
    return value == spec


def _matches(ctx: Ctx, issue: Issue, key: str, value: str) -> bool | None:
    owner = issue.repo.split("/")[0]
    p = issue.pull
    checks = {
        "repo": lambda: issue.repo.lower() == value.lower(),
        "org": lambda: owner.lower() == value.lower(),
        "user": lambda: owner.lower() == value.lower(),
        # Logins compare case-insensitively, as everywhere on GitHub.
        "author": lambda: issue.user.lower() == value.lower(),
        "assignee": lambda: value.lower() in (a.lower() for a in issue.assignees),
        "label": lambda: value.lower() in (n.lower() for n in issue.labels),
        "review-requested": lambda: p is not None and value.lower() in (r.lower() for r in p.requested_reviewers),
        "state": lambda: issue.state == value,
        "created": lambda: _date_ok(issue.created_at, value),
        "updated": lambda: _date_ok(issue.updated_at, value),
        "closed": lambda: issue.closed_at is not None and _date_ok(issue.closed_at, value),
        "no": lambda: value == "assignee" and not issue.assignees
        or value == "label" and not issue.labels,
    }
    if key in ("is", "type"):
        return {"pr": p is not None, "issue": p is None, "open": issue.state == "open",
                "closed": issue.state == "closed", "merged": bool(p and p.merged),
                "unmerged": bool(p and not p.merged and issue.state == "closed"),
                "draft": bool(p and p.draft)}.get(value)
    check = checks.get(key)
    return None if check is None else check()


@route("GET", "/search/issues")
def search_issues(ctx: Ctx) -> Reply:
    terms = shlex.split(ctx.query["q"])
    results = []
    for repo in ctx.state.repos.values():
        if not ctx.fake.installation_covers(ctx.installation, repo.full_name):
            continue
        for issue in repo.issues.values():
            ok = True
            for term in terms:
                negate = term.startswith("-")
                key, sep, value = term.lstrip("-").partition(":")
                if not sep:
                    hit = term.lower() in f"{issue.title}\n{issue.body or ''}".lower()
                else:
                    hit = _matches(ctx, issue, key, value)
                    if hit is None:
                        ctx.fake.violation(f"search qualifier {term!r} is not supported by the fake")
                        hit = True
                if hit == negate:
                    ok = False
                    break
            if ok:
                results.append(issue)
    sort = ctx.query.get("sort")
    key = {"created": "created_at", "updated": "updated_at"}.get(sort or "", "number")
    results.sort(key=lambda i: (getattr(i, key), i.number), reverse=ctx.query.get("order", "desc") == "desc")
    reply = paginate(ctx, [{**ctx.ser.issue(i), "score": 1.0} for i in results], cap=1000,
                     wrap="items", total=len(results))
    reply.json["incomplete_results"] = False
    return reply


_COMMIT_QUALIFIERS = ("author-email", "committer-email", "author-name", "repo", "org", "user")


@route("GET", "/search/commits")
def search_commits(ctx: Ctx) -> Reply:
    """Commit search with author-email:, committer-email:, author-name:, repo:, org:/user:.
    Like GitHub, it searches default branches only: a pull request's commits are found once it
    is merged, not while it is open or after it is closed unmerged. Each result's `author` is
    the account GitHub links the email to (or null), as on GitHub."""
    terms = [t.partition(":") for t in shlex.split(ctx.query["q"])]
    for key, sep, _ in terms:
        if not sep or key not in _COMMIT_QUALIFIERS:
            ctx.fake.violation(f"commit search term {key!r} is not supported by the fake")
    results = []
    for repo in ctx.state.repos.values():
        if not ctx.fake.installation_covers(ctx.installation, repo.full_name):
            continue
        for c in on_branch(repo, None):
            fields = {"author-email": c.author_email, "committer-email": c.committer_email,
                      "author-name": c.author_name, "repo": repo.full_name,
                      "org": repo.owner, "user": repo.owner}
            if all(fields.get(key, "").lower() == value.lower() for key, _, value in terms if key in fields):
                results.append((repo, c))
    results.sort(key=lambda rc: rc[1].date, reverse=True)
    items = []
    for repo, c in results:
        item = ctx.ser.commit(repo.full_name, c)
        item["commit"].update(comment_count=0, url=item["url"],
                              tree={"sha": c.sha, "url": f"{item['url']}/tree"})
        items.append({**item, "html_url": f"https://github.com/{repo.full_name}/commit/{c.sha}",
                      "comments_url": f"{item['url']}/comments", "repository": ctx.ser.repo(repo),
                      "score": 1.0})
    reply = paginate(ctx, items, cap=1000, wrap="items", total=len(items))
    reply.json["incomplete_results"] = False
    return reply
