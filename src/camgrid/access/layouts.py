"""Saved live-wall layouts: a user's own walls (name, size, the camera of each tile), kept on the server so that a
layout follows its user to any desk (docs/design/finding-cameras.md).

Invariants kept here, not in the routes: a user only ever sees, changes or deletes their own layouts (another user's
layout "does not exist"); bounded (MAX_PER_USER layouts, a size of 1, 4, 9 or 16 tiles, names of 1-80 characters,
unique per user); a camera outside the user's districts (or unknown) is refused when saving, and one the user no longer
sees (their districts changed, the camera moved or went) is dropped from the layout when it is read, and counted.

Not audited: a layout releases no video (each tile's live stream is authorised, and scoped, when it opens) and is
seen by nobody else; the entries would only record which walls an operator likes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from camgrid.access.models import WallLayout
from camgrid.auditing import Actor, NotVisible
from camgrid.registry.models import Camera

MAX_PER_USER = 50
SIZES = (1, 4, 9, 16)
MAX_NAME = 80


class LayoutError(ValueError):
    """A layout that cannot be saved as asked; the message is safe to show."""


class LayoutNotFound(NotVisible):
    """No such layout among the user's own."""


@dataclass(frozen=True)
class Layout:
    id: int
    name: str
    size: int
    cameras: list[str | None]  # one per tile; None: an empty tile, or a camera the user no longer sees
    dropped: int  # cameras of the saved layout the user no longer sees
    updated_ns: int


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise LayoutError(f"a layout name has 1 to {MAX_NAME} characters")
    return name


def _check(session: Session, actor: Actor, size: int, cameras: Sequence[str | None]) -> list[str]:
    """The tiles as stored ("" for an empty one); refuses a bad size and any camera the actor does not see."""
    if size not in SIZES:
        raise LayoutError(f"a wall has {', '.join(map(str, SIZES))} tiles, not {size}")
    if len(cameras) > size:
        raise LayoutError(f"{len(cameras)} cameras for {size} tiles")
    tiles = [c or "" for c in cameras] + [""] * (size - len(cameras))
    wanted = {c for c in tiles if c}
    seen = dict(session.execute(select(Camera.id, Camera.district_id).where(Camera.id.in_(wanted))).tuples().all())
    for cam in sorted(wanted):
        if cam not in seen or not actor.sees(seen[cam]):
            raise NotVisible(f"no camera {cam!r}: the layout is not saved")  # outside the districts, it does not exist
    return tiles


def _visible(session: Session, actor: Actor, rows: Sequence[WallLayout]) -> list[Layout]:
    tiles = {r.id: [str(c) for c in json.loads(r.cameras)] for r in rows}
    ids = {c for t in tiles.values() for c in t if c}
    districts = dict(session.execute(select(Camera.id, Camera.district_id).where(Camera.id.in_(ids))).tuples().all())
    out = []
    for r in rows:
        shown: list[str | None] = [
            c if c and c in districts and actor.sees(districts[c]) else None for c in tiles[r.id]
        ]
        dropped = sum(1 for c, s in zip(tiles[r.id], shown, strict=True) if c and s is None)
        out.append(Layout(r.id, r.name, r.size, shown, dropped, r.updated_ns))
    return out


def _own(session: Session, user_id: int, layout_id: int) -> WallLayout:
    row = session.get(WallLayout, layout_id)
    if row is None or row.user_id != user_id:
        raise LayoutNotFound(f"no layout {layout_id}")  # another user's layout does not exist for this one
    return row


def _name_free(session: Session, user_id: int, name: str, but: int | None = None) -> None:
    q = select(WallLayout.id).where(WallLayout.user_id == user_id, WallLayout.name == name)
    other = session.scalar(q)
    if other is not None and other != but:
        raise LayoutError(f"you already have a layout named {name!r}")


def list_layouts(*, session: Session, actor: Actor, user_id: int) -> list[Layout]:
    """The user's own layouts by name, each without the cameras they no longer see."""
    rows = list(session.scalars(select(WallLayout).where(WallLayout.user_id == user_id).order_by(WallLayout.name)))
    return _visible(session, actor, rows)


def save_layout(
    *, session: Session, actor: Actor, user_id: int, name: str, size: int, cameras: Sequence[str | None], now_ns: int
) -> Layout:
    """A new layout of the user's (at most MAX_PER_USER, names unique per user)."""
    name = _clean_name(name)
    tiles = _check(session, actor, size, cameras)
    _name_free(session, user_id, name)
    have = session.scalar(select(func.count()).select_from(WallLayout).where(WallLayout.user_id == user_id)) or 0
    if have >= MAX_PER_USER:
        raise LayoutError(f"at most {MAX_PER_USER} layouts per user: delete one first")
    row = WallLayout(
        user_id=user_id, name=name, size=size, cameras=json.dumps(tiles), created_ns=now_ns, updated_ns=now_ns
    )
    session.add(row)
    session.flush()
    return _visible(session, actor, [row])[0]


def update_layout(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    layout_id: int,
    name: str,
    size: int,
    cameras: Sequence[str | None],
    now_ns: int,
) -> Layout:
    """Replace one of the user's layouts (renaming it is saving it under a new name)."""
    row = _own(session, user_id, layout_id)
    name = _clean_name(name)
    tiles = _check(session, actor, size, cameras)
    _name_free(session, user_id, name, but=row.id)
    row.name, row.size, row.cameras, row.updated_ns = name, size, json.dumps(tiles), now_ns
    session.flush()
    return _visible(session, actor, [row])[0]


def rename_layout(*, session: Session, actor: Actor, user_id: int, layout_id: int, name: str, now_ns: int) -> Layout:
    """Rename one of the user's layouts; its tiles are kept as saved (even cameras the user no longer sees)."""
    row = _own(session, user_id, layout_id)
    name = _clean_name(name)
    _name_free(session, user_id, name, but=row.id)
    row.name, row.updated_ns = name, now_ns
    session.flush()
    return _visible(session, actor, [row])[0]


def delete_layout(*, session: Session, user_id: int, layout_id: int) -> None:
    session.delete(_own(session, user_id, layout_id))
    session.flush()
