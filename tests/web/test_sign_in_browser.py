"""Two-factor sign-in in real Chromium against a real ``camgrid serve`` (docs/design/sign-in.md): a supervisor
enrolled with ``camgrid users 2fa enrol`` signs in with a password and then a code (a wrong code first is refused on
the screen); an admin at their first login enrols in the browser (the key shown as text, with recovery codes) and
signs in with the code the key gives, then resets the supervisor's lost second factor on the users screen."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pyotp
import pytest

from tests.conftest import CAMGRID, ROOT, free_port, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM

PASSWORD = "browser-2fa-password"
SHOTS = ROOT / "artifacts" / "screens"


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CAMGRID, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_sign_in_with_a_code_and_enrol_at_first_login(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.backends import backend_env

    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ) | backend_env(tmp_path)
    env |= {
        "CAMGRID_HOME": str(tmp_path),
        "CAMGRID_NEW_PASSWORD": PASSWORD,
        "CAMGRID_SERVER__PORT": str(port),
        "CAMGRID_ACCESS__TWO_FACTOR": "true",
    }
    _cli(env, "users", "add", "sup", "--role", "supervisor")
    _cli(env, "users", "add", "boss", "--role", "admin")
    found = re.search(r"^secret: (\S+)$", _cli(env, "users", "2fa", "enrol", "sup"), re.M)
    assert found
    sup_secret = found.group(1)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return proc.poll() is not None  # died: fail below with its log

    try:
        wait_for(up, 30, what="the server")
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            me = "() => fetch('/api/auth/me').then(r => r.ok ? r.json() : r.status)"

            # A supervisor enrolled by the administrator: password, then a code.
            page.goto(base + "/")
            page.fill('[data-testid="login-username"]', "sup")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="login-code"]', timeout=10_000)
            assert page.evaluate(me) == 401  # the password alone gives no session
            page.fill('[data-testid="login-code"]', "000000")
            page.click('[data-testid="login-code-submit"]')
            page.wait_for_selector('[data-testid="login-code-error"]:not(:empty)', timeout=10_000)
            page.fill('[data-testid="login-code"]', pyotp.TOTP(sup_secret).now())
            page.click('[data-testid="login-code-submit"]')
            page.wait_for_selector('[data-testid="login-code-form"]', state="detached", timeout=10_000)
            assert page.evaluate(me)["role"] == "supervisor"
            page.context.clear_cookies()

            # An admin at their first login: enrol in the browser, then the code from the key shown.
            page.goto(base + "/")
            page.fill('[data-testid="login-username"]', "boss")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="enrol-secret"]', timeout=10_000)
            secret = page.inner_text('[data-testid="enrol-secret"]').strip()
            uri = page.inner_text('[data-testid="enrol-uri"]').strip()
            assert uri.startswith("otpauth://totp/camgrid:boss?") and f"secret={secret}" in uri
            assert page.locator('[data-testid="enrol-recovery"] li').count() == 10
            page.screenshot(path=str(SHOTS / "enrol-2fa.png"))
            page.fill('[data-testid="login-code"]', pyotp.TOTP(secret).now())
            page.click('[data-testid="login-code-submit"]')
            page.wait_for_selector('[data-testid="login-code-form"]', state="detached", timeout=10_000)
            assert page.evaluate(me)["role"] == "admin"

            # The admin resets the supervisor's lost second factor on the users screen.
            page.on("dialog", lambda d: d.accept())
            page.goto(base + "/#/users")
            row = '[data-testid="user-row"][data-user="sup"]'
            page.wait_for_selector(row, timeout=15_000)
            page.click(f'{row} [data-testid="user-2fa-reset"]')
            page.wait_for_selector(
                '[data-testid="users-status"]:has-text("second factor of sup reset")', timeout=10_000
            )
            page.context.clear_cookies()
            page.goto(base + "/")
            page.fill('[data-testid="login-username"]', "sup")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="enrol-secret"]', timeout=10_000)  # enrols anew
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
