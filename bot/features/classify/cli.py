"""``python -m bot classify train|eval``: train a model file, measure quality."""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter


def _label_item(item: str) -> str:
    label, sep, kind = item.partition("=")
    if not sep or not label.strip() or not kind.strip():
        raise argparse.ArgumentTypeError(f"expected LABEL=KIND, got {item!r}")
    return item


def _label_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        label, _, kind = _label_item(item).partition("=")
        out[label.strip().lower()] = kind.strip()
    return out


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {text!r}")
        return value
    return parse


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("classify", help="train and evaluate the issue classifier",
                       description="Train the issue classifier's text model, or measure its quality.")
    csub = p.add_subparsers(dest="classify_command", metavar="SUBCOMMAND", required=True)
    t = csub.add_parser("train", help="train a model file from labelled issues",
                        description="Train per-repository models (repositories with enough examples) and a "
                                    "global fallback, from a CSV with columns repo,created_at,label,title,body "
                                    "or from repositories' labelled history. Point classify.model_path at the "
                                    "output.")
    source = t.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="FILE", help="labelled issues (columns repo,created_at,label,title,body)")
    source.add_argument("--repo", metavar="OWNER/REPO", action="append",
                        help="read the repository's issues that people gave one kind label (open or closed, "
                             "not labels the bot added), and the kinds humans confirmed to the bot "
                             "(repeatable; needs the App's credentials)")
    t.add_argument("--limit", type=_at_least(1), default=1000,
                   help="labelled issues read per kind and repository, newest first (default 1000)")
    t.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.npz)")
    t.add_argument("--label", action="append", default=[], metavar="LABEL=KIND", type=_label_item,
                   help="rename a CSV label to a kind, e.g. enhancement=feature (repeatable)")
    t.add_argument("--per-repo-min", type=_at_least(1), default=30,
                   help="examples a repository needs for its own model (default 30)")
    t.set_defaults(func=cmd_train)
    e = csub.add_parser("eval", help="precision, recall, F1 per class and macro F1 per repository",
                        description="Train per repository on --train and score on --test; without --test, "
                                    "k-fold cross-validation per repository on --train. Prints precision, "
                                    "recall and F1 per class, macro F1 per repository and the cross-repository "
                                    "mean of the per-repository macro F1.")
    e.add_argument("--train", required=True, metavar="FILE")
    e.add_argument("--test", metavar="FILE")
    e.add_argument("--folds", type=_at_least(2), default=5, help="folds for cross-validation (default 5)")
    e.add_argument("--label", action="append", default=[], metavar="LABEL=KIND", type=_label_item)
    e.set_defaults(func=cmd_eval)


async def _history(repos: list[str], limit: int) -> list:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime
    from .history import repository_history

    examples = []
    async with open_runtime(settings_from_env()) as runtime:
        if runtime.github is None or runtime.github.dry_run:
            raise SystemExit("reading a repository's history needs GITHUB_APP_ID and GITHUB_PRIVATE_KEY")
        for repo in repos:
            found = await repository_history(runtime, repo, per_kind=limit)
            print(f"{repo}: {len(found)} labelled issues")
            examples += found
    return examples


def cmd_train(args: argparse.Namespace) -> int:
    import asyncio

    from ...classify import train_bundle
    from ...classify.data import read_csv

    try:
        if args.csv:
            examples = read_csv(args.csv, label_map=_label_map(args.label))
        else:
            if any(r.count("/") != 1 for r in args.repo):
                raise ValueError("--repo takes OWNER/REPO")
            examples = asyncio.run(_history(args.repo, args.limit))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        bundle = train_bundle([(ex.repo, ex.issue, ex.label) for ex in examples], per_repo_min=args.per_repo_min)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if "*" not in bundle.models:
        kinds = sorted({ex.label for ex in examples})
        print(f"error: need labelled issues of at least two kinds, got {', '.join(kinds) or 'none'}; "
              f"nothing written", file=sys.stderr)
        return 1
    try:
        bundle.save(args.out)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    per_repo = sorted(k for k in bundle.models if k != "*")
    print(f"trained on {len(examples)} issues in {elapsed:.1f}s: {len(per_repo)} per-repository model(s)"
          f"{' (' + ', '.join(per_repo) + ')' if per_repo else ''} and a global fallback; wrote {args.out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ...classify.data import read_csv
    from ...classify.evaluate import cross_validate, evaluate_split

    try:
        mapping = _label_map(args.label)
        train_set = read_csv(args.train, label_map=mapping)
        test_set = read_csv(args.test, label_map=mapping) if args.test else None
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if test_set is None:
        counts = Counter(ex.repo for ex in train_set)
        small = sorted((repo for repo, n in counts.items() if n < args.folds), key=str.lower)
        if small:
            print(f"error: fewer labelled issues than --folds {args.folds} in {', '.join(small)}",
                  file=sys.stderr)
            return 1
    try:
        report = (evaluate_split(train_set, test_set) if test_set is not None
                  else cross_validate(train_set, k=args.folds))
    except ValueError as exc:  # e.g. a repository (or fold) with examples of one kind only
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.format())
    return 0
