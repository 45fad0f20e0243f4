"""Every feature, listed in one place. Order is the order handlers run in."""
from __future__ import annotations

from .base import Feature


def all_features() -> list[Feature]:
    # Imported here, not at module import, so `python -m bot --help` stays fast.
    from . import config_check
    from . import label_ledger
    from . import pr_context
    from . import cla
    from . import patch_pipeline
    from . import commands
    from . import sla
    from . import funnel
    from . import recovery
    from . import classify
    from . import route
    from . import merge_queue
    from . import sandbox

    features: list[Feature] = [
        config_check.FEATURE,
        label_ledger.FEATURE,
        pr_context.FEATURE,
        cla.FEATURE,
        patch_pipeline.FEATURE,
        commands.FEATURE,
        sla.FEATURE,
        funnel.FEATURE,
        recovery.FEATURE,
        classify.FEATURE,
        route.FEATURE,
        merge_queue.FEATURE,
        sandbox.FEATURE,
    ]
    return features
