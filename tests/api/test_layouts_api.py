"""Saved wall layouts over the API (camgrid.access.layouts): bounds, ownership, district scope; and the columns the
camera search reads (street, site and district names) in GET /api/cameras."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from camgrid.access import layouts
from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.models import District, Site
from camgrid.registry.schemas import CameraIn
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "layouts-pass-42"
WORLD: dict[str, Any] = {}  # the module's database: its session factory and audit log


def _camera(cid: str, district: str, street: str = "") -> CameraIn:
    return CameraIn(
        id=cid,
        name=f"name of {cid}",
        lat=27.69,
        lon=85.31,
        district=district,
        site=f"S-{cid}",
        feeder="F-1",
        uplink="U-1",
        rtsp_url=f"rtsp://10.0.0.1/{cid}",
        street=street,
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("layouts")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    WORLD.update(factory=factory, log=log)
    rows = [_camera("cam-a", "D-01", "Tripureshwar Marg"), _camera("cam-b", "D-02"), _camera("cam-c", "D-01")]
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=rows, now_ns=0)
    with unit_of_work(factory) as s:
        s.execute(update(District).where(District.id == "D-01").values(name="Thapathali"))
        s.execute(update(Site).where(Site.id == "S-cam-a").values(name="Bridge north"))
    for name, role, districts in (("op", "operator", None), ("op2", "operator", None), ("dv", "viewer", ["D-01"])):
        with unit_of_work(factory) as s:
            access.create_user(
                session=s,
                audit=log,
                actor=SEED,
                username=name,
                password=PASSWORD,
                role=role,
                districts=districts,
                now_ns=0,
            )
    app = create_app(AppContext(settings=settings, factory=factory, clock=SystemClock()))
    yield TestClient(app, headers={"Origin": "http://testserver"})
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def _as(client: TestClient, user: str) -> TestClient:
    client.cookies.clear()
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def test_layouts_are_their_owners_only(client: TestClient) -> None:
    c = _as(client, "op")
    r = c.post("/api/layouts", json={"name": "  bridge   watch ", "size": 4, "cameras": ["cam-a", None, "cam-b"]})
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["name"] == "bridge watch" and mine["cameras"] == ["cam-a", None, "cam-b", None]
    assert c.post("/api/layouts", json={"name": "bridge watch", "size": 1, "cameras": []}).status_code == 422
    c = _as(client, "op2")
    assert c.get("/api/layouts").json() == []
    for r in (
        c.put(f"/api/layouts/{mine['id']}", json={"name": "taken", "size": 1, "cameras": []}),
        c.post(f"/api/layouts/{mine['id']}/rename", json={"name": "taken"}),
        c.delete(f"/api/layouts/{mine['id']}"),
    ):
        assert r.status_code == 404, r.text  # another user's layout does not exist
    c = _as(client, "op")
    got = c.get("/api/layouts").json()
    assert [x["name"] for x in got] == ["bridge watch"]
    r = c.post(f"/api/layouts/{mine['id']}/rename", json={"name": "river"})
    assert r.json()["name"] == "river" and r.json()["cameras"] == mine["cameras"]
    r = c.put(f"/api/layouts/{mine['id']}", json={"name": "river", "size": 1, "cameras": ["cam-c"]})
    assert r.status_code == 200 and r.json()["cameras"] == ["cam-c"]
    assert c.delete(f"/api/layouts/{mine['id']}").status_code == 204
    assert c.get("/api/layouts").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "size": 4, "cameras": []},
        {"name": "x" * (layouts.MAX_NAME + 1), "size": 4, "cameras": []},
        {"name": "x", "size": 5, "cameras": []},
        {"name": "x", "size": 32, "cameras": []},
        {"name": "x", "size": 1, "cameras": ["cam-a", "cam-b"]},
        {"name": "x", "size": 16, "cameras": ["cam-a"] * 17},
        {"name": "x", "size": 4, "cameras": ["c" * 65]},
        {"name": "x", "size": 4, "cameras": [], "owner": "op2"},
    ],
)
def test_bad_layouts_are_refused_clearly(client: TestClient, body: dict[str, object]) -> None:
    r = _as(client, "op").post("/api/layouts", json=body)
    assert r.status_code == 422, r.text


def test_at_most_so_many_layouts_per_user(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layouts, "MAX_PER_USER", 2)
    c = _as(client, "op2")
    ids = [c.post("/api/layouts", json={"name": f"w{i}", "size": 1, "cameras": []}).json()["id"] for i in range(2)]
    r = c.post("/api/layouts", json={"name": "w2", "size": 1, "cameras": []})
    assert r.status_code == 422 and "at most 2" in r.json()["detail"]
    for i in ids:
        c.delete(f"/api/layouts/{i}")


def test_scope_refuses_at_save_and_drops_at_load(client: TestClient) -> None:
    c = _as(client, "dv")
    r = c.post("/api/layouts", json={"name": "other district", "size": 4, "cameras": ["cam-a", "cam-b"]})
    assert r.status_code == 404 and "cam-b" in r.json()["detail"]  # as for a camera that does not exist
    assert c.post("/api/layouts", json={"name": "nope", "size": 4, "cameras": ["cam-zz"]}).status_code == 404
    assert c.get("/api/layouts").json() == []
    # A layout saved by someone who saw both districts, read by the same user after their scope narrowed.
    c = _as(client, "op")
    saved = c.post("/api/layouts", json={"name": "both", "size": 4, "cameras": ["cam-a", "cam-b"]}).json()
    with unit_of_work(WORLD["factory"]) as s:
        access.update_user(session=s, audit=WORLD["log"], actor=SEED, username="op", districts=["D-01"])
    c = _as(client, "op")
    got = c.get("/api/layouts").json()
    assert got[0]["cameras"] == ["cam-a", None, None, None] and got[0]["dropped"] == 1
    c.delete(f"/api/layouts/{saved['id']}")


def test_camera_columns_carry_street_site_and_district_names(client: TestClient) -> None:
    cols = _as(client, "op2").get("/api/cameras").json()
    i = cols["id"].index("cam-a")
    assert cols["streets"][cols["street"][i]] == "Tripureshwar Marg"
    assert cols["streets"][cols["street"][cols["id"].index("cam-b")]] == ""
    assert cols["site_names"] == {"S-cam-a": "Bridge north"}
    assert cols["district_names"] == {"D-01": "Thapathali"}
    scoped = _as(client, "dv").get("/api/cameras").json()
    assert sorted(scoped["id"]) == ["cam-a", "cam-c"] and "D-02" not in scoped["district_names"]
