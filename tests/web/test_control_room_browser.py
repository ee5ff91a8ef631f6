"""The control room in real Chromium (Debian's, driven by Playwright; no browser is downloaded).

One session: log in, see every simulated camera on the map, open a 4-tile live wall and check that video advances
in every tile and shows the right camera (the simulator draws each camera's index as a row of cells), open
playback and find the gap the fault injector caused, at the right place and with its reason, export a clip and
verify its manifest. Screenshots go to artifacts/screens/.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.test_control_room_e2e import PASSWORD, login, post, start_server
from tests.conftest import CAMGRID, ROOT, City, wait_for

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screens"
ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]

# Reads the id cells of the current frame of a <video> (see camgrid.sim.clips.id_cells).
READ_CELLS = """(video) => {
  const c = document.createElement('canvas');
  c.width = video.videoWidth; c.height = video.videoHeight;
  const g = c.getContext('2d'); g.drawImage(video, 0, 0);
  const cell = Math.max(8, Math.floor(32 * video.videoWidth / 1280));
  const bits = [];
  for (let i = 0; i < 18; i++) {
    const d = g.getImageData(i * cell + cell / 2, cell / 2, 1, 1).data;
    bits.push((d[0] + d[1] + d[2]) / 3 > 128 ? 1 : 0);
  }
  return bits;
}"""


def decode_cells(bits: list[int]) -> int | None:
    if len(bits) != 18 or bits[0] != 1 or bits[-1] != 0:
        return None
    return int("".join(map(str, bits[1:17])), 2)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_operator_session(city_factory: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    city: City = city_factory(8, h265_every=0, extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"})
    server, base = start_server(city)
    try:
        registry = {c["id"]: i + 1 for i, c in enumerate(city.cameras())}
        sim_cams = city.cameras()
        victim = sim_cams[-1]
        wait_for(lambda: all(city.recording_since(c, 0) for c in registry), 40, what="recording")
        cut = city.fault("site_cut", victim["site"])
        time.sleep(4)
        restore = city.fault("site_restore", victim["site"])
        t_cut_ms, t_restore_ms = cut["t"] * 1000, restore["t"] * 1000
        wait_for(lambda: city.recording_since(victim["id"], int(restore["t"] * 1e9)), 20, what="back after the cut")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            page.fill('[data-testid="login-password"]', "wrong password")
            page.fill('[data-testid="login-username"]', "op")
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="login-error"]:not(:empty)', timeout=10_000)
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_function(
                "() => document.querySelector('[data-testid=camera-count]')?.textContent === '8'", timeout=30_000
            )
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SHOTS / "map.png"))

            cams4 = list(registry)[:4]
            page.goto(base + f"/#/live?n=4&cams={','.join(cams4)}")
            page.wait_for_selector('[data-testid="live-tile"]', timeout=10_000)
            tiles = page.locator('[data-testid="live-tile"]')
            assert tiles.count() == 4
            wait_for(
                lambda: page.evaluate(
                    "() => [...document.querySelectorAll('[data-testid=live-video]')].every(v => v.currentTime > 1)"
                ),
                30,
                what="video in every tile",
            )
            first = page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=live-video]')].map(v => v.currentTime)"
            )
            page.wait_for_timeout(2000)
            later = page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=live-video]')].map(v => v.currentTime)"
            )
            assert all(b > a + 1.0 for a, b in zip(first, later, strict=True)), (first, later)
            for i in range(4):
                tile = tiles.nth(i)
                cam = tile.get_attribute("data-camera")
                bits = tile.locator("video").evaluate(READ_CELLS)
                assert decode_cells(bits) == registry[cam], f"tile {i} shows {bits}, expected camera {cam}"
            page.screenshot(path=str(SHOTS / "live-wall.png"))

            page.goto(base + f"/#/playback?cams={victim['id']}&t={int(t_cut_ms) - 5000}")
            page.wait_for_selector('[data-testid="gap"][data-reason="unreachable"]', timeout=20_000, state="attached")
            gaps = page.eval_on_selector_all(
                '[data-testid="gap"]',
                "els => els.map(e => ({reason: e.dataset.reason, start: +e.dataset.startMs, end: +e.dataset.endMs}))",
            )
            cut_gaps = [g for g in gaps if g["reason"] == "unreachable"]
            assert any(
                abs(g["start"] - t_cut_ms) < 1500 and t_restore_ms <= g["end"] <= t_restore_ms + 10_000
                for g in cut_gaps
            ), gaps
            page.screenshot(path=str(SHOTS / "playback.png"))

            steady = sim_cams[0]["id"]
            page.goto(base + f"/#/exports?camera={steady}")
            page.wait_for_selector('[data-testid="export-form"]', timeout=10_000)
            page.fill('[data-testid="export-camera"]', steady)
            zone = ZoneInfo("Asia/Kathmandu")
            t_to = datetime.now(tz=zone) - timedelta(seconds=3)
            for testid, t in (("export-from", t_to - timedelta(seconds=6)), ("export-to", t_to)):
                page.fill(f'[data-testid="{testid}"]', t.strftime("%Y-%m-%dT%H:%M:%S"))
            page.fill("textarea[name=reason]", "browser test: incident 42")
            page.click('[data-testid="export-submit"]')
            result = page.wait_for_selector('[data-testid="export-result"]', timeout=60_000)
            assert result.get_attribute("data-status") == "pending", result.inner_text()  # four eyes
            export_id = result.get_attribute("data-id")
            sup = login(base, "sup")
            approved = post(base, f"/api/exports/{export_id}/approve", {"reason": "browser test"}, sup)
            assert approved["status"] == "ready"
            page.screenshot(path=str(SHOTS / "exports.png"))
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
            browser.close()
        assert not errors, errors

        folder = tmp_path / "export"
        folder.mkdir()
        for name in ("clip.mp4", "README.html", "manifest.json", "manifest.sig", "key.pub"):  # the page: issue 16
            req = urllib.request.Request(f"{base}/api/exports/{export_id}/files/{name}", headers={"Cookie": cookie})
            with urllib.request.urlopen(req, timeout=30) as resp:
                (folder / name).write_bytes(resp.read())
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["exported_by"] == "op" and manifest["camera"]["id"] == steady
        r = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    finally:
        server.terminate()
        server.wait(30)
