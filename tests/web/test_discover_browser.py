"""The admins' "Discover cameras" panel in real Chromium (docs/design/onvif.md, "Discovery and set-up"), served by a
real uvicorn against the simulator's WS-Discovery responder and ONVIF services: the menu offers it to admins only;
the admin probes two cameras, sees maker, model, firmware, streams, capabilities and clock offset, completes one row
from the registry's sites and imports it; the camera is then in the registry with its ONVIF address, and the
password typed for the discovery is nowhere on the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.registry.models import Camera
from camgrid.registry.schemas import CameraIn
from camgrid.registry.service import reveal
from camgrid.sim.layout import onvif_address
from tests.api.served import serve
from tests.sim.onvif_harness import USER, running_onvif_sim, spec
from tests.web.test_control_room_browser import ARGS, CHROMIUM
from tests.web.test_users_browser import _sign_in

CAMERA_PW = "Web-disc0ver!pw"
SITE = CameraIn(
    id="cam-old", name="Old", lat=27.71, lon=85.32, district="D-07", site="S-GATE", feeder="F-07", uplink="U-07",
    rtsp_url="rtsp://10.9.9.9/old",
)  # fmt: skip


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_admin_discovers_completes_and_imports_a_camera(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    users: dict[str, tuple[str, list[str] | None]] = {"admin": ("admin", None), "op": ("operator", None)}
    specs = [spec(i, password=CAMERA_PW) for i in (1, 2)]
    with (
        running_onvif_sim(specs, discovery=True) as sim,
        serve(tmp_path, users, (SITE,)) as s,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            op_page = browser.new_context().new_page()
            _sign_in(op_page, s.base, "op")
            assert op_page.locator('[data-testid="nav-cameras"]').is_hidden(), (
                "the cameras screen offered to an operator"
            )

            page = browser.new_context().new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, s.base, "admin")
            page.click('[data-testid="nav-cameras"]')
            page.fill('[data-testid="discover-addresses"]', f"{onvif_address(1)}, {onvif_address(2)}")
            page.fill('[data-testid="discover-port"]', str(sim.discovery_port))
            page.fill('[data-testid="discover-username"]', USER)
            page.fill('[data-testid="discover-password"]', CAMERA_PW)
            page.click('[data-testid="discover-run"]')
            page.wait_for_selector('[data-testid="proposed-list"] tbody[data-loaded="2"]', timeout=30_000)
            assert "2 new" in page.inner_text('[data-testid="discover-status"]')

            first = page.locator(f'[data-testid="proposed-row"][data-onvif="{sim.device_url("cam-0001")}"]')
            device = first.locator('[data-testid="row-device"]').inner_text()
            assert "camgrid-sim CG-1000" in device and "firmware 1.0.0-sim" in device
            assert "320\u00d7240 H264" in first.locator('[data-testid="row-streams"]').inner_text()
            assert first.locator('[data-testid="row-capabilities"]').inner_text() == "masks, events, Profile G"
            assert first.locator('[data-testid="row-clock"]').inner_text().endswith(" s")

            first.locator('[data-testid="row-id"]').fill("gate-east")
            first.locator('[data-testid="row-site"]').select_option("S-GATE")  # brings its district, feeder, uplink
            assert first.locator('[data-testid="row-district"]').input_value() == "D-07"
            assert first.locator('[data-testid="row-lat"]').input_value() == "27.71"
            page.click('[data-testid="discover-import"]')
            page.wait_for_selector('[data-testid="discover-status"]:has-text("1 added")', timeout=15_000)
            assert CAMERA_PW not in page.content()
            assert not errors, errors
        finally:
            browser.close()
        with unit_of_work(s.ctx.factory) as session:
            cam = session.get(Camera, "gate-east")
            assert cam is not None
            assert (cam.onvif_url, cam.site_id, cam.uplink_id) == (sim.device_url("cam-0001"), "S-GATE", "U-07")
            assert reveal(box=SecretBox(s.ctx.settings.secrets_key_path), camera=cam).password == CAMERA_PW
