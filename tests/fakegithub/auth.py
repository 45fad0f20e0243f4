"""GitHub App authentication: RS256 JWTs for /app endpoints, installation tokens for the rest."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .context import GitHubError


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: float  # epoch seconds


def _key_pair() -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


_KEYS: tuple[str, object] | None = None


def shared_key_pair() -> tuple[str, object]:
    """One key pair per process: RSA generation costs ~100 ms, too much for every test."""
    global _KEYS
    if _KEYS is None:
        _KEYS = _key_pair()
    return _KEYS


class AppAuth:
    def __init__(self, app_id: int, token_ttl: float = 3600.0) -> None:
        self.app_id = app_id
        self.private_key_pem, self._public_key = shared_key_pair()
        self.token_ttl = token_ttl
        self.tokens: dict[str, Token] = {}
        self.tokens_minted = 0

    def mint(self, installation_id: int, ttl: float | None = None) -> Token:
        tok = Token(token="ghs_" + secrets.token_hex(18), installation_id=installation_id,
                    expires_at=time.time() + (self.token_ttl if ttl is None else ttl))
        self.tokens[tok.token] = tok
        return tok

    def check_jwt(self, authorization: str) -> None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or value.count(".") != 2:
            raise GitHubError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(value, self._public_key, algorithms=["RS256"],
                                options={"require": ["exp", "iat", "iss"]}, leeway=60)
        except jwt.ExpiredSignatureError:
            raise GitHubError(401, "'Expiration time' claim ('exp') must be a numeric value "
                                   "representing the future time at which the assertion expires") from None
        except jwt.PyJWTError as exc:
            raise GitHubError(401, f"A JSON web token could not be decoded ({exc})") from None
        if str(claims["iss"]) != str(self.app_id):
            raise GitHubError(401, "'Issuer' claim ('iss') must be an Integer")
        if claims["exp"] - claims["iat"] > 660:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")

    def check_token(self, authorization: str) -> Token:
        scheme, _, value = authorization.partition(" ")
        tok = self.tokens.get(value) if scheme.lower() in ("token", "bearer") else None
        if tok is None or tok.expires_at <= time.time():
            raise GitHubError(401, "Bad credentials")
        return tok
