"""The auditor's screen in real Chromium (docs/design/auditor-screen.md): an auditor logs in, searches the log, and
the browser itself verifies each entry (leaf hash from its canonical bytes, inclusion path to the root, the
checkpoint's Ed25519 signature with WebCrypto); the log exports as a zip that ``camgrid audit verify``'s function
accepts; then one entry is rewritten in the database and the browser's check of it fails (and so does a new export,
naming the entry). Real HTTP (uvicorn), real database, real Chromium; no recorder is needed."""

from __future__ import annotations

import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, text

from camgrid.access import service as access
from camgrid.api.app import STATIC, create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.audit.verify import verify_export
from camgrid.auditing import Entry
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction, Role
from tests.backends import backend_env, wait_for
from tests.seeding import SEED
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS

PASSWORD = "auditor-browser-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, base: str, engine: Engine, log: AuditLog, target: int) -> None:
        self.base, self.engine, self.log, self.target = base, engine, log, target


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
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
    with unit_of_work(factory) as s:
        access.create_user(
            session=s, audit=log, actor=SEED, username="aud", password=PASSWORD, role=Role.AUDITOR, districts=None,
            now_ns=0,
        )  # fmt: skip
    target = 0
    for k in range(5):
        i = log.append(Entry(who="op", action=AuditAction.PLAYBACK, camera="cam-a", details={"n": k}))
        target = i if k == 2 else target
    log.checkpoint()
    app = create_app(AppContext(settings=settings, factory=factory, clock=SystemClock(), audit=log))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, what="the server")
    try:
        yield Served(f"http://127.0.0.1:{port}", engine, log, target)
    finally:
        server.should_exit = True
        thread.join(10)
        log.close()
        engine.dispose()


def _cell(target: int) -> str:
    return f'[data-testid="audit-check-{target}"]'


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
@pytest.mark.skipif(not (STATIC / "index.html").is_file(), reason="the control room is built by `make web-build`")
def test_auditor_verifies_entries_in_the_browser_and_sees_a_rewrite_fail(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(served.base + "/")
            page.fill('[data-testid="login-username"]', "aud")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="nav-audit"]:not([hidden])', timeout=10_000)
            page.wait_for_function("() => document.title.includes('·')")  # signed in: the city loaded, map routed
            page.click('[data-testid="nav-audit"]')
            page.wait_for_selector('[data-testid="audit-fingerprint"]', timeout=10_000)
            page.wait_for_function(
                "() => /entr/.test(document.querySelector('[data-testid=audit-status]').textContent)"
            )
            page.fill('[data-testid="audit-camera"]', "cam-a")
            page.fill('[data-testid="audit-action"]', AuditAction.PLAYBACK)
            page.click('[data-testid="audit-search-go"]')
            page.wait_for_selector(f'{_cell(served.target)}[data-result="ok"]', timeout=15_000)
            assert "✓" in page.inner_text(_cell(served.target))
            rows = page.eval_on_selector_all('[data-testid^="audit-check-"]', "els => els.map(e => e.dataset.result)")
            assert len(rows) == 5, rows
            all_ok = (
                "[...document.querySelectorAll('[data-testid^=audit-check-]')].every(e => e.dataset.result === 'ok')"
            )
            page.wait_for_function(f"() => {all_ok}", timeout=15_000)
            page.click('[data-testid="audit-cons-go"]')
            page.wait_for_selector('[data-testid="audit-cons-result"][data-result]', timeout=10_000)
            cons = '[data-testid="audit-cons-result"]'
            assert page.get_attribute(cons, "data-result") == "ok", page.inner_text(cons)
            page.select_option('[data-testid="audit-column"]', "playbacks")
            plot = '[data-testid="audit-transparency-plot"]'
            page.wait_for_selector(
                f'{plot} rect[data-district="D-01"][data-value="5"]', state="attached", timeout=10_000
            )

            with page.expect_download(timeout=15_000) as dl:
                page.click('[data-testid="audit-export"]')
            zipped = tmp_path / "log.zip"
            dl.value.save_as(zipped)
            zipfile.ZipFile(zipped).extractall(tmp_path / "log")
            result = verify_export(tmp_path / "log", key_text=served.log.signer.verifier.text())
            assert result.ok, result.message

            # A rewrite of one entry in the database (who did it), leaving its stored hash alone.
            with served.engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE audit_entries SET who = 'nobody', data = replace(data, '\"who\":\"op\"', "
                        '\'"who":"nobody"\') WHERE idx = :i'
                    ),
                    {"i": served.target},
                )
            page.click('[data-testid="audit-search-go"]')
            page.wait_for_selector(f'{_cell(served.target)}[data-result="failed"]', timeout=15_000)
            assert "FAILED" in page.inner_text(_cell(served.target))
            wait_for(
                lambda: all(
                    r in ("ok", "failed")
                    for _, r in page.eval_on_selector_all(
                        '[data-testid^="audit-check-"]', "els => els.map(e => [e.dataset.testid, e.dataset.result])"
                    )
                ),
                15,
                what="every row checked",
            )
            others = page.eval_on_selector_all(
                '[data-testid^="audit-check-"]', "els => els.map(e => [e.dataset.testid, e.dataset.result])"
            )
            assert [t for t, r in others if r != "ok"] == [f"audit-check-{served.target}"], others
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "auditor.png"), full_page=True)

            with page.expect_download(timeout=15_000) as dl:
                page.click('[data-testid="audit-export"]')
            dl.value.save_as(tmp_path / "log2.zip")
            zipfile.ZipFile(tmp_path / "log2.zip").extractall(tmp_path / "log2")
            bad = verify_export(tmp_path / "log2", key_text=served.log.signer.verifier.text())
            assert not bad.ok and bad.first_bad == served.target, bad.message
            assert not errors, errors
        finally:
            browser.close()
