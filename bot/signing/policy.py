"""Which verification applies to one patch: keyless first, keys as the fallback.

Keys are used when the patch has no keyless bundle, or when the rules allow keys for
its path (then a failing keyless bundle may still be rescued by a key signature).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .artifact import Artifact
from .errors import SignatureInvalid, Verified
from .keyed import TrustedKey, verify_with_keys
from .keyless import Signer, has_certificate, verify_keyless


@dataclass(frozen=True)
class TrustPolicy:
    signers: tuple[Signer, ...] = ()
    keys: tuple[TrustedKey, ...] = ()
    instance: str = "production"
    trusted_root_json: bytes | None = field(default=None, repr=False)


def is_keyless_bundle(bundle: bytes) -> bool:
    """A bundle that is not a key-based one. Unreadable bundles count as keyless, so
    their verification reports exactly what is wrong with them."""
    try:
        data = json.loads(bundle)
    except (ValueError, UnicodeDecodeError):
        return True
    if not isinstance(data, dict):
        return True
    material = data.get("verificationMaterial")
    return has_certificate(data) or not (isinstance(material, dict) and "publicKey" in material)


def verify_patch(artifact: Artifact, policy: TrustPolicy, *, bundle: bytes | None,
                 signature_file: bytes | None, keys_allowed: bool = False) -> Verified:
    keyless = bundle is not None and is_keyless_bundle(bundle)
    key_material = [m for m in ((None if keyless else bundle), signature_file) if m is not None]
    keyless_error: SignatureInvalid | None = None
    if keyless:
        try:
            return verify_keyless(artifact, bundle, policy.signers, instance=policy.instance,
                                  trusted_root_json=policy.trusted_root_json)
        except SignatureInvalid as exc:
            if not (keys_allowed and key_material):
                raise
            keyless_error = exc
    if not key_material:
        raise SignatureInvalid("unsigned: no Sigstore bundle and no signature file")
    errors = []
    for material in key_material:
        try:
            return verify_with_keys(artifact, material, policy.keys, instance=policy.instance,
                                    trusted_root_json=policy.trusted_root_json)
        except SignatureInvalid as exc:
            errors.append(str(exc))
    prefix = f"keyless: {keyless_error}; keys: " if keyless_error else ""
    raise SignatureInvalid(prefix + "; ".join(errors))
