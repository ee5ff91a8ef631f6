"""Playback plays a camera's sound where the browser can (docs/design/audio.md), in real Chromium.

The control room's own segment player (web/src/segplayer.ts with mp4audio.ts, bundled by vite as it is) plays
segments recorded from a real ffmpeg-encoded tone (tests/media/audio_media.py), served as
``/api/segments/{id}/media``: AAC and Opus are decoded as a second track (MSE accepts ``mp4a.40.2``/``opus``);
G.711, which no browser's MSE takes, is dropped by the player and the pictures still play.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.media.audio_media import capture, record
from tests.web.test_control_room_browser import ARGS, CHROMIUM

BUNDLE = """
import { build } from "vite";
const [entry, outDir] = process.argv.slice(1);
await build({ configFile: false, logLevel: "error", build: { lib: { entry, name: "CamgridPlayer",
  formats: ["iife"], fileName: () => "player.js" }, outDir, emptyOutDir: true, minify: false } });
"""
PLAY = """async () => {
  const p = new CamgridPlayer.SegmentPlayer("cam", 0);
  document.body.append(p.video);
  await p.ensure({ id: 1, start_ms: 0, end_ms: 3000, codec: "h264" });
  await p.video.play();
  const t0 = performance.now();
  while (p.video.currentTime < 1.5 && performance.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 50));
  return { mime: p.mime, time: p.video.currentTime, audio: p.video.webkitAudioDecodedByteCount,
           video: p.video.webkitVideoDecodedByteCount };
}"""


@pytest.fixture(scope="module")
def player(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("player")
    web = ROOT / "web"
    subprocess.run(
        ["node", "--input-type=module", "-e", BUNDLE, "src/segplayer.ts", str(out)], cwd=web, check=True, timeout=60
    )
    return out / "player.js"


def serve(files: dict[str, bytes]) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "text/html" if self.path == "/" else "text/javascript" if self.path.endswith(".js") else "video/mp4"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
@pytest.mark.parametrize(
    ("codec", "mime_has", "sound"),
    [("aac", "mp4a.40.2", True), ("opus", "opus", True), ("pcma", None, False)],
)
def test_playback_plays_the_sound_where_the_browser_can(
    codec: str, mime_has: str | None, sound: bool, player: Path, browser: object, tmp_path: Path
) -> None:
    (segment,) = record(capture(codec), tmp_path, audio=True).files
    files = {
        "/": b"<!doctype html><html><body><script src='/player.js'></script></body></html>",
        "/player.js": player.read_bytes(),
        "/api/segments/1/media": segment.read_bytes(),
    }
    server, base = serve(files)
    try:
        page = browser.new_page()  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        got = page.evaluate(PLAY)
        page.close()
    finally:
        server.shutdown()
    assert not errors
    assert got["time"] >= 1.5 and got["video"] > 0, got  # the pictures play in every case
    if sound:
        assert mime_has is not None and mime_has in got["mime"], got
        assert got["audio"] > 0, got  # the audio track was decoded
    else:
        assert "," not in got["mime"] and got["audio"] == 0, got  # G.711: dropped, and the video still plays


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_the_live_wall_plays_an_aac_cameras_sound(browser: object, tmp_path: Path) -> None:
    """The control room's live wall (built app, real uvicorn, real live hub): a camera sending AAC is decoded with
    its sound (the hub is fed the ffmpeg-made stream in real time, as the recorder's taps would)."""
    from camgrid.media.audio import AudioFrame, AudioTrack
    from camgrid.media.rtp import AccessUnit
    from tests.access.world import camera
    from tests.api.served import serve
    from tests.backends import wait_for
    from tests.media.audio_media import play
    from tests.web.test_users_browser import _sign_in

    if not (ROOT / "src" / "camgrid" / "web" / "static" / "index.html").exists():
        pytest.skip("the control room is built by `make web-build`")
    cap = capture("aac")
    with serve(tmp_path, {"op": ("operator", None)}, (camera("cam-a", "D-01"),)) as s:
        page = browser.new_context().new_page()  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, s.base, "op")
        page.goto(s.base + "/#/live?n=1&cams=cam-a")
        hub = s.ctx.hub
        assert hub is not None
        wait_for(lambda: "cam-a" in hub.watched, 15, interval=0.05, what="the wall watching cam-a")
        start = time.monotonic()

        def pace(ns: int) -> None:
            delay = start + ns / 1e9 - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the camera's own pacing (real time), not a wait for a result

        def on_au(au: AccessUnit, ext: int, jump: bool) -> None:
            hub.tap("cam-a", au, ext, jump)

        def on_audio(track: AudioTrack, frame: AudioFrame, wall: int, ext: int, jump: bool) -> None:
            hub.audio_frame("cam-a", frame, wall, ext, jump)

        play(cap, on_au, on_audio, on_track=lambda t: hub.audio_stream("cam-a", t), pace=pace)
        got = page.evaluate(
            """() => { const v = document.querySelector('[data-testid="live-video"]');
                 return { audio: v.webkitAudioDecodedByteCount, video: v.webkitVideoDecodedByteCount,
                          state: document.querySelector('[data-testid="live-tile"]').dataset.state }; }"""
        )
        page.close()
    assert not errors
    assert got["video"] > 0 and got["audio"] > 0, got
