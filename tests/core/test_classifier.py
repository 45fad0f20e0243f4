"""Classifier core: signals, scoring, text model, model files, evaluation (tiny synthetic data)."""
from __future__ import annotations

import random

import pytest

from bot.classify import ClassifierRules, IssueText, ModelBundle, classify, decide, detect, train, train_bundle
from bot.classify.data import Example, read_csv, write_csv
from bot.classify.evaluate import class_scores, cross_validate, evaluate_split, stratified_folds
from bot.classify.signals import Signal
from bot.classify.text import clean_body, headings

RULES = ClassifierRules.from_section({
    "threshold": 0.5,
    "kinds": {
        "bug": {"label": "bug", "aliases": ["type: bug"], "form_labels": ["from-bug-form"],
                "headings": ["Steps to reproduce", "Expected behavior"], "title_prefixes": ["[bug]", "bug:", "fix:"],
                "phrases": [r"\bcrash(es|ed)?\b", r"\btraceback\b"]},
        "feature": {"label": "enhancement", "headings": ["Proposed solution"],
                    "title_prefixes": ["[feature]", "feat:", "feature request"],
                    "phrases": [r"\bwould be (nice|great)\b"]},
        "question": {"label": "question", "title_prefixes": ["question:", "[question]"],
                     "phrases": [r"^how (do|can) i\b"]},
        "documentation": {"label": "documentation", "title_prefixes": ["docs:"]},
    },
})


@pytest.mark.parametrize("title, body, labels, kind", [
    ("[Bug] Editor freezes", "", (), "bug"),
    ("fix: wrong offset", "", (), "bug"),
    ("Something odd", "### Steps to reproduce\n1. open\n### Expected behavior\nno freeze", (), "bug"),
    ("Something odd", "text", ("from-bug-form",), "bug"),
    ("Something odd", "text", ("Type: Bug",), "bug"),               # an alias, any case
    ("feat: dark mode", "", (), "feature"),
    ("Feature request: export to PDF", "It would be nice", (), "feature"),
    ("Question: how are plugins loaded?", "", (), "question"),
    ("docs: typo in README", "", (), "documentation"),
    ("Hello", "just saying hi", (), None),                          # nothing fired: below threshold
    ("It crashes", "", (), None),                                   # one weak phrase is not enough
])
def test_signals_decide_kind(title, body, labels, kind):
    decision = classify(IssueText.of(title, body, labels), RULES)
    assert decision.kind == kind
    if kind:
        assert decision.confidence >= RULES.threshold
        assert any(s.kind == kind for s in decision.signals)
    else:
        assert decision.confidence < RULES.threshold


@pytest.mark.parametrize("body, expected", [
    ("### Steps to reproduce\ntext\n## Expected behavior:", ["steps to reproduce", "expected behavior"]),
    ("**Describe the bug**\nx\n**To Reproduce**", ["describe the bug", "to reproduce"]),
    ("no headings here\n#notaheading", []),
])
def test_headings(body, expected):
    assert headings(body) == expected


def test_clean_body_replaces_code_urls_and_comments():
    cleaned = clean_body("see https://x.y/z <!-- template hint -->\n```\nsecret stack\n```\nend")
    assert "zzurl" in cleaned and "zzcodeblock" in cleaned
    assert "secret stack" not in cleaned and "template hint" not in cleaned


def test_decision_records_signals_and_explains():
    decision = classify(IssueText.of("[Bug] crash on save", "### Steps to reproduce\n1."), RULES)
    sources = {s.source for s in decision.signals if s.kind == "bug"}
    assert sources == {"title_prefix", "heading", "phrase"}
    text = decision.explain()
    assert text.startswith("kind bug, confidence") and "title_prefix '[bug]'" in text


def test_model_probability_combines_with_signals():
    weak = decide([], {"bug": 0.5, "feature": 0.3, "question": 0.2}, RULES)
    assert weak.kind is None and weak.best == "bug"          # 3.0 / (6.0 + 1.0) < 0.5
    strong = decide([Signal("bug", "heading", "steps", 1.0)], {"bug": 0.9, "feature": 0.05, "question": 0.05}, RULES)
    assert strong.kind == "bug" and strong.confidence > 0.6
    assert any(s.source == "model" for s in strong.signals)


def test_a_model_trained_on_few_examples_counts_for_less():
    from bot.classify.scoring import FULL_TRUST_EXAMPLES, model_trust

    assert model_trust(FULL_TRUST_EXAMPLES // 10) == pytest.approx(0.1)
    assert model_trust(FULL_TRUST_EXAMPLES * 3) == 1.0 and model_trust(0) == 1.0
    prefix = [Signal("bug", "title_prefix", "[bug]", 2.0)]
    leaning = {"bug": 0.2, "feature": 0.7, "question": 0.1}
    assert decide(prefix, leaning, RULES).best == "feature"              # a well-trained model outvotes it
    assert decide(prefix, leaning, RULES, trust=0.1).best == "bug"      # a guess from 20 examples does not


def test_classify_weighs_the_model_by_its_training_examples():
    few = train([(ex.issue, ex.label) for ex in synthetic("o/r", 4, 3)])
    many = train([(ex.issue, ex.label) for ex in synthetic("o/r", 80, 3)])
    assert few.n_examples == 12 and many.n_examples == 240
    issue = IssueText.of("crash error broken", "")
    for model, trust in ((few, 12 / 200), (many, 1.0)):
        p = model.probabilities(issue)["bug"]
        [signal] = [s for s in classify(issue, RULES, model).signals if s.source == "model" and s.kind == "bug"]
        assert signal.weight == pytest.approx(RULES.weights.model * trust * p)


def test_label_lookup():
    assert RULES.kind_of_label("Enhancement") == "feature"
    assert RULES.kind_of_label("type: bug") == "bug"
    assert RULES.kind_of_label("area/ui") is None
    assert RULES.label_of("feature") == "enhancement"


# --- the text model, on synthetic issues whose words say their kind -------------

_WORDS = {
    "bug": ["crash", "error", "broken", "exception", "fails", "segfault", "regression", "wrong"],
    "feature": ["add", "support", "option", "allow", "proposal", "new", "enable", "improve"],
    "question": ["how", "why", "possible", "understand", "explain", "help", "documentation?", "usage"],
}
_FILLER = ["the", "editor", "file", "when", "window", "project", "settings", "panel", "with", "my"]


def synthetic(repo: str, n_per_kind: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for kind, words in _WORDS.items():
        for i in range(n_per_kind):
            title = " ".join(rng.sample(words, 2) + rng.sample(_FILLER, 3))
            body = " ".join(rng.sample(words, 3) + rng.sample(_FILLER, 6))
            out.append(Example(repo, "2024-01-01", kind, IssueText.of(title, body)))
    rng.shuffle(out)
    return out


def test_text_model_learns_and_predicts():
    model = train([(ex.issue, ex.label) for ex in synthetic("o/r", 20, 1)])
    assert model.classes == ["bug", "feature", "question"]
    test = synthetic("o/r", 10, 2)
    predicted = model.predict([ex.issue for ex in test])
    accuracy = sum(p == ex.label for p, ex in zip(predicted, test)) / len(test)
    assert accuracy >= 0.9
    probs = model.probabilities(IssueText.of("crash error broken", "exception segfault"))
    assert max(probs, key=probs.get) == "bug" and abs(sum(probs.values()) - 1) < 1e-6


def test_model_needs_two_kinds():
    with pytest.raises(ValueError, match="two kinds"):
        train([(IssueText.of("a", "b"), "bug")] * 3)


def test_two_kind_model_keeps_both_rows():
    data = [ex for ex in synthetic("o/r", 15, 3) if ex.label != "question"]
    model = train([(ex.issue, ex.label) for ex in data])
    probs = model.probabilities(IssueText.of("add support option", "allow new"))
    assert set(probs) == {"bug", "feature"} and probs["feature"] > 0.5


def test_bundle_round_trip_without_pickle(tmp_path):
    examples = synthetic("a/one", 15, 4) + synthetic("b/two", 15, 5)
    bundle = train_bundle([(ex.repo, ex.issue, ex.label) for ex in examples], per_repo_min=30)
    assert set(bundle.models) == {"a/one", "b/two", "*"}
    path = tmp_path / "model.npz"
    bundle.save(path)
    loaded = ModelBundle.load(path)
    issue = IssueText.of("how why possible", "explain usage help")
    for key in ("a/one", "b/two", "*"):
        assert loaded.models[key].probabilities(issue) == pytest.approx(bundle.models[key].probabilities(issue), abs=1e-5)
    assert loaded.model_for("c/unknown") is loaded.models["*"]
    assert loaded.model_for("A/One") is loaded.models["a/one"]


def test_load_refuses_other_files(tmp_path):
    import numpy as np

    path = tmp_path / "other.npz"
    with open(path, "wb") as fh:
        np.savez(fh, header=np.array('{"format": "something else"}'))
    with pytest.raises(ValueError, match="not a contributor-flow classifier"):
        ModelBundle.load(path)


# --- evaluation --------------------------------------------------------------------

def test_class_scores_table():
    truth = ["bug", "bug", "feature", "question"]
    predicted = ["bug", "feature", "feature", "bug"]
    scores = class_scores(truth, predicted)
    assert scores["bug"].precision == 0.5 and scores["bug"].recall == 0.5
    assert scores["feature"].precision == 0.5 and scores["feature"].recall == 1.0
    assert scores["question"].f1 == 0.0 and scores["question"].support == 1


def test_stratified_folds_cover_each_index_once():
    labels = ["a"] * 7 + ["b"] * 5
    folds = stratified_folds(labels, 3, seed=0)
    assert sorted(i for f in folds for i in f) == list(range(12))
    assert all(sum(labels[i] == "a" for i in f) in (2, 3) for f in folds)


def test_cross_validation_and_split_report_per_repo(tmp_path):
    examples = synthetic("a/one", 12, 6) + synthetic("b/two", 12, 7)
    report = cross_validate(examples, k=3)
    assert [r.repo for r in report.repos] == ["a/one", "b/two"]
    assert report.mean_macro_f1 > 0.85
    path = tmp_path / "train.csv"
    write_csv(path, examples)
    assert len(read_csv(path)) == len(examples)
    split = evaluate_split(read_csv(path), synthetic("a/one", 5, 8) + synthetic("c/new", 5, 9))
    assert {r.repo for r in split.repos} == {"a/one", "c/new"}      # c/new scored by the global model
    text = split.format()
    assert "macro F1" in text and "cross-repo mean macro F1" in text


def test_csv_needs_its_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("title,body\nx,y\n")
    with pytest.raises(ValueError, match="missing column"):
        read_csv(path)


def test_fast_single_issue_scores_match_the_batch_path():
    model = train([(ex.issue, ex.label) for ex in synthetic("o/r", 15, 11)])
    issues = [ex.issue for ex in synthetic("o/r", 3, 12)] + [
        IssueText.of("", ""), IssueText.of("crash?", "```\nlog\n``` see https://x.y " + "error " * 500)]
    batch = model.decision(issues)
    for row, issue in zip(batch, issues):
        assert model.decision_one(issue) == pytest.approx(row, abs=1e-5)
