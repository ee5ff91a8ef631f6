"""A camera's ONVIF events on the playback timeline and its clock offset in the camera panel, in real Chromium
(docs/design/onvif.md, "Clock and events"): each event is a glyph on the camera's track whose tooltip gives the
camera's time and ours; the panel shows the clock offset, amber beyond the tolerance. Served by a real uvicorn in
the test; the events and clock reading are written through the health service, as the watcher writes them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from camgrid.db.engine import unit_of_work
from camgrid.health import onvif_service
from camgrid.onvif.clock import ClockReading
from camgrid.onvif.events import CameraEvent
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import CameraEventKind
from tests.api.served import serve
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS
from tests.web.test_users_browser import _sign_in

NS = 1_000_000_000
TOPIC = "tns1:VideoSource/GlobalSceneChange/ImagingService"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_event_markers_on_the_timeline_and_clock_offset_in_the_panel(tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    cam = CameraIn(
        id="cam-e", name="Events", lat=27.6889, lon=85.3173, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url="rtsp://127.0.0.1:9/cam-e", onvif_url="http://127.0.0.1:9/onvif/device_service",
    )  # fmt: skip
    users: dict[str, tuple[str, list[str] | None]] = {"op": ("operator", ["D-01"])}
    now = time.time_ns()
    with serve(tmp_path, users, (cam,)) as s, sync_playwright() as pw:
        with unit_of_work(s.ctx.factory) as session:
            onvif_service.record_camera_events(
                session=session,
                events=[
                    CameraEvent("cam-e", CameraEventKind.TAMPER, True, now - 30 * NS - 95 * NS, now - 30 * NS, TOPIC,
                                "Changed State=true"),
                    CameraEvent("cam-e", CameraEventKind.TAMPER, False, now - 20 * NS - 95 * NS, now - 20 * NS, TOPIC,
                                "Changed State=false"),
                ],
            )  # fmt: skip
            onvif_service.record_clock(session=session, camera_id="cam-e", reading=ClockReading(-95 * NS, now, NS))
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, s.base, "op")
            page.goto(s.base + "/#/playback?cams=cam-e")
            page.wait_for_selector('[data-testid="camera-event"]', state="attached", timeout=30_000)
            markers = page.locator('[data-testid="camera-event"]')
            assert markers.count() == 2
            first = markers.nth(0)
            assert first.get_attribute("data-kind") == "tamper" and first.get_attribute("data-active") == "true"
            assert first.is_visible(), "the marker is off the timeline's view"
            title = first.get_attribute("title") or ""
            assert "tamper (scene covered or moved) began" in title and "\u221295 s from ours" in title, title
            assert "camera time:" in title and "our time:" in title
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "camera-events-timeline.png"))

            page.goto(s.base + "/#/map")
            page.reload()
            page.wait_for_function("() => window.camgrid && window.camgrid.cameraXY('cam-e') !== null", timeout=30_000)
            for attempt in range(20):  # the map may still be moving to the camera's district
                x, y = page.evaluate("() => window.camgrid.cameraXY('cam-e')")
                page.mouse.click(x, y)
                try:
                    page.wait_for_selector('[data-testid="clock-offset"]', timeout=1_000)
                    break
                except PlaywrightTimeout:
                    assert attempt < 19, "the camera's panel never showed its clock"
            offset = page.locator('[data-testid="clock-offset"]')
            assert offset.inner_text() == "clock \u221295 s (off)"
            assert "clock-off" in (offset.get_attribute("class") or "")
            colour = offset.evaluate("e => getComputedStyle(e).color")
            assert colour == "rgb(255, 179, 71)", colour  # amber
            page.screenshot(path=str(SHOTS / "camera-clock-offset.png"))
            assert not errors, errors
        finally:
            browser.close()
