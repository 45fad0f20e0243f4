"""The signature gate: find the patches of a PR head, verify each, render the verdict."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ...context import GitHubReader
from ...core.impact import glob_match
from ...core.markdown import cell, code, neutralize
from ...signing import Artifact, SignatureInvalid, Signer, TrustedKey, TrustPolicy, Verified, verify_patch
from . import lookups, remembered

SIGNATURE_CHECK = "patch-signature"
# Patches verified in one decision, beyond those remembered (see remembered): past it the rest are
# left for the next decision rather than the delivery making hundreds of requests at once.
MAX_PATCHES = 100


@dataclass(frozen=True)
class Verdict:
    path: str
    verified: Verified | None = None
    reason: str = ""
    # Verified now, with bytes the tree listing names by this key: remembered for next time.
    key: str | None = None
    # Verified before with the same bytes, under the same trust policy (not read again).
    remembered: bool = False
    # The patches the verdict stands for: more than one for a line saying why several were not
    # verified (too many at once, left for the next decision).
    count: int = 1

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


def explained(section: Mapping[str, Any], patch: str, reason: str) -> str:
    """A refusal's reason as shown for ``patch``: an unsigned one names the files looked for. A
    refusal remembered by content (another patch of the same bytes, perhaps) is shown with this
    patch's files, not those of the patch it was first given to."""
    if reason.startswith("unsigned"):
        bundle_path, sig_path = signature_files(section, patch)
        return f"unsigned: neither {bundle_path} nor {sig_path} exists at this commit"
    return reason


def trust_policy(section: Mapping[str, Any]) -> TrustPolicy:
    """Raises SignatureInvalid for a configured key that is unusable (reported on the check)."""
    trust = section["trust"]
    return TrustPolicy(
        signers=tuple(Signer(i["identity"], i["issuer"]) for i in trust["identities"]),
        keys=tuple(TrustedKey.from_pem(k["name"], k["pem"]) for k in trust["keys"]),
        instance=trust["instance"],
    )


async def verify_patches(gh: GitHubReader, repo: str, head_sha: str, section: Mapping[str, Any],
                         patches: Sequence[str], listing: lookups.Listing | None = None,
                         trust: str | None = None) -> list[Verdict]:
    """Each patch read at ``head_sha`` and verified. With the ``listing`` of the commit's patch
    directories and the ``trust`` fingerprint (remembered.trust_fingerprint), a verdict (success or
    refusal) whose bytes are those listed carries its key to be remembered by."""
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
        # Remembered by, success or refusal: only when the bytes read are those listed.
        key = (remembered.read_key(section, trust, patch, (bundle_path, sig_path), (data, bundle, sig), listing)
               if trust else None)
        try:
            # CPU-bound (certificate chains, ECDSA): keep the event loop free.
            verified = await asyncio.to_thread(verify_patch, Artifact.from_bytes(data), policy,
                                               bundle=bundle, signature_file=sig, keys_allowed=keys_allowed)
            verdicts.append(Verdict(patch, verified, key=key))
        except SignatureInvalid as exc:
            verdicts.append(Verdict(patch, reason=explained(section, patch, str(exc)), key=key))
    return verdicts


def signers_text(verdicts: Sequence[Verdict]) -> str:
    seen: list[str] = []
    for v in verdicts:
        if v.verified is not None:
            who = v.verified.signer if v.verified.method == "keyless" else f"key:{v.verified.signer}"
            if who not in seen:
                seen.append(who)
    return ", ".join(seen)


# Room for the table in a check run's summary (GitHub takes 65,535 characters): rows past it are
# counted, not shown, the refused ones first so that none of them is cut.
TABLE_ROOM = 60_000


def _row(v: Verdict) -> str:
    # A path is the contributor's text: GitHub splits cells on a bare "|" even inside a code
    # span, so an unescaped one would forge a "verified" row (neutralize() escapes its own).
    if v.verified is None:
        before = " (refused before with the same bytes, not read again)" if v.remembered else ""
        return f"| {cell(code(v.path))} | ❌ {neutralize(v.reason, max_len=400)}{before} | – | – | – |"
    how = "keyless" if v.verified.method == "keyless" else "public key"
    by = v.verified.issuer if v.verified.method == "keyless" else f"key {v.verified.signer}"
    log_index = "–" if v.verified.log_index is None else str(v.verified.log_index)
    again = ", remembered" if v.remembered else ""
    return (f"| {cell(code(v.path))} | ✅ verified ({how}{again}) | {neutralize(v.verified.signer)} | "
            f"{neutralize(by or '')} | {log_index} |")


def _table(verdicts: Sequence[Verdict]) -> str:
    lines = ["| Patch | Result | Signer | Issuer / key | Rekor log index |", "|---|---|---|---|---|"]
    size = 0
    ordered = [v for v in verdicts if not v.ok] + [v for v in verdicts if v.ok]
    for shown, v in enumerate(ordered):
        row = _row(v)
        if size + len(row) > TABLE_ROOM:
            lines.append(f"| … | {len(ordered) - shown} more not shown | | | |")
            break
        lines.append(row)
        size += len(row) + 1
    return "\n".join(lines)


def render(verdicts: Sequence[Verdict]) -> tuple[str, str, str]:
    """(conclusion, title, summary) of the ``patch-signature`` check run."""
    bad = sum(v.count for v in verdicts if not v.ok)
    total = sum(v.count for v in verdicts)
    table = _table(verdicts)
    again = sum(v.remembered for v in verdicts if v.ok)
    refused_again = sum(v.remembered for v in verdicts if not v.ok)
    known = (f" {again} of them verified before with the same bytes under the same trust policy "
             "(remembered), and not read again." if again else "")
    known += (f" {refused_again} of them refused before with the same bytes under the same trust policy, "
              "and not read again." if refused_again else "")
    if not bad:
        return "success", f"{total} patch{'es' if total != 1 else ''} signed", (
            "Every patch verifies against the trust policy; the verification pipeline was dispatched."
            f"{known}\n\n" + table)
    return "failure", f"{bad} of {total} patches not verified", (
        "Patches are accepted only when signed by a trusted signer (Sigstore keyless, or a "
        f"trusted public key). Nothing was dispatched.{known}\n\n" + table)
