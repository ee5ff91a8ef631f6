"""A camera's clock against ours (ONVIF GetSystemDateAndTime): a camera minutes off stamps its recordings and
events wrongly, which matters as soon as they are evidence.

The offset is the camera's UTC time minus the midpoint of the round trip; ONVIF gives whole seconds, so a reading is
good to about half a second plus half the round trip. (The discover helper may offer the same as
``onvif/device.py: clock_offset``: the integrator keeps one.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from camgrid.clock import Clock
from camgrid.onvif.connect import OnvifError, OnvifTarget, connect, scrub


@dataclass(frozen=True)
class ClockReading:
    offset_ns: int  # camera - ours
    measured_ns: int  # our time of the reading (midpoint)
    round_trip_ns: int


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name, None)


def camera_utc_ns(answer: Any) -> int:
    """The camera's UTC time in a GetSystemDateAndTime answer (ValueError when it gives none)."""
    utc = _field(answer, "UTCDateTime")
    date, time_ = (_field(utc, "Date"), _field(utc, "Time")) if utc is not None else (None, None)
    if date is None or time_ is None:
        raise ValueError("the camera gave no UTC date and time")
    try:
        at = datetime(
            int(_field(date, "Year")),
            int(_field(date, "Month")),
            int(_field(date, "Day")),
            int(_field(time_, "Hour")),
            int(_field(time_, "Minute")),
            int(_field(time_, "Second")),
            tzinfo=UTC,
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"the camera's date and time is not valid: {exc}") from None
    return int(at.timestamp()) * 1_000_000_000


def read_clock(target: OnvifTarget, *, clock: Clock, client: Any = None) -> ClockReading:
    """Measure the camera's clock offset (OnvifError when the camera does not answer sensibly)."""
    try:
        client = client or connect(target)
        t0 = clock.wall_ns()
        answer = client.devicemgmt().GetSystemDateAndTime()
        t1 = clock.wall_ns()
        cam_ns = camera_utc_ns(answer)
    except OnvifError:
        raise
    except Exception as exc:  # the library raises zeep, requests and its own errors alike
        raise OnvifError(f"{target.host}:{target.port}: {scrub(str(exc), target)}") from None
    mid = (t0 + t1) // 2
    # whole seconds: the camera's second began somewhere in the last second, so its middle is the best guess
    return ClockReading(offset_ns=cam_ns + 500_000_000 - mid, measured_ns=mid, round_trip_ns=t1 - t0)
