"""Helpers shared by the recovery, replica and fault tests: a rules directory with some
bundled files changed, and a URL where nothing listens (deliveries to it fail)."""
from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import BUNDLED_RULES

from .botprocess import free_port


def rules_dir_with(tmp_path: Path, **sections: str) -> str:
    """A copy of the bundled rules with ``section=yaml text`` files replaced."""
    target = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, target)
    for name, text in sections.items():
        (target / f"{name}.yml").write_text(text)
    return str(target)


FAST_RECOVERY = "every: 5m\npace: 0.0\nstartup_delay: 0s\n"


def dead_url() -> str:
    """A webhook URL where nothing listens: GitHub records 'failed to connect' (status 0)."""
    return f"http://127.0.0.1:{free_port()}/webhook"
