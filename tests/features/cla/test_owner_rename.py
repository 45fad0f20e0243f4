"""The default agreement is keyed by the repository owner's login: an owner renaming its login
(same id) keeps its signatures; a transfer to another owner does not bring them."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.core.actions import Note, Record, UpsertCheckRun
from bot.features.cla import handlers, store
from .conftest import api_commit, apply_records, cla_rules, make_context, pr_payload, reader_for

OWNER_ID = 21031067      # Codertocat in GitHub's example payloads
AT = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


async def signers(db, agreement):
    return sorted((r["login"], r["version"]) for r in await store.all_signatures(db) if r["agreement"] == agreement)


async def test_a_new_login_for_the_same_owner_copies_its_signatures_once(db):
    await store.sign(db, agreement="acme", user_id=101, login="alice", version="1", signed_at=1.0)
    await store.sign(db, agreement="acme", user_id=102, login="bob", version="2", signed_at=2.0)
    await store.sign(db, agreement="other", user_id=103, login="carol", version="1", signed_at=3.0)
    await store.owner_seen(db, owner_id=5, login="Acme", seen_at=10.0)        # first sight: remembered
    assert await signers(db, "acme-labs") == []
    await store.owner_seen(db, owner_id=5, login="acme-labs", seen_at=20.0)   # renamed
    assert await signers(db, "acme-labs") == [("alice", "1"), ("bob", "2")]
    assert await signers(db, "acme") == [("alice", "1"), ("bob", "2")]      # copied, not moved
    assert await signers(db, "other") == [("carol", "1")]
    await store.sign(db, agreement="acme-labs", user_id=104, login="dave", version="1", signed_at=21.0)
    for _ in range(2):                                                        # seen again: nothing more
        await store.owner_seen(db, owner_id=5, login="acme-labs", seen_at=30.0)
    assert await signers(db, "acme-labs") == [("alice", "1"), ("bob", "2"), ("dave", "1")]
    assert await signers(db, "acme") == [("alice", "1"), ("bob", "2")]      # later signatures stay new
    # a delivery sent before the rename, processed after it, is no rename back
    await store.owner_seen(db, owner_id=5, login="acme", seen_at=15.0)
    assert (await store.owner_login(db, 5))["login"] == "acme-labs"
    assert await signers(db, "acme") == [("alice", "1"), ("bob", "2")]


def renamed_payload(login: str, owner_id: int = OWNER_ID) -> dict:
    """A synchronize from Codertocat/Hello-World after its owner became ``login``."""
    payload = pr_payload("synchronize", head="1" * 40)
    owner = {**payload["repository"]["owner"], "login": login, "id": owner_id}
    for repo in (payload["repository"], payload["pull_request"]["base"]["repo"]):
        repo.update(full_name=f"{login}/Hello-World", owner=owner)
    return payload


async def check(db, payload, rules=None):
    pr = payload["pull_request"]
    reader = reader_for({2: pr}, {2: [api_commit("1" * 40)]})
    event, ctx = make_context("pull_request", payload, db=db, reader=reader, rules=rules, received=AT)
    return await handlers.on_pull_request(event, ctx)


async def test_a_pr_after_the_owner_renamed_its_login_finds_the_signatures(db):
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await apply_records(db, await check(db, pr_payload("opened")))    # the owner is remembered as it was
    assert (await store.owner_login(db, OWNER_ID))["login"] == "codertocat"

    actions = await check(db, renamed_payload("OctoCorp"))
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"   # decided before the copy is written
    assert [a.op for a in of(actions, Record)][0] == "owner_seen"
    assert any("codertocat is octocorp now" in n.text for n in of(actions, Note))
    await apply_records(db, actions)
    assert await signers(db, "octocorp") == [("alice", "1")]
    assert await signers(db, "codertocat") == [("alice", "1")]
    again = await check(db, renamed_payload("OctoCorp"))
    assert of(again, UpsertCheckRun)[0].conclusion == "success"
    assert not [a for a in of(again, Record) if a.op == "owner_seen"]


async def test_a_repository_naming_the_old_login_as_its_agreement_keeps_it(db):
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await apply_records(db, await check(db, pr_payload("opened")))
    rules = cla_rules({"agreement": "codertocat"})
    actions = await check(db, renamed_payload("OctoCorp"), rules=rules)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    await apply_records(db, actions)
    assert await signers(db, "codertocat") == [("alice", "1")]


async def test_a_transfer_to_another_owner_brings_no_signatures(db):
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await apply_records(db, await check(db, pr_payload("opened")))
    actions = await check(db, renamed_payload("OtherCorp", owner_id=999))
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"
    await apply_records(db, actions)
    assert await signers(db, "othercorp") == []
    assert (await store.owner_login(db, 999))["login"] == "othercorp"
