"""Who may do what (pure): roles to permissions, one table, tested by tables.

viewer: live video. operator: live, playback, incidents, export requests. supervisor: an operator who also approves
exports, sets evidence holds and approves a mask's removal. auditor: the audit log and reports, never video.
admin: users, cameras, masks, retention; no video unless also given a viewing role (a second account).
planner: the camera plans (runs, comparisons, importing a plan as planned cameras) and the map; never video.
Every user is also scoped to districts: outside them a camera, an incident or an export does not exist.
"""

from __future__ import annotations

from camgrid.vocabulary import ALL_ROLES, Role

__all__ = ["ALL_ROLES", "PERMISSIONS", "Role", "allowed"]

PERMISSIONS: dict[str, frozenset[Role]] = {
    "map": frozenset(ALL_ROLES),  # camera positions and health; no video
    "live": frozenset({Role.VIEWER, Role.OPERATOR, Role.SUPERVISOR}),
    "playback": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "incidents.read": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}),
    "incidents.act": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "evidence.submit": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),
    "export.request": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "export.approve": frozenset({Role.SUPERVISOR}),
    "export.read": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR}),
    "export.download": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "hold": frozenset({Role.SUPERVISOR}),
    "hold.read": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR}),
    "reports": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}),
    "audit.read": frozenset({Role.AUDITOR}),
    "masks.read": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),
    "snapshot": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),  # one masked still picture, to edit masks on
    "masks.write": frozenset({Role.ADMIN}),
    "masks.approve": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Operators dispatch the field technicians, so they say when a camera is under repair.
    "cameras.maintenance": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),
    # A diagnostic session with the camera's login (no video released): whoever looks after the cameras.
    "cameras.probe": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),
    "cameras.audio": frozenset({Role.ADMIN}),  # record a camera's sound (forbidden by default in many cities)
    # Probe the network for cameras with a login, and import camera rows (docs/design/onvif.md).
    "cameras.discover": frozenset({Role.ADMIN}),
    "cameras.import": frozenset({Role.ADMIN}),
    "registry.suggestions": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "users.manage": frozenset({Role.ADMIN}),  # users, roles, districts, passwords, tokens (within their districts)
    # Motion search reads recordings (thumbnails of them): whoever may play them back (docs/design/motion-search.md).
    "motion.search": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    # Re-take a camera's tamper reference after a planned move: it changes what the tamper alarm compares against.
    "tamper.reference": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}),
    # The planner screen (docs/design/planner-screen.md): start and stop plan runs, read them, import one as planned
    # cameras (registry rows with status planned: on the map, never recorded).
    "plan.run": frozenset({Role.PLANNER, Role.ADMIN}),
    "plan.read": frozenset({Role.PLANNER, Role.ADMIN}),
    "plan.import": frozenset({Role.PLANNER, Role.ADMIN}),
}


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission``; an unknown permission is never allowed."""
    return role in PERMISSIONS.get(permission, frozenset())
