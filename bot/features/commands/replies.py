"""Texts of the bot's replies to commands: refusals, typos, help. Kept short and quiet."""
from __future__ import annotations

from typing import Iterable, Mapping

from ...core.commands_parser import MAX_LINE
from ...core.markdown import code, is_login, mention
from .common import shown
from .registry import RegisteredCommand, Registry

ROLE_ORDER = ("anyone", "author", "triager", "maintainer", "approver")
# GitHub refuses a comment over 65,536 characters (and the reply would be lost): a reply
# stays far below that however many commands went wrong; what does not fit is counted.
MAX_REPLY = 16_000
_DEFAULT_HOW = {
    "author": "Only the author of this issue or pull request can do that.",
    "triager": "Ask a maintainer of this repository for triage access.",
    "maintainer": "Maintainers have write access to this repository.",
    "approver": "Approvers are listed in OWNERS or CODEOWNERS.",
}


def ordered_roles(roles: Iterable[str]) -> list[str]:
    return sorted(set(roles), key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 99)


def role_list(roles: Iterable[str]) -> str:
    names = [f"**{r}**" for r in ordered_roles(roles)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def refusal(command: RegisteredCommand, line: str, have: Iterable[str],
            how_to_get: Mapping[str, str]) -> str:
    needed = ordered_roles(command.roles)
    hows = [how_to_get.get(r) or _DEFAULT_HOW.get(r, "") for r in needed if r != "anyone"]
    have_text = ", ".join(ordered_roles(have)) or "anyone"
    text = (f"{shown(line)} needs the {role_list(needed)} role (you have: {have_text})."
            if len(needed) == 1 else
            f"{shown(line)} needs one of the roles {role_list(needed)} (you have: {have_text}).")
    hows = [h for h in dict.fromkeys(hows) if h]
    return text + (" " + " ".join(hows) if hows else "")


def wrong_item(command: RegisteredCommand, line: str) -> str:
    where = "pull requests" if command.spec.on_prs else "issues"
    return f"{shown(line)} works on {where} only."


def too_long(line: str) -> str:
    return f"{shown(line)} is longer than {MAX_LINE:,} characters, so I did not read it."


def did_you_mean(name: str, suggestion: str) -> str:
    return f"{code('/' + name)} is not a command I know. Did you mean {code('/' + suggestion)}? (see `/help`)"


def reply(actor: str, problems: list[str]) -> str:
    """One reply per comment, however many of its commands went wrong."""
    who = mention(actor) + " " if is_login(actor) else ""
    if len(problems) == 1 and len(problems[0]) <= MAX_REPLY:
        return who + problems[0]
    items: list[str] = []
    size = 0
    for problem in problems:
        # Whole items or none: a cut one could leave a code span open, and text after an
        # unclosed backtick is markdown again (a login in it would be pinged).
        size += len(problem) + 3
        if size > MAX_REPLY:
            break
        items.append(f"- {problem}")
    if len(items) < len(problems):
        items.append(f"- and {len(problems) - len(items)} more.")
    return who.rstrip() + "\n\n" + "\n".join(items)


def help_text(registry: Registry, *, is_pr: bool, only: str | None = None) -> str:
    commands = [c for c in registry if c.applies_to(is_pr)]
    if only:
        found = registry.get(only.lstrip("/"))
        if found is None:
            return f"{shown('/' + only.lstrip('/'))} is not a command I know; `/help` lists them all."
        commands = [found]
    rows = ["| Command | What it does | Who may use it |", "| --- | --- | --- |"]
    for c in commands:
        # Help texts are the features' own words: only the table syntax needs escaping.
        what = " ".join(c.spec.help.split()).replace("|", "\\|")
        usage = code(c.spec.usage).replace("|", "\\|")  # GFM splits cells even inside code
        rows.append(f"| {usage} | {what} | "
                    f"{', '.join(ordered_roles(c.roles))} |")
    kind = "pull request" if is_pr else "issue"
    intro = f"Commands on this {kind} (one per line, at the start of the line):"
    return intro + "\n\n" + "\n".join(rows)
