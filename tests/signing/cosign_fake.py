"""Self-made cosign-style material for the key-based path: P-256 key pairs, ``.sig``
files, v0.3 key bundles, and a tiny Rekor (a log key, an RFC 6962 tree, signed
checkpoints and entry timestamps) with a ``trusted_root.json`` that trusts it."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from bot.signing.transparency import leaf_hash, node_hash

b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731


@dataclass
class KeyPair:
    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def public_der(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign_digest(self, digest: bytes) -> bytes:
        return self.private.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data, ec.ECDSA(hashes.SHA256()))


def sig_file(key: KeyPair, blob: bytes) -> bytes:
    """What ``cosign sign-blob --key`` writes with ``--output-signature``."""
    return b64(key.sign_digest(hashlib.sha256(blob).digest())).encode()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]) over leaf hashes, bottom-up."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


@dataclass
class FakeRekor:
    key: KeyPair = field(default_factory=KeyPair)
    origin: str = "rekor.test - 1"
    others: int = 6  # other entries already in the log, so proofs have some depth

    @property
    def log_id(self) -> bytes:
        return hashlib.sha256(self.key.public_der).digest()

    def trusted_root(self) -> bytes:
        return json.dumps({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": "https://rekor.test", "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(self.key.public_der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                              "validFor": {"start": "2020-01-01T00:00:00Z"}},
                "logId": {"keyId": b64(self.log_id)},
            }],
            "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": [],
        }).encode()

    def entry(self, body: bytes, *, integrated_time: int | None = 1_760_000_000, version: str = "0.0.1") -> dict:
        leaves = [leaf_hash(os.urandom(16)) for _ in range(self.others)]
        index = len(leaves) // 2
        leaves.insert(index, leaf_hash(body))
        root = _mth(leaves)
        note = f"{self.origin}\n{len(leaves)}\n{b64(root)}\n"
        checkpoint = note + f"\n\u2014 rekor.test {b64(self.log_id[:4] + self.key.sign(note.encode()))}\n"
        log_index = 1000 + index
        entry: dict = {
            "logIndex": str(log_index),
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": "hashedrekord", "version": version},
        }
        if integrated_time is not None:  # Rekor v1 promises; Rekor v2 logs synchronously
            set_payload = json.dumps({"body": b64(body), "integratedTime": integrated_time,
                                      "logID": self.log_id.hex(), "logIndex": log_index},
                                     sort_keys=True, separators=(",", ":")).encode()
            entry["integratedTime"] = str(integrated_time)
            entry["inclusionPromise"] = {"signedEntryTimestamp": b64(self.key.sign(set_payload))}
        return {
            **entry,
            "inclusionProof": {
                "logIndex": str(index), "rootHash": b64(root), "treeSize": str(len(leaves)),
                "hashes": [b64(h) for h in _path(index, leaves)],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": b64(body),
        }


def hashedrekord_body(key: KeyPair, digest: bytes, signature: bytes) -> bytes:
    return json.dumps({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                 "signature": {"content": b64(signature),
                               "publicKey": {"content": b64(key.public_pem.encode())}}},
    }, separators=(",", ":")).encode()


def hashedrekord_v002_body(key: KeyPair, digest: bytes, signature: bytes) -> bytes:
    return json.dumps({
        "apiVersion": "0.0.2", "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": {"content": b64(signature),
                          "verifier": {"publicKey": {"rawBytes": b64(key.public_der)},
                                       "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}},
    }, separators=(",", ":")).encode()


def key_bundle(key: KeyPair, blob: bytes, rekor: FakeRekor | None = None, *, rekor_v2: bool = False,
               **mutate) -> bytes:
    """A cosign 3 style v0.3 bundle signed with ``key``; logged in ``rekor`` when given
    (a Rekor v2 hashedrekord 0.0.2 entry without inclusion promise with ``rekor_v2``)."""
    digest = hashlib.sha256(blob).digest()
    signature = key.sign_digest(digest)
    material: dict = {"publicKey": {"hint": b64(hashlib.sha256(key.public_der).digest())}}
    if rekor is not None and rekor_v2:
        material["tlogEntries"] = [rekor.entry(hashedrekord_v002_body(key, digest, signature),
                                               integrated_time=None, version="0.0.2")]
    elif rekor is not None:
        material["tlogEntries"] = [rekor.entry(hashedrekord_body(key, digest, signature))]
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material,
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
                             "signature": b64(signature)},
    }
    for path, value in mutate.items():
        target = bundle
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        target[leaf] = value
    return json.dumps(bundle).encode()
