"""Settings from the environment, read once by the entry points (never at import)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

DEFAULT_API_URL = "https://api.github.com"
BUNDLED_RULES = str(Path(__file__).resolve().parent.parent / "rules")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


class SettingsError(Exception):
    """A required setting is missing or unreadable (the message names the variable)."""


@dataclass(frozen=True)
class Settings:
    webhook_secret: str | None = None
    app_id: str | None = None
    private_key: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str | None = None
    rules_dir: str = BUNDLED_RULES
    log_level: str = "INFO"
    log_format: str = "text"
    worker_concurrency: int = 8
    mutation_interval: float = 1.0
    retry_base: float = 5.0
    # PostgreSQL: the jobs of a replica whose queue heartbeat stopped this long ago are taken back.
    stale_after: float = 90.0
    # Shows private repositories on the dashboard to whoever presents it (never printed).
    dashboard_token: str | None = None
    # Bytes of webhook bodies being read at once, before their signature is checked: anyone
    # can send a 25 MB body, so without a shared cap many at once would exhaust memory.
    intake_budget: int = 64 * 1024 * 1024

    @property
    def has_app_credentials(self) -> bool:
        return bool(self.app_id and self.private_key)

    def __repr__(self) -> str:  # never print secrets
        return (f"Settings(api_url={self.api_url!r}, database_url={_redact_url(self.database_url)!r},"
                f" app_id={self.app_id!r}, rules_dir={self.rules_dir!r})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        key = env.get("GITHUB_PRIVATE_KEY") or None
        key_var = "GITHUB_PRIVATE_KEY"
        key_file = env.get("GITHUB_PRIVATE_KEY_FILE")
        if not key and key_file:
            key_var = "GITHUB_PRIVATE_KEY_FILE"
            try:
                key = Path(key_file).read_text()
            except OSError as exc:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_FILE cannot be read: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_FILE {key_file} is not a PEM text file "
                                    "(a DER key? convert it with openssl)") from None
        if key and "\\n" in key and "\n" not in key:
            key = key.replace("\\n", "\n")  # PEM pasted into a one-line variable
        if key:
            _check_private_key(key, key_var)
        log_level = (env.get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got {env['LOG_LEVEL']!r}")
        log_format = (env.get("LOG_FORMAT") or "text").lower()
        if log_format not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be json or text, got {env['LOG_FORMAT']!r}")
        database_url = env.get("DATABASE_URL") or None
        if database_url is not None:
            scheme = urlparse(database_url).scheme
            if scheme not in DATABASE_SCHEMES:
                raise SettingsError("DATABASE_URL must be sqlite:///PATH or postgresql://..., "
                                    f"not a {scheme + ' URL' if scheme else 'bare path'}")
        return cls(
            webhook_secret=env.get("GITHUB_WEBHOOK_SECRET") or None,
            app_id=env.get("GITHUB_APP_ID") or None,
            private_key=key,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            database_url=database_url,
            rules_dir=env.get("BOT_RULES_DIR") or BUNDLED_RULES,
            log_level=log_level,
            log_format=log_format,
            worker_concurrency=int(_number(env, "BOT_WORKER_CONCURRENCY", 8, whole=True, minimum=1)),
            mutation_interval=_number(env, "BOT_MUTATION_INTERVAL", 1.0, minimum=0),
            retry_base=_number(env, "BOT_RETRY_BASE", 5.0, minimum=0),
            stale_after=_number(env, "BOT_STALE_AFTER", 90.0, minimum=0, above=True),
            dashboard_token=(env.get("BOT_DASHBOARD_TOKEN") or "").strip() or None,
            intake_budget=int(_number(env, "BOT_INTAKE_BUDGET_MB", 64, whole=True, minimum=1)) << 20,
        )


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float,
            whole: bool = False, above: bool = False) -> float:
    """A numeric variable, or SettingsError naming it (never a bare ValueError)."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        value = math.nan
    ok = math.isfinite(value) and (value > minimum if above else value >= minimum)
    if not ok:
        what = "a whole number" if whole else "a number of seconds"
        bound = f"above {minimum:g}" if above else f"at least {minimum:g}"
        raise SettingsError(f"{name} must be {what} {bound}, got {text!r}")
    return value


def _check_private_key(pem: str, variable: str) -> None:
    """GitHub App keys are RSA keys in PEM form; anything else would only fail later, at the
    first JWT, in the middle of a delivery."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        loaded = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SettingsError(f"{variable} is not a PEM private key (unencrypted, as GitHub hands it "
                            "out: -----BEGIN RSA PRIVATE KEY-----)") from None
    if not isinstance(loaded, RSAPrivateKey):
        raise SettingsError(f"{variable} is not an RSA private key (GitHub App keys are)")


def _redact_url(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
