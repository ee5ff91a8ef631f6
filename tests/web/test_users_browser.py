"""The admins' users screen in real Chromium (issue 13, "Users' whole life"; docs/design/users-life.md): the menu
offers it to admins only; an admin creates a user, ends an operator's sessions (the operator's open events socket
closes with 4401 within a second) and disables them, all from the screen. Served by a real uvicorn in the test."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.served import PASSWORD, serve
from tests.backends import TIMEOUT_SCALE
from tests.web.test_control_room_browser import ARGS, CHROMIUM


def _sign_in(page: object, base: str, user: str) -> None:
    page.goto(base + "/#/login")  # type: ignore[attr-defined]
    page.fill('[data-testid="login-username"]', user)  # type: ignore[attr-defined]
    page.fill('[data-testid="login-password"]', PASSWORD)  # type: ignore[attr-defined]
    page.click('[data-testid="login-submit"]')  # type: ignore[attr-defined]
    page.wait_for_selector('[data-testid="current-user"]:not(:empty)', timeout=15_000)  # type: ignore[attr-defined]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_admin_manages_users_from_the_screen(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    users: dict[str, tuple[str, list[str] | None]] = {"admin": ("admin", None), "op": ("operator", None)}
    with serve(tmp_path, users) as s, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            op_page = browser.new_context().new_page()
            op_page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(op_page, s.base, "op")
            assert op_page.locator('[data-testid="nav-users"]').is_hidden(), "the users screen offered to an operator"
            op_cookie = s.login("op")

            page = browser.new_context().new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            _sign_in(page, s.base, "admin")
            page.click('[data-testid="nav-users"]')
            page.wait_for_selector('[data-testid="user-row"][data-user="op"]', timeout=15_000)
            assert "argon2" not in page.content()

            page.fill('[data-testid="new-user-name"]', "kim")
            page.fill('[data-testid="new-user-password"]', PASSWORD)
            page.select_option('[data-testid="new-user-role"]', "supervisor")
            page.fill('[data-testid="new-user-districts"]', "D-01")
            page.click('[data-testid="new-user-submit"]')
            page.wait_for_selector('[data-testid="user-row"][data-user="kim"]', timeout=15_000)
            assert page.locator('[data-user="kim"] [data-testid="user-role"]').input_value() == "supervisor"

            with connect(s.ws_base + "/api/events", additional_headers={"Cookie": op_cookie}) as ws:
                assert '"hello"' in str(ws.recv(timeout=10))
                page.click('[data-user="op"] [data-testid="user-revoke"]')
                start, code = time.monotonic(), None
                try:
                    ws.recv(timeout=3 * TIMEOUT_SCALE)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd else None
                assert code == 4401, "the operator's open socket survived 'End sessions'"
                assert time.monotonic() - start <= 1.0 * TIMEOUT_SCALE
            page.wait_for_selector('[data-testid="users-status"]:has-text("ended")', timeout=10_000)

            page.click('[data-user="op"] [data-testid="user-disable"]')
            page.wait_for_selector('[data-testid="user-row"][data-user="op"][data-disabled="true"]', timeout=10_000)
            assert s.call("POST", "/api/auth/login", {"username": "op", "password": PASSWORD})[0] == 401
            # The operator's screen, next time it asks the server, is back at the login.
            op_page.reload()
            op_page.wait_for_selector('[data-testid="login-username"]', timeout=15_000)
            assert not errors, errors
        finally:
            browser.close()
