"""The events WebSocket shows a district-scoped user only their district, incidents included.

An incident that spans districts (a feeder crossing a district border) used to reach a scoped user whole, with the
other districts' camera ids; ``GET /api/incidents`` cut it to the user's cameras. Both now scope the same way.
"""

from __future__ import annotations

import json

import pytest

from camgrid.api.routes_live import _scope_message

ALLOWED = {"cam-a1", "cam-a2"}


def _incident(cameras: list[str], unexplained: list[str], suggested: list[str]) -> str:
    return json.dumps(
        {
            "type": "incident",
            "id": 7,
            "kind": "power",
            "cameras": cameras,
            "n_members": len(cameras),
            "unexplained": unexplained,
            "suggestions": [{"camera_id": c, "field": "feeder"} for c in suggested],
        }
    )


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (json.dumps({"type": "camera", "id": "cam-a1", "state": "offline"}), "same"),
        (json.dumps({"type": "camera", "id": "cam-b1", "state": "offline"}), None),
        (_incident(["cam-b1", "cam-b2"], ["cam-b1"], ["cam-b2"]), None),
    ],
)
def test_messages_outside_the_scope_are_dropped_and_inside_kept(msg: str, expected: str | None) -> None:
    out = _scope_message(msg, ALLOWED)
    assert out == (msg if expected == "same" else expected)


def test_an_incident_across_districts_is_cut_to_the_users_cameras() -> None:
    msg = _incident(["cam-a1", "cam-b1", "cam-b2"], ["cam-a1", "cam-b1"], ["cam-b2", "cam-a1"])
    out = _scope_message(msg, ALLOWED)
    assert out is not None
    doc = json.loads(out)
    assert doc["cameras"] == ["cam-a1"]
    assert doc["n_members"] == 1
    assert doc["unexplained"] == ["cam-a1"]
    assert [s["camera_id"] for s in doc["suggestions"]] == ["cam-a1"]
    assert "cam-b" not in out
