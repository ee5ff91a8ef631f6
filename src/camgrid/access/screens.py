"""Which control-room screens a role may open, from the one permission table (``access.policy.PERMISSIONS``).

The control room hides a screen the role cannot use and shows "not available for your role" when it is opened by
its address: a screen whose every call answers 403 must not spin or say "retrying" for ever. The browser gets the
list from ``GET /api/auth/me`` so the permission table is written once, here in Python.
"""

from __future__ import annotations

from camgrid.access.policy import PERMISSIONS, allowed

__all__ = ["SCREENS", "permissions_of", "screens_of"]

# Screen (the control room's route) -> the permission without which the screen has nothing to show.
SCREENS: dict[str, str] = {
    "map": "map",
    "live": "live",
    "playback": "playback",
    "exports": "export.read",
    "incidents": "incidents.read",
    "reports": "reports",
    "audit": "audit.read",
    "users": "users.manage",
    "cameras": "cameras.discover",
    "planner": "plan.read",
}


def permissions_of(role: str) -> list[str]:
    """Every permission ``role`` holds, sorted."""
    return sorted(p for p in PERMISSIONS if allowed(role, p))


def screens_of(role: str) -> list[str]:
    """The screens ``role`` may open, in menu order."""
    return [screen for screen, permission in SCREENS.items() if allowed(role, permission)]
