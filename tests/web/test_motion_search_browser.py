"""Motion search in real Chromium (issue 17, docs/design/motion-search.md, "Motion search"): an operator opens a
recorded camera on the playback screen, drags a rectangle over the top-left quarter of its picture, searches the
timeline's view and sees the box that moved there as a hit (a thumbnail and a mark on the timeline); a click plays
from it. The recording is tests/motion/media.py's scene (real H.264, camgrid's fMP4 writer) in a served control room.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from camgrid.db.engine import unit_of_work
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction
from tests.api.served import serve
from tests.motion import media as scene
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS
from tests.web.test_users_browser import _sign_in

NS = scene.NS
MS = 1_000_000
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")


def test_operator_draws_a_region_and_plays_the_hit(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    cam = CameraIn(
        id="cam-m", name="cam-m", lat=27.69, lon=85.31, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url="rtsp://10.0.0.1/cam-m",
    )  # fmt: skip
    with serve(tmp_path, {"op": ("operator", None)}, (cam,)) as s, sync_playwright() as pw:
        t1 = (time.time_ns() - 10 * 60 * NS) // NS * NS  # ten minutes ago
        with unit_of_work(s.ctx.factory) as db:
            for path, a, b, size in scene.write_recording(tmp_path / "recordings" / "cam-m", t1):
                db.execute(
                    text(
                        "insert into segments (camera_id, start_ns, end_ns, path, bytes, frames, codec, status,"
                        " node_id, source) values ('cam-m', :s, :e, :p, :b, 250, 'h264', 'complete', 'local', 'live')"
                    ),
                    {"s": a, "e": b, "p": str(path), "b": size},
                )
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, s.base, "op")
            page.goto(f"{s.base}/#/playback?cams=cam-m&t={t1 // MS + 15_000}&span=40000")
            page.wait_for_function(
                "() => { const v = document.querySelector('[data-testid=playback-video]');"
                " return v && v.readyState >= 2 && v.videoWidth > 0; }",
                timeout=30_000,
            )
            page.click('[data-testid="motion-toggle"]')
            layer = page.locator('[data-testid="motion-layer"]')
            layer.wait_for(timeout=10_000)
            box = layer.bounding_box()
            assert box is not None
            vw, vh = page.evaluate(
                "() => { const v = document.querySelector('[data-testid=playback-video]');"
                " return [v.videoWidth, v.videoHeight]; }"
            )
            scale = min(box["width"] / vw, box["height"] / vh)
            x0 = box["x"] + (box["width"] - vw * scale) / 2
            y0 = box["y"] + (box["height"] - vh * scale) / 2
            page.mouse.move(x0 + 1, y0 + 1)
            page.mouse.down()
            page.mouse.move(x0 + vw * scale * 0.3, y0 + vh * scale * 0.3, steps=5)
            page.mouse.move(x0 + vw * scale * 0.5, y0 + vh * scale * 0.5, steps=5)
            page.mouse.up()
            region = json.loads(layer.get_attribute("data-region") or "null")
            assert region is not None and region[0] == pytest.approx([0, 0], abs=0.02), region
            assert region[2] == pytest.approx([0.5, 0.5], abs=0.02), region
            log = s.ctx.audit  # the server's own log (the seeding's instance does not see its appends)
            start = log.size
            page.click('[data-testid="motion-run"]')
            page.wait_for_selector('[data-testid="motion-status"][data-state="done"]', timeout=30_000)
            hits = page.locator('[data-testid="motion-hit"]')
            assert hits.count() >= 1, page.inner_text('[data-testid="motion-status"]')
            first_ms = int(hits.first.get_attribute("data-start-ms") or 0)
            assert t1 // MS + 3_000 <= first_ms <= t1 // MS + 9_000, first_ms - t1 // MS
            for k in range(hits.count()):  # nothing else moved in that quarter
                assert int(hits.nth(k).get_attribute("data-start-ms") or 0) < t1 // MS + 11_000
            assert page.locator('[data-testid="motion-mark"]').count() == hits.count()
            assert hits.first.locator("img").get_attribute("src", timeout=5_000).startswith("data:image/jpeg")
            page.screenshot(path=str(SHOTS / "motion-search.png"))
            hits.first.click()
            page.wait_for_function(
                f"() => Math.abs((window.camgrid.timeline('cam-m')?.clockMs ?? 0) - {first_ms}) < 2000",
                timeout=15_000,
            )
            entries = [json.loads(log.entry_data(i)) for i in range(start, log.size)]
            assert [
                (e["who"], e["action"], e["camera"]) for e in entries if e["action"] == AuditAction.MOTION_SEARCH
            ] == [("op", AuditAction.MOTION_SEARCH, "cam-m")]
            assert not errors, errors
        finally:
            browser.close()
