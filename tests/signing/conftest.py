from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT / ".." / "shared" / "data" / "sigstore"
GITHUB_OAUTH = "https://github.com/login/oauth"


@pytest.fixture(autouse=True)
def sigstore_cache(tmp_path_factory, monkeypatch):
    """sigstore copies its embedded trust roots into the user cache dir: keep that
    in a temporary folder, never a developer's (possibly stale) cache."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))


@pytest.fixture
def vectors() -> Path:
    """sigstore-python's real test vectors, kept outside the repository (../shared)."""
    if not (VECTORS / "bundle_v3.txt.sigstore").is_file():
        pytest.fail(f"Sigstore test vectors are missing: expected them in {VECTORS.resolve()} "
                    "(see /work/shared/data/sigstore/README.md)")
    return VECTORS
