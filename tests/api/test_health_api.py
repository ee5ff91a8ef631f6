"""Outage brain end to end (docs/design/health-incidents.md, "Live wiring"): the real simulator, `camgrid serve` with
its recorder, a feeder cut by the fault injector -> exactly one `power` incident with the feeder's cameras, in the
latency budget, pushed on the events WebSocket, resolved when power returns; operator actions stored; the report."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import websockets
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.db.secrets import SecretBox
from camgrid.geo.osm import load_city
from camgrid.health.incidents import CorrelationEngine
from camgrid.health.models import IncidentSuggestion
from camgrid.health.service import persist_records
from camgrid.health.topology import build_topology
from camgrid.registry.io import parse_camera_file
from camgrid.registry.service import import_cameras
from camgrid.sim.layout import make_city, write_registry
from camgrid.vocabulary import AuditAction
from tests.api.test_control_room_e2e import get, login, start_server
from tests.backends import TIMEOUT_SCALE, backend_env
from tests.conftest import City, wait_for
from tests.seeding import SEED, seed_log

NS = 1_000_000_000
MS = 1_000_000
PW = "correct-horse-42"
# The budget is 5 s from the last member camera seen down; the live pump adds up to one tick (0.5 s) and
# this test polls every 0.1 s over HTTP. On a busy machine that is a speed claim no test may make
# (docs/design/tests-on-a-busy-machine.md): the test holds it within the suite's timeout scale, as a safety net
# against an engine that waits for something it should not, and prints the latency it saw.
BUDGET_S = (5.0 + 0.5 + 0.3) * TIMEOUT_SCALE


def post(base: str, path: str, cookie: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Cookie": cookie, "Origin": base},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Events:
    """Collects the events WebSocket's messages on a thread."""

    def __init__(self, url: str, cookie: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run(url, cookie)), daemon=True)
        self.thread.start()

    async def _run(self, url: str, cookie: str) -> None:
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            self.ready.set()
            while not self.stop.is_set():
                try:
                    msg = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                self.messages.append(json.loads(msg))

    def incidents(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "incident"]


def test_feeder_cut_gives_one_power_incident(city_factory: Any) -> None:
    city: City = city_factory(8, extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"})
    proc, base = start_server(city)
    events: Events | None = None
    try:
        cookie = login(base)
        wait_for(lambda: get(base, "/api/cameras", cookie)["state"].count("recording") == 8, 40, what="recording")
        sim_cams = city.cameras()
        feeders: dict[str, list[str]] = {}
        for c in sim_cams:
            feeders.setdefault(c["feeder"], []).append(c["id"])
        feeder, members = max(feeders.items(), key=lambda kv: len(kv[1]))
        assert len(members) >= 3
        events = Events(f"ws://{base[7:]}/api/events", cookie)
        assert events.ready.wait(10)
        t_cut_ms = int(time.time() * 1000)
        city.fault("power_cut", feeder)

        seen: dict[str, float] = {}

        def power_complete() -> dict[str, Any] | None:
            for inc in get(base, "/api/incidents?open=1", cookie):
                if inc["kind"] == "power" and inc["subject"] == feeder and sorted(inc["cameras"]) == sorted(members):
                    seen.setdefault("t", time.time())
                    return dict(inc)
            return None

        inc = wait_for(power_complete, 30, interval=0.1, what="the power incident")
        gap_starts = [
            min(g[1] for g in city.gaps(c) if g[1] >= (t_cut_ms - 2000) * 1_000_000 and g[3] != "starting")
            for c in members
        ]
        latency = seen["t"] - max(gap_starts) / NS
        print(f"power incident complete {latency:.2f} s after the last member went dark")
        assert latency <= BUDGET_S, f"incident complete {latency:.2f} s after the last member went dark"
        all_now = get(base, "/api/incidents", cookie)
        assert [i["kind"] for i in all_now] == ["power"], all_now  # one incident, no per-camera alarms
        assert inc["unexplained"] == [] and 0.5 < inc["confidence"] <= 0.99

        wait_for(lambda: any(m["id"] == inc["id"] for m in events.incidents()), 5, what="the WebSocket message")  # type: ignore[union-attr]
        pushed = [m for m in events.incidents() if m["id"] == inc["id"]][-1]
        assert pushed["kind"] == "power" and pushed["subject"] == feeder and pushed["opened_ms"] > 0

        # operator actions, stored
        status, acked = post(base, f"/api/incidents/{inc['id']}/ack", cookie, {"text": "on it"})
        assert status == 200 and acked["acknowledged_by"] == "op"
        status, _ = post(base, f"/api/incidents/{inc['id']}/comment", cookie, {"text": "utility called"})
        assert status == 200
        assert post(base, f"/api/incidents/{inc['id']}/comment", cookie, {"text": "  "})[0] == 422
        assert post(base, "/api/suggestions/1", cookie, {"accept": True})[0] == 403  # operators do not decide
        stored = city.db(
            "select actor, action, text from incident_actions where incident_id = :i order by id", i=inc["id"]
        )
        assert [tuple(r) for r in stored] == [("op", "ack", "on it"), ("op", "comment", "utility called")]

        city.fault("power_restore", feeder)
        resolved = wait_for(
            lambda: next(
                (i for i in get(base, "/api/incidents", cookie) if i["id"] == inc["id"] and i["resolved_ms"]), None
            ),
            60,
            what="the incident to resolve",
        )
        assert resolved["resolved_ms"] >= resolved["opened_ms"]
        assert get(base, "/api/incidents?open=1", cookie) == []
        trs = city.db("select new_state, reason from health_transitions where camera_id = :c order by id", c=members[0])
        assert ("offline", "unreachable") in [tuple(t) for t in trs] and trs[-1][0] == "online"
        wait_for(lambda: any(m["id"] == inc["id"] and m["resolved_ms"] for m in events.incidents()), 5, what="push")  # type: ignore[union-attr]

        now_ms = int(time.time() * 1000)
        report = get(base, f"/api/reports/availability?from_ms={t_cut_ms - 60_000}&to_ms={now_ms}&by=feeder", cookie)
        row = next(r for r in report["rows"] if r["key"] == feeder)
        assert row["cameras"] == len(members) and row["availability"] < 1.0
        assert row["outage_min"]["power"] > 0.9 * row["down_min"] - 0.05  # the cut is blamed on power
        other = [r for r in report["rows"] if r["key"] != feeder]
        assert all(r["outage_min"]["power"] == 0 for r in other)
    finally:
        if events is not None:
            events.stop.set()
            events.thread.join(5)
        proc.terminate()
        proc.wait(20)


# In-process API checks (no video): district scoping, roles, evidence without a feed, coverage from the planner.
def _app(tmp_path: Path) -> tuple[TestClient, Any]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    cams = make_city(8, city=load_city())
    reg = tmp_path / "cameras.csv"
    write_registry(cams, reg, "127.0.0.1", 8554)
    rows = parse_camera_file(reg).rows
    now = time.time_ns()
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        import_cameras(
            session=s, audit=log, actor=SEED, rows=rows, now_ns=now, box=SecretBox(settings.secrets_key_path)
        )
    for name, role, districts in (
        ("op", "operator", None),
        ("sup", "supervisor", None),
        ("far", "operator", ["D-99"]),
    ):
        with unit_of_work(factory) as s:  # one audited action per unit of work (SQLite: see services-own-invariants)
            access.create_user(
                session=s, audit=log, actor=SEED, username=name, password=PW, role=role, districts=districts, now_ns=0
            )
    # One stored power incident over the first feeder's cameras, as the live feed would write it.
    topo = build_topology(rows)
    engine_ = CorrelationEngine(topo)
    feeder = rows[-1].feeder
    members = [r.id for r in rows if r.feeder == feeder]
    t0 = now / NS - 120
    for i, cid in enumerate(members):
        engine_.camera_down(cid, t0 + 0.2 * i, "unreachable")
    engine_.advance(t0 + 30)
    with unit_of_work(factory) as s:
        persist_records(session=s, records=engine_.drain(), topo=topo, run_id="t")
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock())
    return TestClient(create_app(ctx), headers={"Origin": "http://testserver"}), (
        feeder,
        members,
        now,
    )  # a browser sends Origin


def _login(client: TestClient, name: str) -> None:
    client.cookies.clear()
    r = client.post("/api/auth/login", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text


def test_incident_routes_scoping_roles_and_coverage(tmp_path: Path) -> None:
    client, (feeder, members, now) = _app(tmp_path)
    _login(client, "op")
    listed = client.get("/api/incidents?open=1").json()
    assert [(i["kind"], i["subject"], i["cameras"]) for i in listed] == [("power", feeder, sorted(members))]
    iid = listed[0]["id"]
    assert client.get(f"/api/incidents/{iid}").json()["id"] == iid
    assert client.get("/api/incidents/9999").status_code == 404
    assert client.post(f"/api/incidents/{iid}/ack", json={}).json()["acknowledged_by"] == "op"
    # evidence needs the live feed (camgrid serve with its recorder)
    r = client.post("/api/evidence/feeder-outage", json={"feeder": feeder, "state": "out", "t_ms": 1})
    assert r.status_code == 503
    assert client.post("/api/evidence/ups", json={"site": "S-001", "on_battery": True, "t_ms": 1}).status_code == 503
    assert client.post("/api/evidence/ups", json={"site": "S-001", "t_ms": 1}).status_code == 422

    # coverage: the planner's visibility model over the registry cameras
    rep = client.get(
        f"/api/reports/availability?from_ms={now // MS - 600_000}&to_ms={now // MS}&by=district&coverage=1"
    )
    assert rep.status_code == 200, rep.text
    body = rep.json()
    assert body["city"]["cameras"] == 8 and body["lost_coverage"]["weight_total"] > 0
    live = client.get("/api/reports/live-coverage").json()
    assert live["points"] > 0 and live["share"] == 0.0  # nothing is recording in this process
    assert client.get("/api/reports/availability?from_ms=10&to_ms=5").status_code == 422
    series = client.get(
        f"/api/reports/availability-series?from_ms={now // MS - 600_000}&to_ms={now // MS}&step_ms=60000&by=feeder"
    ).json()
    # nothing in this database's recording index: the cameras were never seen, so they have no camera time to be
    # available in (issue 16: not 100 %)
    assert len(series["t_ms"]) == 10 and series["series"][feeder] == [None] * 10
    assert series["period"][feeder] is None
    cuts = client.get(f"/api/reports/power-cuts?from_ms={now // MS - 600_000}&to_ms={now // MS}").json()
    assert cuts["feeders"][0]["feeder"] == feeder and cuts["feeders"][0]["cuts"] == 1 and sum(cuts["hour_of_day"]) == 1
    assert cuts["timezone"] == "Asia/Kathmandu"

    _login(client, "far")  # a user of another district: the incident does not exist
    assert client.get("/api/incidents").json() == []
    assert client.get(f"/api/incidents/{iid}").status_code == 404
    assert client.post(f"/api/incidents/{iid}/comment", json={"text": "x"}).status_code == 404
    assert client.get("/api/reports/availability?from_ms=0&to_ms=1000").json()["rows"] == []

    _login(client, "sup")
    assert client.post("/api/suggestions/1", json={"accept": True}).status_code == 404  # none suggested here
    with unit_of_work(client.app.state.ctx.factory) as s:  # type: ignore[attr-defined]
        s.add(
            IncidentSuggestion(
                incident_id=iid,
                camera_id=members[0],
                field="feeder",
                registry_value=feeder,
                suggested_value=feeder,
                status="open",
            )
        )
    r = client.post("/api/suggestions/1", json={"accept": False})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert client.post("/api/suggestions/1", json={"accept": True}).status_code == 409
    actions = client.get(f"/api/incidents/{iid}").json()["actions"]
    assert [(a["actor"], a["action"]) for a in actions] == [("op", "ack"), ("sup", "reject_suggestion")]
    log = client.app.state.ctx.audit  # type: ignore[attr-defined]
    entries = [json.loads(log.entry_data(i)) for i in range(log.size)]
    decided = [(e["who"], e["details"]["accept"]) for e in entries if e["action"] == AuditAction.SUGGESTION_DECIDE]
    assert decided == [("sup", False)], "the decision is audited (once: the refused second one is not)"
