"""The control room's shell in real Chromium (docs/design/control-room-shell.md): the menu and routes follow the
role's screens as the server lists them, a new incident raises the Incidents badge (and a browser notification when
the user turned them on), the audit screen's date-time field takes 24-hour ISO city time, every screen fits 400 px
with the menu behind a button, and "?" opens the shortcut help.

One server for the module: uvicorn in a thread on an event loop of ours (so that the test can hand an incident event to
the connected control rooms the way the outage correlation does), a real database, one camera, no recorder.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import uvicorn

from camgrid.access import service as access
from camgrid.api.app import STATIC, create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.demo.servers import free_port
from camgrid.health.schemas import IncidentEvent
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import IncidentKind, Role
from tests.backends import backend_env, wait_for
from tests.seeding import SEED
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`"),
    pytest.mark.skipif(not (STATIC / "index.html").is_file(), reason="the control room is built by `make web-build`"),
]

PASSWORD = "shell-browser-password"
USERS = {"op": Role.OPERATOR, "aud": Role.AUDITOR, "view": Role.VIEWER, "adm": Role.ADMIN}
# Every screen, and a user who may open it.
SCREENS = {
    "map": "op", "live": "op", "playback": "op", "exports": "op", "incidents": "op", "reports": "op",
    "audit": "aud", "users": "adm", "cameras": "adm",
}  # fmt: skip
# Where a screen is opened for the 400 px check: a wall of two tiles (the second camera does not exist: a tile anyway).
ADDRESS = {"live": "live?n=4&cams=cam-a,cam-x"}
# The browser's own API, stubbed in the page: a test must not depend on a desktop's notification daemon.
NOTIFICATION_STUB = """
window.__notes = [];
window.__asked = 0;
window.Notification = class {
  constructor(title, opts) { window.__notes.push({ title, body: (opts || {}).body || "" }); }
  static async requestPermission() { window.__asked++; window.Notification.permission = "granted"; return "granted"; }
};
window.Notification.permission = "default";
"""


@dataclass
class Served:
    base: str
    ctx: AppContext
    loop: asyncio.AbstractEventLoop
    browser: Any

    pages: dict[str, Any] = field(default_factory=dict)

    def page(self, user: str) -> Any:
        """The module's page signed in as ``user`` (signed in once: a login costs a password hash on a busy box)."""
        if user in self.pages:
            return self.pages[user]
        context = self.browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(NOTIFICATION_STUB)
        page = context.new_page()
        page.goto(self.base + "/")
        page.fill('[data-testid="login-username"]', user)
        page.fill('[data-testid="login-password"]', PASSWORD)
        page.click('[data-testid="login-submit"]')
        page.wait_for_function("() => document.title.includes('·')")  # signed in: the city loaded, map routed
        self.pages[user] = page
        return page

    def push(self, message: str) -> None:
        """Hand a message to every connected events socket, on the server's loop (as the incident pump does)."""
        self.loop.call_soon_threadsafe(self.ctx.states.publish, [message])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("shell")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = AuditLog.open(engine, home=settings.home, clock=SystemClock())
    cam = CameraIn(
        id="cam-a", name="cam-a", lat=27.69, lon=85.31, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url="rtsp://10.0.0.1/a",
    )  # fmt: skip
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=[cam], now_ns=0)
    for name, role in USERS.items():
        with unit_of_work(factory) as s:
            access.create_user(
                session=s, audit=log, actor=SEED, username=name, password=PASSWORD, role=role, districts=None,
                now_ns=0,
            )  # fmt: skip
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock(), audit=log)
    app = create_app(ctx)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(server.serve()), daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, what="the server")
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                yield Served(f"http://127.0.0.1:{port}", ctx, loop, browser)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        log.close()
        engine.dispose()


def _shown(page: Any, testid: str) -> bool:
    return bool(page.is_visible(f'[data-testid="{testid}"]'))


def test_menu_and_routes_follow_the_role(served: Served) -> None:
    """Old behaviour caught: the menu ignored the role (an auditor saw Live wall, whose tiles said "retrying..." for
    ever; a viewer saw Playback, Exports, Incidents and Reports, all 403) and typing such a screen's address mounted
    it anyway. Now the menu is the server's list of the role's screens and the address shows the not-allowed screen."""
    aud = served.page("aud")
    assert _shown(aud, "nav-audit") and _shown(aud, "nav-map")
    assert not _shown(aud, "nav-live")
    aud.goto(served.base + "/#/live")
    aud.wait_for_selector('[data-testid="not-allowed"][data-screen="live"]')
    assert aud.locator('[data-testid="live-tile"]').count() == 0
    aud.screenshot(path=str(SHOTS / "shell-not-allowed.png"))

    view = served.page("view")
    assert _shown(view, "nav-live") and _shown(view, "nav-map")
    for screen in ("playback", "exports", "incidents", "reports", "audit", "users", "cameras"):
        assert not _shown(view, f"nav-{screen}"), screen
    for screen in ("playback", "exports", "incidents", "reports"):
        view.goto(served.base + f"/#/{screen}")
        view.wait_for_selector(f'[data-testid="not-allowed"][data-screen="{screen}"]')


def test_new_incident_raises_the_badge_and_notifies(served: Served) -> None:
    """Old behaviour caught: nothing showed a new incident outside the Incidents screen (no badge, no sound, no
    notification). Now the Incidents entry counts the open incidents live from the events socket, and a user who
    turned notifications on (the permission asked on that click) gets a browser notification."""
    page = served.page("op")
    page.wait_for_selector('[data-testid="incident-badge"][data-ready]', state="attached")
    assert page.get_attribute('[data-testid="incident-badge"]', "data-count") == "0"
    page.click('[data-testid="alerts-button"]')
    assert page.evaluate("() => window.__asked") == 0  # never asked before the user's click
    page.check('[data-testid="setting-notify"]')
    page.wait_for_function("() => window.__asked === 1 && window.Notification.permission === 'granted'")
    assert page.is_checked('[data-testid="setting-notify"]')
    wait_for(lambda: len(served.ctx.states.subscribers) > 0, 20, what="the page's events socket")
    now_ms = int(time.time() * 1000)
    event = IncidentEvent(
        id=9001, kind=IncidentKind.CAMERA, subject="cam-a", opened_ms=now_ms, resolved_ms=None, confidence=1.0,
        n_members=1, reason=None, flaps=0, evidence="", merged_into_id=None, acknowledged_ms=None,
        acknowledged_by=None, cameras=["cam-a"], unexplained=[], suggestions=[], actions=[],
    )  # fmt: skip
    served.push(event.model_dump_json())
    page.wait_for_function("() => document.querySelector('[data-testid=incident-badge]').dataset.count === '1'")
    assert page.is_visible('[data-testid="incident-badge"]')
    page.wait_for_function("() => window.__notes.length === 1")
    note = page.evaluate("() => window.__notes[0]")
    assert "cam-a" in note["body"], note
    page.screenshot(path=str(SHOTS / "shell-incident-badge.png"))
    # The setting is the user's: a reload keeps it on, and the permission is not asked again.
    page.reload()
    page.wait_for_selector('[data-testid="incident-badge"][data-ready]', state="attached")
    page.click('[data-testid="alerts-button"]')
    assert page.is_checked('[data-testid="setting-notify"]')
    page.click('[data-testid="alerts-button"]')


def test_audit_date_input_takes_iso_city_time(served: Served) -> None:
    """Old behaviour caught: the audit screen's from/to were the browser's datetime-local (US "12/02/2026, 08:04 AM"
    in this locale; typing "2026-12-02 08:04" into it is refused). Now the field takes 24-hour ISO city time and the
    search sends the UTC milliseconds of that instant in the city's zone (Asia/Kathmandu, UTC+05:45)."""
    page = served.page("aud")
    page.goto(served.base + "/#/audit")
    page.wait_for_selector('[data-testid="audit-status"]:has-text("entr")')
    page.fill('[data-testid="audit-from"]', "2026-13-02 08:04")
    page.click('[data-testid="audit-search-go"]')
    page.wait_for_selector('[data-testid="audit-from-error"]:not(:empty)')
    page.fill('[data-testid="audit-from"]', "2026-12-02 08:04")
    with page.expect_request(lambda r: "/api/audit/entries?" in r.url and "from_ms=" in r.url) as req:
        page.click('[data-testid="audit-search-go"]')
    sent = parse_qs(urlparse(req.value.url).query)
    expected = int(datetime(2026, 12, 2, 2, 19, tzinfo=UTC).timestamp() * 1000)  # 08:04 at UTC+05:45
    assert sent["from_ms"] == [str(expected)], sent
    page.screenshot(path=str(SHOTS / "shell-audit-date.png"))


def test_every_screen_fits_400px_and_the_menu_folds(served: Served) -> None:
    """Old behaviour caught: at 400 px half the menu was off-screen (the page scrolled sideways) and the wall kept
    its 2x2 grid of quarter-width tiles. Now no screen scrolls horizontally, the wall's tiles stack, and the menu is
    behind a menu button that opens it."""
    pages = {user: served.page(user) for user in set(SCREENS.values())}
    wide: list[str] = []
    try:
        for page in pages.values():
            page.set_viewport_size({"width": 400, "height": 800})
        for screen, user in SCREENS.items():
            page = pages[user]
            page.goto(served.base + "/#/" + ADDRESS.get(screen, screen))
            page.wait_for_selector(f'main[data-screen="{screen}"] > .screen')
            page.wait_for_load_state("networkidle")
            size = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if size[0] > size[1]:
                wide.append(f"{screen}: {size}")
            page.screenshot(path=str(SHOTS / f"shell-400-{screen}.png"))
            if screen == "live":  # the wall's tiles stack, each the page's width
                boxes = [t.bounding_box() for t in page.locator('[data-testid="live-tile"]').all()]
                assert len(boxes) == 2, boxes
                assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1, boxes
                assert all(b["width"] > 350 for b in boxes), boxes
        assert not wide, wide
        page = pages["op"]
        assert not page.is_visible('[data-testid="nav-incidents"]')
        page.click('[data-testid="menu-button"]')
        page.wait_for_selector('[data-testid="nav-incidents"]', state="visible")
        page.screenshot(path=str(SHOTS / "shell-400-menu.png"))
        page.click('[data-testid="nav-incidents"]')
        page.wait_for_selector('main[data-screen="incidents"]')
        assert not page.is_visible('[data-testid="nav-map"]')  # the menu closed on the way
    finally:
        for page in pages.values():
            page.set_viewport_size({"width": 1280, "height": 800})


def test_question_mark_opens_the_shortcut_help(served: Served) -> None:
    """Old behaviour caught: no help for the shortcuts ("?" did nothing). Now "?" lists the current screen's
    shortcuts (the wall's layout keys on the live wall) and Escape closes the dialog."""
    page = served.page("op")
    page.goto(served.base + "/#/live")
    page.wait_for_selector('[data-testid="live-wall"]')
    page.keyboard.press("?")
    page.wait_for_selector('[data-testid="shortcut-help"]', state="visible")
    actions = page.eval_on_selector_all('[data-testid="shortcut"]', "els => els.map(e => e.dataset.action)")
    assert "shell.keys.wall_layout" in actions and "shell.keys.help" in actions, actions
    page.screenshot(path=str(SHOTS / "shell-help.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector('[data-testid="shortcut-help"]', state="detached")
