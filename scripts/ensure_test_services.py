"""Make sure what the test suite needs is there: PostgreSQL running with the test
database, and Chromium for the dashboard's browser test. Idempotent; run by
`make test` (and so by .ci/run)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time

PG_DB = "contributor_flow_test"


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def pg_ready() -> bool:
    return shutil.which("pg_isready") is not None and sh(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0


def ensure_postgres() -> None:
    if os.environ.get("TEST_POSTGRES_URL"):
        return  # the caller brings its own server
    if not pg_ready():
        if shutil.which("pg_ctlcluster") is None:
            if os.geteuid() == 0 and shutil.which("apt-get"):
                sh(["apt-get", "update", "-q"])
                r = sh(["apt-get", "install", "-y", "-q", "postgresql"])
                if r.returncode:
                    sys.exit("could not install PostgreSQL:\n" + r.stderr[-2000:])
            else:
                sys.exit("PostgreSQL is needed by the tests: install it or set TEST_POSTGRES_URL")
        for version in sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []:
            sh(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        for _ in range(60):
            if pg_ready():
                break
            time.sleep(0.5)
        else:
            sys.exit("PostgreSQL did not become ready on 127.0.0.1:5432")
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc"]
    if PG_DB not in sh(psql + [f"SELECT datname FROM pg_database WHERE datname = '{PG_DB}'"]).stdout:
        r = sh(psql + [f"CREATE DATABASE {PG_DB}"])
        if r.returncode and "already exists" not in r.stderr:
            sys.exit("could not create the test database:\n" + r.stderr)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium() -> None:
    if chromium_path():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        sh(["apt-get", "update", "-q"])
        r = sh(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if r.returncode == 0 and chromium_path():
            return
        sys.exit("could not install Chromium (needed by the dashboard test):\n" + r.stderr[-2000:])
    sys.exit("Chromium is needed by the dashboard test: install Debian's 'chromium' package")


if __name__ == "__main__":
    ensure_postgres()
    ensure_chromium()
    print("test services ready: PostgreSQL", "and Chromium at", chromium_path())
