"""Settings from the environment, read once by the entry points (never at import)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_API_URL = "https://api.github.com"
BUNDLED_RULES = str(Path(__file__).resolve().parent.parent / "rules")


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
        key_file = env.get("GITHUB_PRIVATE_KEY_FILE")
        if not key and key_file:
            try:
                key = Path(key_file).read_text()
            except OSError as exc:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_FILE cannot be read: {exc.strerror}") from None
        if key and "\\n" in key and "\n" not in key:
            key = key.replace("\\n", "\n")  # PEM pasted into a one-line variable
        return cls(
            webhook_secret=env.get("GITHUB_WEBHOOK_SECRET") or None,
            app_id=env.get("GITHUB_APP_ID") or None,
            private_key=key,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            database_url=env.get("DATABASE_URL") or None,
            rules_dir=env.get("BOT_RULES_DIR") or BUNDLED_RULES,
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            log_format=(env.get("LOG_FORMAT") or "text").lower(),
            worker_concurrency=int(env.get("BOT_WORKER_CONCURRENCY") or 8),
            mutation_interval=float(env.get("BOT_MUTATION_INTERVAL") or 1.0),
            retry_base=float(env.get("BOT_RETRY_BASE") or 5.0),
            stale_after=float(env.get("BOT_STALE_AFTER") or 90.0),
        )


def _redact_url(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
