"""Decode times for pictures that arrive in decode order stamped with presentation times (RTP timestamps).

RTP carries presentation times only; a stream with B-frames sends them out of order (I0 P3 B1 B2 P6 B4 B5 ...).
An MP4 sample needs a decode time that increases, plus a composition offset (presentation - decode). The rule is
libavformat's ``pts_buffer``: the decode time of the i-th picture is the (i - depth)-th smallest presentation time,
``depth`` being the stream's reorder depth. It is learnt: a picture earlier than a decode time already given
raises it (up to ``MAX_DEPTH``); while it is learnt, the first reordered pictures of a session get negative
offsets and decode steps of at least half a frame (never a tick: a sample's duration is how long a browser shows
it, and one-tick samples leave holes in its buffered ranges) until the timeline catches up; from then on every
decode step is a frame and every offset is >= 0. A new timeline (a clock jump, the live hub's restart at a
keyframe) with a known depth starts decoding ``depth`` frames before the first presentation time. For a stream
without B-frames ``depth`` stays 0 and decode time == presentation time (offsets all zero, nothing changes).

A repeated timestamp is no reordering (a camera reusing timestamps): it gets the previous decode time, and the
segmenter times it. A step back below every recent picture is a clock step, not reordering: the timeline restarts.
"""

from __future__ import annotations

from bisect import insort
from itertools import pairwise

MAX_DEPTH = 4
RECENT = 8  # presentation times remembered to tell a reordered picture from a clock step back


class DecodeTimes:
    __slots__ = ("_future", "_last", "_last_pts", "_max_pts", "_period", "_recent", "depth")

    def __init__(self) -> None:
        self.depth = 0
        self._future: list[int] = []
        self._last: int | None = None  # decode time given last
        self._last_pts = 0
        self._max_pts = 0
        self._period = 3600  # 90 kHz ticks of a frame (25 fps until measured)
        self._recent: list[int] = []

    def reset(self) -> None:
        """The camera's clock jumped: the next picture starts a new timeline (``depth`` and the frame period
        are kept)."""
        self._future.clear()
        self._recent.clear()
        self._last = None

    def place(self, pts: int) -> int:
        """The decode time of the next picture (in arrival order) whose presentation time is ``pts``."""
        last = self._last
        if last is None:
            # A new timeline: with a known reorder depth, decoding starts that many frames before presentation.
            dts = pts - self.depth * self._period if self.depth else pts
            self._last, self._last_pts, self._max_pts = dts, pts, pts
            self._recent.append(pts)
            return dts
        if pts == self._last_pts:
            return last  # a repeated timestamp
        if pts < self._last_pts and (not self._recent or pts <= min(self._recent)):
            self.reset()  # a step back below every recent picture: the clock, not reordering
            return self.place(pts)
        self._last_pts = pts
        self._max_pts = max(self._max_pts, pts)
        recent = self._recent
        recent.append(pts)
        if len(recent) > RECENT:
            del recent[0]
        if pts < last and self.depth < MAX_DEPTH:
            self.depth += 1
        future = self._future
        if not future and self.depth == 0:
            dts = pts  # the common case: no B-frames
        else:
            frame = self._frame()
            insort(future, pts)
            dts = future.pop(0) if len(future) > self.depth else last + frame
            # Never a decode step under half a frame: a sample's duration is also how long a player (MSE) shows
            # it, and pictures of a tick leave holes in what a browser counts as buffered. While the depth is
            # being learnt the timeline runs ahead of the buffer's and catches up half a frame a picture.
            dts = max(dts, last + max(1, frame // 2))
        self._last = dts
        return dts

    def _frame(self) -> int:
        """The frame period: the smallest step between the recent presentation times (the last known, or 3600)."""
        if len(self._recent) >= 3:  # two pictures alone may be an anchor and the picture three frames on
            ordered = sorted(self._recent)
            steps = [b - a for a, b in pairwise(ordered) if b > a]
            if steps:
                self._period = min(steps)
        return self._period

    def hint(self, reorder: int | None) -> None:
        """The reorder depth the SPS declares (``StreamInfo.reorder``): no learning, no uneven first steps."""
        if reorder is not None:
            self.depth = max(self.depth, min(reorder, MAX_DEPTH))

    def period(self) -> int:
        """The frame period in 90 kHz ticks, as measured from the recent presentation times."""
        return self._frame()

    def lag(self) -> int:
        """How far the latest presentation time is past the last decode time (0 without B-frames): what the
        last picture of a recording must add so that it ends where the last picture shown ends."""
        return 0 if self._last is None else max(0, self._max_pts - self._last)
