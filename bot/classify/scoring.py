"""One score per kind from the rule signals and the text model, and the decision.

score(kind) = sum of the weights of the signals for that kind + model weight x model
probability. Confidence = best score / (sum of scores + the "unknown" mass): a single
weak phrase is not certainty, a form label plus a title prefix nearly is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .signals import ClassifierRules, Signal


@dataclass(frozen=True)
class Decision:
    kind: str | None                 # None: below the threshold
    best: str | None                 # the top-scoring kind, even when below the threshold
    confidence: float
    scores: Mapping[str, float]
    signals: tuple[Signal, ...] = field(default=())
    model: str = ""                  # which model took part ("" when none did)

    def explain(self) -> str:
        verdict = f"kind {self.kind}" if self.kind else f"no kind (best guess {self.best or 'none'})"
        fired = [s.describe() for s in self.signals if s.kind == self.best] or ["no signal"]
        others = sorted({s.kind for s in self.signals if s.kind != self.best})
        tail = f"; also signals for {', '.join(others)}" if others else ""
        return f"{verdict}, confidence {self.confidence:.2f}: {', '.join(fired)}{tail}"


# A model learnt from a handful of confirmed kinds is little more than a guess, while one
# trained on a few hundred of a repository's issues is better than the rule signals
# (benchmarks/classify_quality.py). So the model's weight grows with the examples it was
# trained on, reaching weights.model at FULL_TRUST_EXAMPLES.
FULL_TRUST_EXAMPLES = 200


def model_trust(n_examples: int) -> float:
    """The share of ``weights.model`` a model trained on ``n_examples`` gets (0 = unknown:
    a model file that did not record it is trusted fully, as it was before)."""
    if n_examples <= 0:
        return 1.0
    return min(1.0, n_examples / FULL_TRUST_EXAMPLES)


def decide(signals: Sequence[Signal], model_probs: Mapping[str, float] | None, rules: ClassifierRules,
           *, model_name: str = "", trust: float = 1.0) -> Decision:
    kinds = [k.name for k in rules.kinds]
    scores = {k: 0.0 for k in kinds}
    fired = [s for s in signals if s.kind in scores]
    for s in fired:
        scores[s.kind] += s.weight
    if model_probs:
        for kind, p in model_probs.items():
            if kind in scores and p > 0:
                weight = rules.weights.model * trust * p
                scores[kind] += weight
                fired.append(Signal(kind, "model", f"p={p:.2f}", weight))
    total = sum(scores.values()) + rules.weights.unknown
    best = max(kinds, key=lambda k: scores[k]) if kinds and any(scores.values()) else None
    confidence = scores[best] / total if best and total > 0 else 0.0
    kind = best if best and confidence >= rules.threshold else None
    return Decision(kind=kind, best=best, confidence=round(confidence, 4),
                    scores={k: round(v, 4) for k, v in scores.items()},
                    signals=tuple(sorted(fired, key=lambda s: (-s.weight, s.kind))), model=model_name)
