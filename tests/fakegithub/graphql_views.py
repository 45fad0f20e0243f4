"""GraphQL views of the fake's state: dicts keyed by schema field names.

A value may be a callable taking the field's arguments (for fields such as `projectV2(number:)`).
`__typename` picks the concrete type for interfaces and unions. A field missing from a view is a
field the fake does not implement: the resolver reports it as a violation instead of guessing.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable, Sequence

from graphql import GraphQLError

from .state import (
    Discussion, DiscussionCategory, Issue, Project, ProjectField, ProjectItem, Repo,
)

if TYPE_CHECKING:
    from .server import FakeGitHub

View = dict[str, Any]
CHANGE_TYPES = {"added": "ADDED", "removed": "DELETED", "modified": "MODIFIED", "renamed": "RENAMED",
                "copied": "COPIED", "changed": "CHANGED"}


def not_found(kind: str, what: str) -> GraphQLError:
    return GraphQLError(f"Could not resolve to a {kind} with the {what}.",
                        extensions={"type": "NOT_FOUND"})


MAX_PAGE = 100  # GitHub's limit on `first` and `last`


def _cursor(i: int) -> str:
    return base64.b64encode(f"cursor:{i}".encode()).decode()


def connection(items: Sequence[Any], render: Callable[[Any], View]) -> Callable[..., View]:
    """A Relay connection honouring first/after/last/before, as GitHub's are."""
    def page(first: int | None = None, after: str | None = None, last: int | None = None,
             before: str | None = None, **_filters: Any) -> View:
        if first is None and last is None:
            raise GraphQLError("You must provide a `first` or `last` value to properly paginate.")
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise GraphQLError(f"`{name}` on the connection cannot be less than zero.")
            if value is not None and value > MAX_PAGE:
                raise GraphQLError(f"Requesting {value} records on the connection exceeds the `{name}` "
                                   f"limit of {MAX_PAGE} records.", extensions={"type": "EXCESSIVE_PAGINATION"})
        start = int(base64.b64decode(after).decode().split(":")[1]) + 1 if after else 0
        end = int(base64.b64decode(before).decode().split(":")[1]) if before else len(items)
        window = list(range(start, end))
        if first is not None:
            window = window[:first]
        if last is not None:
            window = window[max(0, len(window) - last):]
        nodes = [render(items[i]) for i in window]
        return {
            "nodes": nodes, "totalCount": len(items),
            "edges": [{"node": n, "cursor": _cursor(i)} for n, i in zip(nodes, window, strict=True)],
            "pageInfo": {"hasNextPage": bool(window) and window[-1] < len(items) - 1,
                         "hasPreviousPage": bool(window) and window[0] > 0,
                         "startCursor": _cursor(window[0]) if window else None,
                         "endCursor": _cursor(window[-1]) if window else None},
        }
    return page


class Views:
    def __init__(self, fake: "FakeGitHub") -> None:
        self.fake = fake
        self.state = fake.state

    def actor(self, login: str | None) -> View | None:
        user = self.state.user(login)
        if user is None:
            return None
        return {"__typename": {"Bot": "Bot", "Organization": "Organization"}.get(user.type, "User"),
                "login": user.login, "id": user.node_id, "databaseId": user.id,
                "url": f"https://github.com/{user.login}", "avatarUrl": f"{self.fake.url}/avatars/{user.login}"}

    def owner(self, login: str) -> View:
        base = self.actor(login) or {}
        projects = sorted((p for (o, _), p in self.state.projects.items() if o == login),
                          key=lambda p: p.number)
        return {**base,
                "projectV2": lambda number: self._project_or_error(login, number),
                "projectsV2": connection(projects, self.project),
                "repositories": connection([r for r in self.state.repos.values() if r.owner == login],
                                           self.repo)}

    def _project_or_error(self, login: str, number: int) -> View:
        project = self.state.projects.get((login, number))
        if project is None:
            raise not_found("ProjectV2", f"number {number}")
        return self.project(project)

    def repo(self, r: Repo) -> View:
        issues = list(r.issues.values())
        return {
            "__typename": "Repository", "id": r.node_id, "databaseId": r.id, "name": r.name,
            "nameWithOwner": r.full_name, "url": f"https://github.com/{r.full_name}",
            "isPrivate": r.private, "owner": self.owner(r.owner),
            "defaultBranchRef": {"name": r.default_branch, "id": f"REF_{r.id}"},
            "hasDiscussionsEnabled": bool(r.discussion_categories),
            "discussionCategories": connection(r.discussion_categories, lambda c: self.category(r, c)),
            "discussionCategory": lambda slug: next(
                (self.category(r, c) for c in r.discussion_categories if c.slug == slug), None),
            "discussion": lambda number: next(
                (self.discussion(d) for d in r.discussions if d.number == number), None),
            "discussions": connection(r.discussions, self.discussion),
            "issue": lambda number: self._issue_of(r, number, pull=False),
            "pullRequest": lambda number: self._issue_of(r, number, pull=True),
            "issueOrPullRequest": lambda number: self._issue_of(r, number, pull=None),
            "issues": connection([i for i in issues if i.pull is None], self.issue),
            "pullRequests": connection([i for i in issues if i.pull is not None], self.issue),
            "projectV2": lambda number: self._project_or_error(r.owner, number),
            "labels": connection(list(r.labels.values()), lambda lb: {
                "id": lb.node_id, "name": lb.name, "color": lb.color, "description": lb.description}),
        }

    def _issue_of(self, r: Repo, number: int, pull: bool | None) -> View:
        issue = r.issues.get(number)
        if issue is None or (pull is True and issue.pull is None) or (pull is False and issue.pull):
            kind = "PullRequest" if pull else "Issue"
            raise not_found(kind, f"number of {number}")
        return self.issue(issue)

    def issue(self, i: Issue) -> View:
        repo = self.state.repos[i.repo]
        items = [(p, it) for p in self.state.projects.values() for it in p.items if it.content_id == i.node_id]
        state = "MERGED" if i.pull and i.pull.merged else i.state.upper()
        view: View = {
            "__typename": "PullRequest" if i.pull else "Issue", "id": i.node_id, "databaseId": i.id,
            "number": i.number, "title": i.title, "body": i.body or "", "state": state,
            "url": f"https://github.com/{i.repo}/{'pull' if i.pull else 'issues'}/{i.number}",
            "author": self.actor(i.user), "createdAt": i.created_at, "updatedAt": i.updated_at,
            "closedAt": i.closed_at, "closed": i.state == "closed",
            "repository": self.repo(repo),
            "authorAssociation": self.fake.serializer.association(repo, i.user),
            "projectItems": connection(items, lambda pair: self.item(pair[0], pair[1])),
            "labels": connection([repo.labels[n.lower()] for n in i.labels], lambda lb: {
                "id": lb.node_id, "name": lb.name, "color": lb.color, "description": lb.description}),
            "assignees": connection([self.actor(a) for a in i.assignees], lambda a: a),
            "comments": connection(i.comments, lambda c: {
                "id": c.node_id, "databaseId": c.id, "body": c.body, "author": self.actor(c.user),
                "createdAt": c.created_at, "updatedAt": c.updated_at,
                "url": f"https://github.com/{i.repo}/issues/{i.number}#issuecomment-{c.id}"}),
        }
        if i.pull:
            p = i.pull
            view.update({
                "isDraft": p.draft, "merged": p.merged, "mergedAt": p.merged_at,
                "headRefOid": p.head_sha, "headRefName": p.head_ref, "baseRefName": p.base_ref,
                "baseRefOid": p.base_sha, "changedFiles": len(p.files),
                "additions": sum(f.additions for f in p.files),
                "deletions": sum(f.deletions for f in p.files),
                "files": connection(p.files, lambda f: {
                    "path": f.filename, "additions": f.additions, "deletions": f.deletions,
                    "changeType": CHANGE_TYPES.get(f.status, "MODIFIED")}),
                "commits": connection(p.commits, lambda c: {"id": f"PRC_{c.sha[:12]}", "commit": {
                    "oid": c.sha, "message": c.message, "messageHeadline": c.message.split("\n")[0],
                    "author": {"name": c.author_name, "email": c.author_email, "date": c.date,
                               "user": self._user_by_email(c.author_email)},
                    "committer": {"name": c.committer_name, "email": c.committer_email, "date": c.date,
                                  "user": self._user_by_email(c.committer_email)}}}),
                "reviews": connection(p.reviews, lambda r: {
                    "id": r.node_id, "databaseId": r.id, "state": r.state, "body": r.body,
                    "author": self.actor(r.user), "submittedAt": r.submitted_at}),
                "reviewRequests": connection(p.requested_reviewers, lambda login: {
                    "requestedReviewer": self.actor(login)}),
            })
        return view

    def _user_by_email(self, email: str) -> View | None:
        linked = self.fake.serializer.user_by_email(email)  # as REST links it (noreply addresses too)
        return self.actor(linked["login"]) if linked else None

    def project(self, p: Project) -> View:
        return {
            "__typename": "ProjectV2", "id": p.id, "number": p.number, "title": p.title,
            "closed": False, "public": False,
            "url": f"https://github.com/orgs/{p.owner}/projects/{p.number}",
            "owner": self.owner(p.owner),
            "fields": connection(list(p.fields.values()), lambda f: self.field(p, f)),
            "field": lambda name: self.field(p, p.fields[name]) if name in p.fields else None,
            "items": connection(p.items, lambda it: self.item(p, it)),
        }

    def field(self, p: Project, f: ProjectField) -> View:
        view: View = {"__typename": "ProjectV2SingleSelectField" if f.data_type == "SINGLE_SELECT"
                      else "ProjectV2Field", "id": f.id, "name": f.name, "dataType": f.data_type,
                      "project": lambda: self.project(p)}
        if f.data_type == "SINGLE_SELECT":
            view["options"] = lambda names=None: [
                {"id": oid, "name": name, "nameHTML": name, "color": "GRAY", "description": "",
                 "descriptionHTML": ""} for name, oid in f.options.items()
                if names is None or name in names]
        return view

    def item(self, p: Project, it: ProjectItem) -> View:
        content = self.state.nodes.get(it.content_id)
        values = [(f, it.values[f.id]) for f in p.fields.values() if f.id in it.values]
        return {
            "__typename": "ProjectV2Item", "id": it.id, "isArchived": False,
            "type": ("PULL_REQUEST" if content.pull else "ISSUE") if isinstance(content, Issue) else "REDACTED",
            "content": self.issue(content) if isinstance(content, Issue) else None,
            "project": lambda: self.project(p),
            "fieldValueByName": lambda name: next(
                (self.value(p, it, f, v) for f, v in values if f.name == name), None),
            "fieldValues": connection(values, lambda fv: self.value(p, it, fv[0], fv[1])),
        }

    def value(self, p: Project, it: ProjectItem, f: ProjectField, v: Any) -> View:
        base = {"id": f"{it.id}:{f.id}", "field": self.field(p, f), "item": lambda: self.item(p, it)}
        if f.data_type == "SINGLE_SELECT":
            name = next((n for n, oid in f.options.items() if oid == v), None)
            return {**base, "__typename": "ProjectV2ItemFieldSingleSelectValue", "optionId": v,
                    "name": name, "nameHTML": name, "color": "GRAY"}
        return {**base, "__typename": "ProjectV2ItemFieldTextValue", "text": str(v)}

    def category(self, r: Repo, c: DiscussionCategory) -> View:
        return {"__typename": "DiscussionCategory", "id": c.id, "name": c.name, "slug": c.slug,
                "isAnswerable": c.is_answerable, "emoji": c.emoji, "repository": lambda: self.repo(r)}

    def discussion(self, d: Discussion) -> View:
        repo = self.state.repos[d.repo]
        category = next(c for c in repo.discussion_categories if c.id == d.category_id)
        return {"__typename": "Discussion", "id": d.id, "number": d.number, "title": d.title,
                "body": d.body, "url": f"https://github.com/{d.repo}/discussions/{d.number}",
                "createdAt": d.created_at, "author": self.actor(d.user),
                "category": self.category(repo, category), "repository": lambda: self.repo(repo)}

    def node(self, node_id: str) -> View | None:
        obj = self.state.nodes.get(node_id)
        if isinstance(obj, Issue):
            return self.issue(obj)
        if isinstance(obj, Repo):
            return self.repo(obj)
        if isinstance(obj, Project):
            return self.project(obj)
        if isinstance(obj, Discussion):
            return self.discussion(obj)
        if isinstance(obj, DiscussionCategory):
            repo = next(r for r in self.state.repos.values() if obj in r.discussion_categories)
            return self.category(repo, obj)
        if isinstance(obj, ProjectField):
            project = next(p for p in self.state.projects.values() if obj in p.fields.values())
            return self.field(project, obj)
        for p in self.state.projects.values():
            for it in p.items:
                if it.id == node_id:
                    return self.item(p, it)
        login = next((u.login for u in self.state.users.values() if u.node_id == node_id), None)
        return self.actor(login) if login else None
