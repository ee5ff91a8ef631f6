"""The routes issue 16 adds, over HTTP: the availability CSV (scoped, bounded, CSV), the export coverage preview
(scoped, bounded, gaps with reasons) and the export package (role, scope, audited, a zip)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from camgrid.db.engine import unit_of_work
from camgrid.vocabulary import AuditAction
from tests.access.world import NS, T0, World
from tests.api.test_api_services import MS, _actions, _as, app  # noqa: F401  (the fixture)

DAY_MS = 86_400_000


def test_availability_csv_is_scoped_bounded_and_csv(app: tuple[World, TestClient]) -> None:  # noqa: F811
    _, client = app
    q = f"from_ms={T0 // MS}&to_ms={T0 // MS + 60_000}&by=camera"
    r = _as(client, "sup").get(f"/api/reports/availability.csv?{q}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0].startswith("camera,cameras,availability_percent,camera_hours")
    keys = {line.split(",")[0] for line in lines[1:]}
    assert {"cam-a", "cam-b", "city"} <= keys
    scoped = _as(client, "sup2").get(f"/api/reports/availability.csv?{q}")  # D-02 only
    assert {line.split(",")[0] for line in scoped.text.splitlines()[1:]} == {"cam-b", "city"}
    too_long = f"from_ms={T0 // MS - 401 * DAY_MS}&to_ms={T0 // MS}&by=feeder"
    assert client.get(f"/api/reports/availability.csv?{too_long}").status_code == 422
    assert client.get(f"/api/reports/availability.csv?{q.replace('camera', 'planet')}").status_code == 422


def test_coverage_lists_gaps_and_is_scoped(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, client = app
    with unit_of_work(w.factory) as s:
        s.execute(
            text(
                "insert into gaps (camera_id, start_ns, end_ns, reason, detail, node_id)"
                " values ('cam-a', :s, :e, 'unreachable', '', 'local')"
            ),
            {"s": T0 + 10 * NS, "e": T0 + 15 * NS},
        )
    q = f"camera=cam-a&from_ms={T0 // MS}&to_ms={T0 // MS + 20_000}"
    r = _as(client, "op").get(f"/api/exports/coverage?{q}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["recorded_ms"] == 10_000 and body["first_ms"] == T0 // MS
    assert body["gaps"] == [
        {"from_ms": T0 // MS + 10_000, "to_ms": T0 // MS + 15_000, "reason": "unreachable", "incident": None}
    ]
    assert _as(client, "sup2").get(f"/api/exports/coverage?{q}").status_code == 404  # cam-a is in D-01
    long = f"camera=cam-a&from_ms={T0 // MS}&to_ms={T0 // MS + 7 * 3_600_000}"
    assert _as(client, "op").get(f"/api/exports/coverage?{long}").status_code == 422


def test_package_is_a_zip_audited_first_and_scoped(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, client = app
    ready = w.ids["ready"]
    assert _as(client, "sup2").get(f"/api/exports/{ready}/package").status_code == 404
    client = _as(client, "op")
    start = w.log.size
    r = client.get(f"/api/exports/{ready}/package")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()}
    assert {"clip.mp4", "README.html", "manifest.json"} <= names
    assert _actions(w, start) == [("op", AuditAction.EXPORT_DOWNLOAD)]
    assert _as(client, "op").get(f"/api/exports/{w.ids['pending']}/package").status_code == 404  # nothing yet
