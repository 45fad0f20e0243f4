"""``python -m bot verify-bundle``: exit codes and messages, in-process and as a real process."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from bot.cli.main import main

from .conftest import GITHUB_OAUTH, REPO_ROOT
from .cosign_fake import FakeRekor, KeyPair, key_bundle, sig_file

BLOB = b"Subject: [PATCH] mm: go allocator bridge\n"


def run(argv, capsys):
    code = main(["verify-bundle", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def keyless_args(vectors, identity="william@yossarian.net", issuer=GITHUB_OAUTH, artifact=None):
    return ["--staging", "--bundle", str(vectors / "bundle_v3.txt.sigstore"),
            "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
            artifact or str(vectors / "bundle_v3.txt")]


def test_keyless_valid_exits_0(vectors, capsys):
    code, out, err = run(keyless_args(vectors), capsys)
    assert code == 0 and "william@yossarian.net" in out and err == ""


def test_keyless_digest_argument(vectors, capsys):
    digest = hashlib.sha256((vectors / "bundle_v3.txt").read_bytes()).hexdigest()
    code, _, _ = run(keyless_args(vectors, artifact=f"sha256:{digest}"), capsys)
    assert code == 0
    code, _, err = run(keyless_args(vectors, artifact="sha256:" + "0" * 64), capsys)
    assert code == 1 and "digest mismatch" in err


@pytest.mark.parametrize("identity,issuer,reason", [
    ("a@tny.town", GITHUB_OAUTH, "not an accepted signer"),
    ("william@yossarian.net", "https://token.actions.githubusercontent.com", "only trusted with issuer"),
])
def test_keyless_wrong_signer_exits_1_with_reason(vectors, capsys, identity, issuer, reason):
    code, out, err = run(keyless_args(vectors, identity, issuer), capsys)
    assert code == 1 and out == "" and reason in err


def test_keyless_without_staging_uses_production_and_fails(vectors, capsys):
    code, _, err = run(keyless_args(vectors)[1:], capsys)
    assert code == 1 and "does not verify" in err


def test_trusted_root_option(vectors, capsys, tmp_path):
    from bot.signing.trust import load_trusted_root
    root = tmp_path / "trusted_root.json"
    root.write_text(load_trusted_root("staging")._inner.to_json())
    code, _, err = run(["--trusted-root", str(root), *keyless_args(vectors)[1:]], capsys)
    assert code == 0, err


def test_malformed_bundle_exits_1(vectors, capsys):
    code, _, err = run(["--staging", "--bundle", str(vectors / "bundle_no_log_entry.txt.sigstore"),
                        "--certificate-identity", "a@tny.town", "--certificate-oidc-issuer", GITHUB_OAUTH,
                        str(vectors / "bundle_no_log_entry.txt")], capsys)
    assert code == 1 and "malformed Sigstore bundle" in err


@pytest.fixture
def key_files(tmp_path):
    key, rekor = KeyPair(), FakeRekor()
    (tmp_path / "patch").write_bytes(BLOB)
    (tmp_path / "cosign.pub").write_text(key.public_pem)
    (tmp_path / "other.pub").write_text(KeyPair().public_pem)
    (tmp_path / "patch.sig").write_bytes(sig_file(key, BLOB))
    (tmp_path / "patch.sigstore.json").write_bytes(key_bundle(key, BLOB, rekor))
    (tmp_path / "trusted_root.json").write_bytes(rekor.trusted_root())
    return tmp_path


def test_key_sig_file(key_files, capsys):
    code, out, _ = run(["--bundle", str(key_files / "patch.sig"), "--key", str(key_files / "cosign.pub"),
                        str(key_files / "patch")], capsys)
    assert code == 0 and "cosign.pub" in out


def test_key_bundle_with_its_log_in_trusted_root(key_files, capsys):
    args = ["--bundle", str(key_files / "patch.sigstore.json"), "--key", str(key_files / "cosign.pub"),
            "--trusted-root", str(key_files / "trusted_root.json"), str(key_files / "patch")]
    code, out, err = run(args, capsys)
    assert code == 0 and "Rekor log index" in out, err
    # Without the root that knows the log, the log entry cannot vouch for anything.
    code, _, err = run([a for a in args if a not in ("--trusted-root", str(key_files / "trusted_root.json"))], capsys)
    assert code == 1 and "not in the trusted root" in err


def test_wrong_key_exits_1(key_files, capsys):
    code, _, err = run(["--bundle", str(key_files / "patch.sig"), "--key", str(key_files / "other.pub"),
                        str(key_files / "patch")], capsys)
    assert code == 1 and "any trusted key" in err


@pytest.mark.parametrize("argv,reason", [
    (["--key", "k.pub", "--certificate-identity", "a", "--certificate-oidc-issuer", "b"], "not both"),
    ([], "give --key"),
    (["--certificate-identity", "a"], "go together"),
    (["--certificate-oidc-issuer", "b"], "go together"),
    (["--certificate-identity", "", "--certificate-oidc-issuer", "b"], "go together"),
])
def test_conflicting_or_missing_options_are_a_usage_mistake_exit_2(key_files, capsys, argv, reason):
    # As every operator command: 2 for a usage mistake, the reason in one line; 1 is kept for
    # a signature that does not verify, so a script can tell a bad call from a bad patch.
    code, out, err = run(["--bundle", str(key_files / "patch.sig"), *argv, str(key_files / "patch")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("verify-bundle: ") and reason in err


@pytest.mark.parametrize("digest", ["sha256:abc", "sha256:" + "z" * 64, "sha256:"])
def test_a_digest_of_the_wrong_form_is_a_usage_mistake_exit_2(key_files, capsys, digest):
    code, out, err = run(["--bundle", str(key_files / "patch.sig"), "--key", str(key_files / "cosign.pub"),
                          digest], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "expected sha256:<64 hex>" in err


def test_missing_files_exit_1(key_files, capsys):
    code, _, err = run(["--bundle", str(key_files / "nope"), "--key", str(key_files / "cosign.pub"),
                        str(key_files / "patch")], capsys)
    assert code == 1 and "cannot read bundle" in err


def test_as_a_real_process(vectors, tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    ok = subprocess.run([sys.executable, "-m", "bot", "verify-bundle", *keyless_args(vectors)],
                        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == "" and ok.stdout.startswith("OK: signed by william@yossarian.net")
    bad = subprocess.run([sys.executable, "-m", "bot", "verify-bundle",
                          *keyless_args(vectors, identity="a@tny.town")],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "not an accepted signer" in bad.stderr
    usage = subprocess.run([sys.executable, "-m", "bot", "verify-bundle", "x"],
                           cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "--bundle" in usage.stderr
    both = subprocess.run([sys.executable, "-m", "bot", "verify-bundle", "--key", "k.pub",
                           *keyless_args(vectors)], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert both.returncode == 2 and both.stdout == ""
    assert both.stderr.splitlines() == ["verify-bundle: use either --key or "
                                        "--certificate-identity/--certificate-oidc-issuer, not both"]
