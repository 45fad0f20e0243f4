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


# --- a rename made before the owner was first remembered ------------------------------------------

async def stored_delivery(db, delivery_id: str, *, login: str, owner_id: int, at: float) -> None:
    """A delivery the bot received (and keeps) from ``login``/Hello-World, owned then by ``owner_id``."""
    import json

    from bot.store import deliveries
    from tests.fixtures.webhooks import load_example

    payload = load_example("issue_comment", "created")
    payload["repository"].update(full_name=f"{login}/Hello-World",
                                 owner={**payload["repository"]["owner"], "login": login, "id": owner_id})
    await deliveries.insert(db, delivery_id=delivery_id, event="issue_comment", action="created",
                            repo=f"{login}/Hello-World", subject=f"{login}/Hello-World#1", installation_id=1,
                            body=json.dumps(payload), now=at)


async def test_a_rename_before_the_owner_was_first_remembered_is_followed_by_its_id(db):
    """alice signed (the version of the day kept no owners) while the organisation was
    Codertocat; it renamed itself OctoCorp before any PR was checked since. The deliveries the
    bot kept from then say, in GitHub's words, that Codertocat was account OWNER_ID: the same id
    as OctoCorp's, so the old key's signatures are the owner's."""
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await stored_delivery(db, "d-old", login="Codertocat", owner_id=OWNER_ID, at=AT.timestamp() - 86400)
    actions = await check(db, renamed_payload("OctoCorp"))
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    assert any("codertocat" in n.text and "octocorp" in n.text for n in of(actions, Note))
    await apply_records(db, actions)
    assert await signers(db, "octocorp") == [("alice", "1")]
    assert await signers(db, "codertocat") == [("alice", "1")]        # copied, not moved
    again = await check(db, renamed_payload("OctoCorp"))              # searched once: nothing more
    assert of(again, UpsertCheckRun)[0].conclusion == "success"
    assert not [a for a in of(again, Record) if a.op == "owner_seen"]


async def test_an_owner_remembered_after_its_rename_by_the_previous_version_is_searched_once(db):
    # The previous version first saw the owner as OctoCorp, after the rename: it copied nothing.
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await stored_delivery(db, "d-old", login="Codertocat", owner_id=OWNER_ID, at=AT.timestamp() - 86400)
    await db.execute("INSERT INTO cla_owners (owner_id, login, seen_at) VALUES (?, ?, ?)",
                     (OWNER_ID, "octocorp", AT.timestamp() - 3600))
    actions = await check(db, renamed_payload("OctoCorp"))
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    await apply_records(db, actions)
    assert await signers(db, "octocorp") == [("alice", "1")]


async def test_a_repository_transferred_from_the_old_login_brings_no_signatures(db):
    # Codertocat/Hello-World moved to OctoCorp, another account: Codertocat's deliveries say so.
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await stored_delivery(db, "d-old", login="Codertocat", owner_id=777, at=AT.timestamp() - 86400)
    actions = await check(db, renamed_payload("OctoCorp"))
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"
    await apply_records(db, actions)
    assert await signers(db, "octocorp") == []


async def test_an_old_login_two_accounts_held_is_not_guessed(db):
    # OctoCorp was Codertocat; someone else took Codertocat since: whose signatures are whose
    # under that key is not known, so none is copied (export and /cla record recover them).
    await store.sign(db, agreement="codertocat", user_id=101, login="alice", version="1", signed_at=1.0)
    await stored_delivery(db, "d-old", login="Codertocat", owner_id=OWNER_ID, at=AT.timestamp() - 86400)
    await stored_delivery(db, "d-new", login="codertocat", owner_id=777, at=AT.timestamp() - 3600)
    actions = await check(db, renamed_payload("OctoCorp"))
    assert of(actions, UpsertCheckRun)[0].conclusion == "action_required"


async def test_a_signature_remembers_the_owner_so_a_later_rename_is_followed(db):
    """alice signs on an issue; the owner renames itself before any PR is checked: the
    signature's own event remembered who the owner was."""
    from .test_signing import PHRASE, comment_payload

    reader = reader_for({}, {})
    event, ctx = make_context("issue_comment", comment_payload(PHRASE, number=7, on_pr=False), db=db,
                              reader=reader, received=AT)
    await apply_records(db, await handlers.on_comment(event, ctx))
    assert (await store.owner_login(db, OWNER_ID))["login"] == "codertocat"
    later = renamed_payload("OctoCorp")
    pr = later["pull_request"]
    event, ctx = make_context("pull_request", later, db=db, reader=reader_for({2: pr}, {2: [api_commit("1" * 40)]}),
                              received=AT.replace(hour=13))
    actions = await handlers.on_pull_request(event, ctx)
    assert of(actions, UpsertCheckRun)[0].conclusion == "success"
    await apply_records(db, actions)
    assert await signers(db, "octocorp") == [("alice", "1")]
