"""Keyless bundles: real staging vectors from sigstore-python's test assets."""
from __future__ import annotations

import pytest

from bot.signing import Artifact, SignatureInvalid, Signer, verify_keyless
from bot.signing.trust import load_trusted_root

from .conftest import GITHUB_OAUTH

VALID = [
    ("bundle.txt", "bundle.txt.sigstore", "a@tny.town"),
    ("bundle_v3.txt", "bundle_v3.txt.sigstore", "william@yossarian.net"),
    ("bundle_v3_alt.txt", "bundle_v3_alt.txt.sigstore", "william@yossarian.net"),
    ("staging-rekor-v2.txt", "staging-rekor-v2.txt.sigstore.json", "jku@goto.fi"),
]
# The Rekor log index each bundle's transparency log entry carries (verificationMaterial.tlogEntries).
LOG_INDEX = {"bundle.txt.sigstore": 7390977, "bundle_v3.txt.sigstore": 25915956,
             "bundle_v3_alt.txt.sigstore": 25915997, "staging-rekor-v2.txt.sigstore.json": 645}


def _verify(vectors, artifact: str, bundle: str, signers, data: bytes | None = None, **kw):
    data = (vectors / artifact).read_bytes() if data is None else data
    return verify_keyless(Artifact.from_bytes(data), (vectors / bundle).read_bytes(), signers,
                          instance=kw.pop("instance", "staging"), **kw)


@pytest.mark.parametrize("artifact,bundle,identity", VALID)
def test_valid_keyless_bundle_verifies_and_names_the_signer(vectors, artifact, bundle, identity):
    result = _verify(vectors, artifact, bundle, [Signer("someone@else", GITHUB_OAUTH), Signer(identity, GITHUB_OAUTH)])
    assert (result.method, result.signer, result.issuer) == ("keyless", identity, GITHUB_OAUTH)
    assert result.log_index == LOG_INDEX[bundle]


def test_digest_input_verifies_like_the_bytes(vectors):
    digest = Artifact.from_bytes((vectors / "bundle_v3.txt").read_bytes())
    result = verify_keyless(Artifact.from_digest(f"sha256:{digest.hex}"),
                            (vectors / "bundle_v3.txt.sigstore").read_bytes(),
                            [Signer("william@yossarian.net", GITHUB_OAUTH)], instance="staging")
    assert result.signer == "william@yossarian.net"


@pytest.mark.parametrize("artifact,bundle,identity", VALID)
def test_tampered_artifact_fails_with_digest_mismatch(vectors, artifact, bundle, identity):
    data = bytearray((vectors / artifact).read_bytes())
    data[0] ^= 0x01
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        _verify(vectors, artifact, bundle, [Signer(identity, GITHUB_OAUTH)], data=bytes(data))


def test_wrong_identity_is_refused_and_says_who_signed(vectors):
    with pytest.raises(SignatureInvalid) as err:
        _verify(vectors, "bundle_v3.txt", "bundle_v3.txt.sigstore", [Signer("a@tny.town", GITHUB_OAUTH)])
    assert "william@yossarian.net" in str(err.value) and "not an accepted signer" in str(err.value)


def test_wrong_issuer_is_refused(vectors):
    with pytest.raises(SignatureInvalid, match="only trusted with issuer https://accounts.google.com"):
        _verify(vectors, "bundle_v3.txt", "bundle_v3.txt.sigstore",
                [Signer("william@yossarian.net", "https://accounts.google.com")])


def test_staging_bundle_does_not_verify_against_production_root(vectors):
    with pytest.raises(SignatureInvalid, match="does not verify"):
        _verify(vectors, "bundle_v3.txt", "bundle_v3.txt.sigstore",
                [Signer("william@yossarian.net", GITHUB_OAUTH)], instance="production")


@pytest.mark.parametrize("artifact,bundle,reason", [
    ("bundle_no_cert_v1.txt", "bundle_no_cert_v1.txt.sigstore", "empty certificate chain"),
    ("bundle_invalid_version.txt", "bundle_invalid_version.txt.sigstore", "mediaType"),
    ("bundle_no_log_entry.txt", "bundle_no_log_entry.txt.sigstore", "exactly one log entry"),
    ("bundle_no_checkpoint.txt", "bundle_no_checkpoint.txt.sigstore", "inclusion proof, with checkpoint"),
])
def test_malformed_bundles_are_refused_with_the_reason(vectors, artifact, bundle, reason):
    with pytest.raises(SignatureInvalid, match="malformed Sigstore bundle") as err:
        _verify(vectors, artifact, bundle, [Signer("a@tny.town", GITHUB_OAUTH)])
    assert reason in str(err.value)


def test_not_json_is_a_malformed_bundle():
    with pytest.raises(SignatureInvalid, match="malformed Sigstore bundle"):
        verify_keyless(Artifact.from_bytes(b"x"), b"not json", [Signer("a", GITHUB_OAUTH)], instance="staging")


def test_explicit_trusted_root_is_used_instead_of_the_instance(vectors, tmp_path):
    staging = load_trusted_root("staging")
    own = staging._inner.to_json().encode()
    result = _verify(vectors, "bundle_v3.txt", "bundle_v3.txt.sigstore",
                     [Signer("william@yossarian.net", GITHUB_OAUTH)], instance="production",
                     trusted_root_json=own)
    assert result.signer == "william@yossarian.net"
    with pytest.raises(SignatureInvalid, match="unusable trusted root"):
        _verify(vectors, "bundle_v3.txt", "bundle_v3.txt.sigstore",
                [Signer("william@yossarian.net", GITHUB_OAUTH)], trusted_root_json=b'{"mediaType": 1}')


def _certificate_with_issuer(issuer: str):
    """A self-signed certificate carrying Fulcio's v2 issuer extension, DER-encoded as Fulcio does."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    value = issuer.encode()
    n = len(value)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(minutes=10))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("dev@example.org")]), critical=False)
            .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
                                                      b"\x0c" + length + value), critical=False)
            .sign(key, hashes.SHA256()))


@pytest.mark.parametrize("size", [20, 127, 128, 300, 70000])
def test_issuer_of_any_length_is_read_from_the_certificate(size):
    # A self-hosted OIDC issuer URL can exceed 127 bytes: DER then uses a long-form length.
    from bot.signing.keyless import certificate_identity

    issuer = "https://issuer.example/" + "x" * (size - len("https://issuer.example/"))
    sans, found = certificate_identity(_certificate_with_issuer(issuer))
    assert (sans, found) == (["dev@example.org"], issuer)


def test_malformed_issuer_length_reads_as_no_issuer():
    # A length running past the value never yields a (truncated) issuer that could match a signer.
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    from bot.signing.keyless import _der_utf8string

    assert _der_utf8string(b"\x0c\x82\x01\x00abc") is None
    assert _der_utf8string(b"\x0c\x05abc") is None
    assert _der_utf8string(b"\x0c\x81\x05abcde") is None  # long form where short form is required (DER)
    assert _der_utf8string(b"\x0c\x03abc") == "abc"
