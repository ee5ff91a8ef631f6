"""The tamper watch (camgrid/motion/tamper_watch.py) fed real decoded keyframes on an injected clock, against the
database of the active back end: a reference learnt and kept, an incident with stills after three covered samples
and closed after two normal ones; a camera's reconnect grace; the camera's own ONVIF tamper event merged into the
same incident; an operator's re-take; a restart that closes what the previous run left open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import FakeClock
from camgrid.config import TamperConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import onvif_service
from camgrid.health.models import IncidentRow
from camgrid.media.nal import H264
from camgrid.motion import tamper_service as ts
from camgrid.motion.keyframes import Sample, decode_luma
from camgrid.motion.models import TamperReference, TamperStill
from camgrid.motion.tamper import look_at
from camgrid.motion.tamper_watch import TamperWatch
from camgrid.onvif.events import CameraEvent
from camgrid.registry import service as registry
from camgrid.vocabulary import CameraEventKind, TamperKind
from tests.access.world import camera
from tests.backends import db_url
from tests.motion.pictures import keyframe_units
from tests.seeding import SEED, seed_log

NS = 1_000_000_000
CFG = TamperConfig(interval_s=5, learn_samples=3, raise_after=3, clear_after=2, grace_s=20)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url(tmp_path / "tamper.db"))
    upgrade(engine)
    f = session_factory(engine)
    with unit_of_work(f) as s:
        registry.import_cameras(
            session=s, audit=seed_log(engine, tmp_path), actor=SEED, rows=[camera("cam-a", "D-01")], now_ns=0
        )
    yield f
    engine.dispose()


class Feed:
    """Samples of ``cam-a`` as the sampler makes them, the clock moving ``interval_s`` before each."""

    def __init__(self, watch: TamperWatch, clock: FakeClock) -> None:
        self.watch, self.clock = watch, clock
        self.n = 0  # keyframes alternate across calls (the same keyframe twice is a frozen camera)

    def __call__(self, variant: str, n: int = 1) -> None:
        params, units = keyframe_units(variant)
        for _ in range(n):
            self.clock.advance(CFG.interval_s)
            self.n += 1
            au = units[self.n % 2]
            y = decode_luma(H264, au, params)
            assert y is not None
            self.watch.on_sample(Sample("cam-a", self.clock.wall_ns(), look_at(y), H264, au, params))


def _watch(factory: sessionmaker[Session], clock: FakeClock) -> tuple[TamperWatch, Feed]:
    watch = TamperWatch(factory=factory, clock=clock, cfg=CFG, codec_of=lambda _: H264)
    return watch, Feed(watch, clock)


def _incidents(factory: sessionmaker[Session]) -> list[tuple[str | None, str, bool]]:
    with unit_of_work(factory) as s:
        rows = s.scalars(select(IncidentRow).order_by(IncidentRow.id))
        return [(r.reason, r.evidence, r.resolved_ns is not None) for r in rows]


def test_covered_raises_after_three_samples_with_stills_and_clears_after_two(factory: sessionmaker[Session]) -> None:
    clock = FakeClock()
    watch, feed = _watch(factory, clock)
    feed("normal", 3)
    with unit_of_work(factory) as s:
        ref = s.get(TamperReference, "cam-a")
        assert ref is not None and ref.jpeg and ref.picture and len(ref.picture) == 96 * 54
    feed("black", 2)
    assert _incidents(factory) == []  # two odd pictures are not an alarm
    feed("black")
    assert _incidents(factory) == [("tamper: covered", "covered", False)]
    with unit_of_work(factory) as s:
        assert sorted(st.which for st in s.scalars(select(TamperStill))) == ["after", "before"]
    feed("normal")
    assert _incidents(factory)[0][2] is False
    feed("normal")
    assert _incidents(factory) == [("tamper: covered", "", True)]
    assert watch.gauges()["camgrid_tamper_raised_total"] == 1


@pytest.mark.parametrize(("variant", "kind"), [("shifted", "turned"), ("blurred", "defocused"), ("white", "blinded")])
def test_each_kind_is_raised_against_the_learnt_reference(
    factory: sessionmaker[Session], variant: str, kind: str
) -> None:
    _, feed = _watch(factory, FakeClock())
    feed("normal", 3)
    feed(variant, 3)
    assert _incidents(factory) == [(f"tamper: {kind}", kind, False)]


def test_a_camera_coming_back_is_not_judged_during_its_grace(factory: sessionmaker[Session]) -> None:
    clock = FakeClock()
    watch, feed = _watch(factory, clock)
    feed("normal", 3)
    watch.on_session("cam-a", False, clock.wall_ns())  # a power cut: its samples stop
    clock.advance(600)
    watch.on_session("cam-a", True, clock.wall_ns())
    feed("black", 4)  # 20 s of odd pictures while it starts (an IR lamp, a dark first exposure)
    assert _incidents(factory) == []
    feed("normal", 3)
    assert _incidents(factory) == []


def test_the_cameras_onvif_tamper_event_merges_into_the_same_incident(factory: sessionmaker[Session]) -> None:
    clock = FakeClock()
    watch, feed = _watch(factory, clock)
    feed("normal", 3)

    def event(active: bool) -> None:
        ev = CameraEvent("cam-a", CameraEventKind.TAMPER, active, None, clock.wall_ns(), "tns1:VideoSource/X", "")
        with unit_of_work(factory) as s:
            onvif_service.record_camera_events(session=s, events=[ev])
        watch.on_round()

    event(True)
    assert _incidents(factory) == [(f"tamper: {TamperKind.CAMERA}", "camera", False)]
    feed("black", 3)  # the picture agrees, and says what it is
    assert _incidents(factory) == [("tamper: covered", "camera,covered", False)]
    event(False)
    assert _incidents(factory) == [("tamper: covered", "covered", False)]
    feed("normal", 2)
    assert _incidents(factory) == [("tamper: covered", "", True)]


def test_a_retaken_reference_accepts_the_new_view(factory: sessionmaker[Session], tmp_path: Path) -> None:
    clock = FakeClock()
    watch, feed = _watch(factory, clock)
    feed("normal", 3)
    feed("shifted", 3)  # a planned move: turned
    assert _incidents(factory) == [("tamper: turned", "turned", False)]
    with unit_of_work(factory) as s:
        ts.retake_reference(session=s, audit=seed_log(s.get_bind(), tmp_path), actor=SEED, camera_id="cam-a",
                            now_ns=clock.wall_ns())  # fmt: skip
    watch.on_round()
    feed("shifted", 3)  # the new view is learnt ...
    feed("shifted", 2)  # ... and the picture is normal against it
    assert _incidents(factory) == [("tamper: turned", "", True)]
    with unit_of_work(factory) as s:
        ref = s.get(TamperReference, "cam-a")
        assert ref is not None and ref.retake_ns is None


def test_a_restart_keeps_the_reference_and_closes_what_it_left_open(factory: sessionmaker[Session]) -> None:
    clock = FakeClock()
    _, feed = _watch(factory, clock)
    feed("normal", 3)
    feed("black", 3)
    _, feed = _watch(factory, clock)  # a new process
    feed("mirrored", 2)  # the stored reference is in force at once: turned is not normal
    assert _incidents(factory) == [("tamper: covered", "covered", False)]
    feed("normal", 2)
    assert _incidents(factory) == [("tamper: covered", "", True)]


class Second:
    """What the activity tap (motion/activity.py ``SecondStats``) says of one camera-second."""

    def __init__(self, camera_id: str, second: int, level: int) -> None:
        self.camera_id, self.second, self.level = camera_id, second, level


class Tap:
    """An activity tap as the tamper watch sees it: something to register a listener on."""

    def __init__(self) -> None:
        self.listeners: list[object] = []

    def add_listener(self, fn: object) -> None:
        self.listeners.append(fn)


def test_a_frozen_camera_needs_the_activity_tap_for_re_encoded_repeats(factory: sessionmaker[Session]) -> None:
    clock = FakeClock()
    tap = Tap()
    watch = TamperWatch(factory=factory, clock=clock, cfg=CFG, codec_of=lambda _: H264, activity=tap)
    feed = Feed(watch, clock)
    assert tap.listeners == [watch.on_second]
    feed("normal", 3)
    feed("repeated", 4)  # the same picture re-encoded: keyframes differ a little; nothing known of the stream
    assert _incidents(factory) == []
    for _ in range(4):  # ... and now the stream between keyframes has collapsed
        watch.on_second(Second("cam-a", (clock.wall_ns() + round(CFG.interval_s * NS)) // NS, 3))
        feed("repeated")
    assert _incidents(factory) == [("tamper: frozen", "frozen", False)]
