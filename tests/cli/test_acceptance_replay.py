"""Acceptance (issue 2): `python -m bot replay` answers a malformed recording with a clear
message and exit 1 (no traceback), and still replays the good files given with it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_malformed_recordings_get_a_clear_answer_and_the_rest_is_replayed(tmp_path):
    bad_types = tmp_path / "bad-types.json"
    bad_types.write_text(json.dumps({"event": "issues", "payload": {"action": "opened", "repository": "x/y"}}))
    not_object = tmp_path / "list.json"
    not_object.write_text(json.dumps({"event": "issues", "payload": [1, 2]}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"event": "ping", "payload": {"zen": "Keep it logically awesome."}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    out = subprocess.run([sys.executable, "-m", "bot", "replay", str(bad_types), str(not_object), str(good)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr, out.stderr
    assert f"{bad_types}:" in out.stderr and f"{not_object}:" in out.stderr
    assert f"== {good}: ping" in out.stdout
