"""A camera's clock against ours, as health keeps it: ``onvif.device.clock_offset`` (GetSystemDateAndTime, UTC or
local time with its zone, whole seconds) plus when it was measured.

A camera minutes off stamps its recordings and events wrongly, which matters as soon as they are evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from camgrid.clock import Clock
from camgrid.onvif.connect import OnvifError, OnvifTarget, scrub
from camgrid.onvif.device import clock_offset


@dataclass(frozen=True)
class ClockReading:
    offset_ns: int  # camera - ours
    measured_ns: int  # our time of the reading (midpoint of the round trip)
    round_trip_ns: int


def read_clock(target: OnvifTarget, *, clock: Clock, client: Any = None) -> ClockReading:
    """Measure the camera's clock offset (OnvifError when the camera does not answer sensibly)."""
    try:
        reading = clock_offset(target, clock, client=client)
    except OnvifError:
        raise
    except Exception as exc:  # the library raises zeep, requests and its own errors alike
        raise OnvifError(f"{target.host}:{target.port}: {scrub(str(exc), target)}") from None
    measured = clock.wall_ns() - reading.round_trip_ns // 2
    return ClockReading(offset_ns=reading.offset_ns, measured_ns=measured, round_trip_ns=reading.round_trip_ns)
