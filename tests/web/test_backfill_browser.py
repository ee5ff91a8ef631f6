"""Edge spans on the playback timeline, in real Chromium (docs/design/onvif.md, "Edge backfill"): video recovered from
a camera's card is drawn hatched, apart from live video, with the legend "recovered from camera card".

The server is the real ``camgrid serve``; the index holds a live, an edge and a live segment of one camera (the rows
edge backfill writes: ``segments.source``), and the test reads the timeline canvas's pixels."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.storage.models import Segment
from camgrid.vocabulary import SegmentSource
from tests.api.test_control_room_e2e import PASSWORD, start_server
from tests.conftest import make_city
from tests.seeding import SEED, seed_log
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS

NS = 1_000_000_000
MIN = 60 * NS
LIVE, EDGE = (0x2E, 0xCC, 0x71), (0x1D, 0x5E, 0x3A)  # timeline.ts: LIVE_COLOUR and the hatch's ground

# Colours along the middle row of the track's canvas, as runs of (colour class, first x, last x).
READ_ROW = """(canvas) => {
  const g = canvas.getContext('2d');
  const y = Math.floor(canvas.height / 2);
  const d = g.getImageData(0, y, canvas.width, 1).data;
  const out = [];
  for (let x = 0; x < canvas.width; x++) out.push([d[4 * x], d[4 * x + 1], d[4 * x + 2]]);
  return out;
}"""


def _near(px: list[int], rgb: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(px, rgb, strict=True))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_edge_spans_are_hatched_with_a_legend(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    city = make_city(tmp_path, 0)
    settings = load_settings(city.home, {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    now = time.time_ns()
    with unit_of_work(factory) as s:
        registry.import_cameras(
            session=s,
            audit=seed_log(engine, settings.home),
            actor=SEED,
            rows=[
                CameraIn(
                    id="cam-edge",
                    name="Card camera",
                    lat=27.7,
                    lon=85.3,
                    district="D-01",
                    site="S-1",
                    feeder="F-1",
                    uplink="U-1",
                    rtsp_url="rtsp://127.0.0.1:9/none",
                )
            ],
            now_ns=now,
        )
    spans = [(-40, -25, SegmentSource.LIVE), (-25, -12, SegmentSource.EDGE), (-12, -5, SegmentSource.LIVE)]
    with unit_of_work(factory) as s:
        for i, (a, b, source) in enumerate(spans):
            s.add(
                Segment(camera_id="cam-edge", start_ns=now + a * MIN, end_ns=now + b * MIN, path=f"/nowhere/{i}.mp4",
                        bytes=1000, frames=10, codec="h264", status="complete", node_id="local", source=source)
            )  # fmt: skip
    engine.dispose()
    server, base = start_server(city)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            page.fill('[data-testid="login-username"]', "op")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="camera-count"]', timeout=30_000)
            t_ms = (now - 22 * MIN) // 1_000_000
            page.goto(base + f"/#/playback?cams=cam-edge&t={t_ms}&span={3_600_000}")
            track = page.wait_for_selector('[data-testid="timeline"][data-edge-segments="1"]', timeout=20_000)
            assert track is not None and track.get_attribute("data-segments") == "3"
            legend = page.wait_for_selector('[data-testid="legend-edge"]', state="visible", timeout=10_000)
            assert legend is not None and legend.text_content() == " recovered from camera card"
            page.wait_for_timeout(500)
            row: list[Any] = page.eval_on_selector('[data-testid="timeline"] canvas', READ_ROW)
            page.screenshot(path=str(SHOTS / "playback-edge.png"))
            browser.close()
        live = [x for x, px in enumerate(row) if _near(px, LIVE)]
        ground = [x for x, px in enumerate(row) if _near(px, EDGE)]
        assert live and ground, "no live or no hatched pixels on the track"
        # The hatched run lies between the two live runs, and inside it the stripes alternate with the ground.
        lo, hi = min(ground), max(ground)
        assert min(live) < lo and max(live) > hi
        inside = row[lo : hi + 1]
        stripes = sum(1 for px in inside if _near(px, LIVE))
        assert 0.2 < stripes / len(inside) < 0.8, f"{stripes} of {len(inside)} pixels striped"
        solid = [x for x in live if x < lo]
        assert len(solid) > 20 and all(_near(row[x], LIVE) for x in range(min(solid), max(solid) + 1))
        assert not errors, errors
    finally:
        server.terminate()
        server.wait(20)
