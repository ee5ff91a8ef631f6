"""Wall-clock anchoring of a camera's media time (pure; no clock calls).

A camera's RTP clock is trusted for durations (it is exact frame to frame) but not for absolute time: it drifts
and jumps. Each session anchors RTP time to the recorder's UTC clock at the first access unit, then slews the
anchor toward the least-delayed arrival of each window (as Moonfire NVR does), at most ``max_slew_ppm``. A skew
beyond ``jump_ns`` in either direction is a clock jump: the anchor restarts and the caller is told, so that the
segment is cut and no time is ever written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

NS = 1_000_000_000


@dataclass
class Anchor:
    clock_rate: int = 90_000
    jump_ns: int = 2 * NS
    window_ns: int = 10 * NS
    max_slew_ppm: float = 1000.0
    _last32: int | None = None
    _ext: int = 0
    _base_ext: int = 0
    _base_wall: int = 0
    _win_start: int = 0
    _win_min_skew: int | None = None

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

    def place(self, ts32: int, arrival_ns: int) -> tuple[int, int, bool]:
        """(UTC ns of this access unit, extended RTP time, True when the anchor restarted)."""
        first = self._last32 is None
        ext = self.unwrap(ts32)
        if first:
            return self._restart(ext, arrival_ns)
        wall = self._base_wall + (ext - self._base_ext) * NS // self.clock_rate
        skew = arrival_ns - wall
        if skew > self.jump_ns or skew < -self.jump_ns:
            return self._restart(ext, arrival_ns)
        if self._win_min_skew is None or skew < self._win_min_skew:
            self._win_min_skew = skew
        if arrival_ns - self._win_start >= self.window_ns:
            limit = int((arrival_ns - self._win_start) * self.max_slew_ppm / 1e6)
            slew = max(-limit, min(limit, self._win_min_skew))
            self._base_wall += slew
            self._win_start = arrival_ns
            self._win_min_skew = None
        return wall, ext, False

    def _restart(self, ext: int, arrival_ns: int) -> tuple[int, int, bool]:
        self._base_ext = ext
        self._base_wall = arrival_ns
        self._win_start = arrival_ns
        self._win_min_skew = None
        return arrival_ns, ext, True
