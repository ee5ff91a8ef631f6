"""``camgrid demo``'s story lines (issue 15): a line only once the thing is true in the database the control room
reads: the camera's own mask verified, an uplink cut and restored through the simulator's fault API, and what the
cards gave back once every backfill job of that uplink has finished; a camera covered now and then (issue 17), its
tamper incident told once it opened and once it closed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from camgrid.cli.demo_story import CoveredNowAndThen, UplinkCut, mask_line
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.motion import tamper_service
from camgrid.privacy.models import CameraSideMask
from camgrid.registry.io import parse_camera_file
from camgrid.registry.service import import_cameras
from camgrid.storage.models import BackfillJob, Gap, Segment
from camgrid.vocabulary import BackfillState, GapReason, MaskMode, SegmentSource, TamperKind
from tests.backends import home_db_url
from tests.registry.test_import import GOOD, write_csv
from tests.seeding import SEED, seed_log

S = 1_000_000_000


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(home_db_url(home))
    upgrade(engine)
    made = session_factory(engine)
    rows = [dict(GOOD, id=f"cam-{i}", password="") for i in (1, 2)]
    parsed = parse_camera_file(write_csv(tmp_path / "cams.csv", rows))
    assert not parsed.errors, parsed.errors
    with unit_of_work(made) as s:
        import_cameras(session=s, audit=seed_log(engine, home), actor=SEED, rows=parsed.rows, now_ns=0)
    yield made
    engine.dispose()


@pytest.fixture
def control() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for the simulator's fault API that records what it was sent (the sim's own API is tested in
    tests/sim; here the demo's sequencing is under test)."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()


def test_mask_line_only_once_verified(factory: sessionmaker[Session]) -> None:
    assert mask_line(factory, "cam-1") is None
    with unit_of_work(factory) as s:
        s.add(CameraSideMask(camera_id="cam-1", mode=MaskMode.CAMERA, tokens="[]", revision=1, updated_ns=1))
    assert mask_line(factory, "cam-1") is None  # set on the camera, not yet checked
    with unit_of_work(factory) as s:
        row = s.get(CameraSideMask, "cam-1")
        assert row is not None
        row.verified_ns = 5
    line = mask_line(factory, "cam-1")
    assert line is not None and "burns its privacy mask in itself" in line


def test_cut_restore_then_report_only_when_every_job_finished(
    factory: sessionmaker[Session], control: tuple[str, list[dict[str, Any]]]
) -> None:
    url, got = control
    cut = UplinkCut(factory=factory, control_url=url, camera_id="cam-1", after_s=0, seconds=0)
    line = cut.tick()
    assert line is not None and "cut" in line and "2 cameras" in line
    restored = cut.tick()
    assert restored is not None and "back" in restored
    assert [g["kind"] for g in got] == ["uplink_cut", "uplink_restore"]
    assert got[0]["subject"] == cut.uplink != ""
    assert cut.tick() is None  # no job yet: nothing to report
    t = cut.cut_ns
    with unit_of_work(factory) as s:
        s.add_all(
            [
                BackfillJob(
                    camera_id="cam-1",
                    start_ns=t,
                    end_ns=t + 40 * S,
                    state=BackfillState.DONE,
                    created_ns=t,
                    updated_ns=t,
                ),
                BackfillJob(
                    camera_id="cam-2",
                    start_ns=t,
                    end_ns=t + 40 * S,
                    state=BackfillState.RUNNING,
                    created_ns=t,
                    updated_ns=t,
                ),
                Segment(
                    camera_id="cam-1",
                    start_ns=t + 1 * S,
                    end_ns=t + 39 * S,
                    path="/x/1.edge.mp4",
                    codec="h264",
                    status="complete",
                    source=SegmentSource.EDGE,
                ),
                Gap(camera_id="cam-1", start_ns=t, end_ns=t + 1 * S, reason=GapReason.UNREACHABLE),
                Gap(camera_id="cam-2", start_ns=t, end_ns=t + 40 * S, reason=GapReason.UNREACHABLE),
            ]
        )
    assert cut.tick() is None  # cam-2's job still running
    with unit_of_work(factory) as s:
        job = s.query(BackfillJob).filter_by(camera_id="cam-2").one()
        job.state = BackfillState.NOTHING_HELD
    report = cut.tick()
    assert (
        report is not None and "38 s of video recovered from 1 cameras' cards" in report and "41 s stay gaps" in report
    )
    assert cut.tick() is None  # said once


def test_a_camera_is_covered_restored_and_its_incident_told_when_true(
    factory: sessionmaker[Session], control: tuple[str, list[dict[str, Any]]]
) -> None:
    url, got = control
    cut_on = [True]
    story = CoveredNowAndThen(
        factory=factory,
        control_url=url,
        camera_id="cam-1",
        every_s=3600,
        seconds=0,
        after_s=0,
        hold=lambda: cut_on[0],
    )
    # not before the tamper watch can see it: no reference learnt yet, then the camera not recording, then the
    # uplink cut of the story still on
    cut_on[0] = False
    assert story.tick() is None and got == []
    with unit_of_work(factory) as s:
        tamper_service.save_reference(
            session=s, camera_id="cam-1", width=64, height=36, picture=b"\0" * 64, edge=1.0, jpeg=b"j", now_ns=S
        )
        s.add(Gap(camera_id="cam-1", start_ns=2 * S, end_ns=None, reason=GapReason.UNREACHABLE))
    assert story.tick() is None and got == []
    with unit_of_work(factory) as s:
        s.query(Gap).filter_by(camera_id="cam-1").update({"end_ns": 3 * S})
    cut_on[0] = True
    assert story.tick() is None and got == []
    cut_on[0] = False
    line = story.tick()
    assert line is not None and "cam-1 covered" in line
    assert [(g["kind"], g["subject"]) for g in got] == [("cover", "cam-1")]
    story.seconds = 3600.0
    assert story.tick() is None  # no incident yet: nothing told
    with unit_of_work(factory) as s:
        tamper_service.raise_tamper(session=s, camera_id="cam-1", kind=TamperKind.COVERED, now_ns=story.cover_ns + S)
    opened = story.tick()
    assert opened is not None and "tamper: covered" in opened and "1 s after" in opened
    assert story.tick() is None  # told once
    story.seconds = 0.0
    assert story.tick() is None and got[-1]["kind"] == "scene_restore"
    assert story.tick() is None  # still open
    with unit_of_work(factory) as s:
        tamper_service.clear_tamper(session=s, camera_id="cam-1", camera_event=False, now_ns=story.cover_ns + 9 * S)
    closed = story.tick()
    assert closed is not None and "closed" in closed
    assert story.stage == "waiting"
