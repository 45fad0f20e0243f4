"""Every feature, listed in one place. Order is the order handlers run in."""
from __future__ import annotations

from .base import Feature


def all_features() -> list[Feature]:
    # Imported here, not at module import, so `python -m bot --help` stays fast.
    from . import cla

    features: list[Feature] = [
        cla.FEATURE,
    ]
    return features
