"""SLA figures per policy, for the CLI, the weekly report and the dashboard.

Definitions (CHAOSS time to first response; devstats-like percentiles):
- items: clocks started in [since, until);
- first response p50/p90: counted hours (the SLA clock: pauses and, with a business
  calendar, non-working time excluded) of the answered ones among them;
- within-target share: answered within the target, over the items whose window has
  ended at ``now`` (answered, or past due); items still inside their window, or
  closed unanswered before their due instant, are left out;
- breaches: items that went past due (answered late or not at all);
- open past due: unanswered open items past due at ``now``, whenever they started.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ...core import sla
from ...store.db import Database
from . import store


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _figures(clocks: list[store.StoredClock], open_past_due: int, now: datetime) -> dict[str, Any]:
    hours, ended, met, breaches, answered = [], 0, 0, 0, 0
    for c in clocks:
        state = sla.state(c.clock, now)
        if state in (sla.MET, sla.MISSED):
            answered += 1
            hours.append(sla.counted(c.clock, now) / 3600)
        if state in (sla.MET, sla.MISSED, sla.BREACHED):
            ended += 1
            met += state == sla.MET
            breaches += state != sla.MET
    return {
        "items": len(clocks),
        "answered": answered,
        "first_response_p50_hours": _round(sla.percentile(hours, 50)),
        "first_response_p90_hours": _round(sla.percentile(hours, 90)),
        "windows_ended": ended,
        "within_target": met,
        "within_target_share": _round(met / ended) if ended else None,
        "breaches": breaches,
        "open_past_due": open_past_due,
    }


async def sla_figures(db: Database, repo: str, since: datetime, until: datetime,
                      now: datetime) -> dict:
    """Per-policy figures (see the module docstring), plus ``all`` over every clock::

        {"repo", "since", "until", "now",                      # ISO 8601 strings
         "policies": {name: {"items", "answered", "first_response_p50_hours",
                             "first_response_p90_hours", "windows_ended", "within_target",
                             "within_target_share", "breaches", "open_past_due",
                             "target_hours"}},
         "all": {... the same keys but target_hours ...}}

    Hours and shares are floats rounded to 2 places, or None when there is nothing
    to compute them over."""
    everything = await store.clocks(db, repo, started_before=until.timestamp())
    in_window = [c for c in everything if c.clock.started >= since]
    past_due: dict[str, int] = {}
    for c in everything:
        if not c.closed and sla.state(c.clock, now) == sla.BREACHED:
            past_due[c.policy] = past_due.get(c.policy, 0) + 1
    names = sorted({c.policy for c in everything})
    policies = {}
    for name in names:
        mine = [c for c in in_window if c.policy == name]
        figures = _figures(mine, past_due.get(name, 0), now)
        targets = {c.clock.target for c in everything if c.policy == name}
        figures["target_hours"] = max(targets) / 3600 if targets else None
        policies[name] = figures
    return {
        "repo": repo,
        "since": since.isoformat(), "until": until.isoformat(), "now": now.isoformat(),
        "policies": policies,
        "all": _figures(in_window, sum(past_due.values()), now),
    }


def _cell(value: Any, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and suffix == "%":
        return f"{value * 100:.0f}%"
    return f"{value}{suffix}"


def to_markdown(figures: dict) -> str:
    lines = [f"## First-response SLA: {figures['repo']}",
             f"{figures['since'][:10]} to {figures['until'][:10]}", "",
             "| Policy | Target | Items | Answered | p50 | p90 | Within target | Breaches | Open past due |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows = [*figures["policies"].items(), ("all", figures["all"])]
    for name, f in rows:
        target = _cell(f.get("target_hours"), " h") if name != "all" else ""
        lines.append(
            f"| {name} | {target} | {f['items']} | {f['answered']} | {_cell(f['first_response_p50_hours'], ' h')}"
            f" | {_cell(f['first_response_p90_hours'], ' h')} | {_cell(f['within_target_share'], '%')}"
            f" ({f['within_target']}/{f['windows_ended']}) | {f['breaches']} | {f['open_past_due']} |")
    return "\n".join(lines) + "\n"


def to_json(figures: dict) -> str:
    return json.dumps(figures, indent=2, sort_keys=True)
