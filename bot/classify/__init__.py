"""The issue classifier (pure: no I/O but reading and writing model files).

``classify(issue, rules, model)`` combines rule signals (form labels, headings, title
prefixes, phrases) with a learned text model into one score per kind and a decision
that records the kind, its confidence and the signals that fired.
"""
from __future__ import annotations

from .model import ModelBundle, TextModel, train, train_bundle
from .scoring import Decision, decide
from .signals import ClassifierRules, KindRules, Signal, SignalWeights, detect
from .text import IssueText

__all__ = ["ClassifierRules", "Decision", "IssueText", "KindRules", "ModelBundle", "Signal",
           "SignalWeights", "TextModel", "classify", "decide", "detect", "train", "train_bundle"]


def classify(issue: IssueText, rules: ClassifierRules, model: TextModel | None = None,
             *, model_name: str = "") -> Decision:
    probs = model.probabilities(issue) if model is not None else None
    return decide(detect(issue, rules), probs, rules, model_name=model_name if model else "")
