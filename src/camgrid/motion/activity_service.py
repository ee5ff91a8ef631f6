"""Reading one camera's activity levels for the playback timeline: scoped, bounded, one camera at a time.

There is deliberately no call over several cameras: activity is per camera, for reviewing its own recordings and
its health, never a map of where things happen (docs/design/motion-search.md, "Activity").
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from camgrid.auditing import Actor
from camgrid.motion.activity_store import ActivitySeries, ActivityStore
from camgrid.registry import service as registry

NS = 1_000_000_000
MAX_RANGE_S = 86_400  # one day of seconds per request (86 kB of levels)


class ActivityRangeError(ValueError):
    """The range is empty, reversed or longer than a day."""


def camera_activity(
    *, session: Session, actor: Actor, store: ActivityStore | None, camera_id: str, start_ns: int, end_ns: int
) -> ActivitySeries:
    """The levels of the seconds ``[start_ns, end_ns)`` touches, for a camera within the actor's districts
    (``registry.CameraNotFound`` outside them, as for an unknown camera). Zeros where nothing is kept."""
    if end_ns <= start_ns or end_ns - start_ns > MAX_RANGE_S * NS:
        raise ActivityRangeError(f"end_ns must be after start_ns, at most {MAX_RANGE_S} s later")
    cam = registry.camera_for(session=session, actor=actor, camera_id=camera_id)
    start_s, end_s = start_ns // NS, -(-end_ns // NS)
    if store is None:
        return ActivitySeries(start_s, bytes(end_s - start_s))
    return store.read(camera_id=cam.id, start_s=start_s, end_s=end_s)
