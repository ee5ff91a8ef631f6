"""A camera's audio frames, laid out as the second track of its open segment (docs/design/audio.md).

Sync: the video track's time starts at the segment's start (the UTC of its first keyframe, from the video anchor).
The first audio frame after that is placed at its own anchored UTC (the audio anchor: the same arrival clock, the
audio RTP clock) minus the segment's start, in ticks of the audio clock; every later frame of the segment follows
by its RTP timestamp, so audio durations are exact and only the two anchors' arrival jitter separates the tracks.
A clock step of the audio (the anchor restarted) re-places the next frame by its UTC again. A hole in the audio
(lost packets, a camera that skips silence) lengthens the frame before it inside a fragment, or starts the next
fragment's audio later: the audio never runs ahead of or behind its RTP time.
"""

from __future__ import annotations

from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.fmp4_audio import add_audio_to_fragment

NS = 1_000_000_000


class AudioLane:
    """The audio of one camera's open segment: frames in, the fragment's audio ``traf`` out with the video's."""

    def __init__(self, track: AudioTrack) -> None:
        self.track = track
        self.rate = track.clock_rate
        self._seg_start: int | None = None
        self._anchor_ext = 0
        self._anchor_pos: int | None = None
        self._end = 0  # audio ticks from the segment's start to the end of the last frame taken
        self._base = 0
        self._samples: list[tuple[int, int]] = []
        self._payload: list[bytes] = []
        self.frames = 0
        self.dropped = 0

    def open(self, seg_start_ns: int) -> None:
        """A segment opened at ``seg_start_ns`` (UTC): frames from then on go into it."""
        self._seg_start = seg_start_ns
        self._anchor_pos = None
        self._end = 0
        self._samples = []
        self._payload = []

    def close(self) -> None:
        self._seg_start = None
        self._samples = []
        self._payload = []

    def push(self, frame: AudioFrame, wall_ns: int, ext: int, jump: bool) -> None:
        if self._seg_start is None:
            return
        if self._anchor_pos is None or jump:
            pos = (wall_ns - self._seg_start) * self.rate // NS
            if pos < 0:
                self.dropped += 1  # heard before the segment's first picture
                return
            self._anchor_pos = max(pos, self._end)
            self._anchor_ext = ext
        pos = self._anchor_pos + ext - self._anchor_ext
        if pos < self._end:
            self.dropped += 1  # a repeated or overlapping frame
            return
        if not self._samples:
            self._base = pos
        elif pos > self._end:
            dur, size = self._samples[-1]
            self._samples[-1] = (dur + pos - self._end, size)  # a hole: the last frame stands for it
        self._samples.append((frame.duration, len(frame.data)))
        self._payload.append(frame.data)
        self._end = pos + frame.duration
        self.frames += 1

    def attach(self, parts: list[bytes | bytearray]) -> list[bytes | bytearray]:
        """The video fragment ``parts`` with the audio taken since the last fragment added (as the second traf)."""
        if not self._samples:
            return parts
        out = add_audio_to_fragment(parts, self._base, self._samples, self._payload)
        self._samples = []
        self._payload = []
        return out
