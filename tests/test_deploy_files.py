"""app.yml asks for exactly the events the features handle, with the permission each event
needs; the Dockerfile runs as a non-root user with a health check; README documents every
environment variable the settings read."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.features import all_features
from bot.core import access
from bot.store import repo_names

ROOT = Path(__file__).resolve().parent.parent

# Which permission GitHub requires to subscribe an App to an event.
EVENT_PERMISSION = {
    "check_run": "checks", "check_suite": "checks", "issue_comment": "issues", "issues": "issues", "member": "members",
    "membership": "members", "merge_group": "merge_queues", "pull_request": "pull_requests",
    "pull_request_review": "pull_requests", "pull_request_review_comment": "pull_requests",
    "push": "contents", "workflow_job": "actions", "deployment_status": "deployments", "workflow_run": "actions", "repository": "metadata",
    "team": "members", "organization": "members",
}
# Sent to every App whatever it subscribes to.
ALWAYS_SENT = {"installation", "installation_repositories"}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "app.yml").read_text())


def test_manifest_subscribes_to_exactly_the_handled_events():
    handled = {key.split(".")[0] for f in all_features() for key in f.handlers} - ALWAYS_SENT
    handled |= repo_names.EVENTS  # heard by the core: a rename or transfer moves the rows
    handled |= access.EVENTS  # heard by the core: access changed, cached roles are dropped
    assert set(manifest()["default_events"]) == handled


def test_every_event_has_its_permission_and_every_permission_is_documented():
    m = manifest()
    perms = m["default_permissions"]
    for event in m["default_events"]:
        assert perms.get(EVENT_PERMISSION[event]) in ("read", "write"), event
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    for name, level in perms.items():
        assert re.search(rf"\|\s*`{name}`\s*\|\s*{level}\s*\|", deploying), f"{name}: {level} not in README table"


def test_dockerfile_runs_unprivileged_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert '"-m", "bot", "serve"' in text


def test_readme_lists_every_environment_variable():
    source = (ROOT / "bot" / "settings.py").read_text() + (ROOT / "bot" / "cli" / "core_commands.py").read_text()
    names = set(re.findall(r'env(?:iron)?\.get\("([A-Z_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    assert names and not {n for n in names if f"`{n}`" not in deploying}
