"""Wall-clock anchoring of a camera's media time (pure; no clock calls).

A camera's RTP clock is trusted for durations (it is exact frame to frame) but not for absolute time: it drifts,
jumps, and stops when the camera's media pauses. Each session anchors RTP time to the recorder's UTC clock at the
first access unit, then slews the anchor toward the least-delayed arrival of each window (as Moonfire NVR does), at
most ``max_slew_ppm`` forward; an anchor found late (a picture arriving before the time it was stamped with, which
no real picture can) is pulled back at once.

Each step of RTP time is also compared with the step of arrival time, so that the two failures that look alike
in a cumulative skew are told apart at the picture where they happen (docs/design/packet-path.md, "Time"):

- a **pause**: arrival time went on by more than RTP time (by over ``step_tolerance_ns``): the camera stopped
  sending and its clock stopped with it. The anchor moves forward by the pause, so the next picture is stamped
  when it really came; the segmenter sees the hole between the two pictures and deals with it.
- a **clock step**: RTP time went back, or forward by more than arrival time (by over ``step_tolerance_ns``): the
  camera's clock was set. The anchor restarts and the caller is told, so that the step is never stored as time.

Steps within the tolerance are network jitter and the bursty arrival of a keyframe's packets: they are absorbed by
the slew. A skew beyond ``jump_ns`` in either direction (a drift the slew could not follow) restarts the anchor too.
"""

from __future__ import annotations

from dataclasses import dataclass

NS = 1_000_000_000


@dataclass
class Anchor:
    clock_rate: int = 90_000
    jump_ns: int = 2 * NS
    step_tolerance_ns: int = NS // 2
    window_ns: int = 10 * NS
    max_slew_ppm: float = 1000.0
    _last32: int | None = None
    _ext: int = 0
    _base_ext: int = 0
    _base_wall: int = 0
    _win_start: int = 0
    _win_min_skew: int | None = None
    _prev_ext: int = 0
    _prev_arrival: int = 0

    def unwrap(self, ts32: int) -> int:
        """Extend a 32-bit RTP timestamp to 64 bits across wrap-around."""
        if self._last32 is None:
            self._ext = ts32
        else:
            delta = (ts32 - self._last32) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 0x100000000
            self._ext += delta
        self._last32 = ts32
        return self._ext

    def reset(self) -> None:
        self._last32 = None

    def place(self, ts32: int, arrival_ns: int, *, late_ns: int = 0) -> tuple[int, int, bool]:
        """(UTC ns of this access unit, extended RTP time, True when the anchor restarted).

        ``late_ns``: how late the recorder read this picture (its loop was held up: a busy machine). Pictures that
        waited in the socket arrive together after such a wait while their RTP time went on: the wait is the
        recorder's, so that much of an arrival step is never taken for a pause of the camera.
        """
        first = self._last32 is None
        ext = self.unwrap(ts32)
        if first:
            return self._restart(ext, arrival_ns)
        rtp_step = (ext - self._prev_ext) * NS // self.clock_rate
        if -self.step_tolerance_ns <= rtp_step < 0:
            # A picture presented before the last one (B-frames arrive in decode order): placed on the anchor as
            # it stands, never a clock step; the next step is measured from the latest picture.
            return self._base_wall + (ext - self._base_ext) * NS // self.clock_rate, ext, False
        arrival_step = arrival_ns - self._prev_arrival
        self._prev_ext = ext
        self._prev_arrival = arrival_ns
        if rtp_step < 0 or rtp_step - arrival_step > self.step_tolerance_ns:
            return self._restart(ext, arrival_ns)  # the camera's clock was set
        if arrival_step - rtp_step - late_ns > self.step_tolerance_ns:
            # A pause: the previous picture's skew is kept, the time the camera was silent is not hidden.
            self._base_wall += arrival_step - rtp_step - late_ns
        wall = self._base_wall + (ext - self._base_ext) * NS // self.clock_rate
        skew = arrival_ns - wall
        if skew > self.jump_ns or skew < -self.jump_ns:
            return self._restart(ext, arrival_ns)
        if self._win_min_skew is None or skew < self._win_min_skew:
            self._win_min_skew = skew
        if arrival_ns - self._win_start >= self.window_ns:
            limit = int((arrival_ns - self._win_start) * self.max_slew_ppm / 1e6)
            # Forward, at most the slew rate; backward at once: a negative skew is an anchor stamping late.
            slew = self._win_min_skew if self._win_min_skew < 0 else min(limit, self._win_min_skew)
            self._base_wall += slew
            self._win_start = arrival_ns
            self._win_min_skew = None
        return wall, ext, False

    def _restart(self, ext: int, arrival_ns: int) -> tuple[int, int, bool]:
        self._base_ext = ext
        self._base_wall = arrival_ns
        self._win_start = arrival_ns
        self._win_min_skew = None
        self._prev_ext = ext
        self._prev_arrival = arrival_ns
        return arrival_ns, ext, True
