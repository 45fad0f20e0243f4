"""Builders for patch pipeline feature tests: a repository whose files a reader serves at
each ref, real webhook payload shapes, self-made keys and the real Sigstore vectors."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import unquote

import pytest

from bot.context import JobContext, RepoHandle
from bot.core.actions import Action, CancelWorkflowRun, Record
from bot.features import all_features
from bot.features.patch_pipeline import FEATURE
from bot.features.patch_pipeline import lookups as L
from bot.rules.loader import Rules, load_bundled, merge_repo_override
from bot.rules.registry import sections_of
from bot.settings import BUNDLED_RULES
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, make_context as _make_context
from tests.signing.conftest import GITHUB_OAUTH, VECTORS
from tests.signing.cosign_fake import KeyPair

REPO = "Codertocat/Hello-World"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
HEAD2 = "4a2b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
MAIN = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
MAINTAINER = "maint"


@pytest.fixture(autouse=True)
def sigstore_cache(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))


@pytest.fixture
def vectors():
    if not (VECTORS / "bundle_v3.txt.sigstore").is_file():
        pytest.fail(f"Sigstore test vectors are missing from {VECTORS.resolve()}")
    return VECTORS


@pytest.fixture(scope="session")
def key() -> KeyPair:
    return KeyPair()


def rules(key: KeyPair | None = None, **pipeline: Any) -> Rules:
    """Bundled rules with a ``pipeline`` override (staging keyless signer + one key by default)."""
    import yaml

    sections = sections_of(all_features())
    bundled, problems = load_bundled(BUNDLED_RULES, sections)
    assert not [p for p in problems if "pipeline" in str(p)], problems
    trust = {"instance": "staging",
             "identities": [{"identity": "william@yossarian.net", "issuer": GITHUB_OAUTH}],
             "keys": [{"name": "release-key", "pem": key.public_pem}] if key else []}
    trust.update(pipeline.pop("trust", {}))
    override = {"pipeline": {"trust": trust, **pipeline}}
    merged, problems = merge_repo_override(bundled, yaml.safe_dump(override), "test", sections)
    assert not problems, [str(p) for p in problems]
    return merged


class Repo:
    """Files per ref, PR file lists, workflow runs and jobs, answered like GitHub's REST API."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, bytes]] = {}
        self.pr_files: dict[int, list[str]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.runs: dict[int, dict[str, Any]] = {}
        self.jobs: dict[int, list[dict[str, Any]]] = {}
        self.blobs: dict[str, bytes] = {}
        self.big_files: set[str] = set()
        self.branches: dict[str, str] = {}  # name -> head sha
        self.truncated: set[str] = set()  # refs whose tree GitHub lists only in part

    def put(self, ref: str, path: str, data: bytes | str) -> None:
        self.files.setdefault(ref, {})[path] = data.encode() if isinstance(data, str) else data

    def _contents(self, v: Mapping[str, Any]) -> Any:
        # The path arrives escaped for the URL (see lookups.file_at): GitHub reads it decoded.
        v = {**v, "path": unquote(v["path"])}
        data = self.files.get(v["ref"], {}).get(v["path"])
        if data is None:
            from bot.github import PermanentGitHubError
            raise PermanentGitHubError("Not Found", status=404)
        sha = f"blob-{abs(hash((v['ref'], v['path'])))}"
        if v["path"] in self.big_files:  # over 1 MB: GitHub leaves content empty
            self.blobs[sha] = data
            return {"type": "file", "encoding": "none", "content": "", "size": len(data), "sha": sha}
        return {"type": "file", "encoding": "base64", "size": len(data), "sha": sha,
                "content": base64.encodebytes(data).decode()}

    def _run(self, v):
        run = self.runs.get(int(v["run_id"]))
        if run is None:
            from bot.github import PermanentGitHubError
            raise PermanentGitHubError("Not Found", status=404)
        return run

    # GitHub cuts a recursive tree listing longer than this (100,000 entries or 7 MB).
    tree_limit = 100_000

    def _git_tree(self, v, *, recursive: bool):
        """A tree by commit (its root tree) or by a tree's own SHA, as GitHub and the fake
        GitHub list it (tests.fakegithub.routes.repos): entries with their SHAs, paths relative
        to the tree; a recursive listing past ``tree_limit`` entries, or of the whole tree of a
        ref in ``truncated``, is cut short and says so."""
        from tests.fakegithub.routes.repos import git_trees, tree_listing

        found = next(((ref, trees, folder) for ref, trees in ((r, git_trees(f)) for r, f in self.files.items())
                      for folder, (sha, _) in trees.items()
                      if sha == v["tree_sha"] or (ref == v["tree_sha"] and folder == "")), None)
        if found is None:
            from bot.github import PermanentGitHubError
            raise PermanentGitHubError("Not Found", status=404)
        ref, trees, folder = found
        tree = [{"path": path, "type": kind, "sha": sha, "mode": "040000" if kind == "tree" else "100644"}
                for path, (_, kind, sha, _) in tree_listing(trees, folder, recursive)]
        truncated = recursive and (len(tree) > self.tree_limit or (folder == "" and ref in self.truncated))
        return {"sha": trees[folder][0], "truncated": truncated,
                "tree": tree[:self.tree_limit] if truncated else tree}

    def tree_requests(self, reader: RecordingReader) -> list[tuple[str, str]]:
        """The tree listings asked of ``reader``: ("level" or "recursive", tree SHA or commit)."""
        kinds = {L.TREE: "recursive", L.TREE_LEVEL: "level"}
        return [(kinds[url], v["tree_sha"]) for url, v in reader.calls if url in kinds]

    def tree_sha(self, ref: str, folder: str) -> str:
        from tests.fakegithub.routes.repos import git_trees

        return git_trees(self.files[ref])[folder][0]

    def _branch(self, v):
        if v["branch"] not in self.branches:
            from bot.github import PermanentGitHubError
            raise PermanentGitHubError("Branch not found", status=404)
        return {"name": v["branch"], "commit": {"sha": self.branches[v["branch"]]}, "protected": False}

    def reader(self) -> RecordingReader:
        reader = RecordingReader(items={
            L.CONTENTS: self._contents,
            L.BLOB: lambda v: {"content": base64.b64encode(self.blobs[v["file_sha"]]).decode(), "encoding": "base64"},
            L.PULL: lambda v: self.pulls[int(v["number"])],
            L.WORKFLOW_RUN: self._run,
            # Trees as GitHub lists them (by a tree's SHA too).
            L.TREE: lambda v: self._git_tree(v, recursive=True),
            L.TREE_LEVEL: lambda v: self._git_tree(v, recursive=False),
            L.BRANCH: self._branch,
        })
        reader.lists.update({
            L.PR_FILES: lambda v: [{"filename": f, "status": "modified"} for f in self.pr_files[int(v["number"])]],
            L.RUN_JOBS: lambda v: self.jobs.get(int(v["run_id"]), []),
        })
        return reader


def pr_payload(action: str = "opened", *, number: int = 7, head: str = HEAD) -> dict[str, Any]:
    p = load_example("pull_request", action)
    p["pull_request"].update(number=number, state="open")
    p["pull_request"]["head"]["sha"] = head
    p["number"] = number
    return p


def push_payload(branch: str = "go", *, after: str = HEAD, before: str = MAIN,
                 files: Iterable[str] = (), commits: int | None = None, ref: str | None = None,
                 deleted: bool = False) -> dict[str, Any]:
    """GitHub's push payload: ``files`` changed by its one commit (``commits``: that many commits
    listed, the files spread over them; 0 lists none)."""
    p = load_example("push")
    files = list(files)
    count = (1 if files else 0) if commits is None else commits
    template = p["head_commit"]
    listed = [{**template, "id": f"{i:040x}", "added": [], "removed": [], "modified": files if i == 0 else [],
               "message": f"commit {i}"} for i in range(count)]
    p.update(ref=ref or f"refs/heads/{branch}", before=before, after=after, created=before == "0" * 40,
             deleted=deleted, forced=False, commits=listed, head_commit=listed[-1] if listed else None,
             compare=f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}")
    return p


def comment_payload(body: str = "/verify-patch", *, number: int = 7, login: str = MAINTAINER) -> dict[str, Any]:
    p = load_example("issue_comment", "created")
    p["issue"]["number"] = number
    p["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
    p["comment"]["body"] = body
    p["comment"]["user"]["login"] = login
    return p


def workflow_run_payload(action: str, *, run_id: int, head: str = HEAD, status: str | None = None,
                         conclusion: str | None = None, path: str = ".github/workflows/patch-pipeline.yml",
                         created: datetime = NOW + timedelta(seconds=5), attempt: int = 1) -> dict[str, Any]:
    p = load_example("workflow_run", "completed" if action == "completed" else "requested")
    p["action"] = action
    wr = p["workflow_run"]
    # Dispatched on trigger.ref (GitHub's requested example names "master").
    wr.update(id=run_id, path=path, display_title=f"patch pipeline {head}", head_sha=MAIN, head_branch="main",
              event="workflow_dispatch", status=status or ("completed" if action == "completed" else "queued"),
              conclusion=conclusion, created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
              html_url=f"https://github.com/{REPO}/actions/runs/{run_id}", run_attempt=attempt)
    return p


def job_json(name: str, status: str, conclusion: str | None = None, *, run_id: int, job_id: int = 1,
             started: datetime | None = None, completed: datetime | None = None,
             attempt: int = 1) -> dict[str, Any]:
    job = load_example("workflow_job", "completed" if status == "completed" else
                       "in_progress" if status == "in_progress" else "queued")["workflow_job"]
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None  # noqa: E731
    job.update(id=job_id, run_id=run_id, name=name, status=status, conclusion=conclusion,
               started_at=iso(started or NOW), completed_at=iso(completed), head_sha=MAIN, run_attempt=attempt,
               html_url=f"https://github.com/{REPO}/actions/runs/{run_id}/job/{job_id}")
    return job


def job_payload(name: str, status: str, conclusion: str | None = None, **kw) -> dict[str, Any]:
    p = load_example("workflow_job", "completed" if status == "completed" else
                     "in_progress" if status == "in_progress" else "queued")
    p["workflow_job"] = job_json(name, status, conclusion, **kw)
    p["action"] = status
    return p


def with_repo(payload: dict[str, Any]) -> dict[str, Any]:
    payload["repository"]["full_name"] = REPO
    payload["repository"]["name"], payload["repository"]["owner"]["login"] = REPO.split("/")[1], REPO.split("/")[0]
    return payload


def context(event: str, payload: dict[str, Any], *, db, repo: Repo, rules: Rules, now: datetime = NOW,
            delivery_id: str = "test-delivery", received: datetime | None = None):
    """``received``: when the delivery arrived (``now`` unless given: decided as it arrives)."""
    return _make_context(event, with_repo(payload), db=db, rules=rules, reader=repo.reader(),
                         roles={MAINTAINER: ["maintainer"]}, now=now, delivery_id=delivery_id,
                         received=received or now)


RUN_URL = "/repos/{owner}/{repo}/actions/runs/{run_id}"


def running_run(url_vars, *, attempt: int = 1, status: str = "in_progress") -> dict[str, Any]:
    """A workflow run as GitHub serves it when the executor reads it before a cancel."""
    return {"id": int(url_vars["run_id"]), "status": status,
            "conclusion": "cancelled" if status == "completed" else None, "run_attempt": attempt}


class AcceptsCancels:
    """GitHub answering a workflow run's cancel with 202, as the executor sees it (the run,
    read first, still running its first attempt)."""

    async def getitem(self, url, url_vars=None, **kw):
        assert url == RUN_URL, url
        return running_run(url_vars)

    async def post(self, url, url_vars=None, **kw):
        assert url.endswith("/cancel"), url
        return {}


async def apply_records(db, actions: Iterable[Action]) -> None:
    """What the executor does with Record actions, GitHub accepting every cancel on the way
    (the executor's own record of that answer is what settles a cancel the feature owes)."""
    from bot.executor import ActionEnv, workflows

    for action in actions:
        if isinstance(action, Record):
            await FEATURE.writers[action.op](db, **action.args)
        elif isinstance(action, CancelWorkflowRun):
            await workflows.cancel_workflow_run(action, ActionEnv(
                api=AcceptsCancels(), db=db, bot_login="contributor-flow[bot]", fingerprint="",
                retrying=False, feature=FEATURE.name))


def job_context(db, repo_rules: Rules, reader, now: datetime) -> JobContext:
    async def repos():
        async def roles_of(login, *, item_author=None):
            return frozenset({"anyone"})
        return [RepoHandle(REPO, 1, repo_rules, reader, roles_of)]
    return JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos, clock=lambda: now)


def of(actions, kind):
    return [a for a in actions if type(a).__name__ == kind]


# --- a pull request whose two heads carry a signed patch, driven through the handlers ----------

SIGNED_PATCH = "patches/kernel/0001-vmalloc-bridge.patch"
SIGNED_DATA = b"Subject: [PATCH] mm: vmalloc bridge\n"


class SignedFlow:
    """Pull requests ``numbers`` whose heads HEAD and HEAD2 each carry SIGNED_PATCH signed by
    ``key``; events are decided by the feature's handlers and their records applied."""

    def __init__(self, db, key: KeyPair, numbers: Iterable[int] = (7,)) -> None:
        from tests.signing.cosign_fake import sig_file

        self.db, self.rules, self.repo = db, rules(key), Repo()
        self.reader: RecordingReader | None = None  # the last decision's GitHub reader
        for head in (HEAD, HEAD2):
            self.repo.put(head, SIGNED_PATCH, SIGNED_DATA + head.encode())
            self.repo.put(head, SIGNED_PATCH + ".sig", sig_file(key, SIGNED_DATA + head.encode()))
        for number in numbers:
            self.repo.pr_files[number] = [SIGNED_PATCH, SIGNED_PATCH + ".sig"]

    async def decide(self, event: str, payload: dict[str, Any], at: datetime, *,
                     delivery_id: str = "test-delivery", moves_branch: bool = True,
                     received: datetime | None = None):
        """``moves_branch``: a push's branch points at its ``after`` (GitHub moves it before it
        delivers the push); False for a push delivered after a newer one to the same branch."""
        from bot.features.patch_pipeline import handlers

        ref = str(payload.get("ref") or "")
        if event == "push" and moves_branch and ref.startswith("refs/heads/"):
            if payload.get("deleted"):
                self.repo.branches.pop(ref[len("refs/heads/"):], None)
            else:
                self.repo.branches[ref[len("refs/heads/"):]] = payload["after"]

        by_event = {"pull_request": handlers.on_pull_request, "workflow_run": handlers.on_workflow_run,
                    "workflow_job": handlers.on_workflow_job, "push": handlers.on_push,
                    "check_run": handlers.on_check_rerequested}
        event_obj, ctx = context(event, payload, db=self.db, repo=self.repo, rules=self.rules, now=at,
                                 delivery_id=delivery_id, received=received)
        self.reader = ctx.gh
        return await by_event[event](event_obj, ctx)

    async def send(self, event: str, payload: dict[str, Any], at: datetime = NOW, *, moves_branch: bool = True):
        actions = await self.decide(event, payload, at, moves_branch=moves_branch)
        await apply_records(self.db, actions)
        return actions

    async def state(self, head: str = HEAD):
        from bot.features.patch_pipeline.store import run_for_head

        return await run_for_head(self.db, REPO, head)
