"""``python -m bot classify train|eval`` and a trained model used by the handler."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.classify import ModelBundle
from bot.classify.data import write_csv
from bot.cli.main import main
from bot.features.classify import store
from tests.core.test_classifier import synthetic

from .conftest import REPO, handle, issue_payload, rules

ROOT = Path(__file__).resolve().parents[3]


def make_csv(path, repos=("a/one", "b/two"), n=12, seed=10):
    rows = []
    for i, repo in enumerate(repos):
        rows += synthetic(repo, n, seed + i)
    write_csv(path, rows)
    return path


def test_train_writes_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "model.npz"
    assert main(["classify", "train", "--csv", str(make_csv(tmp_path / "t.csv")), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "2 per-repository model(s) (a/one, b/two) and a global fallback" in said
    assert set(ModelBundle.load(out).models) == {"a/one", "b/two", "*"}


def test_train_maps_labels_and_reports_bad_input(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    csv.write_text("repo,created_at,label,title,body\no/r,2024,enhancement,add option,x\no/r,2024,bug,crash,y\n")
    out = tmp_path / "m.npz"
    assert main(["classify", "train", "--csv", str(csv), "--out", str(out), "--label", "enhancement=feature"]) == 0
    assert ModelBundle.load(out).models["*"].classes == ["bug", "feature"]
    bad = tmp_path / "bad.csv"
    bad.write_text("title,body\nx,y\n")
    assert main(["classify", "train", "--csv", str(bad), "--out", str(out)]) == 1
    assert "missing column" in capsys.readouterr().err


def test_eval_prints_per_class_per_repo_and_mean(tmp_path, capsys):
    train_csv = make_csv(tmp_path / "train.csv")
    test_csv = make_csv(tmp_path / "test.csv", n=6, seed=50)
    assert main(["classify", "eval", "--train", str(train_csv), "--test", str(test_csv)]) == 0
    out = capsys.readouterr().out
    for needle in ("a/one (n=18)", "b/two (n=18)", "precision", "recall", "question", "macro F1",
                   "cross-repo mean macro F1"):
        assert needle in out
    assert main(["classify", "eval", "--train", str(train_csv), "--folds", "3"]) == 0
    assert "cross-repo mean macro F1" in capsys.readouterr().out


def test_cli_help_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "bot", "classify", "eval", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--train" in done.stdout and "--test" in done.stdout


async def test_handler_uses_the_model_file_from_the_rules(db, tmp_path):
    out = tmp_path / "model.npz"
    assert main(["classify", "train", "--csv", str(make_csv(tmp_path / "t.csv", repos=(REPO,), n=20)),
                 "--out", str(out)]) == 0
    r = rules(classify={"model_path": str(out)})
    await handle(db, "issues", issue_payload(title="crash error broken", body="exception segfault fails"), rules_=r)
    [decision] = await store.decisions(db, REPO, 7)
    model_signals = [s for s in decision["signals"] if s["source"] == "model"]
    assert model_signals and decision["best"] == "bug"


async def test_missing_model_file_falls_back_to_signals(db, tmp_path):
    r = rules(classify={"model_path": str(tmp_path / "nope.npz")})
    await handle(db, "issues", issue_payload(title="[Bug] crash"), rules_=r)
    [decision] = await store.decisions(db, REPO, 7)
    assert decision["kind"] == "bug" and not [s for s in decision["signals"] if s["source"] == "model"]
