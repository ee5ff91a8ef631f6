"""Keeps masked cameras that hold Media2 masks masked by the camera itself, verified; on its own thread.

Every ``privacy.camera_mask_poll_s`` (and when poked after a mask change) for each masked camera of this recorder:
a camera with an ONVIF address whose device answers GetMaskOptions gets the mask in force set on it
(:func:`camera_mask_service.set_camera_masks`, audited first) and a :class:`VerifyingTransform` in place of the
recorder's Masker; a camera already so masked has its GetMasks compared with what camgrid set. Every ONVIF call
runs here, never on the ingest thread, bounded by the client's timeout; one camera's failure never stops the others.
Design note: docs/design/camera-side-masks.md.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.auditing import SYSTEM, AuditWriter
from camgrid.clock import Clock
from camgrid.config import PrivacyConfig
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.media.nal import H264
from camgrid.onvif import masks as onvif_masks
from camgrid.onvif.connect import OnvifError, OnvifTarget, connect
from camgrid.onvif.targets import onvif_target
from camgrid.privacy import camera_mask_service as cms
from camgrid.privacy import service
from camgrid.privacy.models import CameraSideMask
from camgrid.registry.models import Camera
from camgrid.storage.recorder import Recorder
from camgrid.vocabulary import MaskMode

if TYPE_CHECKING:
    from camgrid.privacy.camera_masks import VerifyingTransform

log = logging.getLogger("camgrid.privacy")
BLACK = (16.0, 128.0, 128.0)  # camera_masks.BLACK (that module loads libav and numpy: imported when needed)


class CameraMaskSync:
    """See the module docstring. ``installed(camera_id)``: the mask revision the recorder's MaskSync has installed
    (a verifier is only put in for the revision in force)."""

    def __init__(
        self,
        *,
        recorder: Recorder,
        factory: sessionmaker[Session],
        audit: AuditWriter,
        clock: Clock,
        cfg: PrivacyConfig,
        box: SecretBox,
        installed: Callable[[str], int | None],
        opener: Callable[[OnvifTarget], Any] = connect,
    ) -> None:
        self.recorder = recorder
        self.factory = factory
        self.audit = audit
        self.clock = clock
        self.cfg = cfg
        self.box = box
        self.installed = installed
        self.opener = opener
        self._clients: dict[str, tuple[OnvifTarget, Any]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.verifiers: dict[str, VerifyingTransform] = {}

    # lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="camera-masks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poke(self) -> None:
        """A mask changed: look again now."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("camera-side masks: a round failed")
            self._wake.wait(self.cfg.camera_mask_poll_s)
            self._wake.clear()

    # one round -------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        with unit_of_work(self.factory) as session:
            masks = service.all_masks(session=session)
            states = {r.camera_id: _copy(r) for r in session.scalars(select(CameraSideMask))}
            cams = {c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_(list(masks))))}
            targets: dict[str, OnvifTarget | None] = {}
            for cid, cam in cams.items():
                try:
                    targets[cid] = onvif_target(cam, self.box)
                except Exception as exc:  # a malformed address or a sealed password we cannot open
                    log.warning("camera %s: no ONVIF target (%s)", cid, type(exc).__name__)
                    targets[cid] = None
        for cid, (rev, polys) in masks.items():
            if not self.recorder.records(cid) or self.recorder.transform_of(cid) is None or self.installed(cid) != rev:
                continue  # not recorded here (another node's), not masked yet, or another revision being installed
            try:
                self._one(cid, rev, polys, states.get(cid), targets.get(cid))
            except Exception as exc:  # one camera never disturbs the others
                log.warning("camera %s: camera-side masks not checked (%s)", cid, str(exc)[:200])
        for cid in set(self.verifiers) - set(masks):
            self.verifiers.pop(cid, None)

    def _one(
        self, cid: str, rev: int, polys: list[list[list[float]]], state: dict[str, Any] | None, target: Any
    ) -> None:
        if state is not None and state["mode"] == MaskMode.CAMERA_FAILED:
            return  # the recorder masks (the verifier's own Masker, or MaskSync's) until an admin re-arms
        now = self.clock.wall_ns()
        if target is None or not self.cfg.camera_side:
            if state is None or state["revision"] != rev or state["mode"] != MaskMode.RECORDER:
                why = "camera-side masks are off" if target is not None else "the camera has no ONVIF address"
                with unit_of_work(self.factory) as session:
                    cms.recorder_side(session=session, camera_id=cid, revision=rev, reason=why, now_ns=now)
            return
        if state is None or state["revision"] != rev:
            self._arm(cid, rev, polys, state, target)
            return
        if state["mode"] != MaskMode.CAMERA:
            return  # decided for this revision: the camera cannot hold it, the recorder masks
        from camgrid.privacy.camera_masks import VerifyingTransform

        current = self.recorder.transform_of(cid)
        if not isinstance(current, VerifyingTransform):
            self._install(cid, polys)  # after a restart: checked again before anything is stored unmasked
        client = self._client(cid, target)
        listed = onvif_masks.read_masks(client)
        differs = onvif_masks.mismatch(listed, [onvif_masks.to_onvif(p) for p in polys])
        if differs is not None:
            v = self.verifiers.get(cid)
            if v is not None:
                v.listed_mismatch(f"GetMasks: {differs}")

    def _arm(
        self, cid: str, rev: int, polys: list[list[list[float]]], state: dict[str, Any] | None, target: Any
    ) -> None:
        client = self._client(cid, target)
        vsc = onvif_masks.video_source_token(client)
        opts = onvif_masks.mask_options(client, vsc)
        why = None
        if opts is None:
            why = "the camera has no Media2 masks"
        elif len(polys) > opts.max_masks or any(len(p) > opts.max_points for p in polys):
            why = f"the camera holds {opts.max_masks} masks of {opts.max_points} points, the mask needs more"
        elif "Color" not in opts.types:
            why = "the camera cannot fill masks with a colour"
        now = self.clock.wall_ns()
        if why is not None:
            with unit_of_work(self.factory) as session:
                cms.recorder_side(session=session, camera_id=cid, revision=rev, reason=why, now_ns=now)
            return
        old = json.loads(state["tokens"]) if state is not None else []

        def apply() -> list[str]:
            for token in old:  # camgrid's own earlier masks; an admin's other masks are left alone
                try:
                    onvif_masks.delete_mask(client, token)
                except OnvifError:
                    pass  # gone already
            return [onvif_masks.create_mask(client, vsc, onvif_masks.to_onvif(p), BLACK) for p in polys]

        with unit_of_work(self.factory) as session:
            cms.set_camera_masks(
                session=session, audit=self.audit, actor=SYSTEM, camera_id=cid, revision=rev, apply=apply, now_ns=now
            )
        self._install(cid, polys)
        log.info("camera %s: masks set on the camera (revision %d); checking its pictures", cid, rev)

    def _install(self, cid: str, polys: list[list[list[float]]]) -> None:
        from camgrid.privacy.camera_masks import VerifyingTransform
        from camgrid.privacy.geometry import validate

        rec = self.recorder

        def codec_of() -> str:
            return rec.codec_of(cid) or H264

        v = VerifyingTransform(
            cid,
            codec_of,
            validate(polys),
            color=BLACK,
            interval_s=self.cfg.verify_interval_s,
            grace_s=self.cfg.arm_grace_s,
            on_fail=self._failed,
            on_pass=self._passed,
        )
        self.verifiers[cid] = v
        rec.set_transform(cid, v)

    def _client(self, cid: str, target: OnvifTarget) -> Any:
        known = self._clients.get(cid)
        if known is not None and known[0] == target:
            return known[1]
        client = self.opener(target)
        self._clients[cid] = (target, client)
        return client

    # verifier callbacks (their own threads) --------------------------------------------------------------------
    def _failed(self, cid: str, reason: str) -> None:
        log.error("camera %s: its own privacy mask failed a check (%s); the recorder masks it", cid, reason)
        with unit_of_work(self.factory) as session:
            cms.camera_masks_failed(
                session=session,
                audit=self.audit,
                actor=SYSTEM,
                camera_id=cid,
                reason=reason,
                now_ns=self.clock.wall_ns(),
            )

    def _passed(self, cid: str) -> None:
        log.info("camera %s: its own privacy mask verified; its stream is stored as sent", cid)
        with unit_of_work(self.factory) as session:
            cms.camera_masks_verified(session=session, camera_id=cid, now_ns=self.clock.wall_ns())

    def rearmed(self, cid: str) -> None:
        """An admin re-armed the camera (the row is ``recorder`` again): the next round sets the masks anew."""
        self.verifiers.pop(cid, None)
        self.poke()


def _copy(row: CameraSideMask) -> dict[str, Any]:
    return {"mode": row.mode, "revision": row.revision, "tokens": row.tokens}
