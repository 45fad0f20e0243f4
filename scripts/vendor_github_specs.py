"""Regenerate the vendored GitHub specs used by the fake GitHub in tests/fakegithub.

Fetches pinned npm packages into a temporary directory (npm must be on PATH) and writes:
- tests/fixtures/github/openapi.json.gz   trimmed api.github.com OpenAPI description
- tests/fixtures/github/schema.json.gz    GraphQL introspection result
- tests/fixtures/webhooks/<event>[.<action>].json   first example per event/action

Run from the repository root: `python scripts/vendor_github_specs.py`.
The output is deterministic for the pinned versions (gzip mtime fixed at 0).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OPENAPI_PKG = "@octokit/openapi@23.0.2"
GRAPHQL_PKG = "@octokit/graphql-schema@15.26.1"
WEBHOOKS_PKG = "@octokit/webhooks-examples@7.6.1"

# Operations a contributor-flow bot may reasonably call; everything else is dropped so a call the
# bot should not make is reported as "not in the spec" rather than silently accepted.
KEEP_PATHS = [
    r"/app",
    r"/app/hook/config",
    r"/app/hook/deliveries(/.*)?",
    r"/app/installations(/.*)?",
    r"/apps/\{app_slug\}",
    r"/installation/repositories",
    r"/rate_limit",
    r"/repos/\{owner\}/\{repo\}",
    r"/repos/\{owner\}/\{repo\}/(issues|pulls|labels|assignees|commits|compare|contents)(/.*)?",
    r"/repos/\{owner\}/\{repo\}/(collaborators|check-runs|check-suites|dispatches|statuses)(/.*)?",
    r"/repos/\{owner\}/\{repo\}/actions/(workflows|runs|jobs|artifacts)(/.*)?",
    r"/repos/\{owner\}/\{repo\}/installation",
    r"/repos/\{owner\}/\{repo\}/(deployments|environments)(/.*)?",
    r"/orgs/\{org\}/installation",
    r"/users/\{username\}/installation",
    r"/repos/\{owner\}/\{repo\}/branches(/\{branch\})?",
    r"/repos/\{owner\}/\{repo\}/git/(ref|matching-refs|refs|commits|trees|blobs)(/.*)?",
    r"/orgs/\{org\}",
    r"/orgs/\{org\}/(teams|members|memberships|public_members)(/.*)?",
    r"/search/(issues|commits)",
    r"/user",
    r"/user/\{account_id\}",
    r"/users/\{username\}",
]
METHODS = ("get", "put", "post", "patch", "delete")
# Webhook payload schemas kept (with what they reference) beside the REST operations, so tests
# can check that a payload they deliver, vendored or derived from a neighbour, has GitHub's shape.
KEEP_SCHEMAS = ["webhook-merge-group-checks-requested", "webhook-merge-group-destroyed",
                "webhook-deployment-created", "webhook-deployment-status-created"]

WEBHOOK_EVENTS = [
    "issues", "issue_comment", "pull_request", "pull_request_review", "pull_request_review_comment",
    "workflow_run", "workflow_job", "check_run", "check_suite", "installation",
    "installation_repositories", "member", "membership", "push", "ping", "repository", "discussion",
    "label", "organization", "team", "merge_group", "deployment", "deployment_status",
]

ROOT = Path(__file__).resolve().parent.parent
GITHUB_DIR = ROOT / "tests" / "fixtures" / "github"
WEBHOOKS_DIR = ROOT / "tests" / "fixtures" / "webhooks"


def npm_fetch(workdir: Path) -> Path:
    subprocess.run(["npm", "init", "-y"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
         OPENAPI_PKG, GRAPHQL_PKG, WEBHOOKS_PKG],
        cwd=workdir, check=True,
    )
    return workdir / "node_modules" / "@octokit"


def _refs(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref)
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _strip_examples(node: object) -> object:
    """Drop examples and prose: the fake validates shapes and never needs them."""
    if isinstance(node, dict):
        return {
            k: _strip_examples(v) for k, v in node.items()
            if k not in ("examples", "example", "externalDocs", "x-octokit")
            and not (k == "description" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_strip_examples(v) for v in node]
    return node


def trim_openapi(spec: dict) -> tuple[dict, list[str]]:
    patterns = [re.compile(p + "$") for p in KEEP_PATHS]
    paths: dict = {}
    kept_ops: list[str] = []
    for template, item in spec["paths"].items():
        if not any(p.match(template) for p in patterns):
            continue
        paths[template] = _strip_examples(item)
        kept_ops += [f"{m.upper()} {template}" for m in METHODS if m in item]
    components: dict = {}
    pending: set[str] = {f"#/components/schemas/{name}" for name in KEEP_SCHEMAS}
    _refs(paths, pending)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        if section == "examples":
            continue
        value = _strip_examples(spec["components"][section][name])
        components.setdefault(section, {})[name] = value
        _refs(value, pending)
    for section in components:
        components[section] = dict(sorted(components[section].items()))
    trimmed = {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "paths": paths,
        "components": components,
    }
    return trimmed, kept_ops


def write_gz(path: Path, data: object) -> None:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(raw)


def vendor_webhooks(pkg: Path) -> list[str]:
    index = json.loads((pkg / "api.github.com" / "index.json").read_text())
    by_name = {entry["name"]: entry for entry in index}
    if WEBHOOKS_DIR.exists():
        for old in WEBHOOKS_DIR.glob("*.json"):
            old.unlink()
    WEBHOOKS_DIR.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for event in WEBHOOK_EVENTS:
        for example in by_name[event]["examples"]:
            action = example.get("action")
            name = f"{event}.{action}.json" if action else f"{event}.json"
            target = WEBHOOKS_DIR / name
            if target.exists():
                continue
            target.write_text(json.dumps(example, indent=1, sort_keys=True) + "\n")
            written.append(name)
    return sorted(written)


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is required", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        pkgs = npm_fetch(Path(tmp))
        spec = json.loads((pkgs / "openapi" / "generated" / "api.github.com.json").read_text())
        trimmed, ops = trim_openapi(spec)
        write_gz(GITHUB_DIR / "openapi.json.gz", trimmed)
        (GITHUB_DIR / "operations.txt").write_text("\n".join(ops) + "\n")
        schema = json.loads((pkgs / "graphql-schema" / "schema.json").read_text())
        write_gz(GITHUB_DIR / "schema.json.gz", schema)
        examples = vendor_webhooks(pkgs / "webhooks-examples")
    print(f"openapi: {len(ops)} operations; webhooks: {len(examples)} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
