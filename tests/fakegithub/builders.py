"""One-line helpers that build the fake's state; mixed into FakeGitHub."""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

from .state import (
    CheckRun, Comment, Commit, DiscussionCategory, Installation, Issue, Label, Org, Project,
    ProjectField, Pull, PullFile, Reaction, Repo, Review, State, Team, User, Workflow,
    WorkflowRun, make_node_id, now_iso,
)

ROLES = ("admin", "maintain", "write", "triage", "read", "none")


def fake_sha(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()


class StateBuilders:
    state: State

    # -- accounts ---------------------------------------------------------------------------
    def add_user(self, login: str, *, type: str = "User", emails: Iterable[str] | None = None,
                 name: str | None = None) -> User:
        existing = self.state.user(login)  # GitHub logins are case-insensitive
        if existing is not None:
            return existing
        uid = self.state.next_id()
        prefix = {"User": "U", "Bot": "BOT", "Organization": "O"}.get(type, "U")
        user = User(login=login, id=uid, node_id=make_node_id(prefix, uid), type=type,
                    emails=list(emails) if emails is not None else [f"{login}@example.com"],
                    name=name)
        self.state.users[login] = self.state.register(user)
        return user

    def add_org(self, login: str) -> Org:
        existing = self.state.org(login)
        if existing is not None:
            return existing
        account = self.add_user(login, type="Organization", emails=[])
        login = account.login
        org = Org(login=login, id=account.id, node_id=account.node_id)
        self.state.orgs[login] = org
        self.state.nodes[org.node_id] = org
        return org

    def add_org_member(self, org: str, login: str, role: str = "member") -> None:
        self.add_org(org).members[self.add_user(login).login] = role

    def add_team(self, org: str, slug: str, *, members: Iterable[str] = (),
                 maintainers: Iterable[str] = (), name: str | None = None) -> Team:
        o = self.add_org(org)
        if slug not in o.teams:
            tid = self.state.next_id()
            o.teams[slug] = self.state.register(
                Team(org=org, slug=slug, id=tid, node_id=make_node_id("T", tid), name=name or slug))
        team = o.teams[slug]
        for login, role in [(m, "member") for m in members] + [(m, "maintainer") for m in maintainers]:
            self.add_org_member(org, login)
            team.members[self.state.login(login)] = role
        return team

    # -- repositories -----------------------------------------------------------------------
    def add_repo(self, full_name: str, *, default_branch: str = "main", private: bool = False,
                 files: dict[str, str] | None = None, owner_type: str = "Organization") -> Repo:
        existing = self.state.repo(full_name)
        if existing is not None:
            return existing
        owner, name = full_name.split("/")
        if self.state.user(owner) is None:
            self.add_org(owner) if owner_type == "Organization" else self.add_user(owner)
        owner = self.state.login(owner)
        full_name = f"{owner}/{name}"
        rid = self.state.next_id()
        repo = Repo(owner=owner, name=name, id=rid, node_id=make_node_id("R", rid),
                    default_branch=default_branch, private=private)
        repo.branches[default_branch] = fake_sha(full_name, default_branch)
        repo.files[default_branch] = dict(files or {})
        self.state.repos[full_name] = self.state.register(repo)
        return repo

    def rename_repo(self, full_name: str, new_full_name: str, *, owner_type: str = "Organization") -> Repo:
        """Rename or transfer a repository, as GitHub does: it keeps its id and everything in
        it, is served under the new name only (the fake does not redirect the old one), and
        its ``updated_at`` moves on. A new owner is created if missing."""
        repo = self.repo(full_name)
        old = repo.full_name
        owner, name = new_full_name.split("/")
        if self.state.user(owner) is None:
            self.add_org(owner) if owner_type == "Organization" else self.add_user(owner)
        repo.owner, repo.name = self.state.login(owner), name
        new = repo.full_name
        repo.updated_at = now_iso()
        self.state.repos = {(new if key == old else key): r for key, r in self.state.repos.items()}
        for holder in [*repo.issues.values(), *repo.discussions, *self.state.check_runs.values(),
                       *self.state.workflow_runs.values()]:
            if holder.repo == old:
                holder.repo = new
        for issue in repo.issues.values():
            if issue.pull is not None and issue.pull.head_repo == old:
                issue.pull.head_repo = new
        if old in self.state.statuses:
            self.state.statuses[new] = self.state.statuses.pop(old)
        for org in self.state.orgs.values():
            for team in org.teams.values():
                if old in team.repos:
                    team.repos[new] = team.repos.pop(old)
        for inst in self.state.installations.values():
            if inst.repos is not None:
                inst.repos = [new if r == old else r for r in inst.repos]
        return repo

    def repo(self, full_name: str) -> Repo:
        found = self.state.repo(full_name)
        if found is None:
            raise KeyError(full_name)
        return found

    def put_file(self, full_name: str, path: str, text: str, ref: str | None = None) -> None:
        repo = self.add_repo(full_name)
        ref = ref or repo.default_branch
        repo.files.setdefault(ref, {})[path] = text
        if ref not in repo.branches and len(ref) != 40:
            repo.branches[ref] = fake_sha(full_name, ref)

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.add_repo(full_name).collaborators[self.add_user(login).login] = role

    def add_label(self, full_name: str, name: str, color: str = "ededed",
                  description: str | None = None) -> Label:
        repo = self.add_repo(full_name)
        if name.lower() not in repo.labels:
            lid = self.state.next_id()
            repo.labels[name.lower()] = self.state.register(
                Label(id=lid, node_id=make_node_id("LA", lid), name=name, color=color,
                      description=description))
        return repo.labels[name.lower()]

    def add_workflow(self, full_name: str, file: str, name: str | None = None) -> Workflow:
        repo = self.add_repo(full_name)
        wid = self.state.next_id()
        wf = Workflow(id=wid, node_id=make_node_id("W", wid), path=f".github/workflows/{file}",
                      name=name or file)
        repo.workflows[file] = wf
        repo.files[repo.default_branch].setdefault(wf.path, f"name: {wf.name}\non: workflow_dispatch\n")
        return wf

    def add_workflow_run(self, full_name: str, workflow_file: str, *, head_sha: str | None = None,
                         head_branch: str | None = None, event: str = "workflow_dispatch",
                         status: str = "queued", conclusion: str | None = None,
                         actor: str | None = None) -> WorkflowRun:
        repo = self.add_repo(full_name)
        full_name = repo.full_name
        if workflow_file not in repo.workflows:
            self.add_workflow(full_name, workflow_file)
        branch = head_branch or repo.default_branch
        rid = self.state.next_id()
        run = WorkflowRun(id=rid, node_id=make_node_id("WFR", rid), repo=full_name,
                          workflow_file=workflow_file,
                          head_sha=head_sha or repo.branches.get(branch, fake_sha(full_name, branch)),
                          head_branch=branch, event=event, status=status, conclusion=conclusion,
                          actor=actor or getattr(self, "bot_login", None))
        self.state.workflow_runs[rid] = self.state.register(run)
        return run

    def add_installation(self, account: str | None = None, repos: Iterable[str] | None = None,
                         installation_id: int | None = None) -> Installation:
        iid = installation_id or self.state.next_id()
        inst = Installation(id=iid, account=account or "", repos=list(repos) if repos is not None else None)
        self.state.installations[iid] = inst
        return inst

    # -- issues and pull requests -----------------------------------------------------------
    def _new_issue(self, full_name: str, title: str, body: str | None, user: str,
                   labels: Iterable[str], assignees: Iterable[str], state: str,
                   pull: Pull | None) -> Issue:
        repo = self.add_repo(full_name)
        full_name, user = repo.full_name, self.add_user(user).login
        iid = self.state.next_id()
        number = repo.next_number
        repo.next_number += 1
        issue = Issue(number=number, id=iid, node_id=make_node_id("PR" if pull else "I", iid),
                      repo=full_name, title=title, body=body, user=user, state=state, pull=pull)
        for name in labels:
            issue.labels.append(self.add_label(full_name, name).name)
        issue.assignees = [self.state.login(a) for a in assignees]
        if state == "closed":
            issue.closed_at = now_iso()
            issue.state_reason = "completed"
        repo.issues[number] = self.state.register(issue)
        return issue

    def add_issue(self, full_name: str, *, title: str = "An issue", body: str | None = "",
                  user: str = "octocat", labels: Iterable[str] = (), assignees: Iterable[str] = (),
                  state: str = "open") -> Issue:
        return self._new_issue(full_name, title, body, user, labels, assignees, state, None)

    def add_pull(self, full_name: str, *, title: str = "A change", body: str | None = "",
                 user: str = "octocat", head_ref: str = "feature", base_ref: str | None = None,
                 head_sha: str | None = None, draft: bool = False, merged: bool = False,
                 labels: Iterable[str] = (), assignees: Iterable[str] = (),
                 requested_reviewers: Iterable[str] = (), head_repo: str | None = None,
                 files: Iterable[str | PullFile | dict[str, Any]] = (),
                 commits: Iterable[str | Commit | dict[str, Any]] | None = None,
                 state: str = "open") -> Issue:
        repo = self.add_repo(full_name)
        base_ref = base_ref or repo.default_branch
        pull = Pull(head_sha=head_sha or fake_sha(full_name, head_ref, repo.next_number),
                    head_ref=head_ref, base_ref=base_ref,
                    base_sha=repo.branches.get(base_ref, fake_sha(full_name, base_ref)),
                    head_repo=head_repo, draft=draft,
                    requested_reviewers=list(requested_reviewers))
        pull.files = [self._pull_file(f) for f in files]
        pull.requested_reviewers = [self.add_user(login).login for login in pull.requested_reviewers]
        issue = self._new_issue(full_name, title, body, user, labels, assignees,
                                "closed" if merged else state, pull)
        commit_specs = list(commits) if commits is not None else [title]
        if head_sha is not None and commit_specs and not isinstance(commit_specs[-1], Commit):
            # On GitHub the head is the pull request's last commit, and its commit listing
            # ends there: a head sha chosen by a test is given to that commit.
            last = commit_specs[-1]
            commit_specs[-1] = {**({"message": last} if isinstance(last, str) else last), "sha": head_sha}
        pull.commits = [self.make_commit(c, default_author=user, parent=pull.base_sha)
                        for c in commit_specs]
        if commit_specs and head_sha is None:
            pull.head_sha = pull.commits[-1].sha
        for c in pull.commits:
            repo.commits[c.sha] = c
        if merged:
            pull.merged, pull.merged_at, pull.merged_by = True, now_iso(), user
            pull.merge_commit_sha = fake_sha("merge", pull.head_sha)
        return issue

    @staticmethod
    def _pull_file(spec: str | PullFile | dict[str, Any]) -> PullFile:
        if isinstance(spec, PullFile):
            return spec
        if isinstance(spec, str):
            return PullFile(filename=spec, patch="@@ -1 +1 @@\n-old\n+new")
        return PullFile(**spec)

    def push_commit(self, issue: Issue, sha: str | None = None, *, message: str = "More work",
                    author: str | None = None) -> Commit:
        """The pull request's branch gets one more commit, its new head (as a push does)."""
        pull = issue.pull
        assert pull is not None
        spec: dict[str, Any] = {"message": message, **({"sha": sha} if sha else {})}
        commit = self.make_commit(spec, default_author=author or issue.user, parent=pull.head_sha)
        pull.commits.append(commit)
        self.repo(issue.repo).commits[commit.sha] = commit
        pull.head_sha = commit.sha
        return commit

    def commit_on_branch(self, full_name: str, branch: str, message: str = "A change", *,
                         author: str = "octocat", sha: str | None = None) -> Commit:
        """A commit on top of ``branch`` (its head becomes the commit's parent), which then
        points at it: a history that compare answers by ancestry (ahead, behind, diverged)."""
        repo = self.repo(full_name)
        parent = repo.branches.get(branch)
        spec: dict[str, Any] = {"message": message, "author": author, **({"sha": sha} if sha else {})}
        commit = self.make_commit(spec, default_author=author, parent=parent)
        repo.commits[commit.sha] = commit
        repo.branches[branch] = commit.sha
        return commit

    def make_commit(self, spec: str | Commit | dict[str, Any], *, default_author: str,
                    parent: str | None = None) -> Commit:
        """A commit from a message, a Commit, or a dict with message/author (login or email)."""
        if isinstance(spec, Commit):
            return spec
        if isinstance(spec, str):
            spec = {"message": spec}
        author = spec.get("author", default_author)
        email = spec.get("author_email") or self._email_of(author)
        name = spec.get("author_name") or (author if "@" not in author else author.split("@")[0])
        committer = spec.get("committer", author)
        c_email = spec.get("committer_email") or self._email_of(committer)
        c_name = spec.get("committer_name") or (committer if "@" not in committer else committer.split("@")[0])
        sha = spec.get("sha") or fake_sha(spec["message"], email, parent, self.state.next_id())
        return Commit(sha=sha, message=spec["message"], author_name=name, author_email=email,
                      committer_name=c_name, committer_email=c_email, date=spec.get("date", now_iso()),
                      parents=[parent] if parent else [])

    def _email_of(self, who: str) -> str:
        if "@" in who:
            return who
        user = self.add_user(who)
        return user.emails[0] if user.emails else f"{who}@unlinked.example"

    def issue(self, full_name: str, number: int) -> Issue:
        return self.repo(full_name).issues[number]

    def add_comment(self, full_name: str, number: int, body: str, user: str = "octocat") -> Comment:
        user = self.add_user(user).login
        cid = self.state.next_id()
        ts = now_iso()
        comment = Comment(id=cid, node_id=make_node_id("IC", cid), body=body, user=user,
                          created_at=ts, updated_at=ts)
        self.issue(full_name, number).comments.append(self.state.register(comment))
        return comment

    def add_reaction(self, full_name: str, number: int, content: str, user: str,
                     comment_id: int | None = None) -> Reaction:
        user = self.add_user(user).login
        issue = self.issue(full_name, number)
        target = issue.reactions if comment_id is None else next(
            c for c in issue.comments if c.id == comment_id).reactions
        reaction = Reaction(id=self.state.next_id(), content=content, user=user, created_at=now_iso())
        target.append(reaction)
        return reaction

    def add_review(self, full_name: str, number: int, user: str, state: str = "APPROVED",
                   body: str = "") -> Review:
        user = self.add_user(user).login
        pull = self.issue(full_name, number).pull
        assert pull is not None, f"#{number} is not a pull request"
        rid = self.state.next_id()
        review = Review(id=rid, node_id=make_node_id("PRR", rid), user=user, state=state, body=body,
                        commit_id=pull.head_sha, submitted_at=now_iso())
        pull.reviews.append(self.state.register(review))
        return review

    # -- checks, projects, discussions ------------------------------------------------------
    def add_check_run(self, full_name: str, name: str, head_sha: str, **fields: Any) -> CheckRun:
        full_name = self.add_repo(full_name).full_name
        cid = self.state.next_id()
        run = CheckRun(id=cid, node_id=make_node_id("CR", cid), repo=full_name, name=name,
                       head_sha=head_sha, **fields)
        self.state.check_runs[cid] = self.state.register(run)
        return run

    def add_project(self, owner: str, number: int, title: str = "Board",
                    fields: dict[str, list[str] | None] | None = None) -> Project:
        """fields: name -> single-select option names (None for a text field)."""
        if self.state.user(owner) is None:
            self.add_org(owner)
        owner = self.state.login(owner)
        pid = self.state.next_id()
        project = Project(owner=owner, number=number, id=make_node_id("PVT", pid), title=title)
        for fname, options in (fields or {"Status": ["Todo", "In Progress", "Done"]}).items():
            fid = make_node_id("PVTSSF" if options is not None else "PVTF", self.state.next_id())
            pf = ProjectField(id=fid, name=fname,
                              data_type="SINGLE_SELECT" if options is not None else "TEXT")
            for opt in options or []:
                pf.options[opt] = f"{self.state.next_id():x}"
            project.fields[fname] = pf
            self.state.nodes[fid] = pf
        self.state.projects[(owner, number)] = project
        self.state.nodes[project.id] = project
        return project

    def add_discussion_category(self, full_name: str, name: str, slug: str | None = None,
                                answerable: bool = False) -> DiscussionCategory:
        repo = self.add_repo(full_name)
        cat = DiscussionCategory(id=make_node_id("DIC", self.state.next_id()), name=name,
                                 slug=slug or name.lower().replace(" ", "-"), is_answerable=answerable)
        repo.discussion_categories.append(cat)
        self.state.nodes[cat.id] = cat
        return cat
