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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camgrid.media import fmp4, fmp4_audio
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.nal import H264, StreamInfo, nal_type, param_set_type, parse_sps
from camgrid.media.rtp import AccessUnit
from camgrid.storage.paths import segment_path
from camgrid.storage.segmenter_audio import AudioLane

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
TICKS = fmp4.TIMESCALE
MAX_SAMPLE_TICKS = 5 * TICKS  # a longer step between pictures is a clock jump, not a duration
PAUSE_MIN_NS = 100_000_000  # a hole this long is a pause the anchor stepped over (a slew step is at most 10 ms)
HOLE_TOLERANCE_NS = 20_000_000  # a new segment this close after the last end starts at it (rounding, a slew)


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
    ) -> None:
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
        self._last_dur = TICKS // 25
        self._samples: list[tuple[int, int, bool]] = []
        self._payload: list[bytes | bytearray] = []
        self._frag_ticks = 0
        self._frag_base = 0
        self.last_end_ns: int | None = None  # end of the last sample written (UTC ns)
        self._drift_ns = 0  # how far recorded time is behind the anchor (negative: ahead), caught up at segment ends
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

    def _param(self, nal: bytes) -> None:
        t = nal_type(self.codec, nal)
        if self.params.get(t) != nal:
            self.params[t] = bytes(nal)
            if t == param_set_type(self.codec, "sps"):
                try:
                    self.info = parse_sps(self.codec, nal)
                except (ValueError, IndexError):
                    log.warning("camera %s: unreadable SPS", self.camera_id)

    def push(self, au: AccessUnit, ext: int, jump: bool) -> None:
        """Take one access unit; ``au.arrival_ns`` holds its anchored UTC time."""
        for p in au.params:
            self._param(p)
        pending = self._pending
        if pending is not None:
            dur = ext - self._pending_ext
            if jump or dur <= 0 or dur > MAX_SAMPLE_TICKS:
                # A camera clock jump: the RTP step is meaningless, so the picture keeps the last real duration.
                # Recorded time stays continuous and the next segment re-anchors to UTC.
                dur = self._last_dur
            else:
                self._last_dur = dur
            # Where the anchor says the next picture is, against where RTP durations put it: the difference is the
            # drift of recorded time behind the anchor (negative: ahead). A pause (the anchor moved by it) is the
            # held picture's: it lasts until the next one came, or the segment is cut. Anything smaller (the slew,
            # a pull-back) never changes a picture in the middle of a segment (irregular pictures fall two to a
            # frame slot of a player, which drops one): the segment's last picture takes what is behind, so the
            # next segment starts where the anchor says, and what is ahead is paid back by later steps.
            hole = au.arrival_ns - self._pending_wall - dur * NS // TICKS
            self._drift_ns += hole
            cut = False
            if hole >= PAUSE_MIN_NS and self._drift_ns > 0:
                pause = self._drift_ns
                if dur * NS // TICKS + pause <= self.max_hold_ns:
                    held = pause * TICKS // NS  # the picture was the camera's last word until the next one came
                    dur += held
                    self._drift_ns -= held * NS // TICKS
                else:
                    cut = True
                    hole = pause
            elif (
                au.key
                and self._drift_ns > 0
                and self.seg is not None
                and self.seg.duration + self._frag_ticks + dur >= self.seg_ticks
            ):
                caught = self._drift_ns * TICKS // NS  # the segment's last picture: catch up with the anchor
                dur += caught
                self._drift_ns -= caught * NS // TICKS
            self._add(pending, dur)
            self._pending = None
            if cut:
                self.finish()
                self.cut_on_pause = True
                self.pause_ns = hole
        if self.seg is None:
            if not au.key:
                self.dropped_waiting_key += 1
                return
            if not self._open(au, ext):
                return
        elif au.key and self.seg.duration + self._frag_ticks >= self.seg_ticks:
            self.finish()
            if not self._open(au, ext):
                return
        self._pending = au
        self._pending_ext = ext
        self._pending_wall = au.arrival_ns

    def finish(self) -> int | None:
        """Write what is held (the last sample gets the previous duration) and close the segment.

        Returns the UTC end of what was recorded, or None if no segment was open.
        """
        if self._pending is not None and self.seg is not None:
            caught = max(0, min(self._drift_ns, self.max_hold_ns)) * TICKS // NS  # end where the anchor says
            self._drift_ns -= caught * NS // TICKS
            self._add(self._pending, self._last_dur + caught)
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
    def _open(self, au: AccessUnit, ext: int) -> bool:
        sps_t, pps_t = param_set_type(self.codec, "sps"), param_set_type(self.codec, "pps")
        if self.info is None or sps_t not in self.params or pps_t not in self.params:
            self.dropped_waiting_key += 1
            return False  # no parameter sets yet: wait for a keyframe that carries them
        start = au.arrival_ns
        last_end = self.last_end_ns
        if last_end is not None and start < last_end + HOLE_TOLERANCE_NS:
            start = last_end  # never earlier (no time twice); not later by a rounding (no false hole)
        self._drift_ns = au.arrival_ns - start  # 0, or how far the anchor is from where recording goes on
        path = segment_path(self.root, self.camera_id, start)
        seg = OpenSegment(f"{self.camera_id}:{start}", path, start, ext, self.codec)
        params = [self.params[t] for t in sorted(self.params)]
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

    def _add(self, au: AccessUnit, dur: int) -> None:
        seg = self.seg
        if seg is None:
            return
        self._samples.append((dur, len(au.data), au.key))
        self._payload.append(au.data)
        self._frag_ticks += dur
        if self._frag_ticks >= self.frag_ticks:
            self._flush_fragment()

    def _flush_fragment(self) -> None:
        seg = self.seg
        if seg is None or not self._samples:
            return
        seg.frag_seq += 1
        data = fmp4.fragment_parts(seg.frag_seq, seg.duration, self._samples, self._payload)
        if self.audio is not None:
            data = self.audio.attach(data)
        seg.duration += self._frag_ticks
        seg.frames += len(self._samples)
        seg.bytes += sum(len(b) for b in data)
        self._samples = []
        self._payload = []
        self._frag_ticks = 0
        self._append_cb(seg, data)
