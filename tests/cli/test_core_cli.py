"""The operator commands as a person runs them: `python -m bot ...` in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.core_commands import load_recording

ROOT = Path(__file__).resolve().parents[2]


def bot(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("command", [[], ["serve"], ["check-rules"], ["replay"], ["deliveries"],
                                     ["deliveries", "retry"]])
def test_every_command_has_help(command):
    out = bot(*command, "--help")
    assert out.returncode == 0 and "usage:" in out.stdout


def test_serve_without_secret_names_the_missing_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_WEBHOOK_SECRET"}
    out = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "GITHUB_WEBHOOK_SECRET" in out.stderr


def test_check_rules_lists_every_problem_and_exits_1(tmp_path):
    good = bot("check-rules")
    assert good.returncode == 0, good.stdout + good.stderr
    config = tmp_path / "contributor-flow.yml"
    config.write_text("core:\n  max_attempts: zero\n  nonsense: 1\n")
    out = bot("check-rules", str(config))
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert "core.max_attempts" in text and "core.nonsense" in text and ":2:" in text and ":3:" in text


def test_load_recording_reads_both_forms(tmp_path):
    payload = {"action": "opened", "issue": {"number": 3}}
    simple = tmp_path / "a.json"
    simple.write_text(json.dumps({"event": "issues", "payload": payload}))
    wire = tmp_path / "b.json"
    wire.write_text(json.dumps({"headers": {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "abc"},
                                "body": json.dumps(payload)}))
    assert load_recording(str(simple))[0] == "issues"
    event, delivery, body = load_recording(str(wire))
    assert (event, delivery, json.loads(body)) == ("issues", "abc", payload)
    bad = tmp_path / "c.json"
    bad.write_text("{}")
    with pytest.raises(ValueError):
        load_recording(str(bad))


def test_deliveries_list_json_and_retry(tmp_path):
    import asyncio

    from bot.store import deliveries
    from bot.store.db import connect
    from bot.store.migrate import migrate

    url = f"sqlite:///{tmp_path}/ops.sqlite3"

    async def seed():
        db = await connect(url)
        await migrate(db, [("core", "bot.store.migrations")])
        for i, subject in enumerate(["o/r#1", "o/r#2"]):
            await deliveries.insert(db, delivery_id=f"d{i}", event="issues", action="opened",
                                    repo="o/r", subject=subject, installation_id=1, body="{}")
        [d, _] = await deliveries.claim(db, worker="w", busy_subjects=set(), limit=2)
        await deliveries.fail(db, d.seq, error="boom", max_attempts=1, retry_at=0)
        await db.close()

    asyncio.run(seed())
    env = {"DATABASE_URL": url}
    listed = json.loads(bot("deliveries", "--json", env=env).stdout)
    assert {(r["delivery_id"], r["status"]) for r in listed} == {("d0", "dead"), ("d1", "processing")}
    assert {"delivery_id", "event", "action", "status", "attempts", "received_at"} <= set(listed[0])
    dead = bot("deliveries", "--status", "dead", env=env)
    assert "d0" in dead.stdout and "d1" not in dead.stdout
    assert bot("deliveries", "retry", "--dead", env=env).stdout.strip() == "re-queued 1 delivery"
    unknown = bot("deliveries", "retry", "nope", env=env)
    assert unknown.returncode == 1 and "no delivery 'nope'" in unknown.stderr
    busy = bot("deliveries", "retry", "d1", env=env)
    assert busy.returncode == 1 and "is processing" in busy.stderr
    again = json.loads(bot("deliveries", "--json", env=env).stdout)
    assert {r["delivery_id"]: r["status"] for r in again}["d0"] == "pending"
