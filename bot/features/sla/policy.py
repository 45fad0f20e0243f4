"""Which policies an item is in, and whom the bot mentions about it. Pure."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfoNotFoundError

from ...core.markdown import is_login, mention
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
    kinds: tuple[str, ...] = ()

    def applies(self, *, is_pr: bool, labels: Iterable[str]) -> bool:
        if ("pull_request" if is_pr else "issue") not in self.item_types:
            return False
        return not self.labels or bool(self.labels & {label.casefold() for label in labels})


def other_section(rules: Any, name: str) -> Mapping[str, Any] | None:
    """Another feature's rules section, read defensively: its shape is theirs to change,
    and a repository may run without that feature."""
    try:
        return rules.section(name) if name in rules else None
    except Exception:
        return None


def kind_labels(kind: str, mapping: Mapping[str, list[str]],
                classify: Mapping[str, Any] | None = None) -> list[str]:
    """The labels meaning ``kind``: ours (``kind_labels``) and the classifier's (its
    label and aliases); ``<kind>`` and ``kind/<kind>`` when neither says."""
    labels = list(mapping.get(kind) or [])
    spec = ((classify or {}).get("kinds") or {}).get(kind)
    if isinstance(spec, Mapping):
        labels += [str(x) for x in [spec.get("label"), *(spec.get("aliases") or [])] if x]
    return labels or [kind, f"kind/{kind}"]


def policies_from(section: Mapping[str, Any], classify: Mapping[str, Any] | None = None) -> list[Policy]:
    out = []
    for p in section.get("policies") or []:
        labels = list(p.get("labels") or [])
        for kind in p.get("kinds") or []:
            labels += kind_labels(kind, section.get("kind_labels") or {}, classify)
        calendar = usable_calendar((section.get("calendars") or {}).get(p.get("calendar") or ""))
        out.append(Policy(
            name=p["name"], item_types=frozenset(p.get("item_types") or ["issue"]),
            labels=frozenset(label.casefold() for label in labels),
            target=float(p["target"]), warn=min(float(p["warn_after"]), float(p["target"])),
            calendar=calendar, team=p.get("team") or "", kinds=tuple(p.get("kinds") or ())))
    return out


def pause_labels(rules: Any) -> frozenset[str]:
    """The labels that make an item wait on its author (casefolded): the section's
    ``pause_labels``, and the label ``/triage needs-info`` puts on (the commands section
    names it, ``triage/needs-information`` by default): a maintainer asking for
    information that way waits on the author as much as with ``needs-info`` by hand."""
    labels = {str(p).casefold() for p in rules.section("sla")["pause_labels"]}
    triage = (other_section(rules, "commands") or {}).get("triage")
    state = triage.get("needs-info") if isinstance(triage, Mapping) else None
    if isinstance(state, Mapping) and state.get("label"):
        labels.add(str(state["label"]).casefold())
    return frozenset(labels)


def answer_commands(rules: Any) -> list[str]:
    """The commands that answer the reporter even alone in a comment: the section's
    ``answer_commands``, and each ``/triage STATE`` the commands section makes close the
    item (``duplicate``, ``wontfix`` by default): like ``/close``, the responder's close,
    though GitHub reports the bot as the closer."""
    names = [str(n) for n in rules.section("sla")["answer_commands"]]
    triage = (other_section(rules, "commands") or {}).get("triage")
    if isinstance(triage, Mapping):
        names += [f"triage {state}" for state, conf in triage.items()
                  if isinstance(conf, Mapping) and conf.get("close", "no") != "no"]
    return names


def policies_for(rules: Any) -> list[Policy]:
    """The SLA policies of a repository's rules (a ``Rules``)."""
    return policies_from(rules.section("sla"), other_section(rules, "classify"))


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


def rotation_members(routing: Mapping[str, Any] | None, kinds: Iterable[str]) -> list[str]:
    """Who is on the triage rotation (rules/routing.yml): the rotation the policy's
    kinds are routed to, else the one named ``triage``; its team when it names one
    (one mention reaches everyone on it), otherwise its people who are not away."""
    if not routing:
        return []
    rotations = routing.get("rotations") or {}
    routes = routing.get("routes") or {}
    names = [(routes.get(k) or {}).get("rotation") for k in kinds if isinstance(routes.get(k), Mapping)]
    name = next((n for n in names if n), "triage")
    rotation = rotations.get(name) if isinstance(rotations, Mapping) else None
    if not isinstance(rotation, Mapping):
        return []
    if rotation.get("team"):
        return [str(rotation["team"])]
    away = {str(a).casefold() for a in rotation.get("away") or []}
    return [str(p) for p in rotation.get("people") or [] if str(p).casefold() not in away]


def mentions(logins: Iterable[str]) -> str:
    """Deliberate mentions; anything not shaped like a login or team is dropped."""
    out = [mention(login.lstrip("@")) for login in logins if is_login(login.lstrip("@"))]
    return " ".join(dict.fromkeys(out))
