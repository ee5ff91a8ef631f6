"""No frame of a masked camera ever shows its private area: stored, live, after a reconnect, after a mask change.

The simulator draws a bright magenta pattern in the top-right quarter of cam-0001's picture; the mask covers that
quarter. Every stored and every live frame is decoded with the real ffmpeg and searched for the pattern.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import websockets

from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.privacy import service as masks
from camgrid.sim import clips
from tests.api.test_control_room_e2e import get, login, start_server
from tests.backends import home_db_url
from tests.conftest import CLIP_CACHE, City, wait_for
from tests.seeding import SEED, seed_log
from tests.storage.media_check import decode_errors

QUARTER = [[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]]
BIGGER = [[[0.45, 0.0], [1.0, 0.0], [1.0, 0.55], [0.45, 0.55]]]
W, H = 320, 180  # frames are scaled down for the search


def pattern_pixels(path: Path) -> list[int]:
    """Magenta pixels inside the private quarter (a little inside its edges), per decoded frame."""
    r = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"scale={W}:{H}",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    frames = np.frombuffer(r.stdout, dtype=np.uint8).reshape(-1, H, W, 3)
    region = frames[:, 4 : H // 2 - 4, W // 2 + 4 : W - 4].astype(int)
    magenta = (region[..., 0] > 150) & (region[..., 1] < 100) & (region[..., 2] > 150)
    return [int(x) for x in magenta.reshape(len(frames), -1).sum(axis=1)]


def test_the_pattern_is_there_without_a_mask() -> None:
    """The check can fail: the simulator's private area really shows the pattern."""
    spec = clips.ClipSpec("h264", 1280, 720, 25, 2000, 50, 100, "CAM-0001", 1, True)
    path = clips.encode(spec, CLIP_CACHE)
    counts = pattern_pixels(path)
    assert len(counts) == 100 and min(counts) > 1000


def test_masked_camera_never_shows_its_private_area(city_factory: Any, tmp_path: Path) -> None:
    city: City = city_factory(
        3, h265_every=0, sim_args=("--pattern-camera", "cam-0001"), extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"}
    )
    engine = make_engine(home_db_url(city.home))
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as s:
        masks.set_mask(
            session=s,
            audit=seed_log(engine, city.home),
            actor=SEED,
            camera_id="cam-0001",
            polygons=QUARTER,
            now_ns=time.time_ns(),
        )
    engine.dispose()
    city.env["CAMGRID_NEW_PASSWORD"] = "admin-pass-123"
    city.run("users", "add", "admin", "--role", "admin")
    proc, base = start_server(city)
    try:
        cookie = login(base)
        req = urllib.request.Request(
            base + "/api/auth/login",
            data=json.dumps({"username": "admin", "password": "admin-pass-123"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            admin = resp.headers["Set-Cookie"].split(";")[0]
        wait_for(lambda: city.recording_since("cam-0001", 0), 30, what="the masked camera recording")

        async def live(frames: int) -> bytes:
            chunks: list[bytes] = []
            url = f"ws://{base[7:]}/api/live/cam-0001?stream=sub"  # a masked camera never serves its substream
            async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
                while len(chunks) < frames + 1:
                    m = await asyncio.wait_for(ws.recv(), 10)
                    if isinstance(m, bytes):
                        chunks.append(m)
            return b"".join(chunks)

        def check_live(name: str) -> None:
            path = tmp_path / f"{name}.mp4"
            path.write_bytes(asyncio.run(live(40)))
            assert decode_errors(path) == ""
            counts = pattern_pixels(path)
            assert len(counts) >= 40 and max(counts) == 0, (name, counts)

        check_live("live")
        # A reconnect: the site loses power and returns; the first frames after it are masked too.
        site = next(c["site"] for c in city.cameras() if c["id"] == "cam-0001")
        city.fault("site_cut", site)
        time.sleep(2)
        back = time.time_ns()
        city.fault("site_restore", site)
        wait_for(lambda: city.recording_since("cam-0001", back), 20, what="recording after the reconnect")
        check_live("after-reconnect")
        # A mask change applies from the next picture.
        req = urllib.request.Request(
            base + "/api/cameras/cam-0001/mask",
            data=json.dumps({"polygons": BIGGER}).encode(),
            method="PUT",
            headers={"Content-Type": "application/json", "Cookie": admin, "Origin": base},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["revision"] == 2
        changed = time.time_ns()
        check_live("after-change")
        wait_for(lambda: city.recording_since("cam-0001", changed), 20, what="a segment after the change")
        assert get(base, "/api/cameras/cam-0001/mask", cookie)["polygons"][0][0] == [0.45, 0.0]
        # Shrinking the mask to a tiny triangle is a removal in all but name: only requested, and the recorder
        # keeps burning in the mask in force, live and on disk, until a second person approves (issue 13, finding 1).
        tiny = [[[0.5, 0.0], [0.5001, 0.0], [0.5, 0.0001]]]
        req = urllib.request.Request(
            base + "/api/cameras/cam-0001/mask",
            data=json.dumps({"polygons": tiny}).encode(),
            method="PUT",
            headers={"Content-Type": "application/json", "Cookie": admin, "Origin": base},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["pending_polygons"] == tiny
        check_live("after-reduction-request")
        withdraw = urllib.request.Request(
            base + "/api/cameras/cam-0001/mask/refuse-removal", method="POST", headers={"Cookie": admin, "Origin": base}
        )
        with urllib.request.urlopen(withdraw, timeout=10) as resp:
            assert json.loads(resp.read())["removal_requested_by"] is None
        # Removing the mask needs a second person.
        delete = urllib.request.Request(
            base + "/api/cameras/cam-0001/mask", method="DELETE", headers={"Cookie": admin, "Origin": base}
        )
        with urllib.request.urlopen(delete, timeout=10) as resp:
            assert json.loads(resp.read())["removal_requested_by"] == "admin"
        approve = urllib.request.Request(
            base + "/api/cameras/cam-0001/mask/approve-removal",
            method="POST",
            headers={"Cookie": admin, "Origin": base},
        )
        try:
            urllib.request.urlopen(approve, timeout=10)
            raise AssertionError("the requester approved their own removal")
        except urllib.error.HTTPError as exc:
            assert exc.code == 409
        time.sleep(1.5)
    finally:
        proc.terminate()
        proc.wait(30)
    segments = city.segments("cam-0001")
    assert any(seg[7] == "complete" for seg in segments)
    for seg in segments:
        path = Path(seg[3])
        errors = decode_errors(path)
        if seg[7] != "complete" and "moov atom not found" in errors:
            # opened as the server stopped, before its first picture (an fMP4's moov comes first): nothing to show,
            # and recovery settles it at the next start (failed here in a loaded run: judge what is settled)
            continue
        assert errors == ""
        counts = pattern_pixels(path)
        assert counts and max(counts) == 0, (path.name, counts[:10])
    # Unmasked cameras are never transcoded: their samples are those the camera sent (see the bit-exact test);
    # here at least their pictures still show the test pattern's own magenta bar where a mask would hide it.
    other = Path(city.segments("cam-0002")[0][3])
    assert max(pattern_pixels(other)) > 0
