"""Issue classifier quality on the NLBSE'24 training split, cross-validated by repository.

    .venv/bin/python benchmarks/classify_quality.py [--csv ../shared/data/nlbse24/issues_train.csv]
        [--folds 5] [--seeds 0 1] [--curve]

For each repository: k-fold stratified cross-validation trained on that repository's
issues only (as the NLBSE'24 baselines are), predictions pooled over the seeds; prints
precision/recall/F1 per class, macro F1 per repository and the cross-repository mean.
Then the same for what the bot decides: the rule signals of the bundled
rules/classify.yml (its bug, feature and question kinds) with the model at the rules'
weight, scored on the best kind, plus how many issues clear the confidence threshold
(the others are asked about) and how many of those are right. Then the costs on this CPU: time to train one model per repository on all of its
issues (all five together), and prediction latency per issue (one issue at a time,
as the bot classifies, median and p95 over every issue).

The data is read from ../shared (it is not part of this repository); without it the
script says so and exits 2.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import train  # noqa: E402
from bot.classify.data import read_csv  # noqa: E402
from bot.classify.evaluate import cross_validate  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "nlbse24" / "issues_train.csv"
BASELINES = "published baselines on the held-out test split: fastText 0.718, RoBERTa 0.792, SetFit 0.824"


def decision_figures(examples, by_repo, folds: int, seeds) -> str:
    """The bot's decision (rule signals + model), cross-validated like the model alone."""
    from bot.classify import ClassifierRules, classify
    from bot.classify.evaluate import class_scores, stratified_folds
    from bot.rules.loader import load_bundled
    from bot.rules.registry import sections_of
    from bot.features import all_features
    from bot.settings import BUNDLED_RULES

    rules, _ = load_bundled(BUNDLED_RULES, sections_of(all_features()))
    section = dict(rules.section("classify"))
    labels = {ex.label for ex in examples}
    section["kinds"] = {k: v for k, v in section["kinds"].items() if k in labels}
    classifier = ClassifierRules.from_section(section)
    f1s, decided, right = [], 0, 0
    lines = []
    for repo, rows in by_repo.items():
        truth, best = [], []
        for seed in seeds:
            for fold in stratified_folds([ex.label for ex in rows], folds, seed):
                held = set(fold)
                model = train([(ex.issue, ex.label) for i, ex in enumerate(rows) if i not in held])
                for i in fold:
                    d = classify(rows[i].issue, classifier, model)
                    truth.append(rows[i].label)
                    best.append(d.best or "")
                    decided += d.kind is not None
                    right += d.kind is not None and d.kind == rows[i].label
        scores = class_scores(truth, best)
        f1s.append(sum(c.f1 for c in scores.values()) / len(scores))
        lines.append(f"{repo.split('/')[-1]} {f1s[-1]:.3f}")
    total = sum(len(rows) for rows in by_repo.values()) * len(seeds)
    return (f"the bot's decision (rule signals + model x {classifier.weights.model:g}, threshold "
            f"{classifier.threshold:g}): mean macro F1 {sum(f1s) / len(f1s):.3f} ({', '.join(lines)}); "
            f"{decided / total:.0%} decided, {right / max(decided, 1):.1%} of those right, "
            f"{1 - decided / total:.0%} asked")


def learning_curve(examples, folds: int, seeds) -> str:
    """Macro F1 by training-set size: how much more labelled history would buy."""
    import random

    def trainer_keeping(share: float):
        def fit(rows):
            by_label: dict[str, list] = {}
            for ex in rows:
                by_label.setdefault(ex.label, []).append(ex)
            rng = random.Random(len(rows))
            kept = [ex for group in by_label.values() for ex in rng.sample(group, max(1, int(len(group) * share)))]
            return train([(ex.issue, ex.label) for ex in kept])
        return fit

    per_fold = len(examples) // len({ex.repo for ex in examples}) * (folds - 1) // folds
    points = []
    for share in (0.25, 0.5, 0.75, 1.0):
        report = cross_validate(examples, k=folds, seeds=seeds, trainer=trainer_keeping(share))
        points.append(f"{int(per_fold * share)} issues {report.mean_macro_f1:.3f}")
    return "learning curve (training issues per repository: mean macro F1): " + ", ".join(points)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--curve", action="store_true",
                        help="also the learning curve: the same CV trained on a quarter, half and three "
                             "quarters of each training fold (every kind cut alike)")
    args = parser.parse_args(argv)
    if not Path(args.csv).exists():
        print(f"data not found: {args.csv} (expected ../shared/data/nlbse24/issues_train.csv)", file=sys.stderr)
        return 2
    examples = read_csv(args.csv)
    by_repo: dict[str, list] = {}
    for ex in examples:
        by_repo.setdefault(ex.repo, []).append(ex)
    print(f"{len(examples)} issues, {len(by_repo)} repositories; {args.folds}-fold CV per repository, "
          f"seeds {' '.join(map(str, args.seeds))}\n")

    started = time.perf_counter()
    report = cross_validate(examples, k=args.folds, seeds=args.seeds)
    cv_seconds = time.perf_counter() - started
    print(report.format())
    print(f"({BASELINES})")
    print(f"cross-validation took {cv_seconds:.1f}s\n")

    print(decision_figures(examples, by_repo, args.folds, args.seeds) + "\n")
    if args.curve:
        print(learning_curve(examples, args.folds, args.seeds) + "\n")

    started = time.perf_counter()
    models = {repo: train([(ex.issue, ex.label) for ex in rows]) for repo, rows in by_repo.items()}
    train_seconds = time.perf_counter() - started
    print(f"training one model per repository on all its issues: {train_seconds:.2f}s for "
          f"{len(models)} repositories ({train_seconds / len(models):.2f}s each)")

    latencies = []
    for repo, rows in by_repo.items():
        model = models[repo]
        model.probabilities(rows[0].issue)  # the first call prepares the scorer: not a per-issue cost
        for ex in rows:
            t = time.perf_counter()
            model.probabilities(ex.issue)
            latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"prediction per issue: median {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms, "
          f"max {latencies[-1]:.2f} ms over {len(latencies)} issues")
    print(f"\nSUMMARY mean_macro_f1={report.mean_macro_f1:.3f} train_s={train_seconds:.2f} "
          f"predict_ms_median={statistics.median(latencies):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
