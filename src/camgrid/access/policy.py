"""Who may do what (pure): roles to permissions, one table, tested by tables.

viewer: live video. operator: live, playback, incidents, export requests. supervisor: an operator who also approves
exports, sets evidence holds and approves a mask's removal. auditor: the audit log and reports, never video.
admin: users, cameras, masks, retention; no video unless also given a viewing role (a second account).
Every user is also scoped to districts: outside them a camera, an incident or an export does not exist.
"""

from __future__ import annotations

ALL_ROLES = ("viewer", "operator", "supervisor", "auditor", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "map": frozenset(ALL_ROLES),  # camera positions and health; no video
    "live": frozenset({"viewer", "operator", "supervisor"}),
    "playback": frozenset({"operator", "supervisor"}),
    "incidents.read": frozenset({"operator", "supervisor", "auditor", "admin"}),
    "incidents.act": frozenset({"operator", "supervisor"}),
    "evidence.submit": frozenset({"operator", "supervisor", "admin"}),
    "export.request": frozenset({"operator", "supervisor"}),
    "export.approve": frozenset({"supervisor"}),
    "export.read": frozenset({"operator", "supervisor", "auditor"}),
    "export.download": frozenset({"operator", "supervisor"}),
    "hold": frozenset({"supervisor"}),
    "hold.read": frozenset({"operator", "supervisor", "auditor"}),
    "reports": frozenset({"operator", "supervisor", "auditor", "admin"}),
    "audit.read": frozenset({"auditor"}),
    "masks.read": frozenset({"operator", "supervisor", "admin"}),
    "snapshot": frozenset({"operator", "supervisor", "admin"}),  # one masked still picture, to edit masks on
    "masks.write": frozenset({"admin"}),
    "masks.approve": frozenset({"supervisor", "admin"}),
    "registry.suggestions": frozenset({"supervisor", "admin"}),
    "admin.users": frozenset({"admin"}),
}


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission``; an unknown permission is never allowed."""
    return role in PERMISSIONS.get(permission, frozenset())
