"""The activity service (docs/design/motion-search.md, "Activity"): one camera at a time, within the actor's
districts (outside them the camera does not exist, as an unknown one), the range bounded to a day before any
file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.auditing import Actor
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.motion.activity_service import MAX_RANGE_S, ActivityRangeError, camera_activity
from camgrid.motion.activity_store import ActivityStore
from camgrid.registry import service as registry
from tests.api.test_api_roles import _camera
from tests.backends import db_url
from tests.seeding import SEED, seed_log

NS = 1_000_000_000
T0 = 1_800_000_000


class CountingStore(ActivityStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0

    def read(self, *, camera_id: str, start_s: int, end_s: int):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().read(camera_id=camera_id, start_s=start_s, end_s=end_s)


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=seed_log(engine, tmp_path), actor=SEED,
                                rows=[_camera("cam-a", "D-01"), _camera("cam-b", "D-02")], now_ns=0)  # fmt: skip
    store = CountingStore(tmp_path / "activity")
    store.write("cam-a", T0, bytes([65, 130]))
    store.write("cam-b", T0, bytes([90]))
    yield factory, store
    engine.dispose()


SCOPED = Actor(name="ana", role="operator", districts=("D-01",))


def test_levels_of_a_camera_in_scope(world) -> None:  # type: ignore[no-untyped-def]
    factory, store = world
    with unit_of_work(factory) as s:
        got = camera_activity(session=s, actor=SCOPED, store=store, camera_id="cam-a", start_ns=T0 * NS - 1,
                              end_ns=(T0 + 2) * NS + 1)  # fmt: skip
    assert (got.start_s, got.levels) == (T0 - 1, bytes([0, 65, 130, 0]))


def test_out_of_scope_is_unknown(world) -> None:  # type: ignore[no-untyped-def]
    factory, store = world
    with unit_of_work(factory) as s, pytest.raises(registry.CameraNotFound) as other:
        camera_activity(session=s, actor=SCOPED, store=store, camera_id="cam-b", start_ns=T0 * NS, end_ns=(T0 + 1) * NS)
    with unit_of_work(factory) as s, pytest.raises(registry.CameraNotFound) as unknown:
        camera_activity(session=s, actor=SCOPED, store=store, camera_id="cam-x", start_ns=T0 * NS, end_ns=(T0 + 1) * NS)
    assert str(other.value).replace("cam-b", "?") == str(unknown.value).replace("cam-x", "?")
    assert store.reads == 0


@pytest.mark.parametrize(
    ("start_ns", "end_ns"),
    [(T0 * NS, T0 * NS), (T0 * NS, T0 * NS - 1), (T0 * NS, (T0 + MAX_RANGE_S) * NS + 1)],
)
def test_the_range_is_bounded_before_any_work(world, start_ns: int, end_ns: int) -> None:  # type: ignore[no-untyped-def]
    factory, store = world
    with unit_of_work(factory) as s, pytest.raises(ActivityRangeError):
        camera_activity(session=s, actor=SCOPED, store=store, camera_id="cam-a", start_ns=start_ns, end_ns=end_ns)
    assert store.reads == 0
