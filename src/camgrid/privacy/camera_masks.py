"""Camera-side masks, verified: the camera burns the masks in, camgrid stores its stream untouched but checks it.

A :class:`VerifyingTransform` sits where the recorder's :class:`~camgrid.privacy.masker.Masker` would. Between
checks it passes pictures through as received (no decode, no encode). At most once per ``interval_s``, at a
keyframe, it holds that keyframe and the pictures after it, decodes the keyframe alone (with its parameter sets) on
its own thread and judges every masked polygon (:func:`camgrid.privacy.verify.check_area`). A pass releases the
held pictures untouched; a failure hands them, from that keyframe on, to a Masker, which masks the camera from then
on (state ``camera_failed``) until an admin re-arms camera-side masking and a fresh check passes. Until the first
check passes the pictures are masked by the Masker: an unverified picture is never stored unmasked. A GetMasks poll
that no longer matches what camgrid set (:meth:`listed_mismatch`) fails the camera at once.
Design note: docs/design/camera-side-masks.md.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon

from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from camgrid.privacy.geometry import raster
from camgrid.privacy.masker import Masker, avcc_to_annexb
from camgrid.privacy.verify import check_area, inset

log = logging.getLogger("camgrid.privacy")
BLACK = (16.0, 128.0, 128.0)  # the colour camgrid asks cameras to mask with (YCbCr, video range)
MAX_HELD = 250  # pictures held while a keyframe is judged (10 s at 25 fps): past this the check counts as failed

Picture = tuple[AccessUnit, int, bool]


class VerifyingTransform:
    """A :class:`camgrid.storage.transform.PictureTransform`: the camera's masked stream, untouched but verified."""

    PENDING, VERIFIED, FAILED = "pending", "verified", "failed"

    def __init__(
        self,
        camera_id: str,
        codec: Callable[[], str],
        polygons: Sequence[Polygon],
        *,
        color: tuple[float, float, float],
        interval_s: float,
        on_fail: Callable[[str, str], None],
        on_pass: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        masker_factory: Callable[[], Any] | None = None,
        grace_s: float = 0.0,
    ) -> None:
        self.camera_id = camera_id
        self._codec_of = codec
        self._polygons = list(polygons)
        self.color = color
        self.interval_s = interval_s
        self._on_fail = on_fail
        self._on_pass = on_pass
        self._monotonic = monotonic
        self._masker_factory = masker_factory or (lambda: Masker(camera_id, codec, self._polygons))
        self.state = self.PENDING
        # A camera just told its masks may take a moment to apply them: until the first pass, failed checks within
        # this grace keep the recorder masking without declaring the camera failed. The grace starts with the first
        # picture that reaches the check, not at construction: a recorder that is slow to connect (a loaded server,
        # a camera coming back from a power cut) must not spend it before the camera has sent anything.
        self._grace_s = grace_s
        self._grace_until: float | None = None
        self._lock = threading.Lock()
        self._out: list[Picture] = []
        self._held: list[Picture] | None = None  # pictures from a keyframe under judgement
        self._masker: Any = None
        self._masking = True  # between checks: pictures go to the masker (pending, failed) or out as received
        self._next_check = 0.0
        self._params: list[bytes] = []
        self._jobs: queue.SimpleQueue[tuple[int, AccessUnit] | None] = queue.SimpleQueue()
        self._job_no = 0
        self._areas: dict[tuple[int, int], list[NDArray[np.bool_]]] = {}
        self.checks = 0
        self.failures = 0
        self.cpu_s = 0.0  # thread CPU time spent decoding and judging (bench-privacy's verified_mask_cpu)
        self.last_verdict = ""
        self._thread = threading.Thread(target=self._run, name=f"verify-{camera_id}", daemon=True)
        self._thread.start()

    # PictureTransform (ingest thread) --------------------------------------------------------------------------
    def submit(self, au: AccessUnit, ext: int, jump: bool) -> None:
        if au.params:
            self._params = list(au.params)
        pic = (au, ext, jump)
        with self._lock:
            if self._grace_until is None:
                self._grace_until = self._monotonic() + self._grace_s
            if self._held is not None:
                self._held.append(pic)
                if len(self._held) > MAX_HELD:
                    self._job_no += 1  # the verdict, when it comes, is for a check given up
                    self._fail_locked("the keyframe was not judged in time")
                return
            if au.key and self.state != self.FAILED and self._monotonic() >= self._next_check:
                self._next_check = self._monotonic() + self.interval_s
                self._held = [pic]
                self._job_no += 1
                self._jobs.put((self._job_no, self._with_params(au)))
                return
            self._route_locked(pic)

    def drain(self) -> list[Picture]:
        with self._lock:
            out, self._out = self._out, []
            masker = self._masker
        if masker is not None:
            out.extend(masker.drain())
        return out

    def reset(self) -> None:
        with self._lock:
            if self._held is not None:  # the session ended mid-check: what was held is masked, never let out
                self._job_no += 1
                held, self._held = self._held, None
                for pic in held:
                    self._to_masker_locked(pic)
            self._next_check = 0.0
            if self._masker is not None:
                self._masker.reset()

    def close(self) -> None:
        self._jobs.put(None)
        with self._lock:
            if self._masker is not None:
                self._masker.close()

    # control (any thread) --------------------------------------------------------------------------------------
    def listed_mismatch(self, reason: str) -> None:
        """The camera's GetMasks no longer lists what camgrid set: mask here from now on."""
        with self._lock:
            if self.state == self.FAILED:
                return
            if self._held is not None:
                self._job_no += 1
            self._fail_locked(reason)

    def rearm(self) -> None:
        """An admin re-armed camera-side masking: checks resume; pictures stay masked here until one passes."""
        with self._lock:
            if self.state == self.FAILED:
                self.state = self.PENDING
                self._next_check = 0.0

    # internals -------------------------------------------------------------------------------------------------
    def _with_params(self, au: AccessUnit) -> AccessUnit:
        if au.params or not self._params:
            return au
        return AccessUnit(au.ts, au.data, au.key, list(self._params), arrival_ns=au.arrival_ns)

    def _route_locked(self, pic: Picture) -> None:
        if self._masking:
            self._to_masker_locked(pic)
        else:
            self._out.append(pic)

    def _to_masker_locked(self, pic: Picture) -> None:
        if self._masker is None:
            self._masker = self._masker_factory()
        self._masker.submit(*pic)

    def _fail_locked(self, reason: str) -> None:
        first = self.state != self.FAILED
        self.state = self.FAILED
        if not self._masking and self._masker is not None:
            self._masker.reset()  # it starts again at a keyframe
        self._masking = True
        held, self._held = self._held, None
        for pic in held or []:
            self._to_masker_locked(pic)
        self.failures += 1
        self.last_verdict = reason
        if first:
            threading.Thread(target=self._notify_fail, args=(reason,), daemon=True).start()

    def _notify_fail(self, reason: str) -> None:
        try:
            self._on_fail(self.camera_id, reason)
        except Exception:
            log.exception("camera %s: camera-side mask failure not recorded", self.camera_id)

    def _verdict(self, job: int, ok: bool, reason: str) -> None:
        notify_pass = False
        with self._lock:
            if job != self._job_no or self._held is None:
                return  # given up (reset, timeout, mismatch) meanwhile
            self.checks += 1
            in_grace = self._grace_until is None or self._monotonic() < self._grace_until
            if not ok and self.state == self.PENDING and in_grace:
                self.last_verdict = reason
                held, self._held = self._held, None
                for pic in held:
                    self._to_masker_locked(pic)
                return
            if not ok:
                self._fail_locked(reason)
                return
            self.last_verdict = ""
            if self.state == self.PENDING:
                self.state = self.VERIFIED
                notify_pass = True
            if self._masking and self._masker is not None:
                # Masked pictures from before the keyframe come out first; any still inside the masker are dropped
                # (a few pictures' hole at the switch, never an unmasked one).
                self._out.extend(self._masker.drain())
                self._masker.close()
                self._masker = None
            self._masking = False
            held, self._held = self._held, None
            self._out.extend(held)
        if notify_pass and self._on_pass is not None:
            try:
                self._on_pass(self.camera_id)
            except Exception:
                log.exception("camera %s: camera-side mask verification not recorded", self.camera_id)

    # verifier thread -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            no, au = job
            t0 = time.thread_time()
            try:
                ok, reason = self.judge(au)
            except Exception as exc:  # an undecodable keyframe proves nothing: fail closed
                ok, reason = False, f"the keyframe could not be decoded ({type(exc).__name__})"
            self.cpu_s += time.thread_time() - t0
            self._verdict(no, ok, reason)

    def judge(self, au: AccessUnit) -> tuple[bool, str]:
        """Decode ``au`` (a keyframe) alone and check every polygon's area."""
        planes = decode_keyframe(self._codec_of(), au)
        if planes is None:
            return False, "the keyframe did not decode to a picture"
        y, u, v = planes
        h, w = y.shape
        areas = self._areas.get((w, h))
        if areas is None:
            areas = [inset(raster([p], w, h)) for p in self._polygons]
            self._areas = {(w, h): areas}
        for i, area in enumerate(areas, start=1):
            verdict = check_area(y, u, v, area, self.color)
            if not verdict.ok:
                return False, f"polygon {i}: {verdict.reason}"
        return True, ""


def decode_keyframe(codec: str, au: AccessUnit) -> tuple[NDArray[np.uint8], ...] | None:
    """One keyframe decoded on its own (parameter sets first): its Y, Cb and Cr planes, or None."""
    import av

    dec: Any = av.CodecContext.create("h264" if codec == H264 else "hevc", "r")
    dec.thread_count = 1
    dec.skip_frame = "NONKEY"
    data = b"".join(b"\x00\x00\x00\x01" + p for p in au.params) + avcc_to_annexb(au.data)
    frames = list(dec.decode(av.Packet(data))) + list(dec.decode(None))
    if not frames:
        return None
    f = frames[0]
    if f.format.name != "yuv420p":
        f = f.reformat(format="yuv420p")
    out = []
    for i in range(3):
        p = f.planes[i]
        rows = np.frombuffer(p, dtype=np.uint8).reshape(-1, p.line_size)
        out.append(rows[: p.height, : p.width])
    return tuple(out)
