"""Patches verified before, remembered by content (migration 0010), so that a tree read again
verifies only what changed: a gated branch whose pushes are read from the tree (its first push,
a force-push, two pushes in quick succession), or a pull request refreshing a whole patch queue.

Verifying a patch depends on nothing but the bytes of the patch and of its two signature files,
on whether keys may sign it (``trust.keys_for`` on its path), and on the trust policy with the
verifier that applies it: the ``trust`` section, the Sigstore trust root in use (keyless
certificates are checked at the time the transparency log recorded the signature, not now), and
the code and libraries that verify. A tree listing gives each file's git blob SHA, a hash of its
bytes, without reading them: those SHAs, with the ``keys_for`` answer and a fingerprint of all
the rest (trust_fingerprint), make the key. A verdict is remembered only when the bytes verified hash
to the SHAs listed: a success, and a refusal too (kept apart, for less long), for one decision
reads at most verification.MAX_PATCHES patches, and a head with more refused ones than that would
otherwise read the same refused ones at every re-run, never the others. A signer or key removed, another trust root (a key revoked), a
new release of the verifying code or of sigstore, sigstore-models or cryptography: every key
changes, and nothing verified before counts until verified again.

Git names blobs by SHA-1, where the signatures cover SHA-256 digests: a remembered verification
rests on no two different files sharing a blob SHA, which GitHub guards against by refusing
objects that carry the known SHA-1 collision attacks (sha1collisiondetection).
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
from importlib import metadata
from typing import Any, Mapping, Sequence

from ...core.impact import glob_match
from ...signing import Verified, trusted_root_digest
from .lookups import Listing

# The code that decides whether a patch verifies: its source, and the versions of the libraries
# it runs on (sigstore with everything it requires, and cryptography), are part of the
# fingerprint, so that a release changing what verification accepts forgets what the old one did.
VERIFYING_MODULES = ("bot.signing.artifact", "bot.signing.errors", "bot.signing.keyed", "bot.signing.keyless",
                     "bot.signing.policy", "bot.signing.transparency", "bot.signing.trust",
                     "bot.features.patch_pipeline.verification", "bot.features.patch_pipeline.remembered")
VERIFYING_PACKAGES = ("sigstore", "cryptography")
# A remembered verification unused this long is forgotten (refreshed on use, at most daily).
KEEP = 180 * 86400.0
REFRESH = 86400.0
# A refusal is remembered too (the same key), so that a head with more refused patches than one
# decision reads goes on to the others at each re-run; kept shorter, as anyone can make them.
REFUSED_KEEP = 30 * 86400.0
# A pull request or push with more patches than this has its patch directories listed to find
# the remembered ones; below it, reading each patch costs no more than the listing would.
LIST_ABOVE = 10
# Regular files as git records them (a symlink is 120000, a submodule 160000).
REGULAR = ("100644", "100755")


def verifier_digest() -> str | None:
    """A digest of the verifying code and of the versions of the libraries it uses; None when a
    source or a version cannot be read (then nothing is remembered). Computed once, as this module
    is imported (see VERIFIER): the files then are the code loaded; read later, they may be a
    newer release's, deployed under the running process, whose fingerprint the old code's
    results must not carry."""
    digest = hashlib.sha256()
    try:
        for name in VERIFYING_MODULES:
            digest.update(inspect.getsource(importlib.import_module(name)).encode())
        for package in sorted(_requirements(VERIFYING_PACKAGES)):
            digest.update(f"{package}=={metadata.version(package)}\n".encode())
    except (OSError, TypeError, ImportError, metadata.PackageNotFoundError):
        return None
    return digest.hexdigest()


def _requirements(packages: Sequence[str]) -> set[str]:
    """The packages and everything they require, installed (extras and markers that do not
    apply are skipped: a requirement not installed is not run)."""
    seen: set[str] = set()
    todo = list(packages)
    while todo:
        name = re.split(r"[\s\[;<>=!~(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in seen:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            if name in packages:
                raise
            continue
        seen.add(name)
        todo += [r for r in requires if "extra ==" not in r]
    return seen


def _verifier() -> str | None:
    return VERIFIER


_roots: dict[str, str] = {}


def _root(instance: str) -> str | None:
    """The digest of the instance's trust root in use (read once per process, as the root is)."""
    if instance not in _roots:
        found = trusted_root_digest(instance)
        if found is None:
            return None
        _roots[instance] = found
    return _roots[instance]


def trust_fingerprint(section: Mapping[str, Any]) -> str | None:
    """What a remembered verification held under: the trust section, the trust root in use and
    the verifier. None when one of them cannot be read: nothing is remembered or taken as such.
    Reads the trust root the first time (files, perhaps a copy into sigstore's cache directory):
    call it off the event loop."""
    verifier, root = _verifier(), _root(str(section["trust"].get("instance") or "production"))
    if verifier is None or root is None:
        return None
    return hashlib.sha256(json.dumps([section["trust"], root, verifier], sort_keys=True,
                                     default=str).encode()).hexdigest()


def git_blob_sha(data: bytes) -> str:
    """The SHA git names a file's bytes by (as a tree listing gives it)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _blob(listing: Listing, path: str) -> str | None:
    """The blob SHA of a regular file, "" for a path that is no file at the commit, None when the
    listing cannot say (outside it, or a symlink or submodule: read as GitHub's contents API
    reads them, never remembered)."""
    if not listing.covers(path):
        return None
    entry = listing.entries.get(path)
    if entry is None:
        return ""
    if entry.get("type") != "blob" or str(entry.get("mode")) not in REGULAR or not entry.get("sha"):
        return None
    return str(entry["sha"])


def content_key(section: Mapping[str, Any], trust: str, patch: str, blobs: Sequence[str]) -> str:
    """The key of a patch's verification: ``blobs`` are the blob SHAs ("" for none) of the patch
    and of its signature files (verification.signature_files), in that order."""
    keys_allowed = any(glob_match(g, patch) for g in section["trust"]["keys_for"])
    return hashlib.sha256(json.dumps([trust, list(blobs), keys_allowed]).encode()).hexdigest()


def listed_key(section: Mapping[str, Any], trust: str, patch: str, files: Sequence[str],
               listing: Listing) -> str | None:
    """The key of ``patch`` as the listing has it and its signature files ``files``; None when
    the listing cannot say, or the patch is no regular file there."""
    blobs = [_blob(listing, p) for p in (patch, *files)]
    if any(b is None for b in blobs) or not blobs[0]:
        return None
    return content_key(section, trust, patch, [str(b) for b in blobs])


def read_key(section: Mapping[str, Any], trust: str, patch: str, files: Sequence[str],
             data: Sequence[bytes | None], listing: Listing | None) -> str | None:
    """The key of what was read and verified, when it is what the listing says the commit holds
    (each file's bytes hash to its listed SHA, a missing one is listed as missing): only then is
    the verification remembered under the listing's key."""
    if listing is None:
        return None
    key = listed_key(section, trust, patch, files, listing)
    read = content_key(section, trust, patch, ["" if d is None else git_blob_sha(d) for d in data])
    return key if key == read else None


def verified_to_args(v: Verified) -> dict[str, Any]:
    return {"method": v.method, "signer": v.signer, "issuer": v.issuer, "log_index": v.log_index}


def verified_from_row(row: Mapping[str, Any]) -> Verified:
    index = row.get("log_index")
    return Verified(str(row["method"]), str(row["signer"]), row.get("issuer"),
                    None if index is None else int(index))


# Last: the module's own source is part of it (see verifier_digest).
VERIFIER = verifier_digest()
