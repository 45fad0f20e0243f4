"""Signature verification over bytes (no GitHub, no database): Sigstore keyless bundles
via sigstore-python, cosign key-based bundles and ``.sig`` files via ``cryptography``."""
from .artifact import Artifact
from .errors import SignatureInvalid, Verified
from .keyed import TrustedKey, verify_key_bundle, verify_signature_file, verify_with_keys
from .keyless import Signer, verify_keyless
from .policy import TrustPolicy, is_keyless_bundle, verify_patch
from .trust import load_trusted_root, trusted_root_digest

__all__ = [
    "Artifact", "SignatureInvalid", "Signer", "TrustPolicy", "TrustedKey", "Verified",
    "is_keyless_bundle", "load_trusted_root", "verify_key_bundle", "verify_keyless",
    "trusted_root_digest", "verify_patch", "verify_signature_file", "verify_with_keys",
]
