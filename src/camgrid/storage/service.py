"""Queries over the recording index (for the CLI and, later, the API). Keyword-only, never commit."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from camgrid.storage.models import Gap, Hold, Segment


def segments_between(*, session: Session, camera_id: str, start_ns: int, end_ns: int) -> list[Segment]:
    return list(
        session.scalars(
            select(Segment)
            .where(
                and_(
                    Segment.camera_id == camera_id,
                    Segment.start_ns < end_ns,
                    # A segment being written has end_ns == start_ns in the index until it closes.
                    or_(Segment.end_ns > start_ns, Segment.status == "writing"),
                )
            )
            .order_by(Segment.start_ns)
        )
    )


def gaps_between(*, session: Session, camera_id: str, start_ns: int, end_ns: int) -> list[Gap]:
    return list(
        session.scalars(
            select(Gap)
            .where(
                and_(
                    Gap.camera_id == camera_id,
                    Gap.start_ns < end_ns,
                    or_(Gap.end_ns.is_(None), Gap.end_ns > start_ns),
                )
            )
            .order_by(Gap.start_ns)
        )
    )


def list_holds(*, session: Session) -> list[Hold]:
    return list(session.scalars(select(Hold).order_by(Hold.created_ns)))
