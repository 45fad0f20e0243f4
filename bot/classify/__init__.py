"""The issue classifier (pure: no I/O but reading and writing model files).

``classify(issue, rules, model)`` combines rule signals (form labels, headings, title
prefixes, phrases) with a learned text model into one score per kind and a decision
that records the kind, its confidence and the signals that fired.
"""
from __future__ import annotations

from .model import ModelBundle, TextModel, train, train_bundle
from .scoring import Decision, decide, model_trust
from .signals import ClassifierRules, KindRules, Signal, SignalWeights, detect
from .text import IssueText

__all__ = ["ClassifierRules", "Decision", "IssueText", "KindRules", "ModelBundle", "Signal",
           "SignalWeights", "TextModel", "classify", "decide", "detect", "train", "train_bundle"]


def classify(issue: IssueText, rules: ClassifierRules, model: TextModel | None = None,
             *, model_name: str = "") -> Decision:
    if model is None:
        return decide(detect(issue, rules), None, rules)
    return decide(detect(issue, rules), model.probabilities(issue), rules, model_name=model_name,
                  trust=model_trust(model.n_examples))
