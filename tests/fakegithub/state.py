"""The fake's world: plain dataclasses in dicts, so tests can read and poke them directly.

Ids come from one counter per fake so every object has a distinct numeric id and node id, as on
GitHub (node ids only need to be opaque and unique; `State.nodes` maps them back for GraphQL).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class User:
    login: str
    id: int
    node_id: str
    type: str = "User"  # "User" | "Bot" | "Organization"
    emails: list[str] = field(default_factory=list)
    name: str | None = None


@dataclass
class Reaction:
    id: int
    content: str
    user: str
    created_at: str


@dataclass
class Comment:
    id: int
    node_id: str
    body: str
    user: str
    created_at: str
    updated_at: str
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Label:
    id: int
    node_id: str
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class PullFile:
    filename: str
    status: str = "modified"  # added|removed|modified|renamed|copied|changed|unchanged
    additions: int = 1
    deletions: int = 0
    patch: str | None = None
    previous_filename: str | None = None
    sha: str = "0" * 40


@dataclass
class Commit:
    sha: str
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    date: str
    parents: list[str] = field(default_factory=list)


@dataclass
class Review:
    id: int
    node_id: str
    user: str
    state: str  # APPROVED|CHANGES_REQUESTED|COMMENTED|DISMISSED|PENDING
    body: str
    commit_id: str
    submitted_at: str


@dataclass
class ReviewComment:
    id: int
    node_id: str
    user: str
    body: str
    path: str
    commit_id: str
    line: int | None
    side: str | None
    in_reply_to_id: int | None
    created_at: str
    review_id: int | None = None
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Pull:
    head_sha: str
    head_ref: str
    base_ref: str
    base_sha: str
    head_repo: str | None = None  # "owner/name" of a fork; None means the same repo
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    mergeable: bool | None = True
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    files: list[PullFile] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class Issue:
    """An issue or, with `pull` set, a pull request: they share numbering as on GitHub."""

    number: int
    id: int
    node_id: str
    repo: str
    title: str
    body: str | None
    user: str
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    locked: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    closed_by: str | None = None
    pull: Pull | None = None
    # Issue events ("labeled", "closed", ...) made through the API, as REST event objects.
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CheckRun:
    id: int
    node_id: str
    repo: str
    name: str
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    details_url: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    app_id: int | None = None


@dataclass
class Workflow:
    id: int
    node_id: str
    path: str
    name: str
    state: str = "active"


@dataclass
class WorkflowRun:
    id: int
    node_id: str
    repo: str
    workflow_file: str
    head_sha: str
    head_branch: str | None
    event: str = "workflow_dispatch"
    status: str = "queued"  # queued|in_progress|completed|...
    conclusion: str | None = None
    run_attempt: int = 1
    actor: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    jobs: list[dict[str, Any]] = field(default_factory=list)  # REST job objects, as given
    # The run-name a workflow gives its runs (defaults to the workflow's name, as GitHub does).
    display_title: str | None = None


@dataclass
class Dispatch:
    """A workflow_dispatch or repository_dispatch the fake received."""

    kind: str  # "workflow" | "repository"
    repo: str
    workflow: str | None
    ref: str | None
    inputs: dict[str, Any]
    event_type: str | None = None
    at: str = field(default_factory=now_iso)
    run_id: int | None = None  # the run a workflow dispatch started


@dataclass
class Deployment:
    id: int
    node_id: str
    repo: str          # "owner/name"
    sha: str
    ref: str
    environment: str
    creator: str
    created_at: str
    task: str = "deploy"
    description: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    required_contexts: list[str] | None = None
    transient_environment: bool = False
    production_environment: bool = False


@dataclass
class DiscussionCategory:
    id: str
    name: str
    slug: str
    is_answerable: bool = False
    emoji: str = ":speech_balloon:"


@dataclass
class Discussion:
    id: str
    number: int
    repo: str
    title: str
    body: str
    category_id: str
    user: str
    created_at: str = field(default_factory=now_iso)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    node_id: str
    default_branch: str = "main"
    private: bool = False
    # ref (branch name or sha) -> path -> text
    files: dict[str, dict[str, str]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha -> bytes made by POST git/blobs
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    issues: dict[int, Issue] = field(default_factory=dict)
    next_number: int = 1
    workflows: dict[str, Workflow] = field(default_factory=dict)  # file name -> workflow
    commits: dict[str, Commit] = field(default_factory=dict)  # sha -> commit
    discussion_categories: list[DiscussionCategory] = field(default_factory=list)
    discussions: list[Discussion] = field(default_factory=list)
    updated_at: str = field(default_factory=now_iso)  # moves on with a rename (rename_repo)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Team:
    org: str
    slug: str
    id: int
    node_id: str
    name: str
    members: dict[str, str] = field(default_factory=dict)  # login -> "member"|"maintainer"
    repos: dict[str, str] = field(default_factory=dict)  # full_name -> permission


@dataclass
class Org:
    login: str
    id: int
    node_id: str
    members: dict[str, str] = field(default_factory=dict)  # login -> "admin"|"member"
    teams: dict[str, Team] = field(default_factory=dict)  # slug -> team


@dataclass
class ProjectField:
    id: str
    name: str
    data_type: str  # "SINGLE_SELECT" | "TEXT" | ...
    options: dict[str, str] = field(default_factory=dict)  # option name -> option id


@dataclass
class ProjectItem:
    id: str
    content_id: str  # node id of the issue or PR
    values: dict[str, Any] = field(default_factory=dict)  # field id -> option id / text


@dataclass
class Project:
    owner: str
    number: int
    id: str
    title: str
    fields: dict[str, ProjectField] = field(default_factory=dict)  # name -> field
    items: list[ProjectItem] = field(default_factory=list)


@dataclass
class Installation:
    id: int
    account: str
    repos: list[str] | None = None  # None: every repo of the account
    suspended: bool = False  # an owner suspended the App here: no token is minted


@dataclass
class HookDelivery:
    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    delivered_at: str
    redelivery: bool
    url: str
    payload: dict[str, Any]
    secret: str
    installation_id: int | None
    repository_id: int | None
    duration: float = 0.0


@dataclass
class State:
    users: dict[str, User] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)  # "owner/name" -> repo
    orgs: dict[str, Org] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    workflow_runs: dict[int, WorkflowRun] = field(default_factory=dict)
    # "owner/repo" -> sha -> commit statuses, oldest first
    statuses: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    projects: dict[tuple[str, int], Project] = field(default_factory=dict)
    dispatches: list[Dispatch] = field(default_factory=list)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    deliveries: list[HookDelivery] = field(default_factory=list)
    nodes: dict[str, Any] = field(default_factory=dict)  # node id -> object
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def next_id(self) -> int:
        return next(self._ids)

    # GitHub matches logins, organisation names and owner/repo names case-insensitively and
    # answers with the account's own spelling: every lookup by name goes through these.
    def user(self, login: str | None) -> User | None:
        if not login:
            return None
        found = self.users.get(login)
        if found is None:
            folded = login.casefold()
            found = next((u for k, u in self.users.items() if k.casefold() == folded), None)
        return found

    def login(self, login: str) -> str:
        """The account's own spelling of ``login`` (``login`` itself for no account)."""
        found = self.user(login)
        return found.login if found else login

    def org(self, login: str | None) -> Org | None:
        found = self.user(login)
        return self.orgs.get(found.login) if found else None

    def repo(self, full_name: str) -> Repo | None:
        found = self.repos.get(full_name)
        if found is None:
            folded = full_name.casefold()
            found = next((r for k, r in self.repos.items() if k.casefold() == folded), None)
        return found

    def register(self, obj: Any) -> Any:
        """Make `obj` reachable by its node id (GraphQL `node(id:)`, mutations' inputs)."""
        self.nodes[obj.node_id if hasattr(obj, "node_id") else obj.id] = obj
        return obj


def make_node_id(prefix: str, numeric: int) -> str:
    return f"{prefix}_kwDO{numeric:08d}"
