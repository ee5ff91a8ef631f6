"""Access units to fMP4 segments, per camera, on the ingest thread (no I/O here: bytes go to the disk writer).

A segment starts on a keyframe, is cut at the first keyframe after ``segment_seconds``, and is flushed as a
fragment (``moof+mdat``) at least every ``fragment_seconds``; fragments need not start on a keyframe. Each sample's
duration is the RTP time to the next one, so a sample is held until its successor arrives. Segment start times are
UTC from the session's anchor and never earlier than the previous segment's end: no time is recorded twice.

Time never lies (docs/design/packet-path.md, "Time"): when the anchored time of a picture is later than the end of
the one before (the camera paused; ``ingest/timing.py`` moves its anchor forward by the pause), the earlier picture
ends at its real duration, up to ``max_hold_seconds`` (the picture a viewer saw frozen); a longer pause cuts the
segment at the picture's own end, and the recorder opens a ``stalled`` gap there. The anchor's slews adjust the
picture they fall on the same way (at most 1000 ppm), so recorded time follows the recorder's clock and does not
drift from segment to segment; a segment that would start within ``HOLE_TOLERANCE_NS`` after the previous end
starts at that end.

Pictures, slices and B-frames (docs/design/packet-path.md): a continuation (more slices of the held picture, same
RTP timestamp) is appended to it; decode times come from ``media/reorder.py`` (RTP timestamps are presentation
times) and each sample carries its composition offset; new parameter sets end the segment before the picture that
carries them. Stored time never ends a segment ahead of the anchor by more than ``AHEAD_TOLERANCE_NS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camgrid.media import fmp4, fmp4_audio
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.nal import H264, StreamInfo, nal_type, param_set_type, parse_sps
from camgrid.media.reorder import DecodeTimes
from camgrid.media.rtp import AccessUnit, merge_continuation
from camgrid.storage.paths import segment_path
from camgrid.storage.segmenter_audio import AudioLane

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
TICKS = fmp4.TIMESCALE
MAX_SAMPLE_TICKS = 5 * TICKS  # a longer step between pictures is a clock jump, not a duration
PAUSE_MIN_NS = 100_000_000  # a hole this long is a pause the anchor stepped over (a slew step is at most 10 ms)
HOLE_TOLERANCE_NS = 20_000_000  # a new segment this close after the last end starts at it (rounding, a slew)
# A segment may end this far ahead of the anchor (an anchor pulled back: left to the forward slew, as pictures
# shortened to repay it make players and ffmpeg see two pictures in one frame slot); beyond, its last picture
# gives the lead back.
AHEAD_TOLERANCE_NS = 100_000_000
MIN_SAMPLE_TICKS = 90  # 1 ms: a picture shortened to pay back a lead keeps at least this


@dataclass
class OpenSegment:
    key: str
    path: Path
    start_ns: int
    start_ext: int
    codec: str
    frames: int = 0
    bytes: int = 0
    duration: int = 0  # ticks of whole samples written or queued
    frag_seq: int = 0


class Segmenter:
    """One camera's segments. Callbacks report to the recorder, which keeps gaps and the index."""

    def __init__(
        self,
        camera_id: str,
        root: Path,
        *,
        segment_seconds: float,
        fragment_seconds: float,
        write_open: Callable[[OpenSegment, bytes], None],
        write_append: Callable[[OpenSegment, list[bytes | bytearray]], None],
        write_close: Callable[[OpenSegment, int], None],
        max_hold_seconds: float = 2.0,
        path_for: Callable[[Path, str, int], Path] = segment_path,
    ) -> None:
        """``path_for(root, camera, start_ns)``: the file of a new segment (replays name theirs apart)."""
        self.path_for = path_for
        self.camera_id = camera_id
        self.root = root
        self.seg_ticks = int(segment_seconds * TICKS)
        self.frag_ticks = int(fragment_seconds * TICKS)
        self._open_cb = write_open
        self._append_cb = write_append
        self._close_cb = write_close
        self.max_hold_ns = int(max_hold_seconds * NS)
        self.seg: OpenSegment | None = None
        self.params: dict[int, bytes] = {}
        self.info: StreamInfo | None = None
        self.codec = H264
        self._pending: AccessUnit | None = None
        self._pending_ext = 0
        self._pending_wall = 0
        self._pending_dts = 0
        self._pending_cto = 0
        self._last_dur = TICKS // 25
        self._dts = DecodeTimes()
        self._sliced = False  # the camera sends slices of a picture in separate marked packets (live555)
        self.dropped_incomplete = 0  # pictures not stored at a cut because their later slices may be missing
        self._samples: list[tuple[int, int, bool]] = []
        self._ctos: list[int] = []  # composition offsets of _samples (B-frames), all 0 for most cameras
        self._seg_params: dict[int, bytes] = {}  # the parameter sets the open segment's init holds
        self.param_cuts = 0  # segments cut because the camera changed its parameter sets
        self.ahead_pulls = 0  # pictures shortened because stored time would have run ahead of the anchor
        self._payload: list[bytes | bytearray] = []
        self._frag_ticks = 0
        self._frag_base = 0
        self.last_end_ns: int | None = None  # end of the last sample written (UTC ns)
        self._drift_ns = 0  # how far recorded time is behind the anchor (negative: ahead), caught up at segment ends
        self._owed_ns = 0  # time given to pictures with a repeated timestamp, repaid by the next real step
        self.dropped_waiting_key = 0
        self.cut_on_pause = False  # the last segment ended because the camera paused (until the next one opens)
        self.pause_ns = 0  # how long that pause was
        self.audio: AudioLane | None = None  # the camera's audio track, recorded from the next segment on

    # audio (docs/design/audio.md) ------------------------------------------------------------------------------
    def set_audio(self, track: AudioTrack | None) -> None:
        """Record this audio track as the second track of segments opened from now on (None: video only)."""
        if track is None:
            self.audio = None
        elif self.audio is None or self.audio.track != track:
            self.audio = AudioLane(track)

    def push_audio(self, frame: AudioFrame, wall_ns: int, ext: int, jump: bool) -> None:
        """Take one audio frame at its anchored UTC ``wall_ns`` (dropped when no segment with audio is open)."""
        if self.audio is not None and self.seg is not None:
            self.audio.push(frame, wall_ns, ext, jump)

    # input -----------------------------------------------------------------------------------------------------
    def set_codec(self, codec: str, params: list[bytes]) -> None:
        self.codec = codec
        for p in params:
            self._param(p)

    def _param(self, nal: bytes) -> bool:
        t = nal_type(self.codec, nal)
        if self.params.get(t) == nal:
            return False
        self.params[t] = bytes(nal)
        if t == param_set_type(self.codec, "sps"):
            try:
                self.info = parse_sps(self.codec, nal)
                self._dts.hint(self.info.reorder)
            except (ValueError, IndexError):
                log.warning("camera %s: unreadable SPS", self.camera_id)
        return True

    def push(self, au: AccessUnit, ext: int, jump: bool) -> None:
        """Take one access unit; ``au.arrival_ns`` holds its anchored UTC time (of its RTP, presentation, time)."""
        if au.continuation:
            self._continuation(au)
            return
        changed = False
        for p in au.params:
            changed = self._param(p) or changed
        if jump:
            self._dts.reset()
        dts = self._dts.place(ext)
        cto = ext - dts  # B-frames: presented later than decoded; 0 without
        wall = au.arrival_ns - cto * NS // TICKS  # the anchored time of its decode time
        new_params = changed and self.seg is not None and self.params != self._seg_params
        pending = self._pending
        last_of_segment = False
        if pending is not None:
            dur = dts - self._pending_dts
            real = not jump and 0 < dur <= MAX_SAMPLE_TICKS
            if not real:
                # A camera clock jump or a repeated timestamp: the RTP step is meaningless, so the picture keeps
                # the last real duration. For a repeated timestamp that is time the camera did not give: owed,
                # and paid back by the next real step (below).
                if not jump and dur <= 0:
                    self._owed_ns += self._last_dur * NS // TICKS
                dur = self._last_dur
            elif dur >= MIN_SAMPLE_TICKS:
                self._last_dur = dur
            # Where the anchor says the next picture is, against where RTP durations put it: the difference is the
            # drift of recorded time behind the anchor (negative: ahead). A pause (the anchor moved by it) is the
            # held picture's: it lasts until the next one came, or the segment is cut. Anything smaller (the slew,
            # a pull-back) never changes a picture in the middle of a segment (irregular pictures fall two to a
            # frame slot of a player, which drops one): the segment's last picture takes what is behind, or gives
            # back what is ahead beyond AHEAD_TOLERANCE_NS, so the next segment starts where the anchor says and
            # no segment ends in the future.
            hole = wall - self._pending_wall - dur * NS // TICKS
            self._drift_ns += hole
            cut = False
            last_of_segment = (
                au.key
                and self.seg is not None
                and (new_params or self.seg.duration + self._frag_ticks + dur >= self.seg_ticks)
            )
            if hole >= PAUSE_MIN_NS and self._drift_ns > 0:
                pause = self._drift_ns
                if dur * NS // TICKS + pause <= self.max_hold_ns:
                    held = pause * TICKS // NS  # the picture was the camera's last word until the next one came
                    dur += held
                    self._drift_ns -= held * NS // TICKS
                else:
                    cut = True
                    hole = pause
            elif real and self._owed_ns > 0 and self._drift_ns < 0:
                # A real step after a repeated timestamp: the camera's step covered both pictures, so this one
                # repays what the other was given (ts 0, 0, 80 is stored 40, 40 ms: regular, not 40, 80).
                pull = min(min(-self._drift_ns, self._owed_ns) * TICKS // NS, dur - MIN_SAMPLE_TICKS)
                if pull > 0:
                    dur -= pull
                    self._drift_ns += pull * NS // TICKS
                    self._owed_ns = max(0, self._owed_ns - pull * NS // TICKS)
            elif last_of_segment and self._drift_ns < -AHEAD_TOLERANCE_NS:
                # Further ahead of the anchor than the tolerance (a large pull-back): the segment's last picture
                # gives the lead back, so the segment does not end in the future.
                pull = min(-self._drift_ns * TICKS // NS, dur - MIN_SAMPLE_TICKS)
                if pull > 0:
                    dur -= pull
                    self._drift_ns += pull * NS // TICKS
                    self.ahead_pulls += 1
            elif last_of_segment and self._drift_ns > 0:
                caught = self._drift_ns * TICKS // NS  # the segment's last picture: catch up with the anchor
                dur += caught
                self._drift_ns -= caught * NS // TICKS
            if self._drift_ns >= 0:
                self._owed_ns = 0
            self._add(pending, dur, self._pending_cto)
            self._pending = None
            if cut:
                self.finish()
                self.cut_on_pause = True
                self.pause_ns = hole
        if new_params and self.seg is not None:
            # New parameter sets (resolution, profile): never a picture under an init that does not describe it.
            # The segment ends here; a new one starts with a new init at this keyframe, or at the next one.
            self.param_cuts += 1
            self.finish()
        if self.seg is None:
            if not au.key:
                self.dropped_waiting_key += 1
                return
            if not self._open(au, ext, wall):
                return
        elif au.key and (last_of_segment or self.seg.duration + self._frag_ticks >= self.seg_ticks):
            self.finish()
            if not self._open(au, ext, wall):
                return
        self._pending = au
        self._pending_ext = ext
        self._pending_wall = wall
        self._pending_dts = dts
        self._pending_cto = cto

    def _continuation(self, au: AccessUnit) -> None:
        """More slices of the held picture (live555's marker after every slice), or news that they were lost."""
        pending = self._pending
        if pending is None or pending.ts != au.ts:
            return  # its picture was not kept (waiting for a keyframe): nor is the rest of it
        self._sliced = True
        if au.after_loss:
            self._pending = None  # an incomplete picture is never stored; the recorder cuts at the next one
            return
        for p in au.params:
            self._param(p)
        merge_continuation(pending, au)

    def finish(self) -> int | None:
        """Write what is held (the last sample gets the previous duration) and close the segment.

        Returns the UTC end of what was recorded, or None if no segment was open.
        """
        if self._pending is not None and self.seg is not None and self._sliced:
            # A camera that sends a picture's slices in separate marked packets (live555): the held picture may
            # still lack its later slices, which will never come now. Never store a part of a picture.
            self.dropped_incomplete += 1
            self._pending = None
        if self._pending is not None and self.seg is not None:
            # The last picture: as long as the one before it. A reordered stream (B-frames) ends where its latest
            # picture shown ends: one frame period after it (a decode step may be uneven while it is learnt).
            base = self._dts.period() if self._dts.depth else self._last_dur
            dur = base + self._dts.lag()
            if self._drift_ns < -AHEAD_TOLERANCE_NS:  # end where the anchor says, never in the future
                caught = -min(-self._drift_ns * TICKS // NS, dur - MIN_SAMPLE_TICKS)
            elif self._drift_ns >= HOLE_TOLERANCE_NS:  # a pause: the last picture was the camera's word until now
                caught = min(self._drift_ns, self.max_hold_ns) * TICKS // NS
            else:
                caught = 0  # within a rounding (a reordered stream's anchor wobbles): the picture keeps its duration
            self._drift_ns -= caught * NS // TICKS
            self._add(self._pending, dur + caught, self._pending_cto)
        self._pending = None
        seg = self.seg
        if seg is None:
            return None
        self._flush_fragment()
        end = seg.start_ns + seg.duration * NS // TICKS
        self.last_end_ns = end
        self.seg = None
        self._close_cb(seg, end)
        return end

    # internals -------------------------------------------------------------------------------------------------
    def _open(self, au: AccessUnit, ext: int, wall: int) -> bool:
        sps_t, pps_t = param_set_type(self.codec, "sps"), param_set_type(self.codec, "pps")
        if self.info is None or sps_t not in self.params or pps_t not in self.params:
            self.dropped_waiting_key += 1
            return False  # no parameter sets yet: wait for a keyframe that carries them
        start = wall
        last_end = self.last_end_ns
        if last_end is not None and start < last_end + HOLE_TOLERANCE_NS:
            start = last_end  # never earlier (no time twice); not later by a rounding (no false hole)
        self._drift_ns = wall - start  # 0, or how far the anchor is from where recording goes on
        path = self.path_for(self.root, self.camera_id, start)
        seg = OpenSegment(f"{self.camera_id}:{start}", path, start, ext, self.codec)
        params = [self.params[t] for t in sorted(self.params)]
        self._seg_params = dict(self.params)
        audio = self.audio
        init = (
            fmp4.init_segment(self.info, params)
            if audio is None
            else fmp4_audio.init_segment_av(self.info, params, audio.track)
        )
        if audio is not None:
            audio.open(start)
        seg.bytes = len(init)
        self.seg = seg
        self._frag_base = 0
        self._open_cb(seg, init)
        self.cut_on_pause = False
        return True

    def _add(self, au: AccessUnit, dur: int, cto: int = 0) -> None:
        seg = self.seg
        if seg is None:
            return
        self._samples.append((dur, len(au.data), au.key))
        self._ctos.append(cto)
        self._payload.append(au.data)
        self._frag_ticks += dur
        if self._frag_ticks >= self.frag_ticks:
            self._flush_fragment()

    def _flush_fragment(self) -> None:
        seg = self.seg
        if seg is None or not self._samples:
            return
        seg.frag_seq += 1
        ctos = self._ctos if any(self._ctos) else None
        data = fmp4.fragment_parts(seg.frag_seq, seg.duration, self._samples, self._payload, ctos)
        if self.audio is not None:
            data = self.audio.attach(data)
        seg.duration += self._frag_ticks
        seg.frames += len(self._samples)
        seg.bytes += sum(len(b) for b in data)
        self._samples = []
        self._ctos = []
        self._payload = []
        self._frag_ticks = 0
        self._append_cb(seg, data)
