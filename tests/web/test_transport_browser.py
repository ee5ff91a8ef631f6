"""Origin checks and the Content-Security-Policy in real Chromium (issue 13, finding 9;
docs/design/transport-security.md).

A supervisor is signed in to the control room at http://127.0.0.1:PORT. A page on another port of the same host (the
same *site*, so the browser sends the SameSite=Strict session cookie) opens a WebSocket to the live view and posts
a form to approve a pending mask removal: both must be refused (before api/security.py both succeeded: the page
received live video and the mask was removed with one admin's request and a forged approval). Then the real control
room runs under its policy without a single violation: map, and live video that plays.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.api.test_control_room_e2e import PASSWORD, get, login, start_server
from tests.conftest import City, free_port, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM

QUARTER = [[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]]
# The attacker's page: a WebSocket to the victim's live view, whose events it records, and a form (no body, as an
# <img> or a link could not do) that approves the pending removal of a privacy mask.
ATTACK = """<!doctype html><title>cute cats</title>
<form id="f" method="POST" action="{base}/api/cameras/{camera}/mask/approve-removal"></form>
<script>
window.ws = {{opened: false, messages: 0, closed: false, code: null}};
const s = new WebSocket("{ws}/api/live/{camera}");
s.binaryType = "arraybuffer";
s.onopen = () => {{ window.ws.opened = true; }};
s.onmessage = () => {{ window.ws.messages += 1; }};
s.onclose = (e) => {{ window.ws.closed = true; window.ws.code = e.code; }};
</script>"""
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def _attacker(html: str) -> tuple[ThreadingHTTPServer, str]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _admin_call(base: str, method: str, path: str, cookie: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Cookie": cookie, "Origin": base},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_foreign_page_refused_and_control_room_under_csp(city_factory: Any) -> None:
    from playwright.sync_api import sync_playwright

    city: City = city_factory(1, h265_every=0)
    # before the server starts: a CLI's write beside the serving process's would race it for the audit log's next
    # index (docs/design/audit-log.md, "One writer per database"), which this test is not about
    city.env["CAMGRID_NEW_PASSWORD"] = PASSWORD  # the password of start_server's users
    city.run("users", "add", "admin", "--role", "admin")
    server, base = start_server(city)
    attacker: ThreadingHTTPServer | None = None
    try:
        masked = city.cameras()[0]["id"]  # one camera: its mask is pending removal, and it is the one watched live
        admin = login(base, "admin")
        _admin_call(base, "PUT", f"/api/cameras/{masked}/mask", admin, {"polygons": QUARTER})
        assert _admin_call(base, "DELETE", f"/api/cameras/{masked}/mask", admin)["removal_requested_by"] == "admin"
        wait_for(lambda: city.recording_since(masked, 0), 40, what="recording")
        attacker, evil = _attacker(ATTACK.format(base=base, ws="ws" + base[4:], camera=masked))

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context(viewport={"width": 1200, "height": 800})
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(base + "/")
            page.fill('[data-testid="login-username"]', "sup")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_function(
                "() => document.querySelector('[data-testid=camera-count]')?.textContent === '1'", timeout=20_000
            )

            # (a) The victim, signed in, visits the attacker's page in another tab.
            bad = context.new_page()
            bad.goto(evil + "/")
            bad.wait_for_function("() => window.ws.closed || window.ws.messages > 0", timeout=10_000)
            seen = bad.evaluate("() => window.ws")
            with bad.expect_navigation(url=f"{base}/api/cameras/{masked}/mask/approve-removal"):
                bad.evaluate("() => document.getElementById('f').submit()")
            answer = bad.inner_text("body")
            mask = get(base, f"/api/cameras/{masked}/mask", admin)
            assert (seen["opened"], seen["messages"], "refused" in answer, bool(mask["polygons"])) == (
                False,
                0,
                True,
                True,
            ), f"a foreign page got live video ({seen}) or approved the removal ({answer}; mask now {mask})"
            assert mask["removal_requested_by"] == "admin", mask
            bad.close()

            # (b) The real control room under the policy: the map (MapLibre's worker), then live video that plays.
            page.goto(base + f"/#/live?n=1&cams={masked}")
            page.wait_for_selector('[data-testid="live-tile"]', timeout=10_000)
            wait_for(
                lambda: page.evaluate("() => document.querySelector('[data-testid=live-video]')?.currentTime > 1"),
                20,
                what="live video playing",
            )
            # The other screens draw with inline colours (timeline gaps, report bars) and play from blob: URLs.
            page.goto(base + f"/#/playback?cams={masked}")
            page.wait_for_selector(
                '[data-testid="timeline"]:not([data-segments="0"])', timeout=15_000, state="attached"
            )
            page.goto(base + "/#/reports")
            page.wait_for_selector('[data-testid="report-table"]', timeout=15_000, state="attached")
            page.goto(base + "/#/incidents")
            page.wait_for_selector('[data-testid="incident-count"]', timeout=15_000, state="attached")
            violations = page.evaluate("() => window.__csp")
            # The control room's own state-changing requests still pass: Chromium sends Origin on a same-origin
            # POST (under Referrer-Policy: no-referrer it would send "Origin: null", refused). Sign out, body-less.
            page.click('[data-testid="logout"]')
            wait_for(
                lambda: page.evaluate("() => fetch('/api/auth/me').then(r => r.status)") == 401,
                10,
                what="the sign-out from the control room to end the session",
            )
            browser.close()
        assert violations == [], violations
        csp_lines = [m for m in console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        assert csp_lines == [], csp_lines
        assert not [m for m in console if m.startswith("pageerror")], console
    finally:
        if attacker is not None:
            attacker.shutdown()
        server.terminate()
        server.wait(30)
