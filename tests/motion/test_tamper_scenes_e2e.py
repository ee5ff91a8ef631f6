"""Tamper alarms scored against the simulator's ground truth (docs/design/tamper.md): five scene cameras of a real
`camgrid sim`, recorded by camgrid's single-role runtime (real recorder, activity tap and tamper watch); each gets
one of the simulator's tamper faults (cover, defocus, turn, blind, freeze). Each must open one ``camera`` incident of
the right kind within 30 s of the truth line (the picture changing on the wire), and close once ``scene_restore``
brings the still picture back."""

from __future__ import annotations

import json
from typing import Any

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.runtime import build
from camgrid.vocabulary import ProcessRole, TamperKind
from tests.conftest import City, wait_for

FAULTS = {
    "cam-0001": ("cover", TamperKind.COVERED),
    "cam-0002": ("defocus", TamperKind.DEFOCUSED),
    "cam-0003": ("turn", TamperKind.TURNED),
    "cam-0004": ("blind", TamperKind.BLINDED),
    "cam-0005": ("freeze", TamperKind.FROZEN),
}
ENV = {
    "CAMGRID_SIM__WIDTH": "640",
    "CAMGRID_SIM__HEIGHT": "360",
    "CAMGRID_SIM__FPS": "10",
    "CAMGRID_SIM__BITRATE_KBPS": "600",
    "CAMGRID_SIM__GOP_SECONDS": "1",
    "CAMGRID_SIM__SCENE_CAMERAS": "5",
    "CAMGRID_SIM__ONVIF": "false",
    "CAMGRID_TAMPER__INTERVAL_S": "1",
    "CAMGRID_TAMPER__LEARN_SAMPLES": "3",
    "CAMGRID_TAMPER__GRACE_S": "2",
}


def test_each_simulated_tamper_opens_the_right_incident_and_closes_with_the_scene(city_factory: Any) -> None:
    city: City = city_factory(5, h265_every=0, extra_env=ENV)
    settings = load_settings(city.home, {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    rt = build(settings, role=ProcessRole.SINGLE, engine=engine, factory=session_factory(engine),
               clock=SystemClock(), api=False)  # fmt: skip
    assert rt.tamper is not None and rt.activity is not None
    cams = sorted(FAULTS)
    try:
        rt.start()
        taken = "select camera_id from tamper_references where taken_ns is not null and jpeg is not null"
        wait_for(lambda: {r[0] for r in city.db(taken)} >= set(cams), 90, what="every reference learnt")
        assert city.db("select count(*) from incidents")[0][0] == 0  # a still scene raises nothing
        for cam, (fault, _) in FAULTS.items():
            city.fault(fault, cam)
        q = "select subject, reason, opened_ns, resolved_ns from incidents where engine_key like 'tamper:%'"
        found = wait_for(lambda: (rows := city.db(q)) and len({r[0] for r in rows}) == 5 and rows, 90, what="five")
        truth = [json.loads(line) for line in (city.home / "truth.jsonl").read_text().splitlines()]
        changed = {c: t["t"] for t in truth if t["kind"] in {f for f, _ in FAULTS.values()} for c in t["cameras"]}
        assert sorted((r[0], r[1]) for r in found) == [(c, f"tamper: {FAULTS[c][1]}") for c in cams]
        for subject, _, opened_ns, _ in found:
            assert 0 < opened_ns / 1e9 - changed[subject] < 30, (subject, opened_ns / 1e9 - changed[subject])
        for cam in cams:
            city.fault("scene_restore", cam)
        wait_for(lambda: all(r[3] is not None for r in city.db(q)), 60, what="every incident closed")
        assert len(city.db(q)) == 5  # one incident each, never a second one
    finally:
        rt.stop()
        engine.dispose()
