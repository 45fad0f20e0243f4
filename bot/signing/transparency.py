"""Rekor material carried by a key-based bundle, checked without the network.

sigstore-python refuses bundles without a certificate, so for cosign key bundles we
check what the log entry promises ourselves:
- the entry body (hashedrekord 0.0.1) names the same digest, signature and key;
- the Merkle inclusion proof (RFC 6962) leads from that body to the proof's root hash;
- the checkpoint carried with the proof commits to that root and tree size, and is
  signed by a log the trust root knows;
- the inclusion promise (signed entry timestamp), when present, is the log's signature.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .errors import SignatureInvalid
from .trust import LogKey

# A bundle is contributor-supplied JSON: every value is checked for its type before use, so
# a wrong-typed one ("tlogEntries": 5, "kindVersion": "x") is a clear rejection, not a crash.
_DECIMAL = re.compile(r"-?[0-9]{1,20}")  # int64 fits; far longer strings are not worth converting


def b64(value: Any, what: str, *, part: str = "log entry") -> bytes:
    """A base64 field of a bundle, or SignatureInvalid naming the ``part`` and field."""
    if not isinstance(value, str):  # str(None) == "None" would even decode
        raise SignatureInvalid(f"{part}: {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid(f"{part}: {what} is not base64") from exc



def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SignatureInvalid(f"log entry: {what} is not an object")
    return value


def _integer(value: Any, what: str) -> int:
    """A JSON number, or the decimal string protobuf's JSON form uses for 64-bit integers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    raise SignatureInvalid(f"log entry: {what} is not an integer")


def spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- RFC 6962 Merkle inclusion ----------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root a proof leads to (RFC 9162 2.1.3.2); raises when the proof has the wrong shape."""
    if not 0 <= index < size:
        raise SignatureInvalid(f"log entry: inclusion proof index {index} outside tree of size {size}")
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    if len(proof) != inner + border:
        raise SignatureInvalid(
            f"log entry: inclusion proof has {len(proof)} hashes, a tree of size {size} needs {inner + border}")
    node = leaf
    for i, sibling in enumerate(proof[:inner]):
        node = node_hash(node, sibling) if (index >> i) & 1 == 0 else node_hash(sibling, node)
    for sibling in proof[inner:]:
        node = node_hash(sibling, node)
    return node


# --- checkpoints (signed notes) ------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: bytes                                # the signed text
    signatures: tuple[tuple[str, bytes], ...]  # (name, key hint + signature)


def parse_checkpoint(envelope: str) -> Checkpoint:
    if not isinstance(envelope, str) or envelope.count("\n\n") != 1 or not envelope.endswith("\n"):
        raise SignatureInvalid("log entry: checkpoint is not a signed note")
    note, _, sigblock = envelope.partition("\n\n")
    lines = note.split("\n")
    if len(lines) < 3 or not lines[0]:
        raise SignatureInvalid("log entry: checkpoint needs origin, size and root hash")
    try:
        size = int(lines[1])
    except ValueError as exc:
        raise SignatureInvalid("log entry: checkpoint size is not a number") from exc
    signatures = []
    for line in sigblock.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise SignatureInvalid("log entry: malformed checkpoint signature line")
        signatures.append((parts[1], b64(parts[2], "checkpoint signature")))
    return Checkpoint(lines[0], size, b64(lines[2], "checkpoint root hash"),
                      (note + "\n").encode(), tuple(signatures))


def _verify_log_signature(log: LogKey, signature: bytes, data: bytes, what: str) -> None:
    try:
        if isinstance(log.key, ed25519.Ed25519PublicKey):  # Rekor v2 logs sign with Ed25519
            log.key.verify(signature, data)
        else:
            log.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureInvalid(f"log entry: {what} is not signed by the log") from exc


# --- the entry body: does the log record *this* signature? ----------------------------

def _body_v001(body: Mapping[str, Any], digest: bytes, signature: bytes) -> bytes:
    """hashedrekord 0.0.1 (Rekor v1): returns the recorded key's SPKI DER."""
    try:
        spec = _object(body["spec"], "body spec")
        data_hash = _object(_object(spec["data"], "body data")["hash"], "body hash")
        sig = _object(spec["signature"], "body signature")
        recorded_key = serialization.load_pem_public_key(
            b64(_object(sig["publicKey"], "body public key")["content"], "public key"))
    except (ValueError, KeyError, TypeError, SignatureInvalid) as exc:
        raise SignatureInvalid("log entry: body is not a hashedrekord 0.0.1 entry with a public key") from exc
    if data_hash.get("algorithm") != "sha256" or data_hash.get("value") != digest.hex():
        raise SignatureInvalid("log entry: body records another artifact digest")
    if b64(sig.get("content", ""), "signature") != signature:
        raise SignatureInvalid("log entry: body records another signature")
    if not isinstance(recorded_key, ec.EllipticCurvePublicKey):
        raise SignatureInvalid("log entry: body records another public key")
    return spki(recorded_key)


def _body_v002(body: Mapping[str, Any], digest: bytes, signature: bytes) -> bytes:
    """hashedrekord 0.0.2 (Rekor v2): returns the recorded key's SPKI DER."""
    try:
        spec = _object(_object(body["spec"], "body spec")["hashedRekordV002"], "body spec")
        data, sig = _object(spec["data"], "body data"), _object(spec["signature"], "body signature")
        verifier = _object(_object(sig["verifier"], "body verifier")["publicKey"], "body public key")
        raw_key = b64(verifier["rawBytes"], "public key")
    except (KeyError, TypeError, SignatureInvalid) as exc:
        raise SignatureInvalid("log entry: body is not a hashedrekord 0.0.2 entry with a public key") from exc
    if data.get("algorithm") != "SHA2_256" or b64(data.get("digest", ""), "digest") != digest:
        raise SignatureInvalid("log entry: body records another artifact digest")
    if b64(sig.get("content", ""), "signature") != signature:
        raise SignatureInvalid("log entry: body records another signature")
    return raw_key


_BODY_CHECKS = {"0.0.1": _body_v001, "0.0.2": _body_v002}


# --- the log's own material: inclusion proof, checkpoint, promise ---------------------

def verify_inclusion(entry: Mapping[str, Any], logs: Mapping[bytes, LogKey]) -> int:
    """The entry is in a log the trust root knows: its body leads through the inclusion
    proof to a root that the log signed in the checkpoint (and, when present, the log
    signed the entry timestamp). Returns the log index."""
    body_raw = b64(entry.get("canonicalizedBody", ""), "body")
    log_id = b64(_object(entry.get("logId") or {}, "log id").get("keyId", ""), "log id")
    log = logs.get(log_id)
    if log is None:
        raise SignatureInvalid(f"log entry: log {log_id.hex()[:16]}... is not in the trusted root")

    proof = _object(entry.get("inclusionProof") or {}, "inclusion proof")
    envelope = _object(proof.get("checkpoint") or {}, "checkpoint").get("envelope")
    if not envelope:
        raise SignatureInvalid("log entry: inclusion proof with checkpoint is missing")
    if "logIndex" not in proof or "treeSize" not in proof:
        raise SignatureInvalid("log entry: inclusion proof index or size is missing")
    index, size = _integer(proof["logIndex"], "proof index"), _integer(proof["treeSize"], "tree size")
    root = b64(proof.get("rootHash", ""), "root hash")
    hashes = proof.get("hashes") or []
    if not isinstance(hashes, list):
        raise SignatureInvalid("log entry: inclusion proof hashes are not a list")
    computed = root_from_inclusion_proof(index, size, leaf_hash(body_raw),
                                         [b64(h, "proof hash") for h in hashes])
    if computed != root:
        raise SignatureInvalid("log entry: inclusion proof does not lead to its root hash")
    checkpoint = parse_checkpoint(envelope)
    if checkpoint.root != root or checkpoint.size != size:
        raise SignatureInvalid("log entry: checkpoint does not commit to the proof's root hash and size")
    hinted = [s for _, s in checkpoint.signatures if s[:4] == log.log_id[:4]]
    if not hinted:
        raise SignatureInvalid("log entry: checkpoint carries no signature of the log")
    _verify_log_signature(log, hinted[0][4:], checkpoint.note, "checkpoint")

    log_index = _integer(entry.get("logIndex", index), "log index")
    promise = _object(entry.get("inclusionPromise") or {}, "inclusion promise").get("signedEntryTimestamp")
    if promise and entry.get("integratedTime") is not None:
        # Rekor signs the RFC 8785 form; with these four plain values that is sorted compact JSON.
        payload = json.dumps({"body": base64.b64encode(body_raw).decode(),
                              "integratedTime": _integer(entry["integratedTime"], "integrated time"),
                              "logID": log_id.hex(), "logIndex": _integer(entry.get("logIndex", 0), "log index")},
                             sort_keys=True, separators=(",", ":")).encode()
        _verify_log_signature(log, b64(promise, "signed entry timestamp"), payload,
                              "inclusion promise")
    return log_index


def check_log_entry(entry: Mapping[str, Any], *, digest: bytes, signature: bytes,
                    key: ec.EllipticCurvePublicKey, logs: Mapping[bytes, LogKey]) -> int:
    """Check one ``tlogEntries`` item of a key-based bundle; returns its log index."""
    entry = _object(entry, "entry")
    kind = _object(entry.get("kindVersion") or {}, "kind and version")
    version = kind.get("version")
    if kind.get("kind") != "hashedrekord" or not isinstance(version, str) or version not in _BODY_CHECKS:
        raise SignatureInvalid(f"log entry: unsupported kind {kind.get('kind')}/{version} "
                               "(hashedrekord 0.0.1 or 0.0.2 expected)")
    try:
        body = json.loads(b64(entry.get("canonicalizedBody", ""), "body"))
    except ValueError as exc:
        raise SignatureInvalid("log entry: body is not JSON") from exc
    if not isinstance(body, dict) or (body.get("kind"), body.get("apiVersion")) != ("hashedrekord", version):
        raise SignatureInvalid("log entry: body kind differs from the entry's kind")
    if _BODY_CHECKS[version](body, digest, signature) != spki(key):
        raise SignatureInvalid("log entry: body records another public key")
    return verify_inclusion(entry, logs)
