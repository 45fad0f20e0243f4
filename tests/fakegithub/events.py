"""Issue events recorded when the API changes an issue, served by the events/timeline routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .state import Issue, now_iso

if TYPE_CHECKING:
    from .server import FakeGitHub


def record(fake: "FakeGitHub", issue: Issue, event: str, actor: str | None = None,
           **details: Any) -> dict[str, Any]:
    """Append one REST issue event; details are e.g. label={"name": ...} or assignee=<user json>."""
    eid = fake.state.next_id()
    entry = {"id": eid, "node_id": f"E_{eid}", "event": event,
             "actor": fake.serializer.user(actor or fake.bot_login), "created_at": now_iso(),
             "commit_id": None, "url": f"{fake.url}/repos/{issue.repo}/issues/events/{eid}", **details}
    issue.events.append(entry)
    return entry


def snapshot(issue: Issue) -> dict[str, Any]:
    p = issue.pull
    return {"labels": list(issue.labels), "assignees": list(issue.assignees), "state": issue.state,
            "locked": issue.locked, "title": issue.title,
            "reviewers": list(p.requested_reviewers) if p else [], "merged": bool(p and p.merged)}


def record_changes(fake: "FakeGitHub", issue: Issue, before: dict[str, Any]) -> None:
    """Emit the events GitHub would log for what a request changed (called by the server)."""
    after = snapshot(issue)
    ser = fake.serializer
    repo = fake.state.repos[issue.repo]
    for name in after["labels"]:
        if name not in before["labels"]:
            label = repo.labels[name.lower()]
            record(fake, issue, "labeled", label={"name": label.name, "color": label.color})
    for name in before["labels"]:
        if name not in after["labels"]:
            label = repo.labels.get(name.lower())
            record(fake, issue, "unlabeled", label={"name": name, "color": label.color if label else ""})
    for login in after["assignees"]:
        if login not in before["assignees"]:
            record(fake, issue, "assigned", assignee=ser.user(login), assigner=ser.user(fake.bot_login))
    for login in before["assignees"]:
        if login not in after["assignees"]:
            record(fake, issue, "unassigned", assignee=ser.user(login), assigner=ser.user(fake.bot_login))
    for login in after["reviewers"]:
        if login not in before["reviewers"]:
            record(fake, issue, "review_requested", requested_reviewer=ser.user(login),
                   review_requester=ser.user(fake.bot_login))
    for login in before["reviewers"]:
        if login not in after["reviewers"]:
            record(fake, issue, "review_request_removed", requested_reviewer=ser.user(login),
                   review_requester=ser.user(fake.bot_login))
    if after["title"] != before["title"]:
        record(fake, issue, "renamed", rename={"from": before["title"], "to": after["title"]})
    if after["locked"] != before["locked"]:
        record(fake, issue, "locked" if after["locked"] else "unlocked")
    if after["merged"] and not before["merged"]:
        record(fake, issue, "merged", commit_id=issue.pull.merge_commit_sha if issue.pull else None)
    if after["state"] != before["state"]:
        if after["state"] == "closed":
            record(fake, issue, "closed", state_reason=issue.state_reason)
        else:
            record(fake, issue, "reopened")
