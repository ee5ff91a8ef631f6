"""H.265 cameras in Debian's Chromium, which cannot decode H.265: the server makes H.264 for it (issue 16, part 4).

Before: a live tile of an H.265 camera said "this browser cannot decode H.265" and stayed black, and playback of
its recording failed the same way. Now the tile asks for ``?codec=h264``, the server transcodes (one transcode per
stream, shared by its viewers, stopped when the last leaves) and the tile's badge says so. One city (two H.265
cameras), one server and one browser serve every test of this module.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_control_room_e2e import login, start_server
from tests.conftest import CAMGRID, City, Proc, make_city, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM, READ_CELLS, SHOTS, decode_cells

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
# One live transcode at a time in this server: the third viewer (another camera) is told so.
ENV = {"CAMGRID_RECORDER__SEGMENT_SECONDS": "4", "CAMGRID_LIVE__MAX_TRANSCODES": "1"}
H265_PROBE = 'video/mp4; codecs="hvc1.1.6.L93.B0"'
ADVANCING = """(sel) => new Promise((ok) => {
  const v = document.querySelector(sel);
  if (!v || v.currentTime === 0) return ok(false);
  const t = v.currentTime;
  setTimeout(() => ok(v.currentTime > t + 0.3), 600);
})"""


@dataclass
class Site:
    city: City
    base: str
    cookie: str
    registry: dict[str, int]  # camera id → the index its pictures show in their id cells
    context: Any  # a browser context signed in as the operator (one sign-in for the module)


def _start_city(tmp: Path) -> City:
    """As tests/conftest.py's city_factory, once for the module: two cameras, both H.265."""
    city = make_city(tmp, 2, h265_every=1, extra_env=ENV)
    log = city.home / "sim.log"
    popen = subprocess.Popen(
        [*CAMGRID, "sim", "--count", "2", "--out", str(city.registry), "--truth", str(city.home / "truth.jsonl")],
        env=city.env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    city.sim = Proc(popen, log)
    wait_for(lambda: "ready" in city.sim.text() or popen.poll() is not None, 300, what="the simulator")  # type: ignore[union-attr]
    assert popen.poll() is None, city.sim.text()
    city.run("cameras", "import", str(city.registry))
    return city


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    city = _start_city(tmp_path_factory.mktemp("h265"))
    server, base = start_server(city)
    try:
        registry = {c["id"]: i + 1 for i, c in enumerate(city.cameras())}
        wait_for(lambda: all(city.recording_since(c, 0) for c in registry), 40, what="recording")
        assert {s.codec for s in city.segments()} == {"h265"}, city.segments()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            cookie = login(base)
            context = browser.new_context(viewport={"width": 1000, "height": 700})
            name, value = cookie.split("=", 1)
            context.add_cookies([{"name": name, "value": value, "url": base}])
            yield Site(city, base, cookie, registry, context)
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
        if city.sim is not None:
            city.sim.stop()


def _page(site: Site, screen: str) -> Any:
    page = site.context.new_page()
    page.goto(site.base + "/#/" + screen)
    assert page.evaluate(f"() => MediaSource.isTypeSupported({json.dumps(H265_PROBE)})") is False, (
        "this Chromium decodes H.265: the test would not exercise the transcode"
    )
    return page


def _transcodes(site: Site) -> dict[str, Any]:
    req = urllib.request.Request(site.base + "/api/live/transcodes", headers={"Cookie": site.cookie})
    with urllib.request.urlopen(req, timeout=10) as resp:
        doc: dict[str, Any] = json.loads(resp.read())
    return doc


def _wait_live(page: Any, camera: str) -> None:
    tile = f'[data-testid="live-tile"][data-camera="{camera}"]'
    page.wait_for_function(f"() => document.querySelector('{tile} video')?.currentTime > 1", timeout=40_000)
    page.wait_for_function(ADVANCING, arg=f"{tile} video", timeout=20_000, polling=700)


def test_h265_live_tile_shows_moving_pictures_through_the_server_transcode(site: Site) -> None:
    """Old code: the tile stayed black with "this browser cannot decode H.265" (data-state=undecodable)."""
    camera = next(iter(site.registry))
    page = _page(site, f"live?n=1&cams={camera}")
    _wait_live(page, camera)
    tile = page.locator(f'[data-testid="live-tile"][data-camera="{camera}"]')
    assert tile.get_attribute("data-state") == "playing"
    bits = tile.locator("video").evaluate(READ_CELLS)
    assert decode_cells(bits) == site.registry[camera], f"shows {bits}, expected camera {camera}"
    badge = tile.locator('[data-testid="tile-path"]')
    assert badge.get_attribute("data-path") == "h264-transcode"
    assert badge.inner_text() == "H.265 → H.264 (server)"
    page.screenshot(path=str(SHOTS / "h265-live.png"))
    page.close()


def test_two_viewers_share_one_transcode_which_stops_when_both_leave(site: Site) -> None:
    """Old code: no transcode at all (GET /api/live/transcodes did not exist: 404). Beyond live.max_transcodes the
    tile says "transcode limit reached" (never a silent black tile)."""
    other, camera = list(site.registry)
    wait_for(lambda: not _transcodes(site)["running"], 20, what="no transcode left from an earlier test")
    started = _transcodes(site)["started"]
    pages = [_page(site, f"live?n=1&cams={camera}") for _ in range(2)]
    for page in pages:
        _wait_live(page, camera)
    doc = _transcodes(site)
    assert [(t["key"], t["viewers"]) for t in doc["running"]] == [(f"{camera}#h264", 2)], doc
    assert doc["started"] == started + 1, doc
    assert doc["running"][0]["frames_out"] > 0
    third = _page(site, f"live?n=1&cams={other}")
    third.wait_for_selector(f'[data-testid="live-tile"][data-camera="{other}"][data-state="limit"]', timeout=20_000)
    assert "transcode limit reached" in third.locator('[data-testid="tile-message"]').inner_text()
    third.close()
    for page in pages:
        page.close()
    wait_for(lambda: not _transcodes(site)["running"], 15, what="the transcode to stop after the last viewer left")


def test_h265_recording_plays_back_through_the_server_transcode(site: Site) -> None:
    """Old code: playback of an H.265 recording said "this browser cannot decode H.265" and showed nothing."""
    camera = next(iter(site.registry))
    wait_for(lambda: site.city.recording_since(camera, 0), 10, what="recording")
    t_ms = int(time.time() * 1000) - 9000  # inside a closed 4 s segment
    page = _page(site, f"playback?cams={camera}&t={t_ms}")
    page.wait_for_selector('[data-testid="playback-video"]', state="attached", timeout=20_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=playback-video]'); return v && v.readyState >= 2 }",
        timeout=30_000,
    )
    page.click('[data-testid="play"]')
    page.wait_for_function(ADVANCING, arg='[data-testid="playback-video"]', timeout=20_000, polling=700)
    video = page.locator('[data-testid="playback-video"]')
    bits = video.evaluate(READ_CELLS)
    assert decode_cells(bits) == site.registry[camera], f"shows {bits}, expected camera {camera}"
    badge = page.locator('[data-testid="playback-tile"] [data-testid="tile-path"]')
    assert badge.get_attribute("data-path") == "h264-transcode"
    page.screenshot(path=str(SHOTS / "h265-playback.png"))
    page.close()
