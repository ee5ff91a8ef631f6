"""``camgrid.runtime.build``: each role wires, starts and stops its parts (the cluster roles: tests/cluster).

Real parts throughout: the simulator's RTSP cameras, the database of the active back end, the metrics socket.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from camgrid.clock import SystemClock
from camgrid.config import Settings, load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.privacy import service as privacy
from camgrid.runtime import Runtime, backfill_runner, build, retention_hook
from camgrid.vocabulary import GapReason, ProcessRole
from tests.backends import home_db_url
from tests.conftest import City, wait_for
from tests.seeding import SEED, seed_log


def _settings(city: City) -> Settings:
    return load_settings(city.home, {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")})


def _scrape(settings: Settings) -> str:
    token = (settings.home / "run" / "metrics.token").read_text().strip()
    req = urllib.request.Request(
        f"http://127.0.0.1:{settings.recorder.metrics_port}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.read().decode())


def _single(settings: Settings, engine: Any) -> Runtime:
    return build(
        settings,
        role=ProcessRole.SINGLE,
        engine=engine,
        factory=session_factory(engine),
        clock=SystemClock(),
        retention=retention_hook,
        backfill=backfill_runner,
    )


def test_single_role_records_with_masks_metrics_and_the_codec_from_ingest(city_factory: Any) -> None:
    city: City = city_factory(2, h265_every=2)  # one H.264 camera, one H.265
    settings = _settings(city)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    cams = sorted(c["id"] for c in city.cameras())
    with unit_of_work(session_factory(engine)) as session:
        privacy.set_mask(
            session=session,
            audit=seed_log(engine, settings.home),
            actor=SEED,
            camera_id=cams[0],
            polygons=[[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]],
            now_ns=SystemClock().wall_ns(),
        )
    rt = _single(settings, engine)
    assert rt.recorder is not None and rt.masks is not None and rt.incidents is not None
    assert rt.backfill is not None  # edge backfill runs as a housekeeping hook of a recording process
    assert rt.tamper is not None  # tamper alarms watch every camera it records (docs/design/tamper.md)
    assert rt.activity is not None and rt.activity_store is not None  # motion.activity is on by default
    active: set[str] = set()
    rt.activity.add_listener(lambda s: active.add(s.camera_id) if s.pictures and s.level else None)
    started_s = SystemClock().wall_ns() // 1_000_000_000
    try:
        rt.start()
        # The mask is in place before the first picture can arrive: start() syncs masks before recording starts.
        assert rt.recorder.transform_of(cams[0]) is not None and rt.recorder.transform_of(cams[1]) is None
        wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 60, what="both cameras recording")
        for cam in cams:
            assert rt.recorder.records(cam)
            # The codec ingest reported with the session's up state is the one the segments were written with.
            assert rt.recorder.codec_of(cam) == city.segments(cam)[0][6]
        assert {rt.recorder.codec_of(c) for c in cams} == {"h264", "h265"}
        body = _scrape(settings)
        assert "camgrid_recorder_index_pending" in body and cams[1] in body
        assert "# TYPE camgrid_tamper_cpu_seconds_total counter" in body and "camgrid_tamper_cameras" in body
        ctx = rt.app_context()
        assert (ctx.recorder, ctx.masks, ctx.incidents) == (rt.recorder, rt.masks, rt.incidents)
        assert (ctx.feed is not None) == bool(settings.bus.url)
        assert ctx.states.get(cams[0]) is not None
        assert ctx.activity is rt.activity_store
        wait_for(lambda: set(cams) <= active, 30, what="closed activity seconds of both cameras")
    finally:
        rt.stop()
    now_s = SystemClock().wall_ns() // 1_000_000_000 + 1
    for cam in cams:  # stopping wrote the last batch: levels beside the index (the masked camera's too)
        assert any(rt.activity_store.read(camera_id=cam, start_s=started_s, end_s=now_s).levels), cam
    for cam in cams:
        assert city.gaps(cam)[-1][2:4] == (None, GapReason.NOT_RUNNING), "stopping leaves an open, honest gap"
    # Everything was let go: the recorder's lock and the metrics port serve a second process on the same home.
    again = _single(settings, engine)
    try:
        again.start()
        assert "camgrid_recorder_paused" in _scrape(settings)
    finally:
        again.stop()
        engine.dispose()


def test_central_role_without_a_bus_is_the_control_room_alone(tmp_path: Path) -> None:
    """``serve --no-record`` on one machine: no recorder, nothing reports states, so no incident engine either."""
    settings = load_settings(tmp_path, {"CAMGRID_DATABASE__URL": home_db_url(tmp_path)})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        rt = build(
            settings,
            role=ProcessRole.CENTRAL,
            engine=engine,
            factory=session_factory(engine),
            clock=SystemClock(),
            retention=retention_hook,
            backfill=backfill_runner,
        )
        assert (rt.recorder, rt.masks, rt.incidents, rt.feed, rt.node, rt.onvif, rt.backfill, rt.tamper) == (None,) * 8
        assert rt.activity is None  # nothing recorded here: the API reads the home's store (empty)
        rt.start()
        ctx = rt.app_context()
        assert ctx.recorder is None and ctx.states.states == {}
        rt.stop()
    finally:
        engine.dispose()


def test_the_onvif_watcher_is_wired_for_the_single_role_and_switched_off_by_config(tmp_path: Path) -> None:
    """docs/design/onvif.md, "Clock and events": the single (and node) role watches its cameras' clocks and events
    on its own thread; ``onvif.watch = false`` switches it off."""
    engine = make_engine(home_db_url(tmp_path))
    upgrade(engine)
    try:
        for watch, wired in (("true", True), ("false", False)):
            env = {"CAMGRID_DATABASE__URL": home_db_url(tmp_path), "CAMGRID_ONVIF__WATCH": watch}
            settings = load_settings(tmp_path, env)
            rt = build(settings, engine=engine, factory=session_factory(engine), clock=SystemClock(), api=False)
            assert (rt.onvif is not None) is wired
            watcher = rt.onvif
            if watcher is not None:
                watcher.start()
                wait_for(lambda w=watcher: w.rounds > 0, 10, what="a round")  # type: ignore[misc]
                assert watcher.cameras == {}  # no camera has an onvif_url
                watcher.stop()
    finally:
        engine.dispose()
