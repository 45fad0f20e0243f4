"""Rendering the context card: pure text from decided facts.

The card must read the same on every push when nothing changed (the executor edits
only on change), so nothing here depends on time or on values that drift on their own,
such as reviewers' current load.

Text that came from users (file paths, the author's login) is neutralised; rules text
(checklists, welcome steps) is the maintainers' own markdown and is kept.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from bot.core.impact import GITHUB_FILE_LIMIT, Impact, listing_incomplete  # noqa: F401 - re-exported
from bot.core.markdown import cell, code, neutralize

_CHECKED = re.compile(r"^\s*[-*] \[[xX]\] (.+?)\s*$", re.M)


@dataclass(frozen=True)
class CardData:
    impact: Impact
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "" = outside components
    guide_links: Mapping[str, str] = field(default_factory=dict)         # component -> URL
    decision_tree: str = ""
    checklist: tuple[str, ...] = ()
    first_timer: bool = False
    author: str = ""
    welcome: tuple[str, ...] = ()
    cla_line: str | None = None
    patch_line: str | None = None
    sandbox_line: str | None = None  # a merged PR's: whether its change is live in the sandbox
    response_time: str = ""
    files_listed: int = 0        # how many changed files the files API returned
    files_total: int = 0         # the PR's own changed_files count
    max_files_listed: int = 5
    draft: bool = False
    checkboxes: bool = False     # body mode: the author can tick items, so keep their ticks
    checked: frozenset[str] = frozenset()
    codeowners_note: str | None = None  # why the CODEOWNERS file named no owner (ignored, as GitHub does)


def _path(path: str) -> str:
    """A changed file's path as inline code. A path is the contributor's text: it must not
    carry an HTML comment that could pass for one of the bot's own markers."""
    return code(path.replace("<!--", "<\u200b!--").replace("-->", "--\u200b>"))


def checked_items(section_text: str) -> frozenset[str]:
    """Items ticked in an earlier rendering, so re-rendering keeps the author's ticks."""
    return frozenset(m.group(1) for m in _CHECKED.finditer(section_text or ""))


def person(owner: str) -> str:
    """An owner shown without pinging: profile link for users, code for teams and e-mails."""
    if "/" in owner or "@" in owner:
        return code(owner)
    return f"[{neutralize(owner, max_len=40)}](https://github.com/{neutralize(owner, max_len=40)})"


def _people(owners: Sequence[str]) -> str:
    return ", ".join(person(o) for o in owners) if owners else "_none declared_"


def _component(name: str, links: Mapping[str, str]) -> str:
    shown = f"**{neutralize(name, max_len=60)}**"
    return f"[{shown}]({links[name]})" if links.get(name) else shown


# GitHub refuses comments and bodies over 65,536 characters; keep room for markers and text.
MAX_CARD_CHARS = 60_000


def render_card(data: CardData) -> str:
    """The card; a huge one first loses its file lists, then is cut with a note."""
    text = _render(data)
    if len(text) > MAX_CARD_CHARS and data.max_files_listed:
        text = _render(replace(data, max_files_listed=0))
    if len(text) > MAX_CARD_CHARS:
        cut = text.rfind("\n", 0, MAX_CARD_CHARS - 100)
        text = text[:cut] + "\n\n_The card is cut here: this pull request touches too much to list._\n"
    return text


def _render(data: CardData) -> str:
    impact = data.impact
    out: list[str] = ["### Pull request context", ""]
    if data.first_timer:
        who = f" {neutralize(data.author, max_len=40)}" if data.author else ""
        out += [f"**Welcome{who}, and thanks for your first pull request here!** Next steps:", ""]
        out += [f"{i}. {step}" for i, step in enumerate(data.welcome, start=1)]
        out.append("")
    if data.draft:
        out += ["_Draft: reviewers are requested once it is marked ready for review._", ""]

    if impact.direct:
        out += ["**Components touched**", "", "| Component | Owners | Files |", "|---|---|---|"]
        for name in impact.direct:
            out.append(f"| {cell(_component(name, data.guide_links))} | {cell(_people(data.owners.get(name, ())))}"
                       f" | {impact.file_count(name)} |")
        out.append("")
    else:
        out += ["_No declared component is touched._", ""]
    if impact.transitive:
        out += ["**Also affected** (they depend on a touched component)", "",
                "| Component | Owners | Through |", "|---|---|---|"]
        for name in impact.transitive:
            through = neutralize(impact.via.get(name, ""), max_len=60)
            out.append(f"| {cell(_component(name, data.guide_links))} | {cell(_people(data.owners.get(name, ())))}"
                       f" | {through} |")
        out.append("")
    if impact.unmatched:
        line = f"{impact.file_count('')} changed file(s) belong to no component"
        other = data.owners.get("", ())
        out += [f"{line}; CODEOWNERS: {_people(other)}." if other else f"{line}.", ""]
    if data.codeowners_note:
        out += [f"> {data.codeowners_note}", ""]
    if listing_incomplete(data.files_listed, data.files_total):
        out += [f"> GitHub lists at most {GITHUB_FILE_LIMIT:,} files of a pull request; this one changes "
                f"{max(data.files_total, data.files_listed):,}, so components touched only by the "
                "unlisted files are missing above.", ""]
    out += _file_lists(data)

    if data.checklist:
        out += ["**Checklist**", ""]
        for item in data.checklist:
            if data.checkboxes:
                out.append(f"- [{'x' if item in data.checked else ' '}] {item}")
            else:
                out.append(f"- {item}")
        out.append("")

    guides = [f"[{neutralize(n, max_len=60)}]({data.guide_links[n]})"
              for n in impact.all if data.guide_links.get(n)]
    if data.decision_tree:
        guides.insert(0, f"[Architecture decision tree]({data.decision_tree})")
    if guides:
        out += ["**Contributing guide**: " + " · ".join(guides), ""]

    status = [line for line in (data.cla_line, data.patch_line, data.sandbox_line) if line]
    if status:
        out += ["**Status**", ""] + [f"- {line}" for line in status] + [""]
    if data.response_time:
        out.append(f"**Expected response**: a maintainer usually answers within {data.response_time}.")
    return "\n".join(out).rstrip() + "\n"


def _file_lists(data: CardData) -> list[str]:
    if data.max_files_listed <= 0 or not data.impact.direct:
        return []
    lines = ["<details><summary>Changed files by component</summary>", ""]
    for name in data.impact.direct:
        files = data.impact.files.get(name, ())
        shown = ", ".join(_path(f) for f in files[: data.max_files_listed])
        more = len(files) - data.max_files_listed
        lines.append(f"- {neutralize(name, max_len=60)}: {shown}" + (f" and {more} more" if more > 0 else ""))
    return lines + ["", "</details>", ""]


def humanize_seconds(seconds: float) -> str:
    """72h -> "3 days", 36h -> "36 hours", 90m -> "90 minutes": whole units read best."""
    seconds = int(seconds)
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    hours = seconds / 3600
    if hours >= 1:
        return f"{hours:.1f} hours"
    return f"{max(1, seconds // 60)} minutes"
