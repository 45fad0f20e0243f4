"""The funnel as Markdown, JSON and CSV (pure)."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from ...core.funnel import Funnel, StageFigure

LABELS = {"first_contact": "First contact", "first_pr": "First PR",
          "first_merge": "First merge", "approver": "Approver"}


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if value < 72 else f"{value / 24:.1f} d"


def stage_table(stages: Sequence[StageFigure], previous: Sequence[dict[str, Any]] | None = None) -> str:
    """One row per stage; with ``previous`` (an earlier report's stages), the change."""
    head = "| Stage | Contributors | From first contact | From previous stage | Median time from previous |"
    sep = "|---|---:|---:|---:|---:|"
    if previous is not None:
        head += " Change |"
        sep += "---:|"
    lines = [head, sep]
    before = {s["name"]: s for s in previous or ()}
    for s in stages:
        row = (f"| {LABELS[s.name]} | {s.contributors} | {pct(s.rate_from_first)} | "
               f"{pct(s.rate_from_previous)} | {hours(s.median_hours_from_previous)} |")
        if previous is not None:
            old = before.get(s.name)
            row += f" {s.contributors - int(old['contributors']):+d} |" if old else " new |"
        lines.append(row)
    return "\n".join(lines)


def cohort_table(funnel: Funnel) -> str:
    lines = ["| Cohort (UTC) | " + " | ".join(LABELS.values()) + " |",
             "|---|" + "---:|" * len(LABELS)]
    for c in funnel.cohorts:
        first = c.stages[0].contributors
        cells = [str(first)] + [f"{s.contributors} ({pct(s.rate_from_first)})" if first else "0"
                                for s in c.stages[1:]]
        lines.append(f"| {c.month} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_markdown(funnel: Funnel, scope: str) -> str:
    return (f"## Contributor funnel: {scope}\n"
            f"New contributors first seen from {funnel.since.isoformat()} to {funnel.until.isoformat()}"
            f" (stages reached by the end).\n\n{stage_table(funnel.stages)}\n\n"
            f"### Monthly cohorts\n\n{cohort_table(funnel)}\n")


def to_json(funnel: Funnel, scope: str) -> str:
    return json.dumps({"scope": scope, **funnel.to_dict()}, indent=2)


def to_csv(funnel: Funnel, scope: str) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["scope", "cohort", "stage", "contributors", "rate_from_first", "rate_from_previous",
                "median_hours_from_previous"])
    rows = [("all", funnel.stages)] + [(c.month, c.stages) for c in funnel.cohorts]
    for cohort, stages in rows:
        for s in stages:
            w.writerow([scope, cohort, s.name, s.contributors,
                        "" if s.rate_from_first is None else s.rate_from_first,
                        "" if s.rate_from_previous is None else s.rate_from_previous,
                        "" if s.median_hours_from_previous is None else s.median_hours_from_previous])
    return out.getvalue()


FORMATS = {"md": to_markdown, "json": to_json, "csv": to_csv}
