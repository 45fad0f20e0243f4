"""Actions: what a feature decided, as plain data.

Features never call GitHub. They return these frozen dataclasses and one executor
(bot/executor.py) performs them, so every decision can be dry-run, replayed,
explained and retried without repeating what already succeeded.

Every action names the repository (``owner/name``) it applies to; ``number`` is the
issue or pull request number when the action targets one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True)
class Action:
    repo: str
    # Actions that create something on GitHub set this so the executor can find
    # the object again after an ambiguous failure (request sent, answer lost).
    creates: ClassVar[bool] = False
    # Local (store) actions still run in GitHub dry-run mode.
    local: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        return type(self).__name__

    def _quiet(self, f: Any) -> bool:
        """A field added later, left out while at its default: the fingerprints of actions
        stored before it (a delivery retried across an upgrade) and their logs stay as they were."""
        return bool(f.metadata.get("quiet")) and getattr(self, f.name) == f.default

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for f in fields(self):
            if self._quiet(f):
                del data[f.name]
        data["kind"] = self.kind
        return data

    def describe(self) -> str:
        parts = []
        for f in fields(self):
            if self._quiet(f):
                continue
            value = getattr(self, f.name)
            if isinstance(value, str) and len(value) > 60:
                value = value[:57] + "..."
            shown = repr(value)
            if len(shown) > 200:  # a Record can carry a repository's whole history: logs get the gist
                shown = shown[:197] + "..."
            parts.append(f"{f.name}={shown}")
        return f"{self.kind}({', '.join(parts)})"


@dataclass(frozen=True)
class Guard:
    """What must still be true of the store when the executor is about to send the action
    carrying it: ``Feature.guards[op](db, **args)``, asked just before each such action, not
    when the batch was decided. False: the action is skipped (superseded). For a decision that
    another one may overtake while its actions wait for their turn (mutations are paced about a
    second apart): a pull request's CLA verdict, written before its check run, labels and
    comment, which a newer verdict for a push replaces meanwhile."""
    feature: str = ""
    op: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)


def _guard_field() -> Any:
    # Quiet: unguarded actions keep the fingerprints and logs they had before guards existed.
    return field(default=None, metadata={"quiet": True})


# --- issues and pull requests -------------------------------------------------

@dataclass(frozen=True)
class AddLabels(Action):
    number: int = 0
    labels: tuple[str, ...] = ()
    guard: Guard | None = _guard_field()


@dataclass(frozen=True)
class RemoveLabel(Action):
    """Remove a label. Features only emit this for labels the bot itself added
    (see bot.labels_ledger); the executor also refuses otherwise."""
    number: int = 0
    label: str = ""
    guard: Guard | None = _guard_field()


@dataclass(frozen=True)
class Comment(Action):
    """A one-off comment. The executor embeds a hidden idempotence marker."""
    number: int = 0
    body: str = ""
    creates: ClassVar[bool] = True


@dataclass(frozen=True)
class UpsertComment(Action):
    """One comment per purpose: found again by ``marker`` (a hidden HTML comment),
    created if absent, edited only when the body changed."""
    number: int = 0
    marker: str = ""
    body: str = ""
    guard: Guard | None = _guard_field()
    creates: ClassVar[bool] = True


@dataclass(frozen=True)
class UpsertBodySection(Action):
    """A section of the issue/PR body between two markers; text outside is untouched. With
    ``keep_ticks``, a task-list item of ``body`` found in the section as it is on GitHub keeps
    its tick there (readers tick items in place; ``body`` was decided from a copy of the
    description, a webhook's, that may be older than the one it replaces)."""
    number: int = 0
    marker: str = ""
    body: str = ""
    keep_ticks: bool = False


@dataclass(frozen=True)
class React(Action):
    """Reaction on an issue comment (``comment_id``), a review comment
    (``review_comment_id``) or the issue/PR itself (neither set)."""
    number: int = 0
    content: str = "+1"
    comment_id: int | None = None
    review_comment_id: int | None = None
    remove: tuple[str, ...] = ()  # own reactions to withdraw first (e.g. "eyes")


@dataclass(frozen=True)
class ReportOutcome(Action):
    """Ends a command batch: +1 if every earlier action of the batch succeeded,
    confused otherwise; the bot's own "eyes" reaction is withdrawn either way."""
    number: int = 0
    comment_id: int | None = None
    review_comment_id: int | None = None


@dataclass(frozen=True)
class Assign(Action):
    number: int = 0
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unassign(Action):
    number: int = 0
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestReviewers(Action):
    number: int = 0
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveReviewers(Action):
    number: int = 0
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Close(Action):
    number: int = 0
    reason: str = "completed"  # completed | not_planned (issues only)


@dataclass(frozen=True)
class Reopen(Action):
    number: int = 0


# --- checks -------------------------------------------------------------------

@dataclass(frozen=True)
class UpsertCheckRun(Action):
    """Create the check run ``name`` on ``head_sha``, or update the one the bot
    already made there. ``conclusion`` set means completed."""
    name: str = ""
    head_sha: str = ""
    status: str = "completed"  # queued | in_progress | completed
    conclusion: str | None = None
    title: str = ""
    summary: str = ""
    text: str = ""
    details_url: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    guard: Guard | None = _guard_field()
    creates: ClassVar[bool] = True


# --- projects, discussions, workflows -----------------------------------------

@dataclass(frozen=True)
class AddToProject(Action):
    """Put the issue/PR on a Projects (v2) board and set its single-select field
    (normally Status). Board and field are named; ids are looked up and cached."""
    number: int = 0
    project_owner: str = ""
    project_number: int = 0
    field: str = "Status"
    value: str | None = None


@dataclass(frozen=True)
class RemoveFromProject(Action):
    """Take an issue off a Projects (v2) board; nothing if it is not there."""
    number: int = 0
    project_owner: str = ""
    project_number: int = 0


@dataclass(frozen=True)
class CreateDiscussion(Action):
    """Create a discussion once: ``dedupe_key`` identifies it (e.g. the ISO week)."""
    category: str = ""
    title: str = ""
    body: str = ""
    dedupe_key: str = ""
    creates: ClassVar[bool] = True


@dataclass(frozen=True)
class DispatchWorkflow(Action):
    workflow: str = ""
    ref: str = ""
    # Over GitHub's size limit, the largest inputs go as "git-blob:<sha>" (executor.workflows).
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RepositoryDispatch(Action):
    event_type: str = ""
    client_payload: Mapping[str, Any] = field(default_factory=dict)  # as DispatchWorkflow's inputs


@dataclass(frozen=True)
class CancelWorkflowRun(Action):
    """Stop a workflow run the bot no longer waits for (a stage past its timeout, a run
    superseded or no longer trusted). A run that has ended meanwhile is left as it is.

    ``force``: GitHub's force-cancel, which also stops the jobs a plain cancel lets run on
    (``if: always()``, ``cancelled()``) and a run stuck cancelling. ``owing``: the feature's
    name for what the cancel is sent for; GitHub's answer is recorded for it alone
    (store.state.cancel_key). ``attempt``: the run's attempt to stop (0: whichever runs); a
    later attempt ("Re-run", the same run id) is someone else's, and is left running."""
    run_id: int = 0
    force: bool = False
    owing: str = ""
    attempt: int = 0


@dataclass(frozen=True)
class CreateDeployment(Action):
    """One GitHub Deployment of ``sha`` to ``environment`` (the project's own workflow, ``on:
    deployment``, deploys it). Creating is not idempotent: the executor looks for a deployment
    of that commit in that environment first and creates none when there is one."""
    sha: str = ""
    environment: str = ""
    required_contexts: tuple[str, ...] = ()
    description: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    creates: ClassVar[bool] = True


# --- local state ----------------------------------------------------------------

@dataclass(frozen=True)
class Record(Action):
    """Persist feature state through a writer the feature registered
    (``Feature.writers[op]``). Runs even when GitHub calls are dry-run, unless
    ``needs_github``: it stands for a GitHub action of its batch (a report's claim,
    written just before the comment), so it is not written when that is not sent."""
    feature: str = ""
    op: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    needs_github: bool = field(default=False, metadata={"quiet": True})
    local: ClassVar[bool] = True


@dataclass(frozen=True)
class Note(Action):
    """A decision worth explaining later (/explain) that changes nothing on GitHub.

    ``guard``: a note about a decision another may overtake (see ``Guard``) is recorded only
    while that decision still stands, like the GitHub actions it explains: /explain must not
    tell of a verdict that was dropped."""
    feature: str = ""
    number: int = 0
    text: str = ""
    guard: Guard | None = _guard_field()
    local: ClassVar[bool] = True


ACTION_TYPES: dict[str, type[Action]] = {
    cls.__name__: cls
    for cls in (AddLabels, RemoveLabel, Comment, UpsertComment, UpsertBodySection, React, ReportOutcome,
                Assign, Unassign, RequestReviewers, RemoveReviewers, Close, Reopen,
                UpsertCheckRun, AddToProject, CreateDiscussion, DispatchWorkflow,
                RepositoryDispatch, CancelWorkflowRun, CreateDeployment, Record, Note)
}


def action_from_dict(data: Mapping[str, Any]) -> Action:
    data = dict(data)
    cls = ACTION_TYPES[data.pop("kind")]
    if isinstance(data.get("guard"), Mapping):
        data["guard"] = Guard(**data["guard"])
    for f in fields(cls):
        if isinstance(data.get(f.name), list):
            data[f.name] = tuple(data[f.name])
    return cls(**data)
