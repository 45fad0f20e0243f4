"""Fixed phrase patterns the text model uses as extra features.

They are part of the model's feature set (a trained model file names the version it
was built with), so they are *not* configurable: the configurable phrases live in the
rules and act as signals (bot.classify.signals). A pattern tested on the title and
on the body is two features: "how do I" in a title says more than in a body.
"""
from __future__ import annotations

import re

from .text import has_code_block, has_stack_trace

FEATURE_SET_VERSION = 1

_PATTERNS: dict[str, list[str]] = {
    "question": [
        r"\?\s*$", r"^(how|why|what|where|when|is|are|can|could|should|does|do|which)\b",
        r"\bhow (do|can|to)\b", r"\bis it possible\b", r"\bquestion\b", r"\bany (idea|way)\b",
        r"\bhelp\b", r"\bwondering\b",
    ],
    "feature": [
        r"\bfeature request\b", r"\b(add|support|allow|provide|implement|enable|introduce)\b",
        r"\bwould be (nice|great|useful|helpful)\b", r"\bproposal\b", r"\bsuggest", r"\benhancement\b",
        r"\bit would\b", r"\bplease add\b", r"\bfeature\b",
    ],
    "bug": [
        r"\b(error|exception|traceback|crash|fail|fails|failed|failing|broken|bug|wrong|incorrect|"
        r"regression|segfault|leak|not working|doesn't work|does not work|unable)\b",
        r"\bfix\b", r"\bexpected\b", r"\bsteps to reproduce\b|\brepro\b",
    ],
}
_COMPILED = [re.compile(p, re.I) for group in _PATTERNS.values() for p in group]
BODY_SCAN = 3000
N_FEATURES = 2 * len(_COMPILED) + 3


def phrase_vector(title: str, body: str) -> list[float]:
    head = (body or "")[:BODY_SCAN]
    out: list[float] = []
    for pattern in _COMPILED:
        out.append(1.0 if pattern.search(title or "") else 0.0)
        out.append(1.0 if pattern.search(head) else 0.0)
    out.append(1.0 if has_code_block(body) else 0.0)
    out.append(min(len(body or ""), 5000) / 5000)
    out.append(1.0 if has_stack_trace(body) else 0.0)
    return out
