"""Four-eyes exports as a service over the ``exports`` table (design: docs/design/services-own-invariants.md).

An export is a request (camera, range, reason) → ``pending``; someone other than the requester who may approve
(the route checks the role) approves → the clip is cut from the recorded segments (remuxed, never transcoded) with a
signed manifest → ``ready``; or refuses → ``refused``. Nothing is written to disk before the approval. The clip files
live in ``<root>/<id>/``; the state lives in the database. Every step is audited before it acts, within the actor's
districts; an export outside them, or someone else's export for a role that only asks, does not exist.

Sources recorded on another node of a cluster are fetched by a resolver the caller passes (the cluster layer is a
sibling of this one): when it raises :class:`SourcesUnavailable` the export stays pending and may be approved again.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.clock import ns_to_datetime, ns_to_iso
from camgrid.exports import package
from camgrid.exports.clip import ExportError, SourceSegment, build_clip, edge_provenance, sha256_file, write_manifest
from camgrid.exports.models import ExportRequest
from camgrid.health.models import IncidentCamera, IncidentRow
from camgrid.registry.service import camera_for
from camgrid.storage import service as storage
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction, ExportStatus, Role

MAX_RANGE_NS = 6 * 3600 * 1_000_000_000
CLIP = "clip.mp4"
SIGNED_FILES = ("manifest.json", "manifest.sig", "key.pub")
# Roles that see every export of their districts (others see only their own requests).
OVERSEERS = frozenset({Role.SUPERVISOR, Role.AUDITOR})


class ExportNotFound(NotVisible):
    """No such export (or file), or one the actor may not see."""


class ExportConflict(ValueError):
    """The export is not pending, or the approver is the requester (four eyes)."""


class SourcesUnavailable(RuntimeError):
    """A source segment cannot be had now (its node is down); ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ExportPending(SourcesUnavailable):
    """The approval was audited but could not finish: the export stays pending (commit, then approve again)."""


class ExportFailed(ValueError):
    """The approval found nothing to export (``missing``) or could not cut the clip; the export is ``failed``."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


class VerifierKey(Protocol):
    def text(self) -> str: ...


class ManifestSigner(Protocol):
    """Signs the manifest as a note (``access.audit_note.Signer``, the installation's audit key)."""

    def sign_note(self, body: str) -> str: ...

    @property
    def verifier(self) -> VerifierKey: ...


# Where a segment's bytes are: its local path, or a copy fetched into the given folder (raises SourcesUnavailable).
SourceResolver = Callable[[Segment, Path], Path]


def local_sources(segment: Segment, _scratch: Path) -> Path:
    """The resolver of a single machine: every segment is a local file."""
    return Path(segment.path)


FILE_MODE = 0o640  # an exported clip is evidence: the service's user and its group, nobody else
FOLDER_MODE = 0o750


def _close_modes(root: Path, folder: Path) -> None:
    """Give an export's files 0640 and its folder (and the exports root) 0750 whatever the umask
    (docs/design/secrets-at-rest.md)."""
    for d in (root, folder):
        if d.is_dir():
            os.chmod(d, FOLDER_MODE)
    for f in folder.iterdir():
        os.chmod(f, FOLDER_MODE if f.is_dir() else FILE_MODE)


def folder_of(root: Path, export_id: str) -> Path:
    if not export_id or "/" in export_id or "\\" in export_id or export_id.startswith("."):
        raise ExportNotFound("no such export")
    return root / export_id


def _may_see(actor: Actor, row: ExportRequest) -> bool:
    own = row.requested_by == actor.name
    return actor.sees(row.district_id) and (own or actor.role is None or actor.role in OVERSEERS)


def export_for(*, session: Session, actor: Actor, export_id: str) -> ExportRequest:
    """The export if the actor may see it; :class:`ExportNotFound` otherwise."""
    row = session.get(ExportRequest, export_id)
    if row is None or not _may_see(actor, row):
        raise ExportNotFound("no such export")
    return row


def list_exports(*, session: Session, actor: Actor) -> list[ExportRequest]:
    """The exports the actor may see, newest first."""
    rows = session.scalars(select(ExportRequest).order_by(ExportRequest.id.desc()))
    return [r for r in rows if _may_see(actor, r)]


def audit_entries(row: ExportRequest) -> list[int]:
    entries: list[int] = json.loads(row.audit_entries or "[]")
    return entries


@audited(AuditAction.EXPORT_REQUEST)
def request_export(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    camera_id: str,
    from_ns: int,
    to_ns: int,
    reason: str,
    now_ns: int,
) -> ExportRequest:
    """Ask for a clip. Nothing leaves (nothing is even cut) until a second person approves."""
    if to_ns <= from_ns or to_ns - from_ns > MAX_RANGE_NS:
        raise ValueError("the range must end after it starts and last at most 6 hours")
    if len(reason.strip()) < 3:
        raise ValueError("an export needs a reason")
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    index = write_first(
        audit,
        actor,
        AuditAction.EXPORT_REQUEST,
        camera=cam.id,
        t_from_ns=from_ns,
        t_to_ns=to_ns,
        details={"reason": reason},
    )
    row = ExportRequest(
        id=f"{ns_to_datetime(now_ns):%Y%m%dT%H%M%SZ}-{cam.id}-{secrets.token_hex(3)}",
        status=ExportStatus.PENDING,
        camera_id=cam.id,
        camera_name=cam.name,
        district_id=cam.district_id,
        from_ns=from_ns,
        to_ns=to_ns,
        reason=reason,
        requested_by=actor.name,
        requested_ns=now_ns,
        audit_entries=json.dumps([index]),
        note="",
    )
    session.add(row)
    session.flush()
    return row


def _decidable(session: Session, actor: Actor, export_id: str) -> ExportRequest:
    """A pending export someone else asked for, locked (PostgreSQL) so that two approvers cannot both decide it."""
    row = session.get(ExportRequest, export_id, with_for_update=True)
    if row is None or not _may_see(actor, row):
        raise ExportNotFound("no such export")
    if row.status != ExportStatus.PENDING:
        raise ExportConflict(f"this export is {row.status}")
    if row.requested_by == actor.name:
        raise ExportConflict("an export needs a second person: you asked for it")
    return row


@audited(AuditAction.EXPORT_APPROVE)
def approve_export(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    root: Path,
    export_id: str,
    reason: str,
    now_ns: int,
    sources: SourceResolver = local_sources,
    signer: ManifestSigner | None = None,
) -> ExportRequest:
    """Approve (four eyes) and cut the clip now, with a manifest signed by ``signer``.

    Raises :class:`ExportPending` when a source is unavailable (the attempt is recorded on the row: commit it) and
    :class:`ExportFailed` when there is nothing to cut (the row is ``failed``: commit it too)."""
    row = _decidable(session, actor, export_id)
    cam = camera_for(session=session, actor=actor, camera_id=row.camera_id)
    t0, t1 = row.from_ns, row.to_ns
    index = write_first(
        audit,
        actor,
        AuditAction.EXPORT_APPROVE,
        camera=cam.id,
        t_from_ns=t0,
        t_to_ns=t1,
        details={"export": export_id, "reason": reason},
    )
    row.audit_entries = json.dumps([*audit_entries(row), index])
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    gaps = storage.gaps_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    folder = folder_of(root, export_id)
    folder.mkdir(parents=True, exist_ok=True)
    _close_modes(root, folder)  # closed before the first byte of video lands in it
    with tempfile.TemporaryDirectory(prefix=".sources-", dir=folder) as scratch:
        try:
            located = [SourceSegment(sources(s, Path(scratch)), s.start_ns, s.end_ns) for s in segs]
        except SourcesUnavailable as exc:
            row.note = f"{exc}"[:500]
            session.flush()
            raise ExportPending(exc.status, f"{exc}; the export stays pending, approve it again later") from None
        try:
            a0, a1, pictures = build_clip(located, t0, t1, folder / CLIP)
        except (ExportError, OSError, ValueError) as exc:
            (folder / CLIP).unlink(missing_ok=True)
            row.status = ExportStatus.FAILED
            row.decided_by, row.decided_ns, row.decision_reason = actor.name, now_ns, str(exc)[:500]
            session.flush()
            raise ExportFailed(str(exc), missing=isinstance(exc, ExportError)) from None
    chain = [
        {"step": "requested", "by": row.requested_by, "at": ns_to_iso(row.requested_ns), "reason": row.reason},
        {"step": "approved", "by": actor.name, "at": ns_to_iso(now_ns), "reason": reason},
    ]
    staging = folder / "files"
    staging.mkdir(exist_ok=True)
    shutil.move(str(folder / CLIP), staging / CLIP)
    gap_list = [{"start_ns": g.start_ns, "end_ns": g.end_ns, "reason": g.reason} for g in gaps]
    # The verification page is written before the manifest, so the manifest lists it and the signature covers it.
    (staging / package.README).write_text(
        package.readme_html(
            export_id=export_id,
            camera={"id": cam.id, "name": cam.name, "district": cam.district_id},
            requested=(t0, t1),
            actual=(a0, a1),
            gaps=gap_list,
            clip_name=CLIP,
            clip_sha256=sha256_file(staging / CLIP),
            key_text=None if signer is None else signer.verifier.text(),
        )
    )
    write_manifest(
        staging,
        camera={"id": cam.id, "name": cam.name, "district": cam.district_id},
        requested=(t0, t1),
        actual=(a0, a1),
        pictures=pictures,
        exported_by=row.requested_by,
        exported_ns=now_ns,
        reason=row.reason,
        gaps=gap_list,
        approval=chain,
        audit_entries=audit_entries(row),
        provenance=edge_provenance([(s.start_ns, s.end_ns, s.source, s.clock_offset_ns) for s in segs], a0, a1),
    )
    if signer is not None:
        body = (staging / "manifest.json").read_text()
        (staging / "manifest.sig").write_text(signer.sign_note(body))
        (staging / "key.pub").write_text(signer.verifier.text() + "\n")
    for f in staging.iterdir():
        shutil.move(str(f), folder / f.name)
    staging.rmdir()
    _close_modes(root, folder)
    row.status = ExportStatus.READY
    row.decided_by, row.decided_ns, row.decision_reason = actor.name, now_ns, reason
    row.actual_from_ns, row.actual_to_ns, row.note = a0, a1, ""
    session.flush()
    return row


@audited(AuditAction.EXPORT_REFUSE)
def refuse_export(
    *, session: Session, audit: AuditWriter, actor: Actor, export_id: str, reason: str, now_ns: int
) -> ExportRequest:
    row = _decidable(session, actor, export_id)
    index = write_first(
        audit, actor, AuditAction.EXPORT_REFUSE, camera=row.camera_id, details={"export": export_id, "reason": reason}
    )
    row.audit_entries = json.dumps([*audit_entries(row), index])
    row.status = ExportStatus.REFUSED
    row.decided_by, row.decided_ns, row.decision_reason = actor.name, now_ns, reason
    session.flush()
    return row


def export_files(root: Path, row: ExportRequest) -> list[dict[str, object]]:
    """The files a ready export holds: the manifest's entries, then the manifest and its signature."""
    folder = folder_of(root, row.id)
    if row.status != ExportStatus.READY or not (folder / "manifest.json").is_file():
        return []
    manifest = json.loads((folder / "manifest.json").read_text())
    extra = [{"name": n, "bytes": (folder / n).stat().st_size} for n in SIGNED_FILES if (folder / n).is_file()]
    files: list[dict[str, object]] = [*manifest["files"], *extra]
    return files


@audited(AuditAction.EXPORT_DOWNLOAD)
def download_export(
    *, session: Session, audit: AuditWriter, actor: Actor, root: Path, export_id: str, name: str
) -> Path:
    """The path of one file of a ready export. The clip (video leaving camgrid) is audited before its path is
    given; the manifest, its signature and the key are not video."""
    row = export_for(session=session, actor=actor, export_id=export_id)
    names = {str(f["name"]) for f in export_files(root, row)}
    if name not in names:
        raise ExportNotFound("no such file")
    if name == CLIP:
        write_first(
            audit,
            actor,
            AuditAction.EXPORT_DOWNLOAD,
            camera=row.camera_id,
            t_from_ns=row.from_ns,
            t_to_ns=row.to_ns,
            details={"export": export_id},
        )
    return folder_of(root, export_id) / name


@audited(AuditAction.EXPORT_DOWNLOAD)
def package_export(
    *, session: Session, audit: AuditWriter, actor: Actor, root: Path, export_id: str
) -> tuple[Path, list[str]]:
    """The folder and file names of a ready export's package (clip, page, manifest, signature, key). The package
    holds video, so its download is audited before anything is handed out, like the clip's."""
    row = export_for(session=session, actor=actor, export_id=export_id)
    folder = folder_of(root, export_id)
    names = [str(f["name"]) for f in export_files(root, row)]
    if not names:
        raise ExportNotFound("this export has no files (yet)")
    package.check_size(folder, names)
    write_first(
        audit,
        actor,
        AuditAction.EXPORT_DOWNLOAD,
        camera=row.camera_id,
        t_from_ns=row.from_ns,
        t_to_ns=row.to_ns,
        details={"export": export_id, "package": True},
    )
    return folder, names


def coverage(*, session: Session, actor: Actor, camera_id: str, from_ns: int, to_ns: int) -> dict[str, Any]:
    """What a range of one camera holds before anyone asks for it: the recorded time and every gap inside, with its
    reason (the export screen lists them before the request and before the download). Scoped like an export."""
    if to_ns <= from_ns or to_ns - from_ns > MAX_RANGE_NS:
        raise ValueError("the range must end after it starts and last at most 6 hours")
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=from_ns, end_ns=to_ns)
    gaps = storage.gaps_between(session=session, camera_id=cam.id, start_ns=from_ns, end_ns=to_ns)
    recorded: list[tuple[int, int]] = []
    for s in sorted(segs, key=lambda s: s.start_ns):
        a, b = max(s.start_ns, from_ns), min(s.end_ns, to_ns)
        if b <= a:
            continue
        if recorded and a <= recorded[-1][1]:
            recorded[-1] = (recorded[-1][0], max(recorded[-1][1], b))
        else:
            recorded.append((a, b))
    causes = _incidents_of(session, cam.id, from_ns, to_ns)

    def cause(start: int, end: int) -> dict[str, str] | None:
        for kind, subject, a, b in causes:
            if a < end and (b is None or b > start):
                return {"kind": kind, "subject": subject}
        return None

    return {
        "camera": cam.id,
        "from_ns": from_ns,
        "to_ns": to_ns,
        "recorded_ns": sum(b - a for a, b in recorded),
        "first_ns": recorded[0][0] if recorded else None,
        "last_ns": recorded[-1][1] if recorded else None,
        "gaps": [
            {
                "start_ns": max(g.start_ns, from_ns),
                "end_ns": to_ns if g.end_ns is None else min(g.end_ns, to_ns),
                "reason": g.reason,
                "incident": cause(g.start_ns, to_ns if g.end_ns is None else g.end_ns),
            }
            for g in sorted(gaps, key=lambda g: g.start_ns)
        ],
    }


def _incidents_of(session: Session, camera_id: str, lo: int, hi: int) -> list[tuple[str, str, int, int | None]]:
    """The incidents the camera was a member of within [lo, hi): (kind, subject, opened, resolved), group ones first
    (a power cut explains a camera's darkness better than the camera's own incident)."""
    q = (
        select(IncidentRow.kind, IncidentRow.subject, IncidentRow.opened_ns, IncidentRow.resolved_ns)
        .join(IncidentCamera, IncidentCamera.incident_id == IncidentRow.id)
        .where(
            IncidentCamera.camera_id == camera_id,
            IncidentCamera.role == "member",
            IncidentRow.merged_into_id.is_(None),
            IncidentRow.opened_ns < hi,
            or_(IncidentRow.resolved_ns.is_(None), IncidentRow.resolved_ns > lo),
        )
        .limit(100)
    )
    rows = [(k, s, int(o), None if r is None else int(r)) for k, s, o, r in session.execute(q)]
    return sorted(rows, key=lambda r: (r[0] == "camera", r[2]))
