"""The control room in the city's own languages, in real Chromium (issue 16, languages; docs/design/languages.md).

One server (Kabul's time zone, the city's default language Dari), a supervisor, an admin and an auditor each signed in
once (each screen seen by a role that has it); every screen in English,
Dari, Pashto and Nepali, each screenshot kept under artifacts/screens/i18n/<lang>/<screen>.png. It fails when:
- a user with no choice of their own does not get the city's language after signing in (main: English only);
- the language chosen in the settings menu is not applied without a reload, or not kept on the server;
- Dari or Pashto is not laid out right to left (<html dir="rtl" lang>), or Persian/Devanagari digits are not used;
- the fonts for Arabic script and Devanagari are not served by camgrid itself (CSP font-src 'self');
- a screen in Dari shows an English string: the visible text is compared with the English catalogs (any English
  catalog word on the screens converted so far; the header on the screens other helpers are converting).
On main's bundle the first check already fails: there is no Dari, the page stays English and left to right.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from camgrid.registry.schemas import CameraIn
from tests.api.served import PASSWORD, serve
from tests.conftest import ROOT
from tests.web.test_control_room_browser import ARGS, CHROMIUM

LOCALES = ROOT / "web" / "src" / "locales"
SHOTS = ROOT / "artifacts" / "screens" / "i18n"
LANGS = ("fa-AF", "ps", "ne", "en")
# Screen -> what shows it is drawn. The screens after PENDING are being converted by other helpers today: only the
# header is checked there until their branches land (then move them up; web/tests/i18n-catalogs.test.ts has the list).
SCREENS: dict[str, str] = {
    "incidents": '[data-testid="incident-count"]:not(:empty)',
    "users": '[data-testid="user-row"]',
    "cameras": '[data-testid="discover-panel"]',
    "audit": '[data-testid="audit-results"]',
    "map": '[data-testid="map"] canvas',
    "live": 'main[data-screen="live"] > *',
    "playback": 'main[data-screen="playback"] > *',
    "exports": 'main[data-screen="exports"] > *',
    "reports": 'main[data-screen="reports"] > *',
}
PENDING = {"live"}
# Who sees a screen (the others' are the supervisor's): users and cameras are the admins', the log the auditors'.
VIEWER_OF = {"users": "ahmad", "cameras": "ahmad", "audit": "nazir"}
HEADER_ONLY = PENDING
# Words that are the same in Dari: names of protocols, codecs and the product (they are in the Dari catalogs too).
SAME_IN_DARI = {"camgrid", "HTTP", "RTSP", "ONVIF", "Profile", "otpauth", "URI", "English"}
# Screen-specific words from the data (user names, camera ids) never in a catalog: none here (names chosen so).


def _catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in sorted((LOCALES / lang).glob("*.json")):
        out.update(json.loads(f.read_text()))
    return out


def _english_words() -> set[str]:
    """Words of 4+ Latin letters in English catalog values that Dari does not use as they are."""
    en, fa = _catalog("en"), _catalog("fa-AF")
    dari_words = {w for v in fa.values() for w in re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", v))}
    words = set()
    for key, value in en.items():
        if fa.get(key) == value:
            continue
        words |= set(re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", value)))
    return words - dari_words - SAME_IN_DARI


def _untranslated(text: str, words: set[str]) -> list[str]:
    # Variables are isolated (FSI…PDI) in right-to-left text: ids, names and commands are data, not UI words.
    text = re.sub("\u2068[^\u2069]*\u2069", " ", text)
    # Dotted codes (the audit log's actions: "user.settings", "live.start") are what an auditor types in its filter.
    text = re.sub(r"\b[a-z0-9_]+(?:\.[a-z0-9_]+)+\b", " ", text)
    return sorted({w for w in re.findall(r"[A-Za-z]{4,}", text) if w in words})


def _visible(page: Any, selector: str) -> str:
    """The element's text without commands and codes (<code>, <pre>: the same in every language)."""
    script = (
        "el => { let t = el.innerText; for (const c of el.querySelectorAll('code, pre'))"
        " if (c.innerText) t = t.split(c.innerText).join(' '); return t; }"
    )
    return str(page.eval_on_selector(selector, script))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_every_screen_in_every_language(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    users: dict[str, tuple[str, list[str] | None]] = {
        "zarghuna": ("supervisor", None),
        "ahmad": ("admin", None),
        "nazir": ("auditor", None),
    }
    cams = (
        CameraIn(
            id="kbl-001", name="kbl-001", lat=34.53, lon=69.17, district="D-01", site="S-1", feeder="F-1",
            uplink="U-1", rtsp_url="rtsp://10.0.0.1/a",
        ),
    )  # fmt: skip
    english = _english_words()
    env = {"CAMGRID_TIMEZONE": "Asia/Kabul", "CAMGRID_LANGUAGE": "fa-AF"}
    with serve(tmp_path, users, cams, **env) as s, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            fonts: dict[str, int] = {}

            def sign_in(user: str) -> Any:
                page = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 700}).new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
                page.on(
                    "response",
                    lambda r: fonts.__setitem__(r.url.rsplit("/", 1)[-1], r.status) if "/fonts/" in r.url else None,
                )
                page.goto(s.base + "/#/login")
                page.fill('[data-testid="login-username"]', user)
                page.fill('[data-testid="login-password"]', PASSWORD)
                page.click('[data-testid="login-submit"]')
                page.wait_for_selector('[data-testid="current-user"]:not(:empty)', timeout=15_000)
                # No choice of their own and an English browser: the city's language (Dari), right to left.
                page.wait_for_function("() => document.documentElement.lang === 'fa-AF'", timeout=10_000)
                assert page.evaluate("document.documentElement.dir") == "rtl"
                page.evaluate("window.__sameDocument = true")
                return page

            # Each screen seen by a role that has it (the shell shows the others "not available for your role").
            pages = {user: sign_in(user) for user in users}
            for lang in LANGS:
                for page in pages.values():
                    page.click('[data-testid="settings-open"]')
                    page.select_option('[data-testid="settings-lang"]', lang)
                    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'", timeout=10_000)
                    page.click("main")  # closes the menu
                    saved = page.evaluate("fetch('/api/me/settings').then(r => r.json())")
                    assert saved["language"] == lang, saved
                    assert page.evaluate("window.__sameDocument === true"), "the language switch reloaded the page"
                    rtl = lang in ("fa-AF", "ps")
                    assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
                    zone = _visible(page, '[data-testid="city-zone"]')
                    digits = {"fa-AF": "۰۴:۳۰", "ps": "۰۴:۳۰", "ne": "०४:३०", "en": "04:30"}[lang]
                    assert digits in zone, (lang, zone)
                for screen, ready in SCREENS.items():
                    page = pages[VIEWER_OF.get(screen, "zarghuna")]
                    page.evaluate(f"location.hash = '#/{screen}'")
                    page.wait_for_selector(f'main[data-screen="{screen}"]', timeout=10_000)
                    page.wait_for_selector(ready, timeout=20_000)
                    assert page.locator('[data-testid="not-allowed"]').count() == 0, (screen, "not allowed")
                    out = SHOTS / lang / f"{screen}.png"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out))
                    if lang == "fa-AF":
                        shown = _visible(page, "header" if screen in HEADER_ONLY else "body")
                        assert not _untranslated(shown, english), (screen, _untranslated(shown, english))

            page = pages["ahmad"]
            # The login screen, before anyone signs in: in the language this browser showed last.
            page.click('[data-testid="logout"]')
            for lang in LANGS:
                page.evaluate(f"localStorage.setItem('camgrid.lang', '{lang}')")
                page.reload()
                page.wait_for_selector('[data-testid="login-form"]', timeout=10_000)
                assert page.evaluate("document.documentElement.lang") == lang
                page.screenshot(path=str(SHOTS / lang / "login.png"))
                if lang == "fa-AF":
                    assert not _untranslated(_visible(page, "body"), english)

            # Arabic script and Devanagari come from camgrid's own /assets/fonts (Debian's Noto), none refused by CSP.
            assert fonts.get("NotoSansArabic-Regular.ttf") in (200, 304), fonts  # 304: revalidated after a reload
            assert fonts.get("NotoSansDevanagari-Regular.ttf") in (200, 304), fonts
            assert not errors, errors
        finally:
            browser.close()
