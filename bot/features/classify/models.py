"""Which text model a repository's issues are scored with, cached per process.

A model file named by ``classify.model_path`` (made by ``classify train``) wins; it is
re-read when the file changes. Otherwise, once humans have confirmed enough kinds in
a repository, a model is trained from those examples (in a worker thread, about a
second) and kept until the number of examples changes.
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from typing import Any, Mapping

from ...classify import IssueText, ModelBundle, TextModel, train
from ...store.db import Database
from . import store

log = logging.getLogger("bot.classify")

_files: dict[str, tuple[float, ModelBundle | None]] = {}
_feedback: dict[str, tuple[int, TextModel | None]] = {}


def load_file(path: str) -> ModelBundle | None:
    """The bundle at ``path``, or None (logged once per change) when it cannot be read."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = -1.0
    cached = _files.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    bundle = None
    if mtime < 0:
        log.error("classifier model %s does not exist; using rule signals only", path)
    else:
        try:
            bundle = ModelBundle.load(path)
        except Exception as exc:  # a broken file must not stop classification
            log.error("classifier model %s cannot be read (%s); using rule signals only", path, exc)
    _files[path] = (mtime, bundle)
    return bundle


async def feedback_model(db: Database, repo: str, min_per_kind: int) -> TextModel | None:
    count = await store.example_count(db, repo)
    cached = _feedback.get(repo)
    if cached and cached[0] == count:
        return cached[1]
    rows = await store.examples(db, repo)
    per_kind = Counter(r["kind"] for r in rows)
    model = None
    if sum(1 for n in per_kind.values() if n >= min_per_kind) >= 2:
        usable = [(IssueText.of(r["title"], r["body"]), r["kind"]) for r in rows if per_kind[r["kind"]] >= min_per_kind]
        model = await asyncio.to_thread(train, usable)
    _feedback[repo] = (count, model)
    return model


async def model_for(db: Database, repo: str, section: Mapping[str, Any]) -> tuple[TextModel | None, str]:
    """(model, a name for the decision record)."""
    path = section.get("model_path") or ""
    if path:
        bundle = await asyncio.to_thread(load_file, path)
        if bundle is not None:
            model = bundle.model_for(repo)
            if model is not None:
                key = repo.lower() if repo.lower() in bundle.models else "*"
                return model, f"file:{os.path.basename(path)}[{key}]"
    if section.get("learn_from_feedback"):
        model = await feedback_model(db, repo, int(section.get("feedback_min_per_kind") or 10))
        if model is not None:
            return model, f"feedback[{model.n_examples} examples]"
    return None, ""


def forget() -> None:
    """Drop cached models (tests)."""
    _files.clear()
    _feedback.clear()
