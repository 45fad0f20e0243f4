"""REST representations, shaped like GitHub's (the fields a bot reads, not every URL field)."""

from __future__ import annotations

import base64
import re
from collections import Counter
from typing import Any

from .state import (
    CheckRun, Comment, Commit, Issue, Label, PullFile, Reaction, Repo, Review, ReviewComment,
    State, Team, Workflow, WorkflowRun,
)

_NOREPLY = re.compile(r"^(?:(?P<id>\d+)\+(?P<named>[^@]+)|(?P<login>[^@+]+))@users\.noreply\.github\.com$",
                      re.I)
GHOST = {"login": "ghost", "id": 10137, "node_id": "MDQ6VXNlcjEwMTM3", "type": "User",
         "site_admin": False}
REACTION_KEYS = {"+1": "+1", "-1": "-1", "laugh": "laugh", "confused": "confused", "heart": "heart",
                 "hooray": "hooray", "rocket": "rocket", "eyes": "eyes"}


class Serializer:
    def __init__(self, state: State, base: str) -> None:
        self.state = state
        self.base = base

    def user(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        u = self.state.user(login)
        if u is None:
            return dict(GHOST)
        return {"login": u.login, "id": u.id, "node_id": u.node_id, "type": u.type,
                "site_admin": False, "avatar_url": f"{self.base}/avatars/{u.login}",
                "url": f"{self.base}/users/{u.login}", "html_url": f"https://github.com/{u.login}",
                "name": u.name}

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The account GitHub links a commit email to: a verified email of the account, or its
        noreply address. ``ID+login@users.noreply.github.com`` is linked by the id alone (the
        login part may be an old name: renamed accounts keep their commits); the older
        ``login@users.noreply.github.com`` by the login it names today."""
        for u in self.state.users.values():
            if email.lower() in (e.lower() for e in u.emails):
                return self.user(u.login)
        m = _NOREPLY.match(email.strip())
        if m is None:
            return None
        if m.group("id") is not None:
            uid = int(m.group("id"))
            found = next((u for u in self.state.users.values() if u.id == uid), None)
        else:
            found = self.state.user(m.group("login"))
        return self.user(found.login) if found is not None and found.type != "Organization" else None

    def repo(self, r: Repo) -> dict[str, Any]:
        return {"id": r.id, "node_id": r.node_id, "name": r.name, "full_name": r.full_name,
                "owner": self.user(r.owner), "private": r.private,
                "visibility": "private" if r.private else "public",
                "default_branch": r.default_branch, "fork": False, "archived": False,
                "updated_at": r.updated_at,
                "url": f"{self.base}/repos/{r.full_name}",
                "html_url": f"https://github.com/{r.full_name}"}

    def label(self, label: Label) -> dict[str, Any]:
        return {"id": label.id, "node_id": label.node_id, "name": label.name, "color": label.color,
                "description": label.description, "default": False}

    def association(self, repo: Repo, login: str) -> str:
        if login == repo.owner:
            return "OWNER"
        org = self.state.orgs.get(repo.owner)
        if org and login in org.members:
            return "MEMBER"
        if repo.collaborators.get(login, "none") != "none":
            return "COLLABORATOR"
        pulls = [i.pull for i in repo.issues.values() if i.pull and i.user == login]
        if any(p.merged for p in pulls):
            return "CONTRIBUTOR"
        if pulls:
            return "FIRST_TIME_CONTRIBUTOR"
        return "NONE"

    def reactions(self, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        counts = Counter(r.content for r in reactions)
        return {"url": url, "total_count": len(reactions),
                **{k: counts.get(k, 0) for k in REACTION_KEYS}}

    def reaction(self, r: Reaction) -> dict[str, Any]:
        return {"id": r.id, "node_id": f"REA_{r.id}", "content": r.content, "user": self.user(r.user),
                "created_at": r.created_at}

    def issue(self, i: Issue) -> dict[str, Any]:
        repo = self.state.repos[i.repo]
        url = f"{self.base}/repos/{i.repo}/issues/{i.number}"
        out = {
            "id": i.id, "node_id": i.node_id, "number": i.number, "title": i.title, "body": i.body,
            "user": self.user(i.user), "state": i.state, "state_reason": i.state_reason,
            "labels": [self.label(repo.labels[n.lower()]) for n in i.labels],
            "assignee": self.user(i.assignees[0]) if i.assignees else None,
            "assignees": [self.user(a) for a in i.assignees], "locked": i.locked,
            "comments": len(i.comments), "created_at": i.created_at, "updated_at": i.updated_at,
            "closed_at": i.closed_at, "author_association": self.association(repo, i.user),
            "url": url, "html_url": f"https://github.com/{i.repo}/issues/{i.number}",
            "repository_url": f"{self.base}/repos/{i.repo}",
            "reactions": self.reactions(f"{url}/reactions", i.reactions), "milestone": None,
        }
        if i.pull is not None:
            out["pull_request"] = {
                "url": f"{self.base}/repos/{i.repo}/pulls/{i.number}",
                "html_url": f"https://github.com/{i.repo}/pull/{i.number}",
                "merged_at": i.pull.merged_at}
            out["draft"] = i.pull.draft
        return out

    def pull(self, i: Issue) -> dict[str, Any]:
        assert i.pull is not None
        p = i.pull
        repo = self.state.repos[i.repo]
        head_repo = self.state.repo(p.head_repo or i.repo)
        out = self.issue(i)
        out.pop("pull_request")
        out.update({
            "url": f"{self.base}/repos/{i.repo}/pulls/{i.number}",
            "html_url": f"https://github.com/{i.repo}/pull/{i.number}",
            "issue_url": f"{self.base}/repos/{i.repo}/issues/{i.number}",
            "head": {"ref": p.head_ref, "sha": p.head_sha,
                     "label": f"{(p.head_repo or i.repo).split('/')[0]}:{p.head_ref}",
                     "repo": self.repo(head_repo) if head_repo else None,
                     "user": self.user((p.head_repo or i.repo).split("/")[0])},
            "base": {"ref": p.base_ref, "sha": p.base_sha, "label": f"{repo.owner}:{p.base_ref}",
                     "repo": self.repo(repo), "user": self.user(repo.owner)},
            "draft": p.draft, "merged": p.merged, "merged_at": p.merged_at,
            "merged_by": self.user(p.merged_by), "merge_commit_sha": p.merge_commit_sha,
            "mergeable": p.mergeable, "commits": len(p.commits), "changed_files": len(p.files),
            "additions": sum(f.additions for f in p.files),
            "deletions": sum(f.deletions for f in p.files),
            "review_comments": len(p.review_comments),
            "requested_reviewers": [self.user(r) for r in p.requested_reviewers],
            "requested_teams": [self.team(repo.owner, t) for t in p.requested_teams],
        })
        return out

    def team(self, org: str, slug: str) -> dict[str, Any]:
        t: Team | None = self.state.orgs.get(org).teams.get(slug) if org in self.state.orgs else None
        if t is None:
            return {"slug": slug, "name": slug}
        return {"id": t.id, "node_id": t.node_id, "slug": t.slug, "name": t.name,
                "privacy": "closed", "permission": "pull",
                "url": f"{self.base}/orgs/{org}/teams/{t.slug}"}

    def comment(self, repo: Repo, c: Comment, number: int) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}/issues/comments/{c.id}"
        return {"id": c.id, "node_id": c.node_id, "body": c.body, "user": self.user(c.user),
                "created_at": c.created_at, "updated_at": c.updated_at, "url": url,
                "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{c.id}",
                "issue_url": f"{self.base}/repos/{repo.full_name}/issues/{number}",
                "author_association": self.association(repo, c.user),
                "reactions": self.reactions(f"{url}/reactions", c.reactions)}

    def commit(self, full_name: str, c: Commit) -> dict[str, Any]:
        return {
            "sha": c.sha, "node_id": f"C_{c.sha[:16]}",
            "url": f"{self.base}/repos/{full_name}/commits/{c.sha}",
            "commit": {"message": c.message,
                       "author": {"name": c.author_name, "email": c.author_email, "date": c.date},
                       "committer": {"name": c.committer_name, "email": c.committer_email,
                                     "date": c.date},
                       "verification": {"verified": False, "reason": "unsigned"}},
            # GitHub links a commit to an account only through a verified email of that account.
            "author": self.user_by_email(c.author_email),
            "committer": self.user_by_email(c.committer_email),
            "parents": [{"sha": p} for p in c.parents],
        }

    def pull_file(self, f: PullFile) -> dict[str, Any]:
        out = {"sha": f.sha, "filename": f.filename, "status": f.status, "additions": f.additions,
               "deletions": f.deletions, "changes": f.additions + f.deletions, "patch": f.patch}
        if f.previous_filename is not None:
            out["previous_filename"] = f.previous_filename
        return out

    def review(self, full_name: str, number: int, r: Review) -> dict[str, Any]:
        return {"id": r.id, "node_id": r.node_id, "user": self.user(r.user), "body": r.body,
                "state": r.state, "commit_id": r.commit_id, "submitted_at": r.submitted_at,
                "author_association": self.association(self.state.repos[full_name], r.user),
                "pull_request_url": f"{self.base}/repos/{full_name}/pulls/{number}"}

    def review_comment(self, full_name: str, number: int, c: ReviewComment) -> dict[str, Any]:
        out = {"id": c.id, "node_id": c.node_id, "user": self.user(c.user), "body": c.body,
               "path": c.path, "commit_id": c.commit_id, "line": c.line, "side": c.side or "RIGHT",
               "created_at": c.created_at,
               "updated_at": c.created_at, "pull_request_review_id": c.review_id,
               "author_association": self.association(self.state.repos[full_name], c.user),
               "pull_request_url": f"{self.base}/repos/{full_name}/pulls/{number}"}
        if c.in_reply_to_id is not None:  # GitHub leaves it out on a comment that replies to none
            out["in_reply_to_id"] = c.in_reply_to_id
        return out

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        output = {"title": None, "summary": None, "text": None, "annotations_count": 0,
                  **{k: v for k, v in run.output.items() if k != "annotations"}}
        return {"id": run.id, "node_id": run.node_id, "name": run.name, "head_sha": run.head_sha,
                "status": run.status, "conclusion": run.conclusion, "output": output,
                "external_id": run.external_id, "details_url": run.details_url,
                "started_at": run.started_at, "completed_at": run.completed_at,
                "url": f"{self.base}/repos/{run.repo}/check-runs/{run.id}",
                "html_url": f"https://github.com/{run.repo}/runs/{run.id}",
                "app": {"id": run.app_id} if run.app_id else None,
                "pull_requests": self.check_run_pulls(run)}

    def check_run_pulls(self, run: CheckRun) -> list[dict[str, Any]]:
        """Open pull requests whose head commit the run is on and whose head branch is in the
        run's repository (GitHub lists no pull request from a fork on the base's check run)."""
        out = []
        for repo in self.state.repos.values():
            for i in repo.issues.values():
                p = i.pull
                if p is None or i.state != "open" or p.head_sha != run.head_sha \
                        or (p.head_repo or i.repo).casefold() != run.repo.casefold():
                    continue
                head = self.state.repos[run.repo]
                out.append({"id": i.id, "number": i.number, "url": f"{self.base}/repos/{i.repo}/pulls/{i.number}",
                            "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": self._repo_ref(head)},
                            "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": self._repo_ref(repo)}})
        return out

    def _repo_ref(self, r: Repo) -> dict[str, Any]:
        return {"id": r.id, "url": f"{self.base}/repos/{r.full_name}", "name": r.name}

    def workflow(self, full_name: str, wf: Workflow) -> dict[str, Any]:
        return {"id": wf.id, "node_id": wf.node_id, "name": wf.name, "path": wf.path,
                "state": wf.state, "url": f"{self.base}/repos/{full_name}/actions/workflows/{wf.id}"}

    def workflow_run(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.state.repos[run.repo]
        wf = repo.workflows.get(run.workflow_file)
        url = f"{self.base}/repos/{run.repo}/actions/runs/{run.id}"
        return {"id": run.id, "node_id": run.node_id, "name": wf.name if wf else run.workflow_file,
                "display_title": run.display_title or (wf.name if wf else run.workflow_file),
                "path": wf.path if wf else run.workflow_file, "workflow_id": wf.id if wf else None,
                "head_sha": run.head_sha, "head_branch": run.head_branch, "event": run.event,
                "status": run.status, "conclusion": run.conclusion, "run_attempt": run.run_attempt,
                "run_number": run.id, "created_at": run.created_at, "updated_at": run.updated_at,
                "actor": self.user(run.actor), "triggering_actor": self.user(run.actor),
                "repository": self.repo(repo), "head_repository": self.repo(repo),
                "pull_requests": [], "url": url, "jobs_url": f"{url}/jobs",
                "artifacts_url": f"{url}/artifacts",
                "html_url": f"https://github.com/{run.repo}/actions/runs/{run.id}"}

    def content(self, full_name: str, path: str, text: str, ref: str) -> dict[str, Any]:
        raw = text.encode()
        big = len(raw) > 1024 * 1024  # GitHub leaves content empty from 1 MB: use the blob API
        return {"type": "file", "encoding": "none" if big else "base64", "size": len(raw),
                "name": path.rsplit("/", 1)[-1], "path": path, "sha": _blob_sha(raw),
                "content": "" if big else base64.encodebytes(raw).decode(),
                "url": f"{self.base}/repos/{full_name}/contents/{path}?ref={ref}"}


def _blob_sha(raw: bytes) -> str:
    import hashlib
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
