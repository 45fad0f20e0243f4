"""The signature gate: find the patches of a PR head, verify each, render the verdict."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ...context import GitHubReader
from ...core.impact import glob_match
from ...core.markdown import cell, code, neutralize
from ...signing import Artifact, SignatureInvalid, Signer, TrustedKey, TrustPolicy, Verified, verify_patch
from . import lookups

SIGNATURE_CHECK = "patch-signature"
MAX_PATCHES = 100  # one PR carrying more patches than this is refused rather than half-checked


@dataclass(frozen=True)
class Verdict:
    path: str
    verified: Verified | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.verified is not None


def is_patch(section: Mapping[str, Any], path: str) -> bool:
    return any(glob_match(g, path) for g in section["patches"])


def signature_files(section: Mapping[str, Any], patch: str) -> tuple[str, str]:
    sig = section["signatures"]
    return sig["bundle"].replace("{path}", patch), sig["signature"].replace("{path}", patch)


def _patch_of(template: str, path: str) -> str | None:
    prefix, _, suffix = template.partition("{path}")
    if path.startswith(prefix) and path.endswith(suffix) and len(path) > len(prefix) + len(suffix):
        return path[len(prefix):len(path) - len(suffix)]
    return None


def signed_patch(section: Mapping[str, Any], name: str) -> str | None:
    """The patch whose bundle or signature file ``name`` is, or None. Checked before
    ``is_patch``: with broad globs (``patches/**``) a signature kept next to its patch
    matches them too, and is no patch needing a signature of its own."""
    for template in (section["signatures"]["bundle"], section["signatures"]["signature"]):
        patch = _patch_of(template, name)
        if patch and patch != name and is_patch(section, patch) and signed_patch(section, patch) is None:
            return patch
    return None


def touched_patches(section: Mapping[str, Any], filenames: Iterable[str]) -> list[str]:
    """Patches a change touches: the patch files, and patches whose signature files changed."""
    found: set[str] = set()
    for name in filenames:
        patch = signed_patch(section, name)
        if patch is not None:
            found.add(patch)
        elif is_patch(section, name):
            found.add(name)
    return sorted(found)


def trust_policy(section: Mapping[str, Any]) -> TrustPolicy:
    """Raises SignatureInvalid for a configured key that is unusable (reported on the check)."""
    trust = section["trust"]
    return TrustPolicy(
        signers=tuple(Signer(i["identity"], i["issuer"]) for i in trust["identities"]),
        keys=tuple(TrustedKey.from_pem(k["name"], k["pem"]) for k in trust["keys"]),
        instance=trust["instance"],
    )


async def verify_patches(gh: GitHubReader, repo: str, head_sha: str, section: Mapping[str, Any],
                         patches: Sequence[str]) -> list[Verdict]:
    try:
        policy = trust_policy(section)
    except SignatureInvalid as exc:
        return [Verdict(p, reason=f"configuration: {exc}") for p in patches]
    verdicts = []
    for patch in patches:
        try:
            data = await lookups.file_at(gh, repo, patch, head_sha, strict=True)
        except lookups.NotAFile as exc:
            # Not "deleted": the path is still there, pointing at content nobody signed.
            verdicts.append(Verdict(patch, reason=str(exc)))
            continue
        if data is None:
            continue  # deleted by this change: nothing to apply, nothing to verify
        bundle_path, sig_path = signature_files(section, patch)
        bundle = await lookups.file_at(gh, repo, bundle_path, head_sha)
        sig = await lookups.file_at(gh, repo, sig_path, head_sha)
        keys_allowed = any(glob_match(g, patch) for g in section["trust"]["keys_for"])
        try:
            # CPU-bound (certificate chains, ECDSA): keep the event loop free.
            verified = await asyncio.to_thread(verify_patch, Artifact.from_bytes(data), policy,
                                               bundle=bundle, signature_file=sig, keys_allowed=keys_allowed)
            verdicts.append(Verdict(patch, verified))
        except SignatureInvalid as exc:
            reason = str(exc)
            if reason.startswith("unsigned"):
                reason = f"unsigned: neither {bundle_path} nor {sig_path} exists at this commit"
            verdicts.append(Verdict(patch, reason=reason))
    return verdicts


def signers_text(verdicts: Sequence[Verdict]) -> str:
    seen: list[str] = []
    for v in verdicts:
        if v.verified is not None:
            who = v.verified.signer if v.verified.method == "keyless" else f"key:{v.verified.signer}"
            if who not in seen:
                seen.append(who)
    return ", ".join(seen)


def render(verdicts: Sequence[Verdict]) -> tuple[str, str, str]:
    """(conclusion, title, summary) of the ``patch-signature`` check run."""
    bad = [v for v in verdicts if not v.ok]
    lines = ["| Patch | Result | Signer | Issuer / key | Rekor log index |", "|---|---|---|---|---|"]
    # A path is the contributor's text: GitHub splits cells on a bare "|" even inside a code
    # span, so an unescaped one would forge a "verified" row (neutralize() escapes its own).
    for v in verdicts:
        if v.verified is not None:
            how = "keyless" if v.verified.method == "keyless" else "public key"
            by = v.verified.issuer if v.verified.method == "keyless" else f"key {v.verified.signer}"
            log_index = "–" if v.verified.log_index is None else str(v.verified.log_index)
            lines.append(f"| {cell(code(v.path))} | ✅ verified ({how}) | {neutralize(v.verified.signer)} | "
                         f"{neutralize(by or '')} | {log_index} |")
        else:
            lines.append(f"| {cell(code(v.path))} | ❌ {neutralize(v.reason, max_len=400)} | – | – | – |")
    table = "\n".join(lines)
    if not bad:
        n = len(verdicts)
        return "success", f"{n} patch{'es' if n != 1 else ''} signed", (
            "Every patch verifies against the trust policy; the verification pipeline was dispatched.\n\n" + table)
    return "failure", f"{len(bad)} of {len(verdicts)} patches not verified", (
        "Patches are accepted only when signed by a trusted signer (Sigstore keyless, or a "
        "trusted public key). Nothing was dispatched.\n\n" + table)
