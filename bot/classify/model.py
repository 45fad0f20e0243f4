"""The learned text model: TF-IDF word and character n-grams of title and body, the
fixed phrase features, and a linear SVM, trained per repository.

Why this and not sentence embeddings: on ~300 labelled issues per repository it trains in
about a second on the CPU and scores an issue in about a millisecond, with no model
download and a file of plain arrays. A frozen MiniLM encoder beside it adds up to about
0.02 macro F1, but only by reading 128-256 tokens at 11-30 ms per issue; quantised to int8
and cut to what fits in 5 ms, it adds 0.003 (benchmarks/classify_embeddings.py, README).
Models are stored without
pickle (``numpy.savez`` of vocabularies, idf weights and coefficients, loaded with
``allow_pickle=False``), so a model file is data, never code.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .phrases import FEATURE_SET_VERSION, N_FEATURES, phrase_vector
from .text import IssueText, clean_body

FORMAT = "contributor-flow/classifier"
GLOBAL = "*"  # the key of the model trained on every repository's examples


@dataclass(frozen=True)
class BlockSpec:
    """One vectorised view of an issue: which text, which analyser, how much it weighs."""
    name: str
    source: str        # "title" | "body"
    analyzer: str      # "word" | "char_wb"
    ngram_max: int
    weight: float


BLOCKS: tuple[BlockSpec, ...] = (
    BlockSpec("title_words", "title", "word", 2, 1.0),
    BlockSpec("title_chars", "title", "char_wb", 5, 1.0),
    BlockSpec("body_words", "body", "word", 2, 1.3),
    BlockSpec("body_chars", "body", "char_wb", 5, 1.3),
)
PHRASE_WEIGHT = 0.3
DEFAULT_C = 0.5
# Decision values of the SVM are turned into a distribution with this temperature;
# chosen so that a clear margin (about 1) reads as a confidence around 0.8.
SOFTMAX_SCALE = 2.5
_TOKEN_PATTERN = r"(?u)\b\w+\b|\?"  # "?" is a word: it marks questions


def _vectorizer(spec: BlockSpec, min_df: int, vocabulary: Mapping[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    kwargs = dict(sublinear_tf=True, analyzer=spec.analyzer, ngram_range=(1 if spec.analyzer == "word" else 2,
                                                                          spec.ngram_max),
                  dtype=np.float32)
    if spec.analyzer == "word":
        kwargs["token_pattern"] = _TOKEN_PATTERN
    if vocabulary is not None:
        return TfidfVectorizer(vocabulary=vocabulary, **kwargs)
    return TfidfVectorizer(min_df=min_df, **kwargs)


def _source(spec: BlockSpec, issues: Sequence[IssueText]) -> list[str]:
    if spec.source == "title":
        return [i.title for i in issues]
    return [clean_body(i.body) for i in issues]


@dataclass
class TextModel:
    classes: list[str]
    blocks: list[tuple[BlockSpec, object]]   # fitted vectorizers; a block with no vocabulary is left out
    coef: np.ndarray                          # (n_classes, n_features)
    intercept: np.ndarray                     # (n_classes,)
    n_examples: int = 0
    meta: dict = field(default_factory=dict)
    _fast: "_FastScorer | None" = field(default=None, repr=False, compare=False)

    def _features(self, issues: Sequence[IssueText]) -> sp.csr_matrix:
        mats = [vec.transform(_source(spec, issues)) * spec.weight for spec, vec in self.blocks]
        phrases = np.array([phrase_vector(i.title, i.body) for i in issues], dtype=np.float32)
        mats.append(sp.csr_matrix(phrases * PHRASE_WEIGHT))
        return sp.hstack(mats, format="csr")

    def decision(self, issues: Sequence[IssueText]) -> np.ndarray:
        return np.asarray(self._features(issues) @ self.coef.T) + self.intercept

    def predict(self, issues: Sequence[IssueText]) -> list[str]:
        return [self.classes[i] for i in self.decision(issues).argmax(axis=1)]

    def decision_one(self, issue: IssueText) -> np.ndarray:
        """The same scores as ``decision([issue])[0]``, without building sparse matrices:
        sklearn's per-call input validation costs more than the arithmetic for one issue,
        and the bot classifies one issue at a time."""
        if self._fast is None:
            self._fast = _FastScorer(self)
        return self._fast(issue)

    def probabilities(self, issue: IssueText) -> dict[str, float]:
        scores = self.decision_one(issue) * SOFTMAX_SCALE
        top = float(scores.max())
        exp = [math.exp(float(s) - top) for s in scores]
        total = sum(exp)
        return {cls: e / total for cls, e in zip(self.classes, exp)}


class _FastScorer:
    """Scores one issue: analyse each text, weigh its terms (sublinear tf x idf, l2 norm,
    block weight) and add up the matching coefficient columns."""

    def __init__(self, model: TextModel) -> None:
        self.intercept = np.asarray(model.intercept, dtype=np.float64)
        coef_t = np.ascontiguousarray(np.asarray(model.coef, dtype=np.float64).T)  # (n_features, n_classes)
        self.blocks = []
        offset = 0
        for spec, vec in model.blocks:
            size = len(vec.vocabulary_)
            self.blocks.append((spec, vec.build_analyzer(), vec.vocabulary_, np.asarray(vec.idf_, dtype=np.float64),
                                coef_t[offset:offset + size]))
            offset += size
        self.phrase_coef = coef_t[offset:] * PHRASE_WEIGHT

    def __call__(self, issue: IssueText) -> np.ndarray:
        scores = self.intercept.copy()
        texts = {"title": issue.title, "body": clean_body(issue.body)}
        for spec, analyze, vocabulary, idf, coef in self.blocks:
            found = [(vocabulary.get(term), n) for term, n in Counter(analyze(texts[spec.source])).items()]
            found = [(index, n) for index, n in found if index is not None]
            if not found:
                continue
            indices = np.fromiter((i for i, _ in found), dtype=np.int64, count=len(found))
            counts = np.fromiter((n for _, n in found), dtype=np.float64, count=len(found))
            values = (1.0 + np.log(counts)) * idf[indices]
            norm = float(np.sqrt(values @ values))
            if norm > 0:
                scores += (values / norm * spec.weight) @ coef[indices]
        scores += np.asarray(phrase_vector(issue.title, issue.body), dtype=np.float64) @ self.phrase_coef
        return scores


def train(examples: Sequence[tuple[IssueText, str]], *, C: float = DEFAULT_C) -> TextModel:
    """Fit one model. Needs at least two kinds among the examples."""
    from sklearn.svm import LinearSVC

    issues = [issue for issue, _ in examples]
    labels = np.array([label for _, label in examples])
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise ValueError(f"need examples of at least two kinds, got {classes or 'none'}")
    # On tiny sets (a few human-confirmed examples) a term seen once is all there is.
    min_df = 2 if len(examples) >= 100 else 1
    blocks = []
    for spec in BLOCKS:
        vec = _vectorizer(spec, min_df)
        try:
            vec.fit(_source(spec, issues))
        except ValueError:  # empty vocabulary: e.g. every body empty
            continue
        blocks.append((spec, vec))
    model = TextModel(classes=classes, blocks=blocks, coef=np.zeros((0, 0)), intercept=np.zeros(0),
                      n_examples=len(examples))
    X = model._features(issues)
    svm = LinearSVC(C=C).fit(X, labels)
    coef, intercept = svm.coef_, svm.intercept_
    if len(classes) == 2:  # binary SVMs keep one row: the second class's side
        coef = np.vstack([-coef[0], coef[0]])
        intercept = np.array([-intercept[0], intercept[0]])
    model.coef = coef.astype(np.float32)
    model.intercept = intercept.astype(np.float32)
    return model


@dataclass
class ModelBundle:
    """Models by repository (``owner/name``), plus ``*`` trained on everything."""
    models: dict[str, TextModel]
    meta: dict = field(default_factory=dict)

    def model_for(self, repo: str) -> TextModel | None:
        return self.models.get(repo.lower()) or self.models.get(GLOBAL)

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        index = []
        for m, (key, model) in enumerate(sorted(self.models.items())):
            blocks = []
            for b, (spec, vec) in enumerate(model.blocks):
                terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
                arrays[f"m{m}_b{b}_vocab"] = np.array(terms, dtype=str)
                arrays[f"m{m}_b{b}_idf"] = vec.idf_.astype(np.float32)
                blocks.append(spec.__dict__)
            arrays[f"m{m}_coef"] = model.coef
            arrays[f"m{m}_intercept"] = model.intercept
            index.append({"key": key, "classes": model.classes, "blocks": blocks,
                          "n_examples": model.n_examples, "meta": model.meta})
        header = {"format": FORMAT, "features": FEATURE_SET_VERSION, "phrases": N_FEATURES,
                  "models": index, "meta": self.meta}
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as fh:  # a file object: savez would append ".npz" to a bare name
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path} is not a contributor-flow classifier model")
            if header.get("features") != FEATURE_SET_VERSION or header.get("phrases") != N_FEATURES:
                raise ValueError(f"{path} was trained with another feature set; train it again")
            models = {}
            for m, entry in enumerate(header["models"]):
                blocks = []
                for b, raw in enumerate(entry["blocks"]):
                    spec = BlockSpec(**raw)
                    terms = data[f"m{m}_b{b}_vocab"].tolist()
                    vec = _vectorizer(spec, 1, vocabulary={t: i for i, t in enumerate(terms)})
                    vec.idf_ = data[f"m{m}_b{b}_idf"].astype(np.float64)
                    blocks.append((spec, vec))
                models[entry["key"]] = TextModel(
                    classes=list(entry["classes"]), blocks=blocks, coef=data[f"m{m}_coef"],
                    intercept=data[f"m{m}_intercept"], n_examples=int(entry.get("n_examples", 0)),
                    meta=dict(entry.get("meta") or {}))
        return cls(models=models, meta=dict(header.get("meta") or {}))


def train_bundle(examples: Sequence[tuple[str, IssueText, str]], *, per_repo_min: int = 30,
                 C: float = DEFAULT_C) -> ModelBundle:
    """Per-repository models where a repository has enough examples of two kinds or more,
    and a global model over all of them (the fallback for every other repository)."""
    by_repo: dict[str, list[tuple[IssueText, str]]] = {}
    for repo, issue, label in examples:
        by_repo.setdefault(repo.lower(), []).append((issue, label))
    models: dict[str, TextModel] = {}
    for repo, items in by_repo.items():
        if len(items) >= per_repo_min and len({label for _, label in items}) >= 2:
            models[repo] = train(items, C=C)
    everything = [(issue, label) for _, issue, label in examples]
    if len({label for _, label in everything}) >= 2:
        models[GLOBAL] = models[next(iter(by_repo))] if len(by_repo) == 1 and models else train(everything, C=C)
    return ModelBundle(models=models, meta={"repos": sorted(by_repo), "examples": len(examples)})
