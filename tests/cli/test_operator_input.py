"""What an operator gets wrong (environment, files, dates, options, the database) is told in
one line with a non-zero exit status, never a Python traceback; usage mistakes exit 2."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

CONFIG_VARS = ("BOT_WORKER_CONCURRENCY", "BOT_MUTATION_INTERVAL", "BOT_RETRY_BASE", "BOT_STALE_AFTER",
               "LOG_LEVEL", "LOG_FORMAT", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_FILE",
               "BOT_RULES_DIR", "PORT", "BOT_DASHBOARD_TOKEN", "BOT_INTAKE_BUDGET_MB")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean configuration on a scratch SQLite file; returns a setter."""
    for name in CONFIG_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "x")

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def bot(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


# --- environment ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,value", [
    ("BOT_WORKER_CONCURRENCY", "eight"), ("BOT_WORKER_CONCURRENCY", "0"), ("BOT_WORKER_CONCURRENCY", "2.5"),
    ("BOT_MUTATION_INTERVAL", "1s"), ("BOT_MUTATION_INTERVAL", "-1"), ("BOT_MUTATION_INTERVAL", "nan"),
    ("BOT_RETRY_BASE", "five"), ("BOT_RETRY_BASE", "inf"),
    ("BOT_STALE_AFTER", "90s"), ("BOT_STALE_AFTER", "0"),
    ("BOT_INTAKE_BUDGET_MB", "0"), ("BOT_INTAKE_BUDGET_MB", "64MB"),
    ("LOG_LEVEL", "verbose"), ("LOG_FORMAT", "xml"),
])
def test_a_bad_setting_is_named_in_one_line(env, capsys, name, value):
    env(**{name: value})
    code, out, err = run(["deliveries"], capsys)
    assert code == 1 and out == ""
    assert name in err and repr(value) in err and len(err.strip().splitlines()) == 1


def test_good_settings_are_taken(env, capsys):
    from bot.settings import Settings

    env(BOT_WORKER_CONCURRENCY="3", BOT_MUTATION_INTERVAL="0", BOT_RETRY_BASE="0.1", BOT_STALE_AFTER="10",
        LOG_LEVEL="debug", LOG_FORMAT="JSON", BOT_INTAKE_BUDGET_MB="100")
    s = Settings.from_env()
    assert s.intake_budget == 100 * 1024 * 1024
    assert (s.worker_concurrency, s.mutation_interval, s.retry_base, s.stale_after) == (3, 0.0, 0.1, 10.0)
    assert (s.log_level, s.log_format) == ("DEBUG", "json")
    assert run(["deliveries"], capsys)[0] == 0


def test_the_dashboard_token_is_read_when_asked_and_never_printed(env, monkeypatch):
    from bot.settings import Settings

    assert Settings.from_env().dashboard_token is None
    env(BOT_DASHBOARD_TOKEN="s3cret\n")                 # as read from a secrets file
    settings = Settings.from_env()
    assert settings.dashboard_token == "s3cret" and "s3cret" not in repr(settings)


@pytest.mark.parametrize("url", ["mysql://u:secret@db/x", "var/bot.sqlite3"])
def test_a_database_url_of_another_kind_is_refused(env, capsys, url):
    env(DATABASE_URL=url)
    code, _, err = run(["deliveries"], capsys)
    assert code == 1 and "DATABASE_URL" in err and "secret" not in err


def test_private_key_file_that_is_not_pem_text(env, capsys, tmp_path):
    der = tmp_path / "key.der"
    der.write_bytes(b"\x30\x82\x04\xa4\x02\x01\x00\xff\xfe")
    env(GITHUB_APP_ID="1", GITHUB_PRIVATE_KEY_FILE=str(der))
    code, _, err = run(["deliveries"], capsys)
    assert code == 1 and "GITHUB_PRIVATE_KEY_FILE" in err and "Traceback" not in err


def test_private_key_that_is_not_a_key(env, capsys):
    # Before, this only failed at the first JWT: a traceback from `recover`, and every
    # delivery of `serve` failing until it was dead.
    env(GITHUB_APP_ID="1", GITHUB_PRIVATE_KEY="not a key", GITHUB_API_URL="http://127.0.0.1:9")
    code, _, err = run(["recover"], capsys)
    assert code == 1 and "GITHUB_PRIVATE_KEY is not a PEM private key" in err


def test_a_real_key_is_accepted_in_its_one_line_form(env):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bot.settings import Settings

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    env(GITHUB_APP_ID="1", GITHUB_PRIVATE_KEY=pem.replace("\n", "\\n"))
    assert Settings.from_env().private_key == pem


def test_port_variable_that_is_not_a_port(env, capsys):
    env(PORT="http")
    code, _, err = run(["serve"], capsys)
    assert code == 1 and "PORT must be a port number" in err


def test_port_option_out_of_range_is_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "99999"])
    assert exited.value.code == 2 and "--port" in capsys.readouterr().err


# --- the database -----------------------------------------------------------------------------

def test_sqlite_file_that_is_not_a_database(env, capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are not the tables you are looking for\n" * 100)
    env(DATABASE_URL=f"sqlite:///{notes}")
    code, _, err = run(["deliveries"], capsys)
    assert code == 1 and str(notes) in err and "not a database" in err
    assert len(err.strip().splitlines()) == 1


def test_sqlite_file_in_a_directory_that_cannot_be_made(env, capsys, tmp_path):
    (tmp_path / "plain").write_text("a file, not a directory")
    env(DATABASE_URL=f"sqlite:///{tmp_path}/plain/bot.sqlite3")
    code, _, err = run(["cla", "export"], capsys)
    assert code == 1 and "plain" in err and len(err.strip().splitlines()) == 1


def test_unreachable_postgresql_is_told_without_the_password(tmp_path):
    out = bot("deliveries", env={"DATABASE_URL": "postgresql://bot:hunter2@127.0.0.1:9/contributor_flow"})
    assert out.returncode == 1 and "Traceback" not in out.stderr and "hunter2" not in out.stderr
    # (the pool's own warnings, saying why, come first)
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect to the database (postgresql://***@127.0.0.1:9/")


# --- serve ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_port_already_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = bot("serve", "--host", "127.0.0.1", "--port", str(port), timeout=60,
                  env={"DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3", "GITHUB_WEBHOOK_SECRET": "x",
                       "LOG_LEVEL": "WARNING"})
    assert out.returncode == 1 and "address already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_second_serve_on_one_sqlite_file_is_refused(tmp_path):
    """README: 'SQLite is for exactly one process (the file is locked by that process)'. A second
    worker would put the first one's unfinished deliveries back in line at its start-up."""
    import urllib.request

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3", "GITHUB_WEBHOOK_SECRET": "x",
           "LOG_LEVEL": "WARNING"}
    port = _free_port()
    first = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert first.poll() is None, "the first serve exited"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the first serve never became ready"
                time.sleep(0.2)
        second = subprocess.run([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1",
                                 "--port", str(_free_port())], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 1
        assert "already running on the SQLite database" in second.stderr and "Traceback" not in second.stderr
        # The operator commands still work next to it.
        assert bot("deliveries", env=env).returncode == 0
    finally:
        first.terminate()
        first.wait(40)


# --- files and options of the commands ----------------------------------------------------------

def test_impact_with_a_missing_config_or_codeowners_file(env, capsys, tmp_path):
    code, _, err = run(["impact", "--config", str(tmp_path / "nope.yml"), "docs/a.md"], capsys)
    assert code == 1 and "--config" in err and "nope.yml" in err
    code, _, err = run(["impact", "--codeowners", str(tmp_path / "CODEOWNERS"), "docs/a.md"], capsys)
    assert code == 1 and "--codeowners" in err and "CODEOWNERS" in err


def test_impact_with_a_rules_directory_that_does_not_exist(env, capsys, tmp_path):
    code, _, err = run(["impact", "--rules", str(tmp_path / "rulez"), "docs/a.md"], capsys)
    assert code == 1 and "rules directory not found" in err


def test_impact_reads_its_files(env, capsys, tmp_path):
    owners = tmp_path / "CODEOWNERS"
    owners.write_text("/docs/ @doc-team\n")
    code, out, _ = run(["impact", "--codeowners", str(owners), "docs/a.md"], capsys)
    assert code == 0 and "direct      docs" in out


def test_check_rules_names_a_rules_file_that_is_not_utf8(env, capsys, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "core.yml").write_bytes(b"\xff\xfemax_attempts: 3\n")
    code, out, err = run(["check-rules", str(rules)], capsys)
    assert code == 1 and "core.yml: not UTF-8 text" in out + err


def test_sla_report_with_since_after_until(env, capsys):
    code, _, err = run(["sla", "report", "--repo", "o/r", "--since", "2026-02-01", "--until", "2026-01-01"],
                       capsys)
    assert code == 1 and "--since must be before --until" in err


def _csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["repo,created_at,label,title,body"]
    lines += [f"{repo},2024-01-01,{label},{label} title {i},{label} body {i}" for i, (repo, label) in
              enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("argv", [
    ["classify", "train", "--csv", "x.csv", "--out", "m.npz", "--label", "enhancement"],
    ["classify", "eval", "--train", "x.csv", "--folds", "0"],
    ["classify", "eval", "--train", "x.csv", "--folds", "1"],
])
def test_classify_option_mistakes_are_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "error: argument" in capsys.readouterr().err


def test_classify_train_on_one_kind_writes_nothing_and_says_so(env, capsys, tmp_path):
    data = _csv(tmp_path / "bugs.csv", [("o/r", "bug")] * 40)
    model = tmp_path / "m.npz"
    code, out, err = run(["classify", "train", "--csv", str(data), "--out", str(model)], capsys)
    assert code == 1 and "at least two kinds" in err and not model.exists()


def test_classify_train_to_a_directory_that_does_not_exist(env, capsys, tmp_path):
    data = _csv(tmp_path / "mixed.csv", [("o/r", "bug"), ("o/r", "feature")] * 5)
    code, _, err = run(["classify", "train", "--csv", str(data), "--out", str(tmp_path / "no" / "m.npz")],
                       capsys)
    assert code == 1 and "cannot write" in err


def test_classify_eval_on_data_it_cannot_score(env, capsys, tmp_path):
    one_kind = _csv(tmp_path / "bugs.csv", [("o/r", "bug")] * 20)
    code, _, err = run(["classify", "eval", "--train", str(one_kind)], capsys)
    assert code == 1 and err.startswith("error:") and "two kinds" in err
    few = _csv(tmp_path / "few.csv", [("o/r", "bug"), ("o/r", "feature")] * 2 + [("o/big", "bug"),
                                                                                  ("o/big", "feature")] * 10)
    code, _, err = run(["classify", "eval", "--train", str(few), "--folds", "5"], capsys)
    assert code == 1 and "fewer labelled issues than --folds 5 in o/r" in err


def test_replay_names_what_is_wrong_with_a_recording_once(env, capsys, tmp_path):
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    no_event = tmp_path / "no-event.json"
    no_event.write_text(json.dumps({"headers": {"X-GitHub-Delivery": "d1"}, "body": {"action": "opened"}}))
    code, out, err = run(["replay", str(array), str(no_event)], capsys)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"{array}: expected a JSON object {{event, payload}} or {{headers, body}}"
    assert lines[1].startswith(f"{no_event}: ") and "X-GitHub-Event" in lines[1]


def test_deliveries_limit_must_be_positive(capsys):
    # SQLite read LIMIT -1 as "no limit", PostgreSQL refused it with an error.
    with pytest.raises(SystemExit) as exited:
        main(["deliveries", "--limit", "-1"])
    assert exited.value.code == 2 and "--limit" in capsys.readouterr().err
