"""Camera diagnostics in real Chromium (docs/design/camera-probe.md): an operator opens a simulated camera's panel
on the map, presses "Probe" in its Diagnostics section and sees the clip's resolution and frame rate, measured by
the server in a session of its own with the camera's sealed credentials. Served by a real uvicorn in the test; the
camera is the project's simulator on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from tests.api.served import serve
from tests.ingest.simthread import FPS, HEIGHT, PASSWORD, USER, WIDTH, running_sim, spec
from tests.seeding import SEED
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS
from tests.web.test_users_browser import _sign_in


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_operator_probes_a_camera_from_its_panel(tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    users: dict[str, tuple[str, list[str] | None]] = {"op": ("operator", ["D-01"])}
    with running_sim([spec("cam-p", 0)]) as sim, serve(tmp_path, users) as s, sync_playwright() as pw:
        cam = CameraIn(
            id="cam-p", name="Probe me", lat=27.6889, lon=85.3173, district="D-01", site="S-1", feeder="F-1",
            uplink="U-1", rtsp_url=sim.url("cam-p"), username=USER, password=PASSWORD,
        )  # fmt: skip
        with unit_of_work(s.ctx.factory) as session:
            registry.import_cameras(
                session=session, audit=s.log, actor=SEED, rows=[cam], now_ns=0,
                box=SecretBox(s.ctx.settings.secrets_key_path),
            )  # fmt: skip
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, s.base, "op")
            # Signed in, the app mounts the map twice (at the login's hash change, and again once /api/city has
            # answered: main.ts), closing a panel opened in between; a reload with the session mounts it once.
            page.reload()
            page.wait_for_function("() => window.camgrid && window.camgrid.cameraXY('cam-p') !== null", timeout=30_000)
            for attempt in range(20):  # the map may still be moving to the camera's district: click where it is now
                x, y = page.evaluate("() => window.camgrid.cameraXY('cam-p')")
                page.mouse.click(x, y)
                try:
                    page.wait_for_selector('[data-testid="camera-details"]', timeout=1_000)
                    break
                except PlaywrightTimeout:
                    assert attempt < 19, "the camera's panel never opened"
            page.click('[data-testid="probe-button"]')
            page.wait_for_selector('[data-testid="probe-resolution"], [data-testid="probe-error"]', timeout=30_000)
            shown = page.inner_text('[data-testid="diagnostics"]')
            assert page.inner_text('[data-testid="probe-resolution"] td') == f"{WIDTH}\u00d7{HEIGHT}", shown
            fps_text = page.inner_text('[data-testid="probe-fps"] td')
            fps = float(re.match(r"[\d.]+", fps_text).group(0))  # type: ignore[union-attr]
            assert abs(fps - FPS) <= 0.1 * FPS, fps_text
            assert page.inner_text('[data-testid="probe-result"] [data-testid="probe-server"] td') == "camgrid-sim"
            assert PASSWORD not in page.content()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "camera-probe.png"))
            assert not errors, errors
        finally:
            browser.close()
