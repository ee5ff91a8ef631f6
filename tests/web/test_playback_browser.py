"""Playback a reviewer trusts (issue 16), in real Chromium: one simulated city per module with one power cut.

The city records 8 cameras; a feeder is cut for a few seconds, so its cameras have a gap the health engine blames
on "power cut, feeder F-..". Each test opens the playback screen on a camera of that feeder and checks one
behaviour: fast playback crosses the gap and keeps going, a frame step moves the millisecond clock by one frame and
changes the picture, reverse moves backwards, a reload restores position and cameras from the URL, the gap names
its incident's cause. Design note: docs/design/playback-review.md.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.test_control_room_e2e import login, start_server
from tests.backends import POSTGRES, TIMEOUT_SCALE
from tests.conftest import CAMGRID, City, Proc, make_city, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM, SHOTS

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`"),
    pytest.mark.skipif(POSTGRES, reason="one city shared by the module: SQLite home (the UI is back-end neutral)"),
]

CLOCK = "() => window.camgrid.timeline(window.__cam)?.clockMs ?? null"
PICTURE = """() => {
  const v = document.querySelector('[data-testid=playback-video]');
  if (!v || v.readyState < 2) return null;
  const c = document.createElement('canvas'); c.width = 64; c.height = 36;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0, 64, 36);
  const d = g.getImageData(0, 0, 64, 36).data; let h = 0;
  for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) >>> 0;
  return h;
}"""


DIAG = """() => { const v = document.querySelector('[data-testid=playback-video]');
  const tl = window.camgrid.timeline(window.__cam);
  const b = []; for (let i = 0; i < v.buffered.length; i++) b.push([v.buffered.start(i), v.buffered.end(i)]);
  return { clock: tl.clockMs, cur: v.currentTime, rs: v.readyState, paused: v.paused, seeking: v.seeking, b,
    rate: v.playbackRate, segs: tl.segments.map(s => [s.id, s.start_ms, s.end_ms]), gaps: tl.gaps,
    msg: document.querySelector('[data-testid=playback-message]').textContent,
    state: document.querySelector('[data-testid=playback-tile]').dataset.state,
    notice: document.querySelector('[data-testid=gap-notice]').dataset.last }; }"""


@dataclass
class Cut:
    base: str
    cookie: str
    camera: str
    other: str
    feeder: str
    cut_ms: int
    restore_ms: int


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cut]:
    """8 recording cameras, the busiest feeder cut for 5 s, then a few seconds more of recording."""
    home = tmp_path_factory.mktemp("pbcity")
    city: City = make_city(home, 8, h265_every=0, extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"})
    log = city.home / "sim.log"
    sim = subprocess.Popen(
        [*CAMGRID, "sim", "--count", "8", "--out", str(city.registry), "--truth", str(city.home / "truth.jsonl")],
        env=city.env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    city.sim = Proc(sim, log)
    server = None
    try:
        wait_for(lambda: "ready" in city.sim.text() or sim.poll() is not None, 300, what="the simulator")  # type: ignore[union-attr]
        assert sim.poll() is None, city.sim.text()  # type: ignore[union-attr]
        city.run("cameras", "import", str(city.registry))
        server, base = start_server(city)
        cams = city.cameras()
        feeders: dict[str, list[str]] = {}
        for c in cams:
            feeders.setdefault(c["feeder"], []).append(c["id"])
        feeder, members = max(feeders.items(), key=lambda kv: len(kv[1]))
        wait_for(lambda: all(city.recording_since(c["id"], 0) for c in cams), 40, what="recording")
        time.sleep(5)  # some video before the cut
        t_cut = city.fault("power_cut", feeder)["t"]
        time.sleep(5)
        t_restore = city.fault("power_restore", feeder)["t"]
        wait_for(lambda: city.recording_since(members[0], int(t_restore * 1e9)), 20, what="back after the cut")
        time.sleep(4)  # some video after the gap
        yield Cut(base, login(base), members[0], members[1], feeder, int(t_cut * 1000), int(t_restore * 1000))
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        city.sim.stop()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, cut: Cut) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    name, value = cut.cookie.split("=", 1)
    ctx.add_cookies([{"name": name, "value": value, "url": cut.base}])
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    ctx.close()
    assert not errors, errors


def open_at(page: Any, cut: Cut, t_ms: int, cams: str | None = None) -> None:
    page.goto(f"{cut.base}/#/playback?cams={cams or cut.camera}&t={t_ms}")
    page.evaluate(f"() => (window.__cam = {cut.camera!r})")
    tile = f'[data-testid="playback-tile"][data-camera="{cut.camera}"][data-state="video"]'
    page.wait_for_selector(tile, timeout=20_000)


def gap_end(page: Any, cut: Cut) -> int:
    """End of the cut's gap as the timeline shows it."""
    sel = '[data-testid="gap"][data-reason="unreachable"]'
    page.wait_for_selector(sel, state="attached", timeout=20_000)
    ends = page.eval_on_selector_all(sel, "els => els.map(e => [+e.dataset.startMs, +e.dataset.endMs])")
    near = [e for s, e in ends if abs(s - cut.cut_ms) < 3000]
    assert near, (ends, cut.cut_ms)
    return max(near)


@pytest.mark.parametrize("speed", [4, 16])
def test_fast_playback_crosses_the_gap_and_keeps_going(page: Any, cut: Cut, speed: int) -> None:
    """Old code: the loop waited for the video to come within 60 ms of the segment's end, but Chromium stalls
    short of the buffered end at fast rates (about 250 ms of media at 16x, seen here), so the clock froze before
    the gap with the button still saying pause; and a crossing was silent. Against the old bundle this test fails
    (no gap notice); whether the old loop froze in a given run depends on where Chromium stalls."""
    open_at(page, cut, cut.cut_ms - 3000)
    end = gap_end(page, cut)
    page.click(f'[data-testid="speed-{speed}"]')
    page.click('[data-testid="play"]')
    try:
        page.wait_for_function(f"() => ({CLOCK})() > {end + 1500}", timeout=20_000)
    except Exception:
        print("DIAG", end, cut, page.evaluate(DIAG))
        raise
    assert page.get_attribute('[data-testid="play"]', "data-playing") == "true"
    first = page.evaluate(CLOCK)
    page.wait_for_function(f"() => ({CLOCK})() > {first + 500}", timeout=10_000)  # still advancing
    notice = page.locator('[data-testid="gap-notice"]')
    assert int(notice.get_attribute("data-crossings") or 0) >= 1
    assert f"power cut, feeder {cut.feeder}" in (notice.get_attribute("data-last") or "")
    if speed == 4:
        page.screenshot(path=str(SHOTS / "playback-crossing.png"))


def test_gap_names_the_incident_cause(page: Any, cut: Cut) -> None:
    """Old code: the gap said only "unreachable"; the timeline API had no cause for it."""
    open_at(page, cut, cut.cut_ms - 3000)
    sel = '[data-testid="gap"][data-cause-kind="power"]'
    page.wait_for_selector(sel, state="attached", timeout=20_000)
    gap = page.locator(sel).first
    assert gap.get_attribute("data-cause-subject") == cut.feeder
    assert f"power cut, feeder {cut.feeder}" in (gap.get_attribute("title") or "")
    assert f"power cut, feeder {cut.feeder}" in gap.text_content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "playback-gap-cause.png"))


def shown_ms(page: Any) -> int:
    """Milliseconds of the clock as shown (text), e.g. 2026-11-23 08:04:10.040 -> 10040 (seconds and ms)."""
    text = page.text_content('[data-testid="playback-clock"]') or ""
    m = re.search(r"(\d\d):(\d\d)\.(\d{3})$", text.strip())
    assert m, f"the clock shows no milliseconds: {text!r}"
    return int(m[1]) * 60_000 + int(m[2]) * 1000 + int(m[3])


CLOCK_ON_FRAME = """([pic, ms, same]) => {
  const c = document.querySelector('[data-testid="playback-clock"]');
  if (!c || c.dataset.onFrame !== 'true') return false;
  const p = (PICTURE)();
  return p !== null && (same ? p === pic && +c.dataset.ms === ms : p !== pic && +c.dataset.ms !== ms);
}""".replace("PICTURE", PICTURE.strip())
WAIT_MS = int(10_000 * TIMEOUT_SCALE)  # a safety net (docs/design/tests-on-a-busy-machine.md), never a claim


def test_frame_step_moves_the_millisecond_clock_by_one_frame(page: Any, cut: Cut) -> None:
    """Old code: the clock showed whole seconds, so a frame step was invisible.

    Each step is judged when it has settled: the clock is on the shown frame's time (``data-on-frame``), and that
    time and the picture are both new (or, stepping back, both the first ones again); never half-way, with one
    changed and the other not yet. The steps start mid-segment, so that neither crosses a segment's end, and a
    second or more from its first frame, so that the clock cannot settle on that frame before the seek lands."""
    open_at(page, cut, cut.cut_ms - 4000)
    segs = page.evaluate("() => window.camgrid.timeline(window.__cam).segments.map(s => [s.start_ms, s.end_ms])")
    mid = [(a + b) // 2 for a, b in segs if b - a > 2000 and b < cut.cut_ms - 500]
    assert mid, segs
    at = min(mid, key=lambda m: abs(m - (cut.cut_ms - 4000)))
    page.goto("about:blank")
    open_at(page, cut, at)
    settled = f"() => (({PICTURE})() !== null && document.querySelector('[data-testid=\"playback-clock\"]')"
    settled += f"?.dataset.onFrame === 'true' && Math.abs(window.camgrid.timeline(window.__cam).clockMs - {at}) <= 80)"
    page.wait_for_function(settled, timeout=WAIT_MS)  # the frame at the URL's time is shown, the clock on it
    before_pic, before_ms = page.evaluate(PICTURE), int(page.get_attribute('[data-testid="playback-clock"]', "data-ms"))
    before = shown_ms(page)
    try:
        page.keyboard.press(".")
        page.wait_for_function(CLOCK_ON_FRAME, arg=[before_pic, before_ms, False], timeout=WAIT_MS)
        after = shown_ms(page)
        assert 20 <= after - before <= 90, (before, after)  # 25 fps: 40 ms
        page.keyboard.press(",")
        page.wait_for_function(CLOCK_ON_FRAME, arg=[before_pic, before_ms, True], timeout=WAIT_MS)  # the same frame
        assert shown_ms(page) == before
    except Exception:
        print("DIAG", at, before_ms, page.evaluate(DIAG))
        raise


def test_reverse_moves_backwards(page: Any, cut: Cut) -> None:
    """Old code: there was no reverse; MSE cannot play backwards."""
    start = cut.restore_ms + 3000
    open_at(page, cut, start)
    page.click('[data-testid="speed-2"]')
    page.click('[data-testid="reverse"]')
    page.click('[data-testid="play"]')
    page.wait_for_function(f"() => ({CLOCK})() < {start - 1500}", timeout=15_000)
    a = page.evaluate(CLOCK)
    page.wait_for_function(f"() => ({CLOCK})() < {a - 300}", timeout=10_000)
    assert page.get_attribute('[data-testid="play"]', "data-rate") == "-2"


def test_reload_restores_position_and_cameras(page: Any, cut: Cut) -> None:
    """Old code: the position was not in the URL: a reload went back to the latest minute of one camera."""
    open_at(page, cut, cut.cut_ms - 2000)
    page.fill('[data-testid="sync-add-input"]', cut.other)
    page.click('[data-testid="sync-add"]')
    page.wait_for_selector(f'[data-testid="playback-tile"][data-camera="{cut.other}"]', timeout=10_000)
    target = cut.restore_ms + 2500
    x = page.evaluate(f"() => window.camgrid.timelineX({cut.camera!r}, {target})")
    box = page.locator(f'[data-testid="timeline"][data-camera="{cut.camera}"]').bounding_box()
    page.mouse.click(x, box["y"] + box["height"] / 2)
    in_url = f"location.hash.includes('cams={cut.camera},{cut.other}') && /[?&]t=\\d+/.test(location.hash)"
    page.wait_for_function(f"() => {in_url}")
    url_t = int(re.search(r"[?&]t=(\d+)", page.evaluate("location.hash"))[1])  # type: ignore[index]
    assert abs(url_t - target) < 3000, (url_t, target)
    page.reload()
    page.evaluate(f"() => (window.__cam = {cut.camera!r})")
    page.wait_for_selector(f'[data-testid="playback-tile"][data-camera="{cut.other}"]', timeout=10_000)
    assert page.locator('[data-testid="playback-tile"]').count() == 2
    page.wait_for_function(f"() => Math.abs(({CLOCK})() - {url_t}) < 1000", timeout=10_000)


STRIP_ALPHA = """([sel, t]) => {
  const c = document.querySelector(sel); const x = window.camgrid.timelineX(window.__cam, t);
  if (!c || x == null || !c.width) return null;
  const r = c.getBoundingClientRect(); const dpr = c.width / r.width;
  return c.getContext('2d').getImageData(Math.floor((x - r.left) * dpr), Math.floor(c.height / 2), 1, 1).data[3];
}"""


def test_the_activity_strip_is_drawn_where_video_was_and_not_in_the_gap(page: Any, cut: Cut) -> None:
    """The activity strip (docs/design/motion-search.md, "Activity"): levels the server's recorder counted from the
    compressed stream, drawn under the track where the camera recorded, and nothing where its feeder was cut."""
    page.goto(f"{cut.base}/#/playback?cams={cut.camera}&t={cut.cut_ms - 3000}&span=60000")
    page.evaluate(f"() => (window.__cam = {cut.camera!r})")
    strip = f'[data-testid="activity-strip"][data-camera="{cut.camera}"]'
    page.wait_for_selector(strip, state="attached", timeout=20_000)
    before, mid = cut.cut_ms - 2500, (cut.cut_ms + cut.restore_ms) // 2
    page.wait_for_function(f"(a) => ({STRIP_ALPHA})(a) > 0", arg=[strip, before], timeout=30_000)
    assert page.evaluate(STRIP_ALPHA, [strip, mid]) == 0, "no activity is drawn while the camera was cut off"
    assert int(page.get_attribute(strip, "data-drawn") or 0) > 0
    assert int(page.get_attribute(strip, "data-seconds") or 0) >= 5
    x = page.evaluate(f"() => window.camgrid.timelineX(window.__cam, {before})")
    box = page.locator(f'[data-testid="timeline"][data-camera="{cut.camera}"] .track-area').bounding_box()
    page.mouse.move(x, box["y"] + box["height"] / 2)  # the hover title says what the strip shows there
    title = page.get_attribute(f'[data-testid="timeline"][data-camera="{cut.camera}"] .track-area', "title") or ""
    assert "Activity: " in title, title
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "playback-activity.png"))
