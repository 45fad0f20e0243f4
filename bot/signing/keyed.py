"""Key-based signatures as cosign makes them (ECDSA P-256 keys, SHA-256):
- a bundle (v0.3) whose verification material is a public key hint, not a certificate;
- a plain ``.sig`` file: base64 of the DER signature over the blob's SHA-256.
sigstore-python verifies neither, so this is done with ``cryptography``.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .artifact import Artifact
from .errors import SignatureInvalid, Verified
from .keyless import has_certificate
from .transparency import b64, check_log_entry
from .trust import load_trusted_root, log_keys

BUNDLE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
)


@dataclass(frozen=True)
class TrustedKey:
    name: str
    key: ec.EllipticCurvePublicKey

    @classmethod
    def from_pem(cls, name: str, pem: str | bytes) -> "TrustedKey":
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise SignatureInvalid(f"public key {name!r} is not a PEM public key") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise SignatureInvalid(f"public key {name!r} is not an ECDSA P-256 key (as cosign makes them)")
        return cls(name, key)


def _verifying_key(keys: Iterable[TrustedKey], digest: bytes, signature: bytes) -> TrustedKey:
    keys = list(keys)
    if not keys:
        raise SignatureInvalid("no public keys are trusted (trust.keys is empty)")
    for candidate in keys:
        try:
            candidate.key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            return candidate
        except InvalidSignature:
            continue
    names = ", ".join(k.name for k in keys)
    raise SignatureInvalid(f"signature does not verify with any trusted key (tried {names})")


def looks_like_bundle(material: bytes) -> bool:
    return material.lstrip()[:1] in (b"{", b"[")


def verify_signature_file(artifact: Artifact, sig_file: bytes, keys: Iterable[TrustedKey]) -> Verified:
    """cosign's plain ``.sig``: base64 of the DER ECDSA signature (whitespace tolerated)."""
    try:
        signature = base64.b64decode(b"".join(sig_file.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid("signature file is not base64") from exc
    if not signature:
        raise SignatureInvalid("signature file is empty")
    return Verified("key", _verifying_key(keys, artifact.digest, signature).name)


def _load_json(material: bytes) -> dict[str, Any]:
    try:
        data = json.loads(material)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureInvalid(f"malformed bundle: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SignatureInvalid("malformed bundle: not a JSON object")
    return data


def _b64(value: Any, what: str) -> bytes:
    return b64(value, what, part="malformed bundle")


def verify_key_bundle(artifact: Artifact, bundle_json: bytes, keys: Iterable[TrustedKey], *,
                      instance: str = "production", trusted_root_json: bytes | None = None) -> Verified:
    bundle = _load_json(bundle_json)
    if bundle.get("mediaType") not in BUNDLE_MEDIA_TYPES:
        raise SignatureInvalid(f"malformed bundle: unsupported media type {bundle.get('mediaType')!r}")
    material = bundle.get("verificationMaterial")
    if not isinstance(material, Mapping):
        raise SignatureInvalid("malformed bundle: no verification material")
    if has_certificate(bundle):
        raise SignatureInvalid("bundle is keyless (it carries a certificate), not key-based")
    if not isinstance(material.get("publicKey"), Mapping):
        raise SignatureInvalid("malformed bundle: neither a certificate nor a public key")
    message = bundle.get("messageSignature")
    if not isinstance(message, Mapping):
        raise SignatureInvalid("malformed bundle: no message signature (DSSE envelopes are not patches)")
    signature = _b64(message.get("signature", ""), "signature")
    if not signature:
        raise SignatureInvalid("malformed bundle: empty signature")
    recorded = message.get("messageDigest")
    if recorded is not None:
        if not isinstance(recorded, Mapping) or recorded.get("algorithm") != "SHA2_256":
            raise SignatureInvalid("malformed bundle: message digest must be SHA2_256")
        recorded_digest = _b64(recorded.get("digest", ""), "message digest")
        if recorded_digest != artifact.digest:
            raise SignatureInvalid("message digest mismatch: the bundle was made for other content")
    signer = _verifying_key(keys, artifact.digest, signature)

    entries = material.get("tlogEntries") or []
    if not isinstance(entries, list):
        raise SignatureInvalid("malformed bundle: tlogEntries is not a list")
    log_index = None
    if entries:
        logs = log_keys(load_trusted_root(instance, trusted_root_json))
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise SignatureInvalid("malformed bundle: log entry is not an object")
            log_index = check_log_entry(entry, digest=artifact.digest, signature=signature,
                                        key=signer.key, logs=logs)
    return Verified("key", signer.name, log_index=log_index)


def verify_with_keys(artifact: Artifact, material: bytes, keys: Iterable[TrustedKey], *,
                     instance: str = "production", trusted_root_json: bytes | None = None) -> Verified:
    """A key bundle or a ``.sig`` file, told apart by content."""
    if looks_like_bundle(material):
        return verify_key_bundle(artifact, material, keys, instance=instance,
                                 trusted_root_json=trusted_root_json)
    return verify_signature_file(artifact, material, keys)
