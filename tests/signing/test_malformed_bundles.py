"""Bundles are contributor-supplied JSON: whatever shape a committed bundle has, verifying it
ends in a verdict (Verified or SignatureInvalid), never another exception. Anything else
escapes the gate and drops its whole decision (no patch-signature check, no supersede)."""
from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import pytest

from bot.signing import Artifact, SignatureInvalid, Signer, TrustedKey, TrustPolicy, verify_patch
from bot.signing.keyless import has_certificate
from bot.signing.transparency import check_log_entry

from .conftest import GITHUB_OAUTH
from .cosign_fake import FakeRekor, KeyPair, key_bundle

BLOB = b"Subject: [PATCH] mm: fix\n"
# Values of every JSON type, and strings that base64/int parsing could half-accept.
WRONG = [5, -1, True, None, "x", "-1", "1" * 30, "None", [], [1], {}]
DELETE = object()


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


def _mutated(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def _crashes(doc: dict, data: bytes, policy: TrustPolicy) -> list[str]:
    """Every node of ``doc`` replaced by every wrong-typed value (or removed)."""
    found = []
    for path in _paths(doc):
        for value in [*WRONG, *([DELETE] if path else [])]:
            raw = json.dumps(_mutated(doc, path, value)).encode()
            try:
                verify_patch(Artifact.from_bytes(data), policy, bundle=raw, signature_file=None)
            except SignatureInvalid:
                pass
            except Exception as exc:  # noqa: BLE001 - the point of the test
                found.append(f"{'/'.join(map(str, path))}={value!r}: {type(exc).__name__}: {exc}")
    return found


@pytest.mark.parametrize("rekor_v2", [False, True], ids=["rekor-v1-entry", "rekor-v2-entry"])
def test_key_bundle_of_any_shape_is_a_verdict(rekor_v2):
    key, rekor = KeyPair(), FakeRekor()
    doc = json.loads(key_bundle(key, BLOB, rekor, rekor_v2=rekor_v2))
    policy = TrustPolicy(keys=(TrustedKey.from_pem("release", key.public_pem),),
                         trusted_root_json=rekor.trusted_root())
    assert verify_patch(Artifact.from_bytes(BLOB), policy, bundle=json.dumps(doc).encode(),
                        signature_file=None).log_index == 1003
    assert _crashes(doc, BLOB, policy) == []


@pytest.mark.parametrize("artifact,bundle,identity", [
    ("bundle_v3.txt", "bundle_v3.txt.sigstore", "william@yossarian.net"),
    ("staging-rekor-v2.txt", "staging-rekor-v2.txt.sigstore.json", "jku@goto.fi"),
])
def test_keyless_bundle_of_any_shape_is_a_verdict(vectors, artifact, bundle, identity):
    policy = TrustPolicy(signers=(Signer(identity, GITHUB_OAUTH),), instance="staging")
    assert _crashes(json.loads((vectors / bundle).read_bytes()), (vectors / artifact).read_bytes(), policy) == []


@pytest.mark.parametrize("raw", [b'{"verificationMaterial": "x"}', b'{"verificationMaterial": [1]}', b"[]"])
def test_non_object_verification_material_is_a_malformed_bundle(raw):
    policy = TrustPolicy(signers=(Signer("someone@example.org", GITHUB_OAUTH),), instance="staging")
    with pytest.raises(SignatureInvalid, match="malformed Sigstore bundle"):
        verify_patch(Artifact.from_bytes(BLOB), policy, bundle=raw, signature_file=None)
    assert has_certificate({"verificationMaterial": "x"}) is False


@pytest.mark.parametrize("field,value,reason", [
    ("tlogEntries", 5, "tlogEntries is not a list"),
    ("tlogEntries", {"kindVersion": {}}, "tlogEntries is not a list"),
    ("tlogEntries", ["x"], "log entry is not an object"),
])
def test_wrong_typed_log_entries_are_refused(field, value, reason):
    key, rekor = KeyPair(), FakeRekor()
    doc = json.loads(key_bundle(key, BLOB, rekor))
    doc["verificationMaterial"][field] = value
    policy = TrustPolicy(keys=(TrustedKey.from_pem("release", key.public_pem),),
                         trusted_root_json=rekor.trusted_root())
    with pytest.raises(SignatureInvalid, match=reason):
        verify_patch(Artifact.from_bytes(BLOB), policy, bundle=json.dumps(doc).encode(), signature_file=None)


@pytest.mark.parametrize("entry,reason", [
    ({"kindVersion": "x"}, "kind and version is not an object"),
    ({"kindVersion": {"kind": "hashedrekord", "version": ["0.0.1"]}}, "unsupported kind"),
    ("not an entry", "entry is not an object"),
])
def test_check_log_entry_refuses_wrong_types(entry, reason):
    key = KeyPair()
    with pytest.raises(SignatureInvalid, match=reason):
        check_log_entry(entry, digest=b"\0" * 32, signature=b"sig", key=key.private.public_key(), logs={})
