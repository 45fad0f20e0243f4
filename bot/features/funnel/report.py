"""The weekly report's Markdown (pure): funnel tables, change, SLA, welcomes, RFCs, chart."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ...core.funnel import Funnel
from ...core.markdown import neutralize
from .dates import window_text
from .render import LABELS, cohort_table, pct, stage_table

MARKER = "<!-- contributor-flow:funnel-weekly -->"
# After the scope, in a report that counts only public repositories (read back by shown_figures).
PUBLIC_ONLY = " (its public repositories only: anyone can read this repository)"


@dataclass(frozen=True)
class RfcItem:
    number: int
    title: str
    url: str


@dataclass(frozen=True)
class ReportInputs:
    scope: str
    week: str
    week_funnel: Funnel
    trailing_funnel: Funnel
    trailing_months: int
    previous: tuple[str, dict] | None = None         # (week, figures) of the last report
    sla_markdown: str | None = None                  # None: figures unavailable
    rfcs: Sequence[RfcItem] | None = None            # None: could not be read
    welcome_limit: int = 30
    # Org mode in a repository anyone may read: only the organisation's public repositories count.
    public_only: bool = False
    # The week of the last report, when it counted another set of repositories (no change shown).
    unlike_previous: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def figures(inputs: ReportInputs) -> dict:
    """What the next report compares against; ``public_only`` says which repositories were
    counted, so a report compares only against one that counted the same way (absent: all)."""
    stored: dict = {"week": [s.to_dict() for s in inputs.week_funnel.stages],
                    "trailing": [s.to_dict() for s in inputs.trailing_funnel.stages]}
    if inputs.public_only:
        stored["public_only"] = True
    return stored


def comparable(previous: dict, public_only: bool) -> bool:
    """Whether an earlier report's stored figures counted the repositories this one counts:
    a change against figures that held private repositories would tell them on a public page."""
    return bool(previous.get("public_only")) == public_only


def mermaid(funnel: Funnel, caption: str) -> str:
    """A left-to-right flow of the stages with counts and step rates; GitHub renders
    Mermaid in Discussions, and a flowchart needs no beta chart type."""
    lines = ["```mermaid", "flowchart LR"]
    nodes = []
    for i, s in enumerate(funnel.stages):
        nodes.append(f's{i}["{LABELS[s.name]}<br/>{s.contributors}"]')
    lines.append(f"  %% {caption}")
    for i in range(len(nodes)):
        lines.append(f"  {nodes[i]}")
    for i in range(1, len(nodes)):
        rate = pct(funnel.stages[i].rate_from_previous)
        lines.append(f'  s{i - 1} -- "{rate}" --> s{i}')
    lines.append("```")
    return "\n".join(lines)


def _welcome(logins: Sequence[str], limit: int) -> str:
    if not logins:
        return "No new contributors this week."
    shown = [f"[{neutralize(l)}](https://github.com/{l})" for l in logins[:limit]
             if l.replace("-", "").replace("[bot]", "").isalnum()]
    more = len(logins) - len(shown)
    if not shown:  # names not to be shown (welcome_limit 0) or none a plain login
        return f"Welcome to {more} new contributor{'s' if more != 1 else ''}! 🎉"
    text = ", ".join(shown)
    if more > 0:
        text += f" and {more} more"
    return f"Welcome to {text}! 🎉"


def _rfcs(rfcs: Sequence[RfcItem] | None) -> str:
    if rfcs is None:
        return "RFC list unavailable."
    if not rfcs:
        return "No RFCs are waiting for review."
    return "\n".join(f"- [{neutralize(r.title, max_len=120)}]({r.url}) (#\u200b{r.number})" for r in rfcs)


def render(inputs: ReportInputs) -> tuple[str, str]:
    """(title, body) of the week's Discussion."""
    week, trailing = inputs.week_funnel, inputs.trailing_funnel
    previous = inputs.previous
    title = f"Contributor funnel: {inputs.week} ({inputs.scope})"
    counted = PUBLIC_ONLY if inputs.public_only else ""
    if previous:
        change = f"Change against the report of {previous[0]}."
    elif inputs.unlike_previous:
        change = f"No change shown: the report of {inputs.unlike_previous} counted other repositories."
    else:
        change = "No earlier report to compare with."
    parts = [
        MARKER,
        f"# Contributor funnel, week {inputs.week}",
        f"Scope: `{inputs.scope}`{counted}. New contributors are people whose first contact (comment, issue, "
        "pull request or review) falls in the window, with nothing earlier in the stored history; "
        "stages are counted as reached by the end of the window.",
        f"## This week, {window_text(week.since, week.until)}",  # its last day, not the next Monday
        stage_table(week.stages, previous[1].get("week") if previous else None),
        change,
        f"## Trailing {inputs.trailing_months} months",
        stage_table(trailing.stages, previous[1].get("trailing") if previous else None),
        mermaid(trailing, f"trailing {inputs.trailing_months} months"),
        "### Monthly cohorts",
        cohort_table(trailing),
        # The SLA feature's table carries its own heading.
        inputs.sla_markdown.strip() if inputs.sla_markdown else
        "## First-response SLA\n\nSLA figures unavailable.",
        "## New contributors to welcome",
        _welcome(week.newcomers, inputs.welcome_limit),
        "## RFCs waiting for review",
        _rfcs(inputs.rfcs),
    ]
    return title, "\n\n".join(parts) + "\n"
