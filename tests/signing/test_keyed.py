"""Key-based signatures: self-made cosign-style keys, bundles, .sig files and a fake Rekor."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from bot.signing import Artifact, SignatureInvalid, TrustedKey, verify_with_keys
from bot.signing.transparency import leaf_hash, parse_checkpoint, root_from_inclusion_proof, verify_inclusion
from bot.signing.trust import load_trusted_root, log_keys

from .cosign_fake import FakeRekor, KeyPair, key_bundle, sig_file

BLOB = b"From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] sched: fix\n\n--- a/x\n+++ b/x\n"


@pytest.fixture(scope="module")
def key():
    return KeyPair()


@pytest.fixture(scope="module")
def rekor():
    return FakeRekor()


def trusted(*pairs):
    return [TrustedKey.from_pem(f"key{i}", k.public_pem) for i, k in enumerate(pairs)]


def verify(material, keys, blob=BLOB, **kw):
    return verify_with_keys(Artifact.from_bytes(blob), material, keys, **kw)


def test_sig_file_verifies_with_the_right_key_among_several(key):
    result = verify(sig_file(key, BLOB), trusted(KeyPair(), key))
    assert (result.method, result.signer, result.log_index) == ("key", "key1", None)


def test_sig_file_with_wrong_key_fails(key):
    with pytest.raises(SignatureInvalid, match=r"any trusted key \(tried key0\)"):
        verify(sig_file(key, BLOB), trusted(KeyPair()))


def test_sig_file_on_tampered_patch_fails(key):
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(sig_file(key, BLOB), trusted(key), blob=BLOB + b" ")


def test_sig_file_not_base64_fails(key):
    with pytest.raises(SignatureInvalid, match="not base64"):
        verify(b"%%% not a signature", trusted(key))


def test_key_bundle_without_log_entry_verifies(key):
    assert verify(key_bundle(key, BLOB), trusted(key)).signer == "key0"


def test_key_bundle_digest_input(key):
    digest = "sha256:" + hashlib.sha256(BLOB).hexdigest()
    result = verify_with_keys(Artifact.parse(digest), key_bundle(key, BLOB), trusted(key))
    assert result.signer == "key0"


def test_key_bundle_with_log_entry_checks_the_log(key, rekor):
    result = verify(key_bundle(key, BLOB, rekor), trusted(key), trusted_root_json=rekor.trusted_root())
    assert result.signer == "key0" and result.log_index == 1003


def test_key_bundle_tampered_patch_is_a_digest_mismatch(key, rekor):
    with pytest.raises(SignatureInvalid, match="message digest mismatch"):
        verify(key_bundle(key, BLOB, rekor), trusted(key), blob=BLOB.replace(b"fix", b"fux"),
               trusted_root_json=rekor.trusted_root())


def test_key_bundle_wrong_key(key):
    with pytest.raises(SignatureInvalid, match="any trusted key"):
        verify(key_bundle(key, BLOB), trusted(KeyPair()))


def test_key_bundle_from_unknown_log_fails(key, rekor):
    with pytest.raises(SignatureInvalid, match="not in the trusted root"):
        verify(key_bundle(key, BLOB, rekor), trusted(key), trusted_root_json=FakeRekor().trusted_root())


def _tampered_entry(key, rekor, **changes):
    bundle = json.loads(key_bundle(key, BLOB, rekor))
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    for path, value in changes.items():
        target = entry
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value(target[leaf]) if callable(value) else value
    return json.dumps(bundle).encode()


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("changes,reason", [
    ({"inclusionProof__rootHash": _flip_b64}, "does not lead to its root hash"),
    ({"inclusionProof__hashes": lambda h: h[:-1]}, "inclusion proof has"),
    ({"inclusionProof__treeSize": "99"}, "inclusion proof has"),
    ({"inclusionPromise__signedEntryTimestamp": _flip_b64}, "inclusion promise is not signed"),
    ({"integratedTime": "1"}, "inclusion promise is not signed"),
    ({"kindVersion": {"kind": "dsse", "version": "0.0.1"}}, "unsupported kind"),
    ({"inclusionProof__checkpoint": {"envelope": "x\n1\nAAAA\n\n"}}, "checkpoint"),
])
def test_tampered_log_material_is_refused(key, rekor, changes, reason):
    with pytest.raises(SignatureInvalid, match=reason):
        verify(_tampered_entry(key, rekor, **changes), trusted(key), trusted_root_json=rekor.trusted_root())


def test_log_body_for_another_signature_is_refused(key, rekor):
    # A genuine log entry of another signature over the same patch cannot vouch for this one.
    other = json.loads(key_bundle(key, BLOB, rekor))["verificationMaterial"]["tlogEntries"][0]
    bundle = json.loads(key_bundle(key, BLOB))
    bundle["verificationMaterial"]["tlogEntries"] = [other]
    with pytest.raises(SignatureInvalid, match="another signature"):
        verify(json.dumps(bundle).encode(), trusted(key), trusted_root_json=rekor.trusted_root())


def test_checkpoint_signed_by_someone_else_is_refused(key, rekor):
    forger = FakeRekor(key=KeyPair())
    bundle = json.loads(key_bundle(key, BLOB, rekor))
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    note = entry["inclusionProof"]["checkpoint"]["envelope"].split("\n\n")[0] + "\n"
    forged = base64.b64encode(rekor.log_id[:4] + forger.key.sign(note.encode())).decode()
    entry["inclusionProof"]["checkpoint"]["envelope"] = note + f"\n\u2014 rekor.test {forged}\n"
    with pytest.raises(SignatureInvalid, match="checkpoint is not signed by the log"):
        verify(json.dumps(bundle).encode(), trusted(key), trusted_root_json=rekor.trusted_root())


@pytest.mark.parametrize("material,reason", [
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}', "no verification material"),
    (b'{"mediaType": "nope", "verificationMaterial": {}}', "unsupported media type"),
    (b'[1, 2]', "not a JSON object"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial":'
     b' {"publicKey": {}}}', "no message signature"),
])
def test_malformed_key_bundles(key, material, reason):
    with pytest.raises(SignatureInvalid, match=reason):
        verify(material, trusted(key))


def test_non_p256_keys_are_refused_as_configuration():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    pem = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(SignatureInvalid, match="P-256"):
        TrustedKey.from_pem("big", pem)


def test_merkle_and_checkpoint_code_accepts_a_real_rekor_proof(vectors):
    """The same inclusion-proof code, checked against a real staging Rekor entry."""
    entry = json.loads((vectors / "bundle_v3.txt.sigstore").read_text())["verificationMaterial"]["tlogEntries"][0]
    proof = entry["inclusionProof"]
    root = root_from_inclusion_proof(int(proof["logIndex"]), int(proof["treeSize"]),
                                     leaf_hash(base64.b64decode(entry["canonicalizedBody"])),
                                     [base64.b64decode(h) for h in proof["hashes"]])
    assert base64.b64encode(root).decode() == proof["rootHash"]
    checkpoint = parse_checkpoint(proof["checkpoint"]["envelope"])
    assert checkpoint.root == root and checkpoint.size == int(proof["treeSize"])


def test_rekor_v2_key_bundle_verifies(key, rekor):
    bundle = key_bundle(key, BLOB, rekor, rekor_v2=True)
    assert json.loads(bundle)["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"] == "0.0.2"
    result = verify(bundle, trusted(key), trusted_root_json=rekor.trusted_root())
    assert result.log_index == 1003


def test_rekor_v2_body_for_another_key_is_refused(key, rekor):
    other = KeyPair()
    bundle = json.loads(key_bundle(key, BLOB, rekor, rekor_v2=True))
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    body["spec"]["hashedRekordV002"]["signature"]["verifier"]["publicKey"]["rawBytes"] = (
        base64.b64encode(other.public_der).decode())
    entry["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(SignatureInvalid, match="another public key"):
        verify(json.dumps(bundle).encode(), trusted(key), trusted_root_json=rekor.trusted_root())


@pytest.mark.parametrize("bundle,index", [
    ("bundle_v3.txt.sigstore", 25915956),              # Rekor v1: ECDSA log key, with inclusion promise
    ("staging-rekor-v2.txt.sigstore.json", 645),       # Rekor v2: Ed25519 log key, no promise
])
def test_inclusion_checks_accept_real_staging_log_entries(vectors, bundle, index):
    """The same proof, checkpoint and promise code the key path uses, on real Rekor entries."""
    entry = json.loads((vectors / bundle).read_text())["verificationMaterial"]["tlogEntries"][0]
    logs = log_keys(load_trusted_root("staging"))
    assert verify_inclusion(entry, logs) == index
    forged = json.loads(json.dumps(entry))
    forged["canonicalizedBody"] = base64.b64encode(b"{}").decode()
    with pytest.raises(SignatureInvalid, match="does not lead to its root hash"):
        verify_inclusion(forged, logs)
    with pytest.raises(SignatureInvalid, match="not in the trusted root"):
        verify_inclusion(entry, log_keys(load_trusted_root("production")))


def test_real_inclusion_promise_is_checked(vectors):
    entry = json.loads((vectors / "bundle_v3.txt.sigstore").read_text())["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    with pytest.raises(SignatureInvalid, match="inclusion promise is not signed"):
        verify_inclusion(entry, log_keys(load_trusted_root("staging")))
