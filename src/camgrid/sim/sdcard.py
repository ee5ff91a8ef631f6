"""A simulated camera's SD card: the spans of time it holds, not bytes.

The card records whenever the camera itself is powered and the card has not failed, whatever happens to the
uplink or to the clients (an uplink cut, a stall or nobody connected changes nothing). It is updated only when the
camera's state changes (a fault), never per picture, so that 62,000 cards cost a few integers each.

What a held instant looks like: the camera's clip anchored to the Unix epoch, picture ``g`` (an integer count of
pictures since 1970) being clip frame ``g % n`` at ``g * loop_ns // n`` (see :class:`Cadence`). Recording starts at
a keyframe (a real camera opens a recording with one), so every held span starts on a keyframe and replays from its
first picture; wrapping drops whole GOPs for the same reason.

Model parameters: the issue says the card "loses what it holds when its own power is cut (unless it has a
battery)", taken literally (:data:`LOSE_ON_POWER_CUT`; real cards keep their content across a power cut and lose
only the unflushed tail); and a camera with a battery "rides through on its own supply", so it keeps recording
through its own power cut even though the network cannot reach it (:data:`BATTERY_RIDES_THROUGH`; set it False for
a battery that only keeps the card's content).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

LOSE_ON_POWER_CUT = True  # a camera without a battery loses its card's content when its power is cut
BATTERY_RIDES_THROUGH = True  # a camera with a battery keeps recording through its own power cut


@dataclass(frozen=True)
class Cadence:
    """When the camera's pictures happen: ``pictures`` per loop of ``loop_ns``, keyframes at ``keys`` (indices in
    the loop, sorted), anchored to the Unix epoch."""

    pictures: int
    loop_ns: int
    keys: tuple[int, ...]

    def time_of(self, g: int) -> int:
        """Wall time (ns) of picture ``g``."""
        return g * self.loop_ns // self.pictures

    def frame(self, g: int) -> int:
        """The clip frame (index in the loop) picture ``g`` shows."""
        return g % self.pictures

    def at_or_after(self, t_ns: int) -> int:
        """The first picture at or after ``t_ns``."""
        return -(-t_ns * self.pictures // self.loop_ns)

    def key_at_or_after(self, t_ns: int) -> int:
        g = self.at_or_after(t_ns)
        k, f = divmod(g, self.pictures)
        i = bisect.bisect_left(self.keys, f)
        return k * self.pictures + self.keys[i] if i < len(self.keys) else (k + 1) * self.pictures + self.keys[0]

    def key_at_or_before(self, t_ns: int) -> int:
        g = self.at_or_after(t_ns + 1) - 1  # the last picture at or before t_ns
        k, f = divmod(g, self.pictures)
        i = bisect.bisect_right(self.keys, f)
        return k * self.pictures + self.keys[i - 1] if i else (k - 1) * self.pictures + self.keys[-1]

    def is_key(self, g: int) -> bool:
        f = self.frame(g)
        i = bisect.bisect_left(self.keys, f)
        return i < len(self.keys) and self.keys[i] == f


@dataclass
class SdCard:
    """The card: closed spans ``[start, end)`` in ns (oldest first) and the open one since ``since``."""

    capacity_ns: int
    battery: bool = False
    cadence: Cadence | None = None  # when set, recording starts (and wrapping cuts) on a keyframe
    spans: list[list[int]] = field(default_factory=list)
    since: int | None = None  # recording since (ns); None when not recording
    powered: bool = True
    failed: bool = False
    volatile: bool = LOSE_ON_POWER_CUT  # loses its content on a power cut (when there is no battery)
    rides_through: bool = BATTERY_RIDES_THROUGH  # with a battery, records through a power cut

    def _align(self, t_ns: int) -> int:
        return t_ns if self.cadence is None else self.cadence.time_of(self.cadence.key_at_or_after(t_ns))

    def _update(self, now_ns: int) -> None:
        """Start or stop recording to match the camera's state at ``now_ns``, then wrap."""
        recording = (self.powered or (self.battery and self.rides_through)) and not self.failed
        if recording and self.since is None:
            self.since = self._align(now_ns)
        elif not recording and self.since is not None:
            if now_ns > self.since:
                self.spans.append([self.since, now_ns])
            self.since = None
        self._wrap(now_ns)

    def _wrap(self, now_ns: int) -> None:
        """Drop the oldest time beyond the capacity (whole GOPs: the new start is a keyframe)."""
        total = sum(e - s for s, e in self.spans) + (max(0, now_ns - self.since) if self.since is not None else 0)
        excess = total - self.capacity_ns
        while excess > 0 and self.spans:
            s, e = self.spans[0]
            if e - s <= excess:
                excess -= e - s
                self.spans.pop(0)
                continue
            start = self._align(s + excess)
            if start >= e:
                self.spans.pop(0)
            else:
                self.spans[0][0] = start
            return
        if excess > 0 and self.since is not None:
            self.since = self._align(self.since + excess)

    def start(self, now_ns: int) -> None:
        """The camera (and its card) come up at ``now_ns``."""
        self._update(now_ns)

    def power(self, on: bool, now_ns: int) -> None:
        """The camera's own power goes off or on."""
        if self.powered == on:
            return
        self.powered = on
        self._update(now_ns)
        if not on and self.volatile and not self.battery:
            self.spans.clear()

    def fail(self, now_ns: int) -> None:
        """The card fails: it is empty and records nothing until replaced."""
        self.failed = True
        self._update(now_ns)
        self.spans.clear()

    def replace(self, now_ns: int) -> None:
        """A new, empty card: recording starts again (if the camera is powered)."""
        self.failed = False
        self.spans.clear()
        self.since = None
        self._update(now_ns)

    @property
    def recording(self) -> bool:
        return self.since is not None

    def held(self, now_ns: int) -> list[tuple[int, int]]:
        """The held spans ``(start, end)`` in ns at ``now_ns``, oldest first (the open one ends at ``now_ns``)."""
        self._wrap(now_ns)
        out = [(s, e) for s, e in self.spans]
        if self.since is not None and now_ns > self.since:
            out.append((self.since, now_ns))
        return out
