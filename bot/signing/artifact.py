"""The thing that was signed: its bytes, or only its SHA-256 digest."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SignatureInvalid

_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Artifact:
    digest: bytes  # SHA-256; signatures cover this, so the bytes themselves are optional

    @classmethod
    def from_bytes(cls, data: bytes) -> "Artifact":
        return cls(hashlib.sha256(data).digest())

    @classmethod
    def from_digest(cls, text: str) -> "Artifact":
        match = _DIGEST.fullmatch(text.strip())
        if not match:
            raise SignatureInvalid(f"not a digest (expected sha256:<64 hex>): {text!r}")
        return cls(bytes.fromhex(match.group(1)))

    @classmethod
    def parse(cls, file_or_digest: str) -> "Artifact":
        """A path, or ``sha256:<64 hex>`` (the verify-bundle command's argument)."""
        if file_or_digest.startswith("sha256:"):
            return cls.from_digest(file_or_digest)
        try:
            return cls.from_bytes(Path(file_or_digest).read_bytes())
        except OSError as exc:
            raise SignatureInvalid(f"cannot read {file_or_digest}: {exc.strerror or exc}") from exc

    @property
    def hex(self) -> str:
        return self.digest.hex()
