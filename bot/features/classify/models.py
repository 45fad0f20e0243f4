"""Which text model a repository's issues are scored with, cached per process.

A model file named by ``classify.model_path`` (made by ``classify train``) wins; it is
re-read when the file changes. Otherwise the bot learns a model per repository from
what it knows of the repository: its labelled history (read by the classify-history
job) and the kinds humans confirmed, once two kinds have enough examples. That model
is trained in a worker thread (about 2.5 s for a thousand issues) and kept until its
examples change.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, OrderedDict
from typing import Any, Mapping

from ...classify import IssueText, ModelBundle, TextModel, train
from ...store.db import Database
from . import store
from .history import confirmed_examples, merged, stored_history

log = logging.getLogger("bot.classify")

# Learnt models kept per process: a model of a thousand issues is a few MB of
# vocabulary, and a bot installed on hundreds of repositories must not keep them all.
LEARNT_CACHE = 32
# Seconds a learnt model keeps serving after a human confirms another kind (see _still_good).
RETRAIN_AFTER = 300.0

_files: dict[str, tuple[float, ModelBundle | None]] = {}
# repo -> (what it was trained on, model, its name, when it was trained)
_learnt: "OrderedDict[str, tuple[tuple, TextModel | None, str, float]]" = OrderedDict()
_training: dict[str, asyncio.Lock] = {}


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


def _still_good(cached: tuple, key: tuple) -> bool:
    """The cached model serves while its examples are the same. A newly confirmed kind
    waits up to RETRAIN_AFTER while there is a model: training holds the GIL for a second
    or two, and a busy triage session should not pay that on every /kind. New history,
    or the first model, is trained at once."""
    if cached[0] == key:
        return True
    same_history = cached[0][0] == key[0] and cached[0][2] == key[2]
    return same_history and cached[1] is not None and time.monotonic() - cached[3] < RETRAIN_AFTER


async def learnt_model(db: Database, repo: str, section: Mapping[str, Any]) -> tuple[TextModel | None, str]:
    """The model learnt from the repository's history and confirmed kinds, and its name."""
    use_history, use_feedback = bool(section.get("learn_from_history")), bool(section.get("learn_from_feedback"))
    read = await store.history_read(db, repo) if use_history else None
    stamp = await store.examples_stamp(db, repo) if use_feedback else (0, 0.0)
    key = (read and read["read_at"], stamp, int(section.get("feedback_min_per_kind") or 10))
    cached = _learnt.get(repo)
    if cached and _still_good(cached, key):
        _learnt.move_to_end(repo)
        return cached[1], cached[2]
    async with _training.setdefault(repo, asyncio.Lock()):  # two deliveries at once train it once
        cached = _learnt.get(repo)
        if cached and _still_good(cached, key):
            return cached[1], cached[2]
        history = await stored_history(db, repo) if read else []
        confirmed = await confirmed_examples(db, repo) if use_feedback else []
        rows = merged(history, confirmed)
        per_kind = Counter(ex.kind for ex in rows)
        model, name = None, ""
        if sum(1 for n in per_kind.values() if n >= key[2]) >= 2:
            usable = [ex for ex in rows if per_kind[ex.kind] >= key[2]]  # a kind with too few is left out
            model = await asyncio.to_thread(train, [(IssueText.of(ex.title, ex.body), ex.kind) for ex in usable])
            confirmed_set = set(confirmed)
            mine = sum(1 for ex in usable if ex in confirmed_set)
            name = (f"learnt[{len(usable)} examples: {len(usable) - mine} from history, {mine} confirmed]"
                    if read else f"feedback[{len(usable)} examples]")
        _learnt[repo] = (key, model, name, time.monotonic())
        _learnt.move_to_end(repo)
        while len(_learnt) > LEARNT_CACHE:
            _learnt.popitem(last=False)
        return model, name


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
    if section.get("learn_from_history") or section.get("learn_from_feedback"):
        return await learnt_model(db, repo, section)
    return None, ""


def forget() -> None:
    """Drop cached models (tests)."""
    _files.clear()
    _learnt.clear()
    _training.clear()
