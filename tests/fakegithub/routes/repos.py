"""Repositories: metadata, contents, branches, commits, compare, collaborators, dispatches."""

from __future__ import annotations

from ..context import Ctx, GitHubError, Reply, not_found, page_args, link_header, paginate
from ..state import Dispatch, Repo
from . import route

# GitHub's REST `permission` folds the five roles into admin/write/read/none.
ROLE_TO_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read",
                      "read": "read", "none": "none"}
TEAM_PERMISSION_TO_ROLE = {"pull": "read", "triage": "triage", "push": "write",
                           "maintain": "maintain", "admin": "admin"}
RANK = ["none", "read", "triage", "write", "maintain", "admin"]


def role_of(ctx: Ctx, repo: Repo, login: str) -> str:
    """Highest role from direct collaboration, teams and org ownership."""
    roles = [repo.collaborators.get(login, "none")]
    org = ctx.state.orgs.get(repo.owner)
    if login == repo.owner or (org and org.members.get(login) == "admin"):
        roles.append("admin")
    if org:
        for team in org.teams.values():
            if login in team.members and repo.full_name in team.repos:
                roles.append(TEAM_PERMISSION_TO_ROLE.get(team.repos[repo.full_name], "read"))
    return max(roles, key=RANK.index)


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(json=ctx.ser.repo(ctx.repo()))


def files_at(repo: Repo, ref: str | None) -> dict[str, str]:
    ref = ref or repo.default_branch
    if ref.startswith("refs/heads/"):
        ref = ref[len("refs/heads/"):]
    if ref not in repo.files:
        raise GitHubError(404, f"No commit found for the ref {ref}")
    return repo.files[ref]


@route("GET", "/repos/{owner}/{repo}/contents/{path}")
def get_contents(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    ref = ctx.query.get("ref") or repo.default_branch
    files = files_at(repo, ref)
    path = ctx.params["path"].strip("/")
    if path in files:
        if ctx.accepts("application/vnd.github.raw"):
            return Reply(text=files[path], content_type="application/vnd.github.raw; charset=utf-8")
        return Reply(json=ctx.ser.content(repo.full_name, path, files[path], ref))
    entries = sorted({p[len(path) + 1:].split("/")[0] for p in files if p.startswith(path + "/")})
    if not entries:
        raise not_found()
    return Reply(json=[{"type": "dir" if f"{path}/{e}" not in files else "file", "name": e,
                        "path": f"{path}/{e}"} for e in entries])


@route("GET", "/repos/{owner}/{repo}/branches")
def list_branches(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    return paginate(ctx, [{"name": b, "commit": {"sha": sha}, "protected": False}
                          for b, sha in repo.branches.items()])


@route("GET", "/repos/{owner}/{repo}/branches/{branch}")
def get_branch(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    sha = repo.branches.get(ctx.params["branch"])
    if sha is None:
        raise GitHubError(404, "Branch not found")
    return Reply(json={"name": ctx.params["branch"], "commit": {"sha": sha}, "protected": False})


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref}")
def get_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    ref = ctx.params["ref"]
    if not ref.startswith("heads/") or ref[6:] not in repo.branches:
        raise not_found()
    return Reply(json={"ref": f"refs/{ref}", "object": {"sha": repo.branches[ref[6:]], "type": "commit"}})


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(ctx: Ctx) -> Reply:
    """The files at a branch or commit (`tree_sha` may name either, as on GitHub); with
    `recursive`, every path with its parent directories, else the top level only."""
    import hashlib

    repo = ctx.repo()
    ref = ctx.params["tree_sha"]
    branch = next((b for b, sha in repo.branches.items() if sha == ref), None)
    files = repo.files.get(ref) if ref in repo.files else repo.files.get(branch or "")
    if files is None:
        raise not_found()
    recursive = ctx.query.get("recursive") not in (None, "", "0", "false")
    entries: dict[str, dict] = {}
    base = f"{ctx.fake.url}/repos/{repo.full_name}/git"
    for path, text in sorted(files.items()):
        raw = text.encode()
        sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            entries.setdefault(folder, {"path": folder, "mode": "040000", "type": "tree",
                                        "sha": hashlib.sha1(folder.encode()).hexdigest(),
                                        "url": f"{base}/trees/{hashlib.sha1(folder.encode()).hexdigest()}"})
        entries[path] = {"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": len(raw),
                         "url": f"{base}/blobs/{sha}"}
    tree = [e for p, e in sorted(entries.items()) if recursive or "/" not in p]
    tree_sha = hashlib.sha1(ref.encode()).hexdigest()
    return Reply(json={"sha": tree_sha, "url": f"{base}/trees/{tree_sha}", "tree": tree, "truncated": False})


@route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(ctx: Ctx) -> Reply:
    """A file's bytes by blob sha (what the contents API sends instead above 1 MB)."""
    import base64
    import hashlib

    repo = ctx.repo()
    for files in repo.files.values():
        for text in files.values():
            raw = text.encode()
            if hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == ctx.params["file_sha"]:
                return Reply(json={"sha": ctx.params["file_sha"], "node_id": f"B_{ctx.params['file_sha'][:12]}",
                                   "size": len(raw), "encoding": "base64",
                                   "content": base64.encodebytes(raw).decode(),
                                   "url": f"{ctx.fake.url}/repos/{repo.full_name}/git/blobs/{ctx.params['file_sha']}"})
    raise not_found()


@route("GET", "/repos/{owner}/{repo}/commits")
def list_commits(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    commits = list(reversed(repo.commits.values()))
    if "author" in ctx.query:
        who = ctx.query["author"]
        emails = ctx.state.users[who].emails if who in ctx.state.users else [who]
        commits = [c for c in commits if c.author_email in emails]
    if "path" in ctx.query:
        # The commits that touched the path: here, those whose files (put_file(ref=sha))
        # include it. A file only on a branch has no history to list.
        commits = [c for c in commits if ctx.query["path"] in repo.files.get(c.sha, {})]
    if "since" in ctx.query:
        commits = [c for c in commits if c.date >= ctx.query["since"]]
    if "until" in ctx.query:
        commits = [c for c in commits if c.date <= ctx.query["until"]]
    return paginate(ctx, [ctx.ser.commit(repo.full_name, c) for c in commits])


@route("GET", "/repos/{owner}/{repo}/commits/{ref}")
def get_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    commit = repo.commits.get(ctx.params["ref"])
    if commit is None:
        raise GitHubError(422, f"No commit found for SHA: {ctx.params['ref']}")
    return Reply(json={**ctx.ser.commit(repo.full_name, commit), "files": []})


@route("GET", "/repos/{owner}/{repo}/compare/{basehead}")
def compare(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    base, sep, head = ctx.params["basehead"].partition("...")
    if not sep:
        raise not_found()
    head = head.split(":")[-1]
    pull = next((i.pull for i in repo.issues.values() if i.pull
                 and base in (i.pull.base_ref, i.pull.base_sha)
                 and head in (i.pull.head_ref, i.pull.head_sha)), None)
    if pull is None and head not in repo.branches and head not in repo.commits:
        raise not_found()
    commits = pull.commits if pull else []
    files = pull.files if pull else []
    per_page, page = page_args(ctx, default=250)
    last = max(1, -(-len(commits) // per_page))
    chunk = commits[(page - 1) * per_page: page * per_page]
    headers = {"Link": link_header(ctx, page, last)} if last > 1 else {}
    return Reply(headers=headers, json={
        "status": "ahead" if commits else "identical", "ahead_by": len(commits), "behind_by": 0,
        "total_commits": len(commits),
        "base_commit": {"sha": pull.base_sha if pull else repo.branches.get(base, base)},
        "merge_base_commit": {"sha": pull.base_sha if pull else repo.branches.get(base, base)},
        "commits": [ctx.ser.commit(repo.full_name, c) for c in chunk],
        "files": [ctx.ser.pull_file(f) for f in files[:300]],
    })


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_permission(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    login = ctx.params["username"]
    if login not in ctx.state.users:
        raise GitHubError(404, f"{login} is not a user")
    role = role_of(ctx, repo, login)
    user = ctx.ser.user(login)
    return Reply(json={"permission": ROLE_TO_PERMISSION[role], "role_name": role,
                       "user": {**user, "role_name": role}})


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}")
def check_collaborator(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    if role_of(ctx, repo, ctx.params["username"]) == "none":
        raise not_found()
    return Reply(status=204)


@route("GET", "/repos/{owner}/{repo}/collaborators")
def list_collaborators(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    wanted = ctx.query.get("permission")
    out = []
    for login in sorted(repo.collaborators):
        role = role_of(ctx, repo, login)
        if role == "none" or (wanted and RANK.index(role) < RANK.index(
                {"pull": "read", "push": "write"}.get(wanted, wanted))):
            continue
        out.append({**ctx.ser.user(login), "role_name": role})
    return paginate(ctx, out)


@route("GET", "/repos/{owner}/{repo}/assignees/{assignee}")
def check_assignee(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    if RANK.index(role_of(ctx, repo, ctx.params["assignee"])) < RANK.index("triage"):
        raise not_found()
    return Reply(status=204)


@route("POST", "/repos/{owner}/{repo}/dispatches")
def repository_dispatch(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    payload = ctx.body.get("client_payload") or {}
    if len(payload) > 10:
        raise GitHubError(422, "client_payload may have at most 10 top-level properties")
    ctx.state.dispatches.append(Dispatch(kind="repository", repo=repo.full_name, workflow=None,
                                         ref=repo.default_branch, inputs=payload,
                                         event_type=ctx.body["event_type"]))
    return Reply(status=204)
