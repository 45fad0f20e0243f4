"""Sigstore trust roots: the production or staging one shipped inside sigstore-python,
or a ``trusted_root.json`` given explicitly (tests, private instances).

``offline=True`` everywhere: verification must not depend on reaching Sigstore's TUF
CDN. sigstore copies its embedded roots into the user cache dir first (tests point
``XDG_CACHE_HOME`` at a temporary folder).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sigstore.errors import Error as SigstoreError
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore_models.trustroot.v1 import TrustedRoot as TrustedRootModel

from .errors import SignatureInvalid

INSTANCES = ("production", "staging")
_lock = threading.Lock()


@dataclass(frozen=True)
class LogKey:
    """One transparency log's key, found by its log id (SHA-256 of the DER key)."""
    log_id: bytes
    key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    base_url: str


@lru_cache(maxsize=4)
def _instance_root(instance: str) -> TrustedRoot:
    # TrustUpdater writes into the cache dir; two threads doing it at once race. Offline is
    # deliberate here, so sigstore's warning about it is noise (on the CLI's stderr too).
    tuf_log = logging.getLogger("sigstore._internal.tuf")
    with _lock:
        level = tuf_log.level
        tuf_log.setLevel(logging.ERROR)
        try:
            config = (ClientTrustConfig.staging(offline=True) if instance == "staging"
                      else ClientTrustConfig.production(offline=True))
        finally:
            tuf_log.setLevel(level)
        return config.trusted_root


def load_trusted_root(instance: str = "production", trusted_root_json: bytes | None = None) -> TrustedRoot:
    """The trust root to verify against: ``trusted_root_json`` when given, else the instance's."""
    if instance not in INSTANCES:
        raise SignatureInvalid(f"unknown Sigstore instance {instance!r} (production or staging)")
    if trusted_root_json is None:
        return _instance_root(instance)
    try:
        return TrustedRoot(TrustedRootModel.from_json(trusted_root_json))
    except (ValueError, SigstoreError) as exc:
        raise SignatureInvalid(f"unusable trusted root: {_first_line(exc)}") from exc


def trusted_root_digest(instance: str = "production") -> str | None:
    """SHA-256 of the trust root verification uses for ``instance`` (the one sigstore reads from
    its cache directory, which an operator or an online sigstore run may have replaced since the
    package shipped its own), None when it cannot be read: whatever was verified under one root
    holds only under that root."""
    try:
        text = load_trusted_root(instance)._inner.to_json()  # noqa: SLF001 - no public serialiser in sigstore 4.5
    except (SignatureInvalid, SigstoreError, AttributeError, OSError, ValueError):
        return None
    return hashlib.sha256(text.encode() if isinstance(text, str) else bytes(text)).hexdigest()


def log_keys(root: TrustedRoot) -> dict[bytes, LogKey]:
    """Rekor keys by log id. sigstore keeps its keyrings private to its own
    certificate-based verifier, so the key-based path reads the root's tlogs itself."""
    keys: dict[bytes, LogKey] = {}
    for tlog in root._inner.tlogs:  # noqa: SLF001 - no public accessor in sigstore 4.5
        raw = tlog.public_key.raw_bytes
        if not raw:
            continue
        try:
            key = load_der_public_key(raw)
        except ValueError:
            continue
        if isinstance(key, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
            keys[bytes(tlog.log_id.key_id)] = LogKey(bytes(tlog.log_id.key_id), key, tlog.base_url)
    return keys


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
