"""Labelled history as a CSV with columns ``repo,created_at,label,title,body``."""
from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from .text import IssueText

COLUMNS = ("repo", "created_at", "label", "title", "body")


@dataclass(frozen=True)
class Example:
    repo: str
    created_at: str
    label: str
    issue: IssueText


def read_csv(path: str | Path, *, label_map: Mapping[str, str] | None = None) -> list[Example]:
    """Rows as examples. ``label_map`` renames labels to kinds (e.g. enhancement -> feature);
    rows whose label maps to nothing known are kept as they are."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # issue bodies exceed the 128 KiB default
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        return [_example(row, label_map) for row in reader if (row.get("label") or "").strip()]


def _example(row: Mapping[str, str], label_map: Mapping[str, str] | None) -> Example:
    label = row["label"].strip()
    if label_map:
        label = label_map.get(label.lower(), label)
    return Example(repo=row["repo"].strip(), created_at=row.get("created_at") or "", label=label,
                   issue=IssueText.of(row.get("title"), row.get("body")))


def write_csv(path: str | Path, examples: Iterable[Example]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for ex in examples:
            writer.writerow([ex.repo, ex.created_at, ex.label, ex.issue.title, ex.issue.body])
