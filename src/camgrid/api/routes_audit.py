"""The auditor's API: search the audit log, inclusion and consistency proofs against signed checkpoints, the monthly
transparency report, and the whole log as a download for ``camgrid audit verify``. Permission ``audit.read``
(auditors only). Design note: docs/design/auditor-screen.md.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.audit import reading
from camgrid.audit.log import AuditError, AuditLog
from camgrid.audit.note import parse_checkpoint_note
from camgrid.vocabulary import AuditAction

router = APIRouter(prefix="/api/audit", tags=["audit"])
MS = 1_000_000
NAME = r"^[A-Za-z0-9_.:@+\-]{1,64}$"
MONTH = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"  # 1970-01 .. 2999-12
MAX_MS = 9_000_000_000_000  # year 2255: * 1e6 stays inside a signed 64-bit column
MAX_INDEX = 2**62
EXPORT_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "entries.jsonl, checkpoints.txt, leaf_hashes.bin, key.pub"}
}


class AuditEntryOut(BaseModel):
    index: int = Field(description="The entry's leaf index in the Merkle tree")
    at_ms: int
    who: str
    action: str = Field(description="An AuditAction (a string here: old logs may hold actions no longer spelt)")
    camera: str | None
    district: str | None = Field(description="The camera's district now (none: an entry without a camera)")
    data: str = Field(description="The canonical JSON the leaf hashes: SHA-256(0x00 || UTF-8 bytes of data)")
    leaf_hash: str = Field(description="Hex, as stored")


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; none: the last page")


class CheckpointOut(BaseModel):
    size: int
    at_ms: int
    note: str = Field(description="The C2SP signed note (checkpoint body, blank line, signature lines)")


class LogKeyOut(BaseModel):
    name: str = Field(description="The key name, also the log's origin")
    key_id: str = Field(description="Hex of the 4-byte note key id")
    public_key: str = Field(description="Base64 of the 32-byte Ed25519 public key")
    verifier: str = Field(description="The note verifier key <name>+<id>+<base64(0x01||key)> (key.pub)")
    fingerprint: str = Field(description="SHA-256 of the verifier key text, hex: compare with the published one")


class CheckpointList(BaseModel):
    key: LogKeyOut
    checkpoints: list[CheckpointOut]
    next_before: int | None


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    path: list[str] = Field(description="RFC 9162 inclusion path, hex, leaf to root")
    checkpoint: CheckpointOut


class ConsistencyOut(BaseModel):
    old: CheckpointOut
    new: CheckpointOut
    path: list[str] = Field(description="RFC 9162 consistency proof from old.size to new.size, hex")


class TransparencyRow(BaseModel):
    district: str
    counts: dict[str, float]


class TransparencyMonth(BaseModel):
    month: str
    rows: list[TransparencyRow]


class TransparencyOut(BaseModel):
    columns: list[str]
    months: list[TransparencyMonth]


def _log(request: Request) -> AuditLog:
    log: AuditLog | None = ctx_of(request).audit
    if log is None:
        raise HTTPException(503, "the audit log is not available")
    return log


def _ck(row: reading.CheckpointRow) -> dict[str, Any]:
    return {"size": row.size, "at_ms": row.at_ns // MS, "note": row.note}


def _entry(e: reading.EntryRow) -> dict[str, Any]:
    return {
        "index": e.index,
        "at_ms": e.at_ns // MS,
        "who": e.who,
        "action": e.action,
        "camera": e.camera,
        "district": e.district,
        "data": e.data,
        "leaf_hash": e.leaf_hash.hex(),
    }


@router.get("/entries", response_model=AuditPage)
def search(
    request: Request,
    who_: Annotated[str | None, Query(alias="who", pattern=NAME)] = None,
    camera: Annotated[str | None, Query(pattern=NAME)] = None,
    action: Annotated[str | None, Query(pattern=NAME)] = None,
    from_ms: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    to_ms: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    before: Annotated[int | None, Query(ge=0, le=MAX_INDEX, description="Keyset cursor: entries below")] = None,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 50,
    who: Principal = require("audit.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Entries newest first. A first page (no ``before``) is itself audited (``audit.search``, with its filters)."""
    if before is None:
        filters = {"who": who_, "camera": camera, "action": action, "from_ms": from_ms, "to_ms": to_ms}
        audit(
            ctx_of(request),
            who=who.username,
            action=AuditAction.AUDIT_SEARCH,
            address=address_of(request),
            camera=camera,
            details={k: v for k, v in filters.items() if v is not None},
        )
    rows = reading.search(
        session=session,
        actor=actor(request, who),
        who=who_,
        camera=camera,
        action=action,
        from_ns=from_ms * MS if from_ms is not None else None,
        to_ns=to_ms * MS if to_ms is not None else None,
        before=before,
        limit=limit,
    )
    return {"entries": [_entry(e) for e in rows], "next_before": rows[-1].index if len(rows) == limit else None}


@router.get("/entries/{index}/proof", response_model=InclusionOut)
def inclusion(
    index: Annotated[int, PathParam(ge=0, le=MAX_INDEX)],
    request: Request,
    size: Annotated[int | None, Query(ge=1, le=MAX_INDEX, description="A signed checkpoint's size")] = None,
    who: Principal = require("audit.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """The entry's inclusion path to the root of a signed checkpoint: of tree size ``size``, else the newest (one is
    signed now when the newest does not cover the entry yet)."""
    with answering():
        e = reading.entry(session=session, actor=actor(request, who), index=index)
    log = _log(request)
    ck = reading.checkpoint(session=session, size=size)
    if size is None and (ck is None or ck.size <= index):
        note = log.checkpoint()  # committed in the log's own transaction: taken from its answer, not re-read
        ck = reading.CheckpointRow(parse_checkpoint_note(note).checkpoint.size, ctx_of(request).clock.wall_ns(), note)
    if ck is None:
        raise HTTPException(404, f"no signed checkpoint of size {size}")
    if ck.size <= index:
        raise HTTPException(422, f"the checkpoint of size {ck.size} does not cover entry {index}")
    try:
        path = log.inclusion_proof(index, ck.size)
    except (AuditError, ValueError) as exc:
        raise HTTPException(409, f"no proof: {exc}") from None
    return {
        "index": index,
        "size": ck.size,
        "leaf_hash": e.leaf_hash.hex(),
        "path": [p.hex() for p in path],
        "checkpoint": _ck(ck),
    }


@router.get("/checkpoints", response_model=CheckpointList)
def list_checkpoints(
    request: Request,
    before: Annotated[int | None, Query(ge=0, le=MAX_INDEX, description="Keyset cursor: smaller sizes")] = None,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 50,
    who: Principal = require("audit.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Signed checkpoints, biggest first, and the log's verifier key (compare its fingerprint with the published)."""
    v = _log(request).signer.verifier
    text = v.text()
    rows = reading.checkpoints(session=session, before=before, limit=limit)
    return {
        "key": {
            "name": v.name,
            "key_id": v.id.hex(),
            "public_key": base64.b64encode(v.public).decode(),
            "verifier": text,
            "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
        },
        "checkpoints": [_ck(r) for r in rows],
        "next_before": rows[-1].size if len(rows) == limit else None,
    }


@router.get("/consistency", response_model=ConsistencyOut)
def consistency(
    request: Request,
    old: Annotated[int, Query(alias="from", ge=1, le=MAX_INDEX, description="The older checkpoint's size")],
    new: Annotated[int, Query(alias="to", ge=1, le=MAX_INDEX, description="The newer checkpoint's size")],
    who: Principal = require("audit.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """A consistency proof between two signed checkpoints (the older one's tree is a prefix of the newer one's)."""
    if old > new:
        raise HTTPException(422, "from must not exceed to")
    a = reading.checkpoint(session=session, size=old)
    b = reading.checkpoint(session=session, size=new)
    if a is None or b is None:
        raise HTTPException(404, f"no signed checkpoint of size {old if a is None else new}")
    try:
        path = _log(request).consistency_proof(old, new)
    except (AuditError, ValueError) as exc:
        raise HTTPException(409, f"no proof: {exc}") from None
    return {"old": _ck(a), "new": _ck(b), "path": [p.hex() for p in path]}


@router.get("/transparency", response_model=TransparencyOut)
def transparency(
    request: Request,
    month: Annotated[str, Query(pattern=MONTH, description="The last month, YYYY-MM (UTC)")],
    months: Annotated[int, Query(ge=1, le=reading.MAX_MONTHS, description="How many months up to it")] = 1,
    who: Principal = require("audit.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Per district and month: live views, playbacks, exports, holds, deletions and mask changes, from the log."""
    wanted = reading.months_ending(month, months)
    data = reading.transparency(session=session, actor=actor(request, who), months=wanted)
    return {
        "columns": list(reading.TRANSPARENCY_COLUMNS),
        "months": [
            {"month": m, "rows": [{"district": d, "counts": c} for d, c in rows.items()]} for m, rows in data.items()
        ],
    }


@router.get("/export", response_class=FileResponse, responses=EXPORT_FILE)
def export(request: Request, who: Principal = require("audit.read")) -> FileResponse:
    """The whole log, as ``camgrid audit export`` writes it, zipped: unzip and run ``camgrid audit verify DIR --key
    PUB``. Audited (``audit.export``) before it is written; auditors of every district only (the log is one tree)."""
    if who.districts:
        raise HTTPException(403, "the whole log holds every district's entries: only an auditor of every district")
    log = _log(request)
    audit(ctx_of(request), who=who.username, action=AuditAction.AUDIT_EXPORT, address=address_of(request))
    tmp = Path(tempfile.mkdtemp(prefix="camgrid-audit-"))  # mode 0700
    try:
        summary = log.export(tmp / "log")
        name = f"camgrid-audit-{re.sub(r'[^A-Za-z0-9_.-]', '-', log.origin)}-{summary.size}.zip"
        with zipfile.ZipFile(tmp / name, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted((tmp / "log").iterdir()):
                z.write(f, f.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        tmp / name,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )
