"""The transparency report an oversight body would publish: per district and month, how often video was viewed,
played back, exported, held and deleted — counted from the audit log, so nothing can be left out quietly."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from camgrid.audit.models import AuditEntry
from camgrid.vocabulary import AuditAction

COLUMNS: dict[str, tuple[AuditAction, ...]] = {
    "live_views": (AuditAction.LIVE_START,),
    "playbacks": (AuditAction.PLAYBACK,),
    "export_requests": (AuditAction.EXPORT_REQUEST,),
    "exports_approved": (AuditAction.EXPORT_APPROVE,),
    "exports_refused": (AuditAction.EXPORT_REFUSE,),
    "downloads": (AuditAction.EXPORT_DOWNLOAD,),
    "holds": (AuditAction.HOLD_CREATE,),
    "holds_released": (AuditAction.HOLD_RELEASE,),
    "deletions": (AuditAction.RETENTION_DELETE,),
    "mask_changes": (AuditAction.MASK_SET, AuditAction.MASK_REMOVAL_REQUEST, AuditAction.MASK_REMOVAL_APPROVE),
}
_BY_ACTION: dict[str, str] = {a: col for col, actions in COLUMNS.items() for a in actions}


def aggregate(
    entries: Iterable[tuple[str, str | None, dict[str, Any]]], district_of: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """(action, camera, details) -> {district: {column: count, "deleted_gb": ...}} (pure)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {c: 0 for c in (*COLUMNS, "deleted_gb")})
    for action, camera, details in entries:
        col = _BY_ACTION.get(action)
        if col is None:
            continue
        district = district_of.get(camera or "", "(no camera)")
        row = out[district]
        row[col] += 1
        if action == AuditAction.RETENTION_DELETE:
            row["deleted_gb"] += float(details.get("bytes", 0)) / 1e9
    return {k: dict(v) for k, v in sorted(out.items())}


def month_range(month: str) -> tuple[int, int]:
    """'2026-11' -> [first instant, first instant of the next month) in UTC ns."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return int(start.timestamp()) * 1_000_000_000, int(end.timestamp()) * 1_000_000_000


def report(*, session: Session, month: str, district_of: Mapping[str, str]) -> dict[str, dict[str, float]]:
    t0, t1 = month_range(month)
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.camera, AuditEntry.data).where(
            and_(AuditEntry.at_ns >= t0, AuditEntry.at_ns < t1)
        )
    )
    return aggregate(((a, c, json.loads(d).get("details", {})) for a, c, d in rows), district_of)
