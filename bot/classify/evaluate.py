"""Quality figures as the NLBSE'24 issue-classification benchmark reports them:
precision, recall and F1 per class, macro F1 per repository, and the cross-repository
mean of the per-repository macro F1."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .data import Example
from .model import TextModel, train


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class RepoReport:
    repo: str
    classes: dict[str, ClassScores]
    n: int

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.classes.values()) / len(self.classes) if self.classes else 0.0


@dataclass
class Report:
    repos: list[RepoReport] = field(default_factory=list)

    @property
    def mean_macro_f1(self) -> float:
        return sum(r.macro_f1 for r in self.repos) / len(self.repos) if self.repos else 0.0

    def format(self) -> str:
        lines = []
        for r in self.repos:
            lines.append(f"{r.repo} (n={r.n})")
            lines.append(f"  {'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
            for name, c in sorted(r.classes.items()):
                lines.append(f"  {name:<16}{c.precision:>10.3f}{c.recall:>10.3f}{c.f1:>10.3f}{c.support:>9}")
            lines.append(f"  macro F1 {r.macro_f1:.3f}")
        lines.append(f"cross-repo mean macro F1: {self.mean_macro_f1:.3f} over {len(self.repos)} repo(s)")
        return "\n".join(lines)


def class_scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, ClassScores]:
    """Per class of the truth (a class only predicted counts against precision elsewhere)."""
    out = {}
    for cls in sorted(set(truth)):
        tp = sum(1 for t, p in zip(truth, predicted) if t == cls and p == cls)
        fp = sum(1 for t, p in zip(truth, predicted) if t != cls and p == cls)
        fn = sum(1 for t, p in zip(truth, predicted) if t == cls and p != cls)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[cls] = ClassScores(precision, recall, f1, tp + fn)
    return out


def _by_repo(examples: Sequence[Example]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for ex in examples:
        out.setdefault(ex.repo, []).append(ex)
    return out


Trainer = Callable[[Sequence[Example]], TextModel]


def default_trainer(examples: Sequence[Example]) -> TextModel:
    return train([(ex.issue, ex.label) for ex in examples])


def evaluate_split(train_set: Sequence[Example], test_set: Sequence[Example],
                   trainer: Trainer = default_trainer) -> Report:
    """Train per repository on ``train_set``, test on that repository's rows of ``test_set``.
    A test repository with no training rows is scored by a model trained on all of them."""
    train_by = _by_repo(train_set)
    fallback: TextModel | None = None
    report = Report()
    for repo, rows in _by_repo(test_set).items():
        if repo in train_by:
            model = trainer(train_by[repo])
        else:
            fallback = fallback or trainer(list(train_set))
            model = fallback
        predicted = model.predict([ex.issue for ex in rows])
        report.repos.append(RepoReport(repo, class_scores([ex.label for ex in rows], predicted), len(rows)))
    return report


def stratified_folds(labels: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """k folds, each label spread evenly over them (shuffled with ``seed``)."""
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    offset = 0
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(i)
        offset += len(idx)
    return folds


def cross_validate(examples: Sequence[Example], *, k: int = 5, seeds: Sequence[int] = (0,),
                   trainer: Trainer = default_trainer) -> Report:
    """Per repository: k-fold stratified cross-validation, trained on that repository only.
    With several seeds the predictions of each run are pooled (every issue is predicted
    once per seed), which steadies the figure on small sets."""
    report = Report()
    for repo, rows in _by_repo(examples).items():
        truth: list[str] = []
        predicted: list[str] = []
        labels = [ex.label for ex in rows]
        for seed in seeds:
            for fold in stratified_folds(labels, k, seed):
                held = set(fold)
                model = trainer([ex for i, ex in enumerate(rows) if i not in held])
                test = [rows[i] for i in fold]
                predicted += model.predict([ex.issue for ex in test])
                truth += [ex.label for ex in test]
        report.repos.append(RepoReport(repo, class_scores(truth, predicted), len(rows)))
    return report
