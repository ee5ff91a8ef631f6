"""The availability report as CSV (issue 16): the rows of :func:`camgrid.health.reports.availability_report`,
the very numbers the table shows, in stated units (camera-hours: one camera for one hour), safe to open in a
spreadsheet.

Quoting is the ``csv`` module's (RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled).
Formula injection: a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return, which some
spreadsheets skip before a formula) is prefixed with a single quote, so a camera or site named ``=HYPERLINK(...)``
stays text. Numbers are written by us and never start with those characters (availability is 0..100, hours >= 0).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from camgrid.health.reports import CAUSES

RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """One cell's text: numbers as they are, text with a leading formula character defused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(RISKY) else text


def header(by: str) -> list[str]:
    return [
        by,
        "cameras",
        "availability_percent",
        "camera_hours",
        "expected_camera_hours",
        "down_camera_hours",
        *(f"{c}_camera_hours" for c in CAUSES),
    ]


def round2(x: float) -> float:
    """Two decimals, halves up: the very arithmetic of the control room's ``Math.round(x * 100) / 100``."""
    return math.floor(x * 100 + 0.5) / 100


def _hours(minutes: float) -> float:
    return round2(minutes / 60)


def row_cells(row: Mapping[str, Any]) -> list[object]:
    """A report row as cells: availability in percent (2 decimals, empty when nothing was expected), camera time
    in camera-hours (2 decimals), the same rounding the control room's table uses."""
    a = row.get("availability")
    outage: Mapping[str, float] = row.get("outage_min", {})
    return [
        row["key"],
        row["cameras"],
        "" if a is None else math.floor(a * 10000 + 0.5) / 100,
        _hours(row.get("camera_min", 0.0)),
        _hours(row.get("expected_min", 0.0)),
        _hours(row["down_min"]),
        *(_hours(outage.get(c, 0.0)) for c in CAUSES),
    ]


def lines(by: str, rows: Iterable[Mapping[str, Any]], city: Mapping[str, Any] | None) -> Iterator[str]:
    """The CSV, a line at a time (streamed by the route): header, the groups, then the city's total line."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")

    def line(cells: Sequence[object]) -> str:
        buf.seek(0)
        buf.truncate()
        out.writerow([safe_cell(c) for c in cells])
        return buf.getvalue()

    yield line(header(by))
    for r in rows:
        yield line(row_cells(r))
    if city is not None:
        yield line(row_cells({**city, "key": "city"}))
