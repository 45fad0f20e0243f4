"""Repositories: metadata, contents, branches, commits, compare, collaborators, dispatches."""

from __future__ import annotations

import hashlib
import json
from typing import Mapping

from ..context import Ctx, GitHubError, Reply, not_found, page_args, link_header, paginate
from ..state import Commit, Dispatch, Pull, Repo, Team
from . import route

# GitHub's REST `permission` folds the five roles into admin/write/read/none.
ROLE_TO_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read",
                      "read": "read", "none": "none"}
TEAM_PERMISSION_TO_ROLE = {"pull": "read", "triage": "triage", "push": "write",
                           "maintain": "maintain", "admin": "admin"}
RANK = ["none", "read", "triage", "write", "maintain", "admin"]


def role_of(ctx: Ctx, repo: Repo, login: str) -> str:
    """Highest role from direct collaboration, teams and org ownership (login in any case)."""
    login = ctx.state.login(login)
    roles = [repo.collaborators.get(login, "none")]
    org = ctx.state.org(repo.owner)
    if login == repo.owner or (org and org.members.get(login) == "admin"):
        roles.append("admin")
    if org:
        for team in org.teams.values():
            permission = team_permission(team, repo)
            if login in team.members and permission is not None:
                roles.append(TEAM_PERMISSION_TO_ROLE.get(permission, "read"))
    return max(roles, key=RANK.index)


def team_permission(team: Team, repo: Repo) -> str | None:
    """What `team` grants on `repo` (tests key `team.repos` by name, in any case), or None."""
    folded = repo.full_name.casefold()
    return next((p for name, p in team.repos.items() if name.casefold() == folded), None)


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


def blob_sha(raw: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


# A tree's entry: name, "blob" or "tree", its SHA, and the blob's size (None for a tree).
TreeEntry = tuple[str, str, str, "int | None"]


def git_trees(files: Mapping[str, bytes]) -> dict[str, tuple[str, list[TreeEntry]]]:
    """Each directory of a commit's files ("" its root) -> its SHA and entries, as git has
    them: entries in git's order (a tree's name compared as if it ended in "/"), SHAs hashed
    from their contents as git does, so a directory alike at two commits has one SHA."""
    children: dict[str, dict[str, bytes | None]] = {"": {}}
    for path, raw in files.items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            children.setdefault("/".join(parts[:depth - 1]), {})[parts[depth - 1]] = None
            children.setdefault("/".join(parts[:depth]), {})
        children["/".join(parts[:-1])][parts[-1]] = raw
    trees: dict[str, tuple[str, list[TreeEntry]]] = {}

    def build(folder: str) -> str:
        entries: list[TreeEntry] = []
        for name, raw in children[folder].items():
            if raw is None:
                entries.append((name, "tree", build(f"{folder}/{name}" if folder else name), None))
            else:
                entries.append((name, "blob", blob_sha(raw), len(raw)))
        entries.sort(key=lambda e: (e[0] + "/" if e[1] == "tree" else e[0]).encode())
        body = b"".join((b"40000 " if kind == "tree" else b"100644 ") + name.encode() + b"\0"
                        + bytes.fromhex(sha) for name, kind, sha, _ in entries)
        trees[folder] = (hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest(), entries)
        return trees[folder][0]

    build("")
    return trees


def tree_listing(trees: Mapping[str, tuple[str, list[TreeEntry]]], folder: str,
                 recursive: bool) -> list[tuple[str, TreeEntry]]:
    """The entries of ``folder`` with their paths relative to it, and with ``recursive`` those
    of its subtrees after each (depth first, as GitHub lists them)."""
    listed: list[tuple[str, TreeEntry]] = []

    def walk(at: str, prefix: str) -> None:
        for entry in trees[at][1]:
            listed.append((prefix + entry[0], entry))
            if recursive and entry[1] == "tree":
                walk(f"{at}/{entry[0]}" if at else entry[0], f"{prefix}{entry[0]}/")

    walk(folder, "")
    return listed


def tree_named(repo: Repo, tree_sha: str) -> tuple[dict[str, tuple[str, list[TreeEntry]]], str] | None:
    """The trees of the commit ``tree_sha`` names and the folder it is: a branch, a commit
    (its root tree) or the SHA of a tree of any commit."""
    branch = next((b for b, sha in repo.branches.items() if sha == tree_sha), None)
    files = repo.files.get(tree_sha) if tree_sha in repo.files else repo.files.get(branch or "")
    if files is not None:
        return git_trees({p: t.encode() for p, t in files.items()}), ""
    for files in repo.files.values():
        trees = git_trees({p: t.encode() for p, t in files.items()})
        folder = next((f for f, (sha, _) in trees.items() if sha == tree_sha), None)
        if folder is not None:
            return trees, folder
    return None


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(ctx: Ctx) -> Reply:
    """A tree by a branch, a commit (its root tree) or a tree's own SHA, as on GitHub: its
    entries, each tree with the SHA that lists it; with `recursive`, every path below it
    (relative to it) with its parent directories. A recursive tree longer than
    `fake.tree_limit` entries is cut there and marked `truncated`, as GitHub does past 100,000
    entries (or 7 MB); a tree listed one level at a time is whole."""
    repo = ctx.repo()
    found = tree_named(repo, ctx.params["tree_sha"])
    if found is None:
        raise not_found()
    trees, folder = found
    # GitHub: any value turns it on ("0" and "false" too); only leaving it out does not.
    recursive = "recursive" in ctx.query
    base = f"{ctx.fake.url}/repos/{repo.full_name}/git"
    tree = []
    for path, (_, kind, sha, size) in tree_listing(trees, folder, recursive):
        if kind == "tree":
            tree.append({"path": path, "mode": "040000", "type": "tree", "sha": sha, "url": f"{base}/trees/{sha}"})
        else:
            tree.append({"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": size,
                         "url": f"{base}/blobs/{sha}"})
    truncated = recursive and len(tree) > ctx.fake.tree_limit
    tree_sha = trees[folder][0]
    return Reply(json={"sha": tree_sha, "url": f"{base}/trees/{tree_sha}",
                       "tree": tree[:ctx.fake.tree_limit] if truncated else tree, "truncated": truncated})


@route("POST", "/repos/{owner}/{repo}/git/blobs")
def create_blob(ctx: Ctx) -> Reply:
    """A blob in the repository's object store, reachable by its git SHA (no ref needed)."""
    import base64

    repo = ctx.repo()
    encoding = ctx.body.get("encoding", "utf-8")
    if encoding not in ("utf-8", "base64"):
        raise GitHubError(422, f"encoding must be utf-8 or base64, not {encoding}")
    raw = base64.b64decode(ctx.body["content"]) if encoding == "base64" else ctx.body["content"].encode()
    sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
    repo.blobs[sha] = raw
    return Reply(status=201, json={"sha": sha, "url": f"{ctx.fake.url}/repos/{repo.full_name}/git/blobs/{sha}"})


@route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(ctx: Ctx) -> Reply:
    """A file's bytes by blob sha (what the contents API sends instead above 1 MB)."""
    import base64
    import hashlib

    repo = ctx.repo()
    made = [repo.blobs[ctx.params["file_sha"]]] if ctx.params["file_sha"] in repo.blobs else []
    for raw in [*made, *(text.encode() for files in repo.files.values() for text in files.values())]:
        if hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == ctx.params["file_sha"]:
            return Reply(json={"sha": ctx.params["file_sha"], "node_id": f"B_{ctx.params['file_sha'][:12]}",
                               "size": len(raw), "encoding": "base64",
                               "content": base64.encodebytes(raw).decode(),
                               "url": f"{ctx.fake.url}/repos/{repo.full_name}/git/blobs/{ctx.params['file_sha']}"})
    raise not_found()


def on_branch(repo: Repo, ref: str | None) -> list[Commit]:
    """The commits `ref` reaches, newest first. The default branch (also for no `ref`) has
    every commit but those of pull requests not merged, which are on their head branch only;
    a pull request's head (branch name or sha) or one of its commits adds that pull request's."""
    pulls_of: dict[str, list[Pull]] = {}
    for issue in repo.issues.values():
        for c in issue.pull.commits if issue.pull else ():
            pulls_of.setdefault(c.sha, []).append(issue.pull)
    extra: set[str] = set()
    if ref and ref not in (repo.default_branch, repo.branches.get(repo.default_branch)):
        for issue in repo.issues.values():
            p = issue.pull
            if p and (ref in (p.head_ref, p.head_sha) or ref in {c.sha for c in p.commits}):
                extra |= {c.sha for c in p.commits}
    return [c for c in reversed(repo.commits.values())
            if c.sha in extra or any(p.merged for p in pulls_of.get(c.sha, ())) or c.sha not in pulls_of]


@route("GET", "/repos/{owner}/{repo}/commits")
def list_commits(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    commits = on_branch(repo, ctx.query.get("sha"))
    if "author" in ctx.query:
        who = ctx.query["author"]  # a login or an email, in any case
        user = ctx.state.user(who)
        emails = {e.lower() for e in (user.emails if user else [who])}
        commits = [c for c in commits if c.author_email.lower() in emails]
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


def _ancestors(repo: Repo, sha: str) -> list[str]:
    """``sha`` and every commit it descends from (``Commit.parents``), nearest first."""
    seen: list[str] = []
    todo = [sha]
    while todo:
        current = todo.pop(0)
        if current in seen or current not in repo.commits:
            continue
        seen.append(current)
        todo += repo.commits[current].parents
    return seen


def _history(repo: Repo, base: str, head: str) -> Reply | None:
    """Compare two commits of the repository's history (``commit_on_branch``) by ancestry, as
    GitHub does: ``identical``, ``ahead`` (head descends from base), ``behind`` or ``diverged``.
    None when either is no commit of that history (the pull-request comparison answers)."""
    base_sha, head_sha = repo.branches.get(base, base), repo.branches.get(head, head)
    if base_sha not in repo.commits or head_sha not in repo.commits:
        return None
    above_head, above_base = _ancestors(repo, head_sha), _ancestors(repo, base_sha)
    ahead = [c for c in above_head if c not in above_base]
    behind = [c for c in above_base if c not in above_head]
    status = ("identical" if not ahead and not behind else "ahead" if not behind
              else "behind" if not ahead else "diverged")
    merge_base = next((c for c in above_head if c in above_base), base_sha)
    return Reply(json={
        "status": status, "ahead_by": len(ahead), "behind_by": len(behind), "total_commits": len(ahead),
        "base_commit": {"sha": base_sha}, "merge_base_commit": {"sha": merge_base},
        "commits": [], "files": []})


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
    if pull is None:
        history = _history(repo, base, head)
        if history is not None:
            return history
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
    account = ctx.state.user(ctx.params["username"])  # any case; answered in its own spelling
    if account is None:
        raise GitHubError(404, f"{ctx.params['username']} is not a user")
    login = account.login
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


def _with_access(ctx: Ctx, repo: Repo, affiliation: str) -> list[str]:
    """Who `affiliation` lists: `direct` the people added to the repository, `outside` those of
    them outside the organisation, `all` (the default) also access through teams and
    organisation ownership (and a user-owned repository's owner)."""
    org = ctx.state.org(repo.owner)
    direct = set(repo.collaborators)
    if affiliation == "direct":
        return sorted(direct)
    if affiliation == "outside":
        return sorted(login for login in direct if not (org and login in org.members))
    people = direct | ({login for login, r in org.members.items() if r == "admin"} if org else {repo.owner})
    for team in (org.teams.values() if org else ()):
        if team_permission(team, repo) is not None:
            people |= set(team.members)
    return sorted(people)


@route("GET", "/repos/{owner}/{repo}/collaborators")
def list_collaborators(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    wanted = ctx.query.get("permission")
    out = []
    for login in _with_access(ctx, repo, ctx.query.get("affiliation", "all")):
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
    if len(json.dumps(payload).encode()) >= 64 * 1024:
        # GitHub: "The total size of the JSON payload must be less than 64KB."
        raise GitHubError(422, "client_payload is too large")
    ctx.state.dispatches.append(Dispatch(kind="repository", repo=repo.full_name, workflow=None,
                                         ref=repo.default_branch, inputs=payload,
                                         event_type=ctx.body["event_type"]))
    return Reply(status=204)
