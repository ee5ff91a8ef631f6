"""Import every capability's models so that ``Base.metadata`` is complete.

Only tools (migration drafts, the schema test) call this; it imports upward on purpose and is excluded from the
layer contract for that reason.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "camgrid.registry.models",
    "camgrid.storage.models",
    "camgrid.health.models",
    "camgrid.access.models",
    "camgrid.audit.models",
    "camgrid.privacy.models",
    "camgrid.exports.models",
    "camgrid.cluster.models",
    "camgrid.planner.models",
    "camgrid.motion.models",
)


def import_all_models() -> None:
    """Every module named must exist: a renamed models module fails here, not as a table missing from a migration."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
