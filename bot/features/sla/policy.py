"""Which policies an item is in, and whom the bot mentions about it. Pure."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfoNotFoundError

from ...core.markdown import mention
from ...core.sla import BusinessCalendar

log = logging.getLogger("bot.features.sla")


@dataclass(frozen=True)
class Policy:
    name: str
    item_types: frozenset[str]
    labels: frozenset[str]        # casefolded; empty: every item of item_types
    target: float
    warn: float
    calendar: dict                # a calendar spec, {} for elapsed hours
    team: str

    def applies(self, *, is_pr: bool, labels: Iterable[str]) -> bool:
        if ("pull_request" if is_pr else "issue") not in self.item_types:
            return False
        return not self.labels or bool(self.labels & {label.casefold() for label in labels})


def kind_labels(kind: str, mapping: Mapping[str, list[str]]) -> list[str]:
    return list(mapping.get(kind) or [kind, f"kind/{kind}"])


def policies_from(section: Mapping[str, Any]) -> list[Policy]:
    out = []
    for p in section.get("policies") or []:
        labels = list(p.get("labels") or [])
        for kind in p.get("kinds") or []:
            labels += kind_labels(kind, section.get("kind_labels") or {})
        calendar = usable_calendar((section.get("calendars") or {}).get(p.get("calendar") or ""))
        out.append(Policy(
            name=p["name"], item_types=frozenset(p.get("item_types") or ["issue"]),
            labels=frozenset(label.casefold() for label in labels),
            target=float(p["target"]), warn=min(float(p["warn_after"]), float(p["target"])),
            calendar=calendar, team=p.get("team") or ""))
    return out


def usable_calendar(spec: Mapping[str, Any] | None) -> dict:
    """The calendar spec, or {} (elapsed hours) when it names no calendar or one that
    cannot work (an unknown time zone, hours ending before they start): a rules mistake
    must not stop the clocks, and elapsed hours never under-count."""
    if not spec:
        return {}
    try:
        BusinessCalendar.from_spec(dict(spec))
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        log.warning("SLA calendar %r is unusable; counting elapsed hours", spec)
        return {}
    return dict(spec)


def matching(policies: Iterable[Policy], *, is_pr: bool, labels: Iterable[str]) -> list[Policy]:
    labels = list(labels)
    return [p for p in policies if p.applies(is_pr=is_pr, labels=labels)]


def label_names(item: Mapping[str, Any]) -> list[str]:
    return [str(label.get("name")) for label in item.get("labels") or [] if label.get("name")]


def current_rotation(routing: Mapping[str, Any] | None, now: datetime) -> list[str]:
    """The triage rotation of rules/routing.yml, read defensively: that section
    belongs to another feature and its shape may change. Accepted shapes:
    ``triage_rotation`` / ``rotation`` as a list of logins (one per ISO week, in
    turn), or a mapping with ``members`` (and optional ``team``)."""
    if not routing:
        return []
    rotation = routing.get("triage_rotation") or routing.get("rotation")
    if isinstance(rotation, Mapping):
        if rotation.get("team"):
            return [str(rotation["team"])]
        rotation = rotation.get("members")
    if isinstance(rotation, list) and rotation:
        week = now.isocalendar()
        pick = rotation[(week.year * 53 + week.week) % len(rotation)]
        if isinstance(pick, Mapping):
            pick = pick.get("login") or pick.get("team")
        if isinstance(pick, list):
            return [str(p) for p in pick]
        return [str(pick)] if pick else []
    if isinstance(rotation, str) and rotation:
        return [rotation]
    return []


def mentions(logins: Iterable[str]) -> str:
    """Deliberate mentions; anything not shaped like a login or team is dropped."""
    out = []
    for login in logins:
        try:
            out.append(mention(login.lstrip("@")))
        except ValueError:
            continue
    return " ".join(dict.fromkeys(out))
