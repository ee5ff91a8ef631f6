"""Incidents as a district-scoped user may see them: one rule for ``GET /api/incidents`` and the events WebSocket.

A user limited to districts sees an incident only when one of its member cameras is theirs, and then only those
members (the count is theirs too), the unexplained cameras and suggestions of theirs, and the feeders, sites and
uplinks of theirs: a group none of whose cameras is in their districts (an incident's subject when their camera
joined it by place, a suggestion's proposed feeder) is not named (``OUTSIDE_SCOPE``; such a suggestion is left
out: an unscoped supervisor decides it). Design note: docs/design/scopes.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.health.schemas import IncidentOut, IncidentView
from camgrid.registry.models import Camera
from camgrid.vocabulary import OUTSIDE_SCOPE, IncidentKind


@dataclass(frozen=True)
class Scope:
    """A scoped user's cameras and the feeder, site and uplink names of those cameras."""

    cameras: frozenset[str]
    groups: frozenset[str]

    def names(self, kind: str, name: str) -> bool:
        return name in (self.cameras if kind == IncidentKind.CAMERA else self.groups)


def scope_of(*, session: Session, districts: Collection[str]) -> Scope | None:
    """The scope of a user limited to ``districts``; None for an unscoped user (everything)."""
    if not districts:
        return None
    rows = session.execute(
        select(Camera.id, Camera.feeder_id, Camera.site_id, Camera.uplink_id).where(
            Camera.district_id.in_(list(districts))
        )
    ).all()
    groups = {g for _, *gs in rows for g in gs if g}
    return Scope(frozenset(r[0] for r in rows), frozenset(groups))


Item = TypeVar("Item", IncidentOut, IncidentView)


def scope_incident(item: Item, scope: Scope | None) -> Item | None:
    """The incident (``IncidentOut`` or ``IncidentView``/``IncidentEvent``) cut to ``scope``; None when none of its
    members is in it (a memberless ``camera`` incident: when its camera is not)."""
    if scope is None:
        return item
    inc = item
    cams = [c for c in inc.cameras if c in scope.cameras]
    # a camera's own incident without members (its picture tampered, its own mask unverified) is its camera's
    if not cams and not (inc.kind == IncidentKind.CAMERA and not inc.cameras and inc.subject in scope.cameras):
        return None
    subject = inc.subject if scope.names(inc.kind, inc.subject) else OUTSIDE_SCOPE
    suggestions = [
        s
        for s in inc.suggestions
        if s.camera_id in scope.cameras and s.suggested_value in scope.groups and s.registry_value in scope.groups
    ]
    return inc.model_copy(
        update={
            "subject": subject,
            "cameras": cams,
            "n_members": len(cams),
            "unexplained": [c for c in inc.unexplained if c in scope.cameras],
            "suggestions": suggestions,
        }
    )
