"""What a verification concludes: who signed, or exactly why not."""
from __future__ import annotations

from dataclasses import dataclass


class SignatureInvalid(Exception):
    """The signature does not verify; ``str(exc)`` is the reason shown to the contributor."""


@dataclass(frozen=True)
class Verified:
    """A signature that verified. ``method`` is ``keyless`` or ``key``."""
    method: str
    signer: str                    # certificate SAN (keyless) or key name (key)
    issuer: str | None = None      # OIDC issuer (keyless)
    log_index: int | None = None   # transparency log index, when the material carried one

    def describe(self) -> str:
        if self.method == "keyless":
            text = f"{self.signer} (issuer {self.issuer})"
        else:
            text = f"key `{self.signer}`"
        if self.log_index is not None:
            text += f", Rekor log index {self.log_index}"
        return text
