"""A one-line progress display on a terminal (stderr); silent when redirected."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, *, unit: str = "items", total: int | None = None,
                 stream: TextIO | None = None, every: float = 0.2) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.every = every
        self._started = time.monotonic()
        self._shown = 0.0
        self._drawn = False

    def update(self, done: int, note: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._shown < self.every):
            return
        self._shown = now
        rate = done / max(now - self._started, 1e-9)
        if self.total:
            filled = int(30 * min(done / self.total, 1.0))
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total}"
        else:
            bar = f"{done}"
        self.stream.write(f"\r{self.label}: {bar} {self.unit} ({rate:,.0f}/s) {note}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
