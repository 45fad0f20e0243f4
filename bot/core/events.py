"""The event model: one GitHub delivery, with the few facts every feature asks for."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Event:
    name: str                      # X-GitHub-Event, e.g. "issues"
    payload: Mapping[str, Any]
    delivery_id: str = ""
    received_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def action(self) -> str:
        return str(self.payload.get("action") or "")

    @property
    def qualified(self) -> str:
        """``issues.opened``, or just the event name when there is no action."""
        return f"{self.name}.{self.action}" if self.action else self.name

    @property
    def repo(self) -> str:
        repo = self.payload.get("repository") or {}
        return str(repo.get("full_name") or "")

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0] if self.repo else ""

    @property
    def installation_id(self) -> int | None:
        inst = self.payload.get("installation") or {}
        return inst.get("id")

    @property
    def sender(self) -> Mapping[str, Any]:
        return self.payload.get("sender") or {}

    @property
    def sender_login(self) -> str:
        return str(self.sender.get("login") or "")

    @property
    def sender_is_bot(self) -> bool:
        return is_bot_account(self.sender)

    @property
    def item(self) -> Mapping[str, Any] | None:
        """The issue or pull request the event is about, if any."""
        for key in ("pull_request", "issue"):
            if isinstance(self.payload.get(key), Mapping):
                return self.payload[key]
        return None

    @property
    def number(self) -> int | None:
        item = self.item
        if item and item.get("number") is not None:
            return int(item["number"])
        if self.payload.get("number") is not None:
            return int(self.payload["number"])
        return None

    @property
    def transferred_from(self) -> tuple[str, int] | None:
        """(old repository, old number) when this ``issues.opened`` is a transfer's: GitHub
        sends ``issues.transferred`` to the old repository and this opening, with
        ``changes.old_issue`` and ``changes.old_repository``, to the new one."""
        changes = self.payload.get("changes") or {}
        repo = (changes.get("old_repository") or {}).get("full_name")
        number = (changes.get("old_issue") or {}).get("number")
        return (str(repo), int(number)) if self.action == "opened" and repo and number else None

    @property
    def is_pull_request(self) -> bool:
        if isinstance(self.payload.get("pull_request"), Mapping):
            return True
        issue = self.payload.get("issue") or {}
        return bool(issue.get("pull_request"))

    @property
    def subject(self) -> str:
        """What ordering is kept for: one issue/PR, or the repository, or the installation."""
        if self.repo and self.number is not None:
            return f"{self.repo}#{self.number}"
        if self.repo:
            return self.repo
        if self.installation_id is not None:
            return f"installation:{self.installation_id}"
        return self.name


def with_repo_name(event: Event, full_name: str) -> Event:
    """``event`` as if it carried ``full_name``: a delivery queued before a rename or transfer,
    processed after it, is decided under the name the repository has now (see
    store/repo_names.py). Every reference to the same repository (by id) in the payload
    follows, a pull request's base and head included; URLs are left as they were (GitHub
    redirects the old ones)."""
    repository = event.payload.get("repository")
    if not isinstance(repository, Mapping) or event.repo == full_name:
        return event
    owner, name = full_name.split("/", 1)
    repo_id = repository.get("id")

    def renamed(node: Any, key: str | None = None) -> Any:
        if isinstance(node, Mapping):
            out = {k: renamed(v, k) for k, v in node.items()}
            if key in ("repository", "repo") and (node is repository or node.get("id") == repo_id):
                out.update({k: v for k, v in (("full_name", full_name), ("name", name)) if k in node})
                was = node.get("owner")
                if isinstance(was, Mapping) and str(was.get("login") or "").lower() != owner.lower():
                    # Another owner (a transfer) or the owner's new login: which, the payload
                    # cannot say. Its id and node id are the old owner's: shown with the new
                    # login, they would say the old owner renamed itself (the CLA would copy
                    # its signatures to the new owner's agreement), so they are dropped.
                    out["owner"] = {k: v for k, v in out["owner"].items() if k not in ("id", "node_id")}
                    out["owner"]["login"] = owner
                elif isinstance(was, Mapping):
                    out["owner"] = {**out["owner"], "login": owner}
            return out
        if isinstance(node, list):
            return [renamed(v) for v in node]
        return node

    payload = renamed(event.payload)
    payload["repository"] = {**payload["repository"], "full_name": full_name, "name": name}
    return replace(event, payload=payload)


def is_bot_account(user: Mapping[str, Any] | None) -> bool:
    if not user:
        return False
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


def parse_time(value: str | None) -> datetime | None:
    """GitHub timestamps (ISO 8601, ``Z``) to aware datetimes."""
    if not value:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# Conversation events: here the bot's own and other bots' events are ignored (see
# bot.pipeline.hears) unless a feature asks for them. Status events (check and workflow
# runs, pushes, installations) are kept: the bot dispatches the workflows it tracks.
CONVERSATION_EVENTS = frozenset({
    "issues", "issue_comment", "pull_request", "pull_request_review",
    "pull_request_review_comment", "discussion", "discussion_comment",
})


def from_other_bot(event: Event, allowed_bots: Sequence[str]) -> bool:
    """A conversation event from a bot the repository does not allow (``core.allowed_bots``).
    The bot itself is one too: callers tell it apart by its login."""
    return (event.name in CONVERSATION_EVENTS and is_bot_account(event.sender)
            and event.sender_login not in allowed_bots)
