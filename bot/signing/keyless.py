"""Keyless (Fulcio certificate) bundles, verified by sigstore-python."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from sigstore.errors import Error as SigstoreError
from sigstore.hashes import Hashed
from sigstore.models import Bundle
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity
from sigstore_models.common.v1 import HashAlgorithm

from .artifact import Artifact
from .errors import SignatureInvalid, Verified
from .trust import load_trusted_root

# Fulcio's OIDC issuer extensions: the v2 one (DER UTF8String) and the deprecated raw one.
_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OTHERNAME = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")


@dataclass(frozen=True)
class Signer:
    """An accepted signer: certificate identity (SAN) and the OIDC issuer that vouched for it."""
    identity: str
    issuer: str


def certificate_identity(cert: x509.Certificate) -> tuple[list[str], str | None]:
    """(SANs, issuer) of a signing certificate, for messages: who actually signed."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [*san.get_values_for_type(x509.RFC822Name),
                *san.get_values_for_type(x509.UniformResourceIdentifier),
                *(o.value.decode(errors="replace") for o in san.get_values_for_type(x509.OtherName)
                  if o.type_id == _OTHERNAME)]
    except x509.ExtensionNotFound:
        sans = []
    issuer = None
    for oid in (_ISSUER_V2, _ISSUER_V1):
        try:
            raw = cert.extensions.get_extension_for_oid(oid).value.value  # type: ignore[attr-defined]
        except x509.ExtensionNotFound:
            continue
        # v2 is a DER UTF8String; v1 is the bare string. A v2 value that is not one names no
        # issuer (no signer can match it) rather than a guess at its bytes.
        issuer = _der_utf8string(raw) if oid == _ISSUER_V2 else raw.decode(errors="replace")
        break
    return sans, issuer


def _der_utf8string(raw: bytes) -> str | None:
    """The text of a DER UTF8String (tag 0x0c), or None when ``raw`` is not exactly one. Its
    length is short-form below 128 bytes and long-form (0x80 | n, then n big-endian bytes) from
    128 up: an OIDC issuer URL may well be longer than 127 bytes."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    first, offset = raw[1], 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or len(raw) < 2 + count:
            return None
        length = int.from_bytes(raw[2:2 + count], "big")
        offset += count
        if length < 0x80 or raw[2] == 0:  # DER: the shortest form only
            return None
    if len(raw) != offset + length:
        return None
    return raw[offset:].decode(errors="replace")


def parse_bundle(raw: bytes) -> Bundle:
    try:
        return Bundle.from_json(raw)
    except SigstoreError as exc:
        raise SignatureInvalid(f"malformed Sigstore bundle: {_reason(exc)}") from exc
    except ValueError as exc:  # JSON or model errors that escape sigstore's wrapping
        raise SignatureInvalid(f"malformed Sigstore bundle: {_reason(exc)}") from exc


def verify_keyless(artifact: Artifact, bundle_json: bytes, signers: Iterable[Signer], *,
                   instance: str = "production", trusted_root_json: bytes | None = None) -> Verified:
    """Verify a keyless bundle against the trust root and accept it only from ``signers``.

    The certificate's identity is matched first, so a wrong signer is reported as such
    (with who did sign) rather than as sigstore's generic policy failure."""
    signers = list(signers)
    if not signers:
        raise SignatureInvalid("no keyless signers are trusted (trust.identities is empty)")
    bundle = parse_bundle(bundle_json)
    cert = bundle.signing_certificate
    sans, issuer = certificate_identity(cert)
    match = next((s for s in signers if s.identity in sans and s.issuer == issuer), None)
    if match is None:
        same_identity = [s for s in signers if s.identity in sans]
        who = f"{', '.join(sans) or '(no identity)'} (issuer {issuer or 'unknown'})"
        if same_identity:
            raise SignatureInvalid(
                f"signed by {who}, but that identity is only trusted with issuer "
                f"{', '.join(sorted({s.issuer for s in same_identity}))}")
        raise SignatureInvalid(f"signed by {who}, who is not an accepted signer")
    verifier = Verifier(trusted_root=load_trusted_root(instance, trusted_root_json))
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=artifact.digest)
    try:
        verifier.verify_artifact(hashed, bundle, Identity(identity=match.identity, issuer=match.issuer))
    except SigstoreError as exc:
        raise SignatureInvalid(f"keyless signature of {match.identity} does not verify: {_reason(exc)}") from exc
    log_index = bundle.log_entry._inner.log_index  # noqa: SLF001 - shown to the reader only
    return Verified("keyless", match.identity, match.issuer, int(log_index) if log_index is not None else None)


def has_certificate(bundle: Mapping[str, Any]) -> bool:
    """Whether a parsed bundle is keyless (certificate) rather than key-based (public key)."""
    material = bundle.get("verificationMaterial")
    # Contributor-supplied JSON: a non-object here is a malformed bundle, which the keyless
    # path then reports as such (not an AttributeError that loses the whole decision).
    if not isinstance(material, Mapping):
        return False
    return bool(material.get("certificate") or material.get("x509CertificateChain"))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(part) for part in getattr(exc, "args", ()) if part) or str(exc)
    return " ".join(text.split())[:500] or type(exc).__name__
