"""The availability CSV (issue 16): quoting, formula injection, stated units (camera-hours), same numbers as the
table's JSON rows."""

from __future__ import annotations

import csv
import io

import pytest

from camgrid.health import report_csv as rc


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("F-02", "F-02"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a,b", "a,b"),
        (None, ""),
        (12.5, "12.5"),
        (3, "3"),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert rc.safe_cell(value) == cell


def test_lines_quote_and_convert_units() -> None:
    row = {
        "key": 'site "north", gate',
        "cameras": 2,
        "availability": 0.987654,
        "camera_min": 2880.0,
        "expected_min": 2820.0,
        "down_min": 34.83,
        "outage_min": {"power": 30.0, "camera": 4.83, "maintenance": 60.0},
    }
    text = "".join(rc.lines("site", [row, {**row, "key": "=cmd", "availability": None}], None))
    assert text.count("\r\n") == 3
    got = list(csv.reader(io.StringIO(text)))
    assert got[0][:6] == [
        "site",
        "cameras",
        "availability_percent",
        "camera_hours",
        "expected_camera_hours",
        "down_camera_hours",
    ]
    assert got[1][:6] == ['site "north", gate', "2", "98.77", "48.0", "47.0", "0.58"]
    assert got[1][got[0].index("power_camera_hours")] == "0.5"
    assert got[1][got[0].index("maintenance_camera_hours")] == "1.0"
    assert got[2][0] == "'=cmd" and got[2][2] == ""
    assert '"site ""north"", gate"' in text
