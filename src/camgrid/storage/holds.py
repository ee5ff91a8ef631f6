"""Evidence holds: a camera's footage kept from retention, with a reason and an optional end.

Creating or releasing a hold changes what is kept, so both are audited here before they happen and only within the
actor's districts; what the database would refuse is refused before the entry is written, and a failure after it
(the row or the commit refused) is logged as ``action.failed`` naming the entry (``auditing.failing_after``); the
API (``/api/holds``) and ``camgrid recordings hold`` call these same functions
(docs/design/services-own-invariants.md). Keyword-only, never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, failing_after, write_first
from camgrid.registry.models import Camera
from camgrid.registry.service import camera_for
from camgrid.storage.models import Hold
from camgrid.vocabulary import AuditAction

# What the holds table can store: times are signed 64-bit nanoseconds, the reason 500 characters. Checked before
# the entry is written: a hold the database would refuse must not leave an entry that reads as done.
MAX_NS = 2**63 - 1
MAX_REASON = 500


def _check(reason: str, *times: int | None) -> str:
    if any(t is not None and not 0 <= t <= MAX_NS for t in times):
        raise ValueError("times must be between 1970 and 2262")
    text = reason.strip()
    if not text:
        raise ValueError("a hold needs a reason")
    if len(text) > MAX_REASON:
        raise ValueError(f"a reason has at most {MAX_REASON} characters")
    return text


class HoldNotFound(NotVisible):
    """No such hold, or one on a camera outside the actor's districts."""


@audited(AuditAction.HOLD_CREATE)
def create_hold(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    camera_id: str,
    start_ns: int,
    end_ns: int,
    reason: str,
    now_ns: int,
    until_ns: int | None = None,
) -> Hold:
    """Retention never deletes what overlaps the hold while it lasts (``until_ns`` None: until released)."""
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    text = _check(reason, start_ns, end_ns, until_ns, now_ns)
    if end_ns <= start_ns:
        raise ValueError("a hold must end after it starts")
    if until_ns is not None and until_ns <= now_ns:
        raise ValueError("a hold must end in the future")
    entry = write_first(
        audit,
        actor,
        AuditAction.HOLD_CREATE,
        camera=cam.id,
        t_from_ns=start_ns,
        t_to_ns=end_ns,
        details={"reason": text, "until_ns": until_ns},
    )
    with failing_after(audit, actor, AuditAction.HOLD_CREATE, entry=entry, camera=cam.id):
        hold = Hold(
            camera_id=cam.id,
            start_ns=start_ns,
            end_ns=end_ns,
            until_ns=until_ns,
            reason=text,
            created_by=actor.name,
            created_ns=now_ns,
        )
        session.add(hold)
        session.flush()
    return hold


def hold_for(*, session: Session, actor: Actor, hold_id: int) -> Hold:
    """The hold, if its camera is within the actor's districts; :class:`HoldNotFound` otherwise."""
    hold = session.get(Hold, hold_id)
    district = session.scalar(select(Camera.district_id).where(Camera.id == hold.camera_id)) if hold else None
    if hold is None or not actor.sees(district):
        raise HoldNotFound(f"no hold {hold_id}")
    return hold


@audited(AuditAction.HOLD_RELEASE)
def release_hold(*, session: Session, audit: AuditWriter, actor: Actor, hold_id: int, reason: str, now_ns: int) -> Hold:
    """End a hold now: retention may delete the footage again once its age says so. The row stays (who held
    what, and when it ended, remain answerable); releasing a hold that already ended is refused."""
    hold = hold_for(session=session, actor=actor, hold_id=hold_id)
    if hold.until_ns is not None and hold.until_ns <= now_ns:
        raise ValueError(f"hold {hold_id} has already ended")
    if not reason.strip():
        raise ValueError("releasing a hold needs a reason")
    text = _check(reason, now_ns)
    entry = write_first(
        audit,
        actor,
        AuditAction.HOLD_RELEASE,
        camera=hold.camera_id,
        t_from_ns=hold.start_ns,
        t_to_ns=hold.end_ns,
        details={"hold": hold.id, "reason": text},
    )
    with failing_after(audit, actor, AuditAction.HOLD_RELEASE, entry=entry, camera=hold.camera_id):
        hold.until_ns = now_ns
        session.flush()
    return hold


def visible_holds(*, session: Session, actor: Actor) -> list[Hold]:
    """Every hold on a camera within the actor's districts, oldest first."""
    districts = dict(session.execute(select(Camera.id, Camera.district_id)).tuples().all())
    rows = session.scalars(select(Hold).order_by(Hold.id))
    return [h for h in rows if actor.sees(districts.get(h.camera_id))]
