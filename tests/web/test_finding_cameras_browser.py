"""Finding cameras in real Chromium (docs/design/finding-cameras.md): the live wall's search box finds a camera by its
site's or district's name and puts it on a tile; the camera tree shows districts > sites > cameras and a camera
dragged onto tile 2 shows there; a saved layout survives a reload and a new sign-in; a district viewer's search and
tree never show another district's cameras.

Each test fails on the code before it: the wall had one text box for comma-separated camera ids (no search, no
tree, no layouts: the selectors below never appear). One server and one browser for the module; no simulator and no
recorder (a tile need not play to show which camera it holds: its data-camera says).
"""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from camgrid.access import service as access
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from tests.backends import backend_env
from tests.conftest import CAMGRID, ROOT, free_port, wait_for
from tests.seeding import SEED, seed_log
from tests.web.test_control_room_browser import ARGS, CHROMIUM

PASSWORD = "finder-pass-4242"
SHOTS = ROOT / "artifacts" / "screens"
# district, site, street, cameras
CITY = [
    ("D-01", "S-A", "Tripureshwar Marg", ["a1", "a2", "a3"]),
    ("D-01", "S-B", "", ["b1", "b2"]),
    ("D-02", "S-C", "Kupondole Road", ["c1", "c2"]),
    ("D-02", "S-D", "", ["d1"]),
]
NAMES = {
    "districts": {"D-01": "Thapathali", "D-02": "Lalitpur"},
    "sites": {"S-A": "Bridge north", "S-C": "Patan bridge"},
}
SLOT = '[data-testid="wall-slot"][data-index="{}"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("finder")
    port = free_port()
    env = dict(os.environ) | backend_env(home)
    env |= {"CAMGRID_HOME": str(home), "CAMGRID_NEW_PASSWORD": PASSWORD, "CAMGRID_SERVER__PORT": str(port)}
    # Seeded in this process through the services and the installation's own audit log (three CLI runs took 15 s).
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    rows = [
        CameraIn(
            id=cam,
            name=f"camera {cam}",
            lat=27.690 + k * 0.001,
            lon=85.316 + j * 0.0005,
            district=district,
            site=site,
            feeder="F-1",
            uplink="U-1",
            rtsp_url=f"rtsp://127.0.0.1:9/{cam}",
            street=street,
        )
        for k, (district, site, street, cams) in enumerate(CITY)
        for j, cam in enumerate(cams)
    ]
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=rows, now_ns=0)
    for user, role, districts in (("op", "operator", None), ("dv", "viewer", ["D-01"])):
        with unit_of_work(factory) as s:
            access.create_user(
                session=s,
                audit=log,
                actor=SEED,
                username=user,
                password=PASSWORD,
                role=role,
                districts=districts,
                now_ns=0,
            )
    with engine.begin() as conn:
        for table, names in NAMES.items():
            for key, name in names.items():
                conn.execute(text(f"UPDATE {table} SET name = :n WHERE id = :i"), {"n": name, "i": key})
    engine.dispose()
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
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
        wait_for(up, 30, what="the server")
        assert proc.poll() is None, (home / "serve.log").read_text()[-2000:]
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is installed by `make test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _sign_in(page: Any, base: str, user: str, where: str = "#/live?n=4") -> None:
    page.goto(f"{base}/{where}")
    page.fill('[data-testid="login-username"]', user)
    page.fill('[data-testid="login-password"]', PASSWORD)
    page.click('[data-testid="login-submit"]')
    # A sign-in mounts the screen twice (main.ts: on the hash change, and again once the city is loaded): wait for
    # the city, after which the screen is mounted for good, or a box typed in may be replaced by an empty one.
    page.wait_for_function("() => document.querySelector('header .city')?.textContent", timeout=15_000)
    page.wait_for_selector('[data-testid="wall-slot"]', timeout=15_000)
    page.wait_for_selector('[data-testid="tree-district"]', timeout=15_000)


def _tiles(page: Any) -> list[str]:
    return list(page.eval_on_selector_all('[data-testid="wall-slot"]', "els => els.map(e => e.dataset.camera)"))


def _options(page: Any) -> list[str]:
    return list(page.eval_on_selector_all('[data-testid="picker-option"]', "els => els.map(e => e.dataset.camera)"))


def test_search_by_site_or_district_name_puts_the_camera_on_a_tile(server: str, browser: Any) -> None:
    """Old code: no search box (a text box of comma-separated ids); a site or district name found nothing."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _sign_in(page, server, "op")
    page.click(SLOT.format(1))  # select tile 2
    box = page.locator('[data-testid="wall-search"]')
    box.fill("patan")  # the site "Patan bridge" (id S-C)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=picker-option]').length === 2")
    assert sorted(_options(page)) == ["c1", "c2"]
    assert box.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")  # the second answer
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{SLOT.format(1)}[data-camera="c2"] [data-testid="live-tile"][data-camera="c2"]')
    # Then tile 3 is selected: a district's name (Lalitpur) and a street's find cameras there.
    box.fill("lalitpur")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=picker-option]').length === 3")
    assert sorted(_options(page)) == ["c1", "c2", "d1"]
    page.screenshot(path=str(SHOTS / "finder-search.png"))
    box.fill("tripureshwar a2")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=picker-option]').length === 1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{SLOT.format(2)}[data-camera="a2"]')
    assert _tiles(page)[1:3] == ["c2", "a2"]
    box.fill("no such camera")
    page.wait_for_selector('[data-testid="picker-footer"]')
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert "cams=,c2,a2," in page.url  # the wall is in the URL as it is
    page.close()


def test_tree_by_district_and_site_and_drag_onto_tile_2(server: str, browser: Any) -> None:
    """Old code: no camera tree, no drop on a tile."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _sign_in(page, server, "op")
    districts = page.eval_on_selector_all('[data-testid="tree-district"]', "els => els.map(e => e.dataset.name)")
    assert districts == ["Lalitpur", "Thapathali"]
    assert page.locator('[data-testid="tree-camera"]').count() == 0  # only expanded nodes are drawn
    page.click('[data-testid="tree-district"][data-name="Thapathali"] > .tree-row')
    sites = page.eval_on_selector_all('[data-testid="tree-site"]', "els => els.map(e => e.dataset.name)")
    assert sites == ["Bridge north", "S-B"]
    count = page.inner_text(
        '[data-testid="tree-district"][data-name="Thapathali"] > .tree-row [data-testid="tree-count"]'
    )
    assert count == "5"
    page.click('[data-testid="tree-site"][data-name="Bridge north"] > .tree-row')
    cams = page.eval_on_selector_all('[data-testid="tree-camera"]', "els => els.map(e => e.dataset.camera)")
    assert cams == ["a1", "a2", "a3"]
    page.drag_and_drop('[data-testid="tree-camera"][data-camera="a3"]', SLOT.format(1))
    page.wait_for_selector(f'{SLOT.format(1)}[data-camera="a3"] [data-testid="live-tile"][data-camera="a3"]')
    # The keyboard's way: tile 4 selected, then Enter on a camera of the tree.
    page.click(SLOT.format(3))
    page.focus('[data-testid="tree-camera"][data-camera="a1"]')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{SLOT.format(3)}[data-camera="a2"]')
    assert _tiles(page)[1] == "a3" and _tiles(page)[3] == "a2"
    page.screenshot(path=str(SHOTS / "finder-wall.png"))
    page.close()


def test_a_saved_layout_survives_a_reload_and_a_new_sign_in(server: str, browser: Any) -> None:
    """Old code: no layouts (a wall lived only in the URL of one browser)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _sign_in(page, server, "op", "#/live?n=9&cams=b2,,d1,c1")
    page.wait_for_selector(f'{SLOT.format(3)}[data-camera="c1"]')
    wall = _tiles(page)
    assert wall[:4] == ["b2", "", "d1", "c1"]
    page.fill('[data-testid="layout-name"]', "night shift")
    page.click('[data-testid="layout-save"]')
    page.wait_for_selector('[data-testid="layout-option"]', state="attached")
    page.reload()
    page.wait_for_selector('[data-testid="wall-slot"]')
    page.click('[data-testid="logout"]')
    page.wait_for_selector('[data-testid="login-form"]')
    _sign_in(page, server, "op", "#/live?n=4")
    page.wait_for_selector('[data-testid="layout-option"]', state="attached")
    page.select_option('[data-testid="layout-select"]', label="night shift")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=wall-slot]').length === 9")
    page.wait_for_selector(f'{SLOT.format(3)}[data-camera="c1"]')
    assert _tiles(page) == wall
    page.close()


def test_a_district_viewer_finds_only_their_cameras(server: str, browser: Any) -> None:
    """Old code: no search nor tree; here neither ever shows a camera of another district."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _sign_in(page, server, "dv")
    districts = page.eval_on_selector_all('[data-testid="tree-district"]', "els => els.map(e => e.dataset.name)")
    assert districts == ["Thapathali"]
    box = page.locator('[data-testid="wall-search"]')
    for q in ("lalitpur", "patan", "kupondole", "c1", "D-02"):
        box.fill(q)
        page.wait_for_selector('[data-testid="picker-footer"]')
        assert _options(page) == [], q
    box.fill("camera")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=picker-option]').length > 0")
    assert sorted(_options(page)) == ["a1", "a2", "a3", "b1", "b2"]
    page.close()
