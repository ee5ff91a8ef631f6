"""Install masks on a running recorder (and keep them in step with the database)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from camgrid.db.engine import unit_of_work
from camgrid.media.nal import H264
from camgrid.privacy import service
from camgrid.storage.recorder import Recorder

log = logging.getLogger("camgrid.privacy")


class MaskSync:
    """Reads masks from the database and installs, updates or removes each camera's :class:`Masker`."""

    def __init__(self, recorder: Recorder, factory: sessionmaker[Session]) -> None:
        self.recorder = recorder
        self.factory = factory
        self.revisions: dict[str, int] = {}
        # camera-side masks (privacy.camera_mask_sync.CameraMaskSync), poked when a mask changes
        self.camera_side: Any = None

    def apply(self, camera_id: str, revision: int, polygons: list[list[list[float]]] | None) -> None:
        """Install/update/remove now; used by the API for an immediate change and by :meth:`sync`."""
        rec = self.recorder
        current = rec.transform_of(camera_id)
        if polygons is None:
            if current is not None:
                rec.set_transform(camera_id, None)
                log.warning("camera %s: mask removed", camera_id)
            self.revisions.pop(camera_id, None)
            return
        # Imported only when a camera is masked: libav, numpy and shapely cost a recorder without masks nothing.
        from camgrid.privacy.geometry import validate
        from camgrid.privacy.masker import Masker

        shapes = validate(polygons)
        if isinstance(current, Masker):
            current.set_polygons(shapes)
        else:

            def codec_of() -> str:
                return rec.codec_of(camera_id) or H264

            rec.set_transform(camera_id, Masker(camera_id, codec_of, shapes))
            log.info("camera %s: masked (%d polygons)", camera_id, len(shapes))
        self.revisions[camera_id] = revision

    def sync(self) -> None:
        with unit_of_work(self.factory) as session:
            masks = service.all_masks(session=session)
        changed = False
        for cid, (rev, polys) in masks.items():
            if self.revisions.get(cid) != rev:
                self.apply(cid, rev, polys)
                changed = True
        for cid in set(self.revisions) - set(masks):
            self.apply(cid, 0, None)
        if changed and self.camera_side is not None:
            self.camera_side.poke()
