"""Lines borrowed from other features (CLA, patch pipeline) and the expected response time."""
from __future__ import annotations

import sys
import types

import pytest

from bot.features.pr_context import status
from bot.rules.loader import Rules
from tests.helpers import make_context

from .payloads import pr_payload


def ctx_with(sections, db=None):
    rules = Rules({"core": {"enabled": True}, **sections})
    return make_context("pull_request", pr_payload(), db=db, rules=rules)[1]


def fake_feature(monkeypatch, name, fn, section="pipeline"):
    module = types.ModuleType(name)
    if fn is not None:
        module.status_line = fn
    module.FEATURE = types.SimpleNamespace(rules=types.SimpleNamespace(name=section))
    monkeypatch.setitem(sys.modules, name, module)


async def test_cla_line_is_borrowed_with_repo_and_sha(monkeypatch):
    seen = []

    async def status_line(db, repo, sha):
        seen.append((db, repo, sha))
        return "CLA: signed by everyone"
    fake_feature(monkeypatch, "bot.features.cla", status_line, section="cla")
    ctx = ctx_with({"cla": {"enabled": True}}, db="DB")
    assert await status.cla_line(ctx, "o/r", "abc") == "CLA: signed by everyone"
    assert seen == [("DB", "o/r", "abc")]


async def test_patch_line_may_be_a_plain_function(monkeypatch):
    fake_feature(monkeypatch, "bot.features.patch_pipeline",
                 lambda db, repo, number, head: f"Patch #{number} at {head}: ok")
    ctx = ctx_with({"pipeline": {"enabled": True}})
    assert await status.patch_line(ctx, "o/r", 7, "abc") == "Patch #7 at abc: ok"


@pytest.mark.parametrize("sections, fn", [
    ({}, lambda *a: "never"),                                   # feature not registered
    ({"pipeline": {"enabled": False}}, lambda *a: "never"),     # switched off (its own section)
    ({"pipeline": {"enabled": True}}, None),                    # no status_line exported
    ({"pipeline": {"enabled": True}}, lambda *a: None),         # nothing to say
    ({"pipeline": {"enabled": True}}, lambda *a: 1 / 0),        # its bug is not the card's
])
async def test_no_patch_line(monkeypatch, sections, fn):
    fake_feature(monkeypatch, "bot.features.patch_pipeline", fn)
    assert await status.patch_line(ctx_with(sections), "o/r", 7, "abc") is None


async def test_missing_module_shows_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "bot.features.patch_pipeline", None)  # import raises
    ctx = ctx_with({"pipeline": {"enabled": True}})
    assert await status.patch_line(ctx, "o/r", 7, "abc") is None


def policy(**kw):
    return {"name": "p", "item_types": ["pull_request"], "kinds": [], "labels": [], "target": 86400.0, **kw}


@pytest.mark.parametrize("name, sla, labels, expected", [
    ("no sla section: own value", None, (), "3 days"),
    ("sla off", {"enabled": False, "policies": [policy()]}, (), "3 days"),
    ("policy for PRs", {"enabled": True, "policies": [policy()]}, (), "1 day"),
    ("issues only", {"enabled": True, "policies": [policy(item_types=["issue"])]}, (), "3 days"),
    ("kind policies wait for the classifier", {"enabled": True, "policies": [policy(kinds=["bug"])]},
     (), "3 days"),
    ("label policy, label absent", {"enabled": True, "policies": [policy(labels=["security"])]},
     (), "3 days"),
    ("label policy, label present", {"enabled": True, "policies": [policy(labels=["security"], target=3600.0)]},
     ("security",), "1 hour"),
    ("tightest wins", {"enabled": True, "policies": [policy(), policy(target=43200.0)]}, (), "12 hours"),
])
def test_response_time(name, sla, labels, expected):
    ctx = ctx_with({"sla": sla} if sla else {})
    assert status.response_time(ctx, 259200.0, frozenset(labels)) == expected, name


async def test_real_features_lines_reach_the_card_module(db):
    """The CLA and patch features' own readers, fed through their own writers."""
    from bot.features import cla, patch_pipeline

    from .payloads import rules_with

    ctx = make_context("pull_request", pr_payload(), db=db, rules=rules_with())[1]
    assert await status.cla_line(ctx, "o/r", "a" * 40) is None    # never checked: no line
    await cla.FEATURE.writers["pr_status"](
        db, repo="o/r", number=7, head_sha="a" * 40, state="yes", conclusion="success", missing=[],
        unlinked=0, dco=0, commented=False, updated_at=1.0)
    assert await status.cla_line(ctx, "o/r", "a" * 40) == "CLA: ✅ everyone is covered"
    await patch_pipeline.FEATURE.writers["record_rejection"](
        db, repo="o/r", number=7, head_sha="a" * 40, reason="no signature", patches=["x.patch"], at=1.0)
    assert (await status.patch_line(ctx, "o/r", 7, "a" * 40)).startswith("Patch signatures: ❌ not verified")
    # The PR's next head took its patches out: that verdict is not this head's.
    assert await status.patch_line(ctx, "o/r", 7, "b" * 40) is None


async def test_waiting_for_a_card_being_posted_is_no_attempt_of_the_checks_delivery(db):
    """The check's refresh waits (every CARD_WAIT_STEP, up to CARD_WAIT) for a card whose first
    posting is under way. Those waits are bounded by time, not by core.max_attempts: counted,
    a delivery with the default 6 attempts would end dead after about 12 s of waiting."""
    from bot.core.retry import RetryLater
    from bot.features.pr_context import store

    await store.await_card(db, repo="o/r", number=5)  # nothing being posted: no wait
    await store.card_posting(db, repo="o/r", number=5)
    with pytest.raises(RetryLater) as waited:
        await store.await_card(db, repo="o/r", number=5)
    assert waited.value.counted is False
