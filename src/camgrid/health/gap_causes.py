"""Which incident caused a recording gap: a playback timeline names "power cut, feeder F-02", not "unreachable".

``cause_of`` is pure (a table-tested rule); ``camera_incidents`` reads the incidents a camera was a member of in a
window; ``gap_causes`` joins both and cuts each cause to the user's scope (a feeder outside it is not named).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from camgrid.health.models import IncidentCamera, IncidentRow
from camgrid.health.scope import Scope
from camgrid.vocabulary import OUTSIDE_SCOPE, IncidentKind

# A group incident explains more than a camera's own one: prefer it when both cover a gap equally.
_RANK: dict[str, int] = {IncidentKind.POWER: 0, IncidentKind.UPLINK: 1, IncidentKind.SITE: 2, IncidentKind.CAMERA: 3}
# A member's down time is when the recorder saw it dark, a little after its gap began (detection) or before the
# gap row was written: this much either way still counts as the same outage. Not more: a "starting" gap that ended
# ten seconds before a power cut must not be blamed on it.
SLACK_NS = 2_000_000_000


@dataclass(frozen=True)
class IncidentSpan:
    """An incident a camera was part of, as a gap label needs it. ``down_ns``: when this camera was seen down in
    it (the incident itself opens later: it waits for the camera's peers)."""

    id: int
    kind: str
    subject: str
    opened_ns: int
    resolved_ns: int | None
    down_ns: int | None = None


def _overlap(gap: tuple[int, int | None], inc: IncidentSpan, now_ns: int) -> int:
    g0, g1 = gap[0], gap[1] if gap[1] is not None else now_ns
    i0 = (inc.down_ns if inc.down_ns is not None else inc.opened_ns) - SLACK_NS
    i1 = inc.resolved_ns if inc.resolved_ns is not None else now_ns
    return min(g1, i1) - max(g0, i0)


def cause_of(gap: tuple[int, int | None], incidents: Sequence[IncidentSpan], now_ns: int) -> IncidentSpan | None:
    """The incident that best covers ``gap`` (start_ns, end_ns or None while open): the longest overlap, a group
    incident before a camera's own on a tie; None when no incident touches the gap."""
    best: tuple[int, int, IncidentSpan] | None = None
    for inc in incidents:
        ov = _overlap(gap, inc, now_ns)
        if ov <= 0:
            continue
        key = (ov, -_RANK.get(inc.kind, 9))
        if best is None or key > best[:2]:
            best = (*key, inc)
    return best[2] if best else None


def camera_incidents(*, session: Session, camera_id: str, start_ns: int, end_ns: int) -> list[IncidentSpan]:
    """The unmerged incidents ``camera_id`` was a member of that overlap [start_ns, end_ns) (bounded: 500)."""
    rows = session.execute(
        select(
            IncidentRow.id,
            IncidentRow.kind,
            IncidentRow.subject,
            IncidentRow.opened_ns,
            IncidentRow.resolved_ns,
            IncidentCamera.down_ns,
        )
        .join(IncidentCamera, IncidentCamera.incident_id == IncidentRow.id)
        .where(
            IncidentCamera.camera_id == camera_id,
            IncidentRow.merged_into_id.is_(None),
            IncidentRow.opened_ns < end_ns + SLACK_NS,
            or_(IncidentRow.resolved_ns.is_(None), IncidentRow.resolved_ns > start_ns),
        )
        .order_by(IncidentRow.opened_ns)
        .limit(500)
    ).all()
    seen: dict[int, IncidentSpan] = {}
    for r in rows:
        seen.setdefault(r[0], IncidentSpan(r[0], r[1], r[2], r[3], r[4], r[5]))
    return list(seen.values())


def scoped(inc: IncidentSpan, scope: Scope | None) -> IncidentSpan:
    """The cause as a user limited to ``scope`` may see it: a group none of whose cameras is theirs is not named."""
    if scope is None or scope.names(inc.kind, inc.subject):
        return inc
    return IncidentSpan(inc.id, inc.kind, OUTSIDE_SCOPE, inc.opened_ns, inc.resolved_ns, inc.down_ns)


def gap_causes(
    *,
    session: Session,
    camera_id: str,
    gaps: Sequence[tuple[int, int | None]],
    scope: Scope | None,
    now_ns: int,
) -> list[IncidentSpan | None]:
    """One cause (or None) per gap of ``camera_id``, cut to the user's scope."""
    if not gaps:
        return []
    lo = min(g[0] for g in gaps)
    hi = max(g[1] if g[1] is not None else now_ns for g in gaps)
    incs = camera_incidents(session=session, camera_id=camera_id, start_ns=lo, end_ns=hi)
    out: list[IncidentSpan | None] = []
    for g in gaps:
        c = cause_of(g, incs, now_ns)
        out.append(None if c is None else scoped(c, scope))
    return out
