"""``python -m bot verify-bundle``: the signature verifier on its own, offline.

  verify-bundle [--staging] --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL
                [--trusted-root FILE] FILE_OR_DIGEST
  verify-bundle [--staging] --bundle FILE --key PATH_TO_KEY [--trusted-root FILE] FILE_OR_DIGEST

Exit 0 when the bundle verifies, 1 with the reason on stderr when it does not (or a file cannot
be read), 2 with one line on stderr for a usage mistake: options that do not go together, or a
digest of the wrong form (as every operator command).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...signing import Artifact, SignatureInvalid, Signer, TrustedKey, Verified, verify_keyless, verify_with_keys


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser(
        "verify-bundle", help="verify a Sigstore bundle or cosign signature (offline)",
        description="Verify a Sigstore bundle against a file or a sha256 digest, offline: keyless "
                    "(certificate identity and OIDC issuer) or with a cosign public key (a v0.3 key "
                    "bundle or a plain base64 .sig file). Exit 0 when it verifies, 1 when it does not, "
                    "2 for a usage mistake.")
    p.add_argument("--staging", action="store_true", help="use Sigstore's staging instance trust root")
    p.add_argument("--bundle", required=True, metavar="FILE",
                   help="the Sigstore bundle (or, with --key, a cosign .sig file)")
    p.add_argument("--certificate-identity", metavar="IDENTITY", help="expected signer identity (SAN)")
    p.add_argument("--certificate-oidc-issuer", metavar="URL", help="expected OIDC issuer of that identity")
    p.add_argument("--key", metavar="PATH_TO_KEY", help="cosign public key (PEM, ECDSA P-256)")
    p.add_argument("--trusted-root", metavar="FILE",
                   help="a Sigstore trusted_root.json to use instead of the instance's")
    p.add_argument("artifact", metavar="FILE_OR_DIGEST", help="the signed file, or sha256:<64 hex>")
    p.set_defaults(func=cmd_verify_bundle)


class UsageError(Exception):
    """Options that do not go together, or a value of the wrong form: exit 2, not a verdict."""


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SignatureInvalid(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def verify_from_args(args: argparse.Namespace) -> Verified:
    keyless = args.certificate_identity is not None or args.certificate_oidc_issuer is not None
    if keyless and args.key:
        raise UsageError("use either --key or --certificate-identity/--certificate-oidc-issuer, not both")
    if not keyless and not args.key:
        raise UsageError("give --key, or both --certificate-identity and --certificate-oidc-issuer")
    if keyless and not (args.certificate_identity and args.certificate_oidc_issuer):
        raise UsageError("--certificate-identity and --certificate-oidc-issuer go together")
    if args.artifact.startswith("sha256:"):
        try:
            Artifact.from_digest(args.artifact)
        except SignatureInvalid as exc:
            raise UsageError(str(exc)) from exc
    instance = "staging" if args.staging else "production"
    root = _read(args.trusted_root, "trusted root") if args.trusted_root else None
    artifact = Artifact.parse(args.artifact)
    bundle = _read(args.bundle, "bundle")
    if keyless:
        return verify_keyless(artifact, bundle, [Signer(args.certificate_identity, args.certificate_oidc_issuer)],
                              instance=instance, trusted_root_json=root)
    key = TrustedKey.from_pem(Path(args.key).name, _read(args.key, "key"))
    return verify_with_keys(artifact, bundle, [key], instance=instance, trusted_root_json=root)


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    try:
        result = verify_from_args(args)
    except UsageError as exc:
        print(f"verify-bundle: {exc}", file=sys.stderr)
        return 2
    except SignatureInvalid as exc:
        print(f"verification failed: {exc}", file=sys.stderr)
        return 1
    print(f"OK: signed by {result.describe()}")
    return 0
