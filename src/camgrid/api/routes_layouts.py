"""Saved live-wall layouts, each user's own (``camgrid.access.layouts`` keeps the invariants)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from camgrid.access import layouts
from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering
from camgrid.api.bounds import RowId
from camgrid.api.deps import DB_SESSION, ctx_of, require

router = APIRouter(prefix="/api/layouts", tags=["layouts"])
MS = 1_000_000
CameraSlot = str | None


class LayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=layouts.MAX_NAME)
    size: int = Field(ge=1, le=max(layouts.SIZES), description="Tiles: 1, 4, 9 or 16")
    cameras: list[CameraSlot] = Field(
        max_length=max(layouts.SIZES), description="The camera of each tile, in order; null or empty: an empty tile"
    )


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=layouts.MAX_NAME)


class LayoutOut(BaseModel):
    id: int
    name: str
    size: int
    cameras: list[str | None] = Field(description="One per tile; null: empty, or a camera you no longer see")
    dropped: int = Field(description="Cameras of the saved layout you no longer see (dropped from it here)")
    updated_ms: int


def _out(x: layouts.Layout) -> LayoutOut:
    return LayoutOut(
        id=x.id, name=x.name, size=x.size, cameras=x.cameras, dropped=x.dropped, updated_ms=x.updated_ns // MS
    )


def _check_ids(cameras: list[CameraSlot]) -> None:
    for c in cameras:
        if c is not None and len(c) > 64:
            raise HTTPException(422, "a camera id has at most 64 characters")


@router.get("", response_model=list[LayoutOut])
def list_layouts(request: Request, who: Principal = require("live"), session: Session = DB_SESSION) -> list[LayoutOut]:
    return [_out(x) for x in layouts.list_layouts(session=session, actor=actor(request, who), user_id=who.user_id)]


@router.post("", status_code=201, response_model=LayoutOut)
def create(
    body: LayoutIn, request: Request, who: Principal = require("live"), session: Session = DB_SESSION
) -> LayoutOut:
    _check_ids(body.cameras)
    with answering():
        try:
            x = layouts.save_layout(
                session=session,
                actor=actor(request, who),
                user_id=who.user_id,
                name=body.name,
                size=body.size,
                cameras=body.cameras,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except layouts.LayoutError as exc:
            raise HTTPException(422, str(exc)) from None
    session.commit()
    return _out(x)


@router.put("/{layout_id}", response_model=LayoutOut)
def replace(
    layout_id: RowId, body: LayoutIn, request: Request, who: Principal = require("live"), session: Session = DB_SESSION
) -> LayoutOut:
    _check_ids(body.cameras)
    with answering():
        try:
            x = layouts.update_layout(
                session=session,
                actor=actor(request, who),
                user_id=who.user_id,
                layout_id=layout_id,
                name=body.name,
                size=body.size,
                cameras=body.cameras,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except layouts.LayoutError as exc:
            raise HTTPException(422, str(exc)) from None
    session.commit()
    return _out(x)


@router.post("/{layout_id}/rename", response_model=LayoutOut)
def rename(
    layout_id: RowId, body: RenameIn, request: Request, who: Principal = require("live"), session: Session = DB_SESSION
) -> LayoutOut:
    with answering():
        try:
            x = layouts.rename_layout(
                session=session,
                actor=actor(request, who),
                user_id=who.user_id,
                layout_id=layout_id,
                name=body.name,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except layouts.LayoutError as exc:
            raise HTTPException(422, str(exc)) from None
    session.commit()
    return _out(x)


@router.delete("/{layout_id}", status_code=204, response_class=Response)
def delete(layout_id: RowId, who: Principal = require("live"), session: Session = DB_SESSION) -> Response:
    with answering():
        layouts.delete_layout(session=session, user_id=who.user_id, layout_id=layout_id)
    session.commit()
    return Response(status_code=204)
