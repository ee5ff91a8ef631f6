"""Finding cameras on the map in real Chromium (docs/design/map-at-city-scale.md): clusters with counts at low zoom,
the cameras of one site fanned out on click, labels and view cones at street zoom, and a camera panel opened right
after sign-in that stays open. One registry (no recorder) and one server for the module; the 62,000-camera panning
measurement lives in bench/control_room_pan.py, not here.
"""

from __future__ import annotations

import csv
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends import backend_env
from tests.conftest import CAMGRID, ROOT, free_port, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM

PASSWORD = "map-finder-password"
SHOTS = ROOT / "artifacts" / "screens"
SITE = (27.7005, 85.3190)  # four cameras at one point, looking four ways
SOLO = (27.7300, 85.3600)  # one camera far from the rest, with a view
FOUR = [f"four-{k}" for k in range(4)]
SPREAD = 120  # cameras on a grid around the site

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")


def _registry(path: Path) -> int:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url", "heading_deg"])
        for k, cid in enumerate(FOUR):
            w.writerow([cid, f"Four corner {k}", *SITE, "D-01", "S-FOUR", "F-1", "U-1", f"rtsp://10.0.1.{k}/s", 90 * k])
        w.writerow(["solo", "Solo gate", *SOLO, "D-02", "S-SOLO", "F-2", "U-2", "rtsp://10.0.2.1/s", 45])
        for i in range(SPREAD):
            lat, lon = 27.690 + (i // 12) * 0.0015, 85.305 + (i % 12) * 0.0018
            w.writerow(
                [f"g{i:03d}", f"grid {i}", lat, lon, "D-03", f"S-G{i}", "F-3", "U-3", f"rtsp://10.0.3.{i}/s", ""]
            )
    return len(FOUR) + 1 + SPREAD


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    home = tmp_path_factory.mktemp("map-finding")
    port = free_port()
    env = dict(os.environ) | backend_env(home)
    env |= {"CAMGRID_HOME": str(home), "CAMGRID_NEW_PASSWORD": PASSWORD, "CAMGRID_SERVER__PORT": str(port)}
    total = _registry(home / "cams.csv")
    for args in (("cameras", "import", str(home / "cams.csv")), ("users", "add", "op", "--role", "operator")):
        done = subprocess.run([*CAMGRID, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve", "--no-record"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return proc.poll() is not None

    try:
        wait_for(up, 60, what="the server")
        assert proc.poll() is None, (home / "serve.log").read_text()[-2000:]
        yield base, total
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _sign_in(page: Any, base: str) -> None:
    page.goto(base + "/")
    page.fill('[data-testid="login-username"]', "op")
    page.fill('[data-testid="login-password"]', PASSWORD)
    page.click('[data-testid="login-submit"]')


@pytest.fixture(scope="module")
def page(browser: Any, served: tuple[str, int]) -> Iterator[Any]:
    base, total = served
    p = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(p, base)
    p.wait_for_function(f"() => window.camgrid.stats.mapCameras === {total}", timeout=30_000)
    yield p
    assert not errors, errors
    p.close()


def _jump(page: Any, lat: float, lon: float, zoom: float) -> None:
    page.wait_for_function("() => window.camgrid.map && window.camgrid.map.getSource('base')")  # fitted to the city
    page.evaluate(f"() => window.camgrid.map.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    page.wait_for_function(
        f"() => Math.abs(window.camgrid.map.getZoom() - {zoom}) < 0.01 && window.camgrid.map.loaded()"
    )


def test_clusters_with_counts_sum_to_the_camera_count(page: Any, served: tuple[str, int]) -> None:
    """At low zoom the cameras draw as clusters whose counts add up to the cameras shown. The old map drew one dot
    per camera (no window.camgrid.mapClusters, no counts)."""
    _, total = served
    _jump(page, 27.705, 85.33, 11)
    page.wait_for_function(
        "() => { const c = window.camgrid.mapClusters && window.camgrid.mapClusters();"
        " return c && c.length > 0 && c.reduce((a, x) => a + x.count, 0) === "
        f"{total}; }}"
    )
    clusters = page.evaluate("() => window.camgrid.mapClusters()")
    assert page.inner_text('[data-testid="camera-count"]') == str(total)
    assert max(c["count"] for c in clusters) > 4, clusters  # real clusters, not one dot per camera
    assert len(clusters) < total / 4
    # State-aware: every cluster's per-state counts add up to its count (no recorder here: all "unknown").
    assert all(sum(c["byState"].values()) == c["count"] for c in clusters)
    assert sum(c["byState"]["unknown"] for c in clusters) == total
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-clusters.png"))


def test_a_site_of_four_fans_out_and_each_opens_its_panel(page: Any) -> None:
    """A click on a site with four cameras fans them out; each opens its own panel. The old map drew the four as one
    dot until zoom 22, and a click always opened the same one of them."""
    _jump(page, *SITE, 17)
    page.wait_for_function("() => window.camgrid.clusterXY && window.camgrid.clusterXY('four-0') !== null")
    x, y = page.evaluate("() => window.camgrid.clusterXY('four-0')")
    page.mouse.click(x, y)
    page.wait_for_selector('[data-testid="spider"][data-count="4"]', state="attached", timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-site-fanned-out.png"))
    opened = []
    for cid in FOUR:
        item = page.locator(f'[data-testid="spider-camera"][data-camera="{cid}"]')
        assert item.get_attribute("draggable") == "true"
        item.click()
        page.wait_for_selector(f'[data-testid="camera-panel"][data-camera="{cid}"]:not([hidden])', timeout=10_000)
        opened.append(page.get_attribute('[data-testid="camera-panel"]', "data-camera"))
    assert opened == FOUR
    page.keyboard.press("Escape")


def test_street_zoom_shows_labels_and_view_cones(page: Any) -> None:
    """At street zoom a camera with a heading has a label with its name and a view cone (a rendered feature of the
    cone layer, along its heading). The old map had neither."""
    _jump(page, *SOLO, 18)
    page.wait_for_selector('[data-testid="camera-label"][data-camera="solo"]', timeout=10_000)
    assert page.inner_text('[data-testid="camera-label"][data-camera="solo"]') == "Solo gate"
    cones = page.wait_for_function(
        "() => { const m = window.camgrid.map; if (!m.getLayer('camera-cones')) return null;"
        " const f = m.queryRenderedFeatures({layers: ['camera-cones']}).map(f => f.properties.camera);"
        " return f.includes('solo') ? f : null; }"
    ).json_value()
    assert "solo" in cones
    # The cone points north-east (heading 45): it is rendered north-east of the camera, not south-west of it.
    ne, sw = page.evaluate(
        f"""() => {{ const m = window.camgrid.map; const p = m.project([{SOLO[1]}, {SOLO[0]}]);
        const q = (dx, dy) => m.queryRenderedFeatures([p.x + dx, p.y + dy], {{layers: ['camera-cones']}}).length;
        return [q(25, -25), q(-25, 25)]; }}"""
    )
    assert ne > 0 and sw == 0, (ne, sw)
    # The four of the site share one label ("name +3") and show four cones.
    _jump(page, *SITE, 18)
    label = page.wait_for_selector('[data-testid="camera-label"][data-camera="four-0"]', timeout=10_000)
    assert label.inner_text() == "Four corner 0 +3"
    page.wait_for_function(
        "() => new Set(window.camgrid.map.queryRenderedFeatures({layers: ['camera-cones']})"
        ".map(f => f.properties.camera).filter(c => c.startsWith('four-'))).size === 4"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-street-labels-cones.png"))


def test_a_panel_opened_right_after_sign_in_stays_open(browser: Any, served: tuple[str, int]) -> None:
    """The camera panel opened just after sign-in stays open. The old app mounted the map twice after a sign-in (at
    the login's hash change, and again once GET /api/city answered), closing a panel opened in between; /api/city is
    slowed here (the sign-in's call only) so that the window is wide and the test does not depend on timing."""
    base, total = served
    p = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        p.add_init_script(
            """(() => { const f = window.fetch.bind(window); let first = true;
            window.fetch = (u, o) => {
              if (!String(u).endsWith('/api/city') || !first) return f(u, o);
              first = false;  // the sign-in's own call: the map's call is not slowed
              return new Promise(r => setTimeout(r, 3000)).then(() => f(u, o));
            }; })();"""
        )
        _sign_in(p, base)
        p.wait_for_function(f"() => window.camgrid.stats.mapCameras === {total}", timeout=30_000)
        _jump(p, *SOLO, 16)
        p.evaluate("() => { window.firstMap = window.camgrid.map; }")
        p.wait_for_function("() => window.camgrid.clusterXY && window.camgrid.clusterXY('solo') !== null")
        x, y = p.evaluate("() => window.camgrid.clusterXY('solo')")
        p.mouse.click(x, y)
        p.wait_for_selector('[data-testid="camera-panel"][data-camera="solo"]:not([hidden])', timeout=10_000)
        p.wait_for_function("() => document.title.startsWith('camgrid ·')", timeout=15_000)  # /api/city answered
        p.wait_for_selector('[data-testid="camera-details"]', timeout=10_000)
        assert p.is_visible('[data-testid="camera-panel"][data-camera="solo"]')
        assert p.evaluate("() => window.camgrid.map === window.firstMap")  # the same map, not a second mount
    finally:
        p.close()


def test_clusters_show_their_offline_cameras(page: Any) -> None:
    """A cluster counts its cameras per state (drawn as a ring, offline first): with a synthetic registry of mixed
    states, every offline camera is in some cluster's offline count. Runs last: it replaces the module's registry."""
    n = 20_000
    page.evaluate("() => window.camgrid.map.jumpTo({zoom: 13})")
    page.evaluate(f"() => window.camgrid.syntheticCameras({n})")
    page.wait_for_function(f"() => window.camgrid.stats.mapCameras === {n}")
    page.evaluate("() => window.camgrid.map.jumpTo({zoom: 12})")  # the synthetic cameras fill the view at zoom 13
    clusters = page.wait_for_function(
        f"() => {{ const c = window.camgrid.mapClusters(); return c.reduce((a, x) => a + x.count, 0) === {n} && c; }}"
    ).json_value()
    offline = int(page.inner_text('[data-testid="state-count-offline"]').strip("()"))
    assert offline > 0 and sum(c["byState"]["offline"] for c in clusters) == offline
    assert any(0 < c["byState"]["offline"] < c["count"] for c in clusters)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map-clusters-states.png"))
