"""Rule signals: what the issue form, the title and the wording say about the kind.

Each signal that fires names its kind, what fired and its weight, so a decision can
say why it was taken. What counts as a signal comes from the rules (``classify.kinds``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Sequence

from .text import IssueText, headings, normalise_heading


@dataclass(frozen=True)
class Signal:
    kind: str
    source: str    # form_label | heading | title_prefix | phrase | model
    detail: str    # what fired, e.g. the heading text
    weight: float

    def describe(self) -> str:
        return f"{self.source} {self.detail!r} (+{self.weight:.2f})"


@dataclass(frozen=True)
class KindRules:
    """What marks one kind. Matching is case-insensitive throughout."""
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    form_labels: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    title_prefixes: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()   # regular expressions

    @property
    def all_labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class SignalWeights:
    form_label: float = 3.0
    heading: float = 1.0
    title_prefix: float = 2.0
    phrase: float = 0.5
    model: float = 6.0
    unknown: float = 1.0   # mass of "no idea": keeps a lone weak signal from looking certain


@dataclass(frozen=True)
class ClassifierRules:
    kinds: tuple[KindRules, ...]
    weights: SignalWeights = field(default_factory=SignalWeights)
    threshold: float = 0.5

    @classmethod
    def from_section(cls, section: Mapping) -> "ClassifierRules":
        kinds = tuple(
            KindRules(name=name, label=spec.get("label") or name,
                      aliases=tuple(spec.get("aliases") or ()),
                      form_labels=tuple(spec.get("form_labels") or ()),
                      headings=tuple(spec.get("headings") or ()),
                      title_prefixes=tuple(spec.get("title_prefixes") or ()),
                      phrases=tuple(spec.get("phrases") or ()))
            for name, spec in (section.get("kinds") or {}).items())
        weights = SignalWeights(**(section.get("weights") or {}))
        return cls(kinds=kinds, weights=weights, threshold=float(section.get("threshold", 0.5)))

    def kind_of_label(self, label: str) -> str | None:
        """The kind a label stands for (its kind label or an alias), if any."""
        folded = label.casefold()
        for kind in self.kinds:
            if any(folded == name.casefold() for name in kind.all_labels):
                return kind.name
        return None

    def label_of(self, kind: str) -> str | None:
        return next((k.label for k in self.kinds if k.name == kind), None)

    def labels_of(self, kind: str) -> tuple[str, ...]:
        """The kind's label and its aliases."""
        return next((k.all_labels for k in self.kinds if k.name == kind), ())


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.I | re.M)
    except re.error:
        return None  # the rules loader reports bad patterns; a bad one never fires


def detect(issue: IssueText, rules: ClassifierRules) -> list[Signal]:
    w = rules.weights
    title = issue.title.strip()
    title_folded = title.casefold()
    labels = {label.casefold() for label in issue.labels}
    found_headings = headings(issue.body)
    signals: list[Signal] = []
    for kind in rules.kinds:
        # A label applied by an issue form (or the kind label itself, set by a form).
        for label in (*kind.form_labels, *kind.all_labels):
            if label.casefold() in labels:
                signals.append(Signal(kind.name, "form_label", label, w.form_label))
                break
        for wanted in kind.headings:
            target = normalise_heading(wanted)
            if any(h.startswith(target) for h in found_headings):
                signals.append(Signal(kind.name, "heading", wanted, w.heading))
        for prefix in kind.title_prefixes:
            if title_folded.startswith(prefix.casefold()):
                signals.append(Signal(kind.name, "title_prefix", prefix, w.title_prefix))
                break
        for pattern in kind.phrases:
            regex = _regex(pattern)
            if regex is not None and (regex.search(title) or regex.search(issue.body[:5000])):
                signals.append(Signal(kind.name, "phrase", pattern, w.phrase))
    return signals


def bad_patterns(kinds: Sequence[KindRules]) -> list[str]:
    return [p for k in kinds for p in k.phrases if _regex(p) is None]
