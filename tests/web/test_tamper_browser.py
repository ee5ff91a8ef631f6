"""A tamper incident in real Chromium (docs/design/tamper.md): the incidents screen shows its kind in words, the
camera's reference (before) and the covered picture (after) as stills loaded from the API, and an operator's
"Re-take reference" (confirmed, then audited on the server). An auditor sees the incident but never its stills.
Served by a real uvicorn in the test; the incident is raised through the tamper service, with stills made from real
ffmpeg-encoded keyframes, as the tamper watch raises it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.db.engine import unit_of_work
from camgrid.media.nal import H264
from camgrid.motion import tamper_service
from camgrid.motion.keyframes import still_jpeg
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction, TamperKind
from tests.api.served import serve
from tests.motion.pictures import keyframe_units
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS
from tests.web.test_users_browser import _sign_in

NS = 1_000_000_000


def _still(variant: str) -> bytes:
    params, units = keyframe_units(variant)
    return still_jpeg(H264, units[0], params)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_a_tamper_incident_shows_its_stills_and_an_operator_retakes_the_reference(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    cam = CameraIn(
        id="cam-t", name="Tampered", lat=27.6889, lon=85.3173, district="D-01", site="S-1", feeder="F-1",
        uplink="U-1", rtsp_url="rtsp://127.0.0.1:9/cam-t",
    )  # fmt: skip
    users: dict[str, tuple[str, list[str] | None]] = {"op": ("operator", ["D-01"]), "aud": ("auditor", None)}
    with serve(tmp_path, users, (cam,)) as s, sync_playwright() as pw:
        with unit_of_work(s.ctx.factory) as session:
            iid = tamper_service.raise_tamper(
                session=session, camera_id="cam-t", kind=TamperKind.COVERED, now_ns=s.ctx.clock.wall_ns() - 60 * NS,
                after=_still("black"), before=_still("normal"),
            )  # fmt: skip
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            _sign_in(page, s.base, "op")
            page.goto(s.base + "/#/incidents")
            block = page.locator(f'[data-testid="incident"][data-id="{iid}"] [data-testid="tamper"]')
            block.wait_for(timeout=30_000)
            assert block.get_attribute("data-kind") == "covered"
            assert "Covered or blacked out" in block.inner_text()
            for which in ("before", "after"):
                page.wait_for_function(
                    "(w) => { const i = document.querySelector(`[data-testid=tamper-still-${w}] img`);"
                    " return i && i.complete && i.naturalWidth > 0; }",
                    arg=which,
                    timeout=15_000,
                )
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "tamper-incident.png"))
            page.click('[data-testid="tamper-retake"]')
            page.wait_for_function(
                "() => document.querySelector('.tamper-note')?.textContent.includes('re-taken')", timeout=15_000
            )
            with unit_of_work(s.ctx.factory) as session:
                entries = [json.loads(r.data) for r in session.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
            assert [(e["who"], e["camera"]) for e in entries if e["action"] == AuditAction.TAMPER_REFERENCE] == [
                ("op", "cam-t")
            ]
            assert not errors, errors

            # an auditor reads incidents but watches no video: the stills are refused and left out (on the same
            # browser: stills are never cached, a control-room machine is shared between shifts)
            page.click('[data-testid="logout"]')
            _sign_in(page, s.base, "aud")
            page.goto(s.base + "/#/incidents")
            page.locator(f'[data-testid="incident"][data-id="{iid}"] [data-testid="tamper"]').wait_for(timeout=30_000)
            page.wait_for_function("() => !document.querySelector('[data-testid^=tamper-still]')", timeout=15_000)
            assert page.locator('[data-testid="tamper-retake"]').count() == 0
        finally:
            browser.close()
