"""`camgrid serve` over the real simulator: live fMP4 over WebSocket, timeline with gaps, export and verify."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import websockets
from click.testing import CliRunner

from camgrid.cli.main import cli
from tests.conftest import CAMGRID, City, free_port, wait_for
from tests.storage.media_check import decode_errors, probe

PASSWORD = "operator-pass-42"


def start_server(city: City) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    city.env["CAMGRID_NEW_PASSWORD"] = PASSWORD
    env = dict(city.env, CAMGRID_SERVER__PORT=str(port))
    city.run("users", "add", "op", "--role", "operator")
    city.run("users", "add", "sup", "--role", "supervisor")
    log = (city.home / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    wait_for(up, 30, what="the server")
    return proc, base


def login(base: str, user: str = "op") -> str:
    req = urllib.request.Request(
        base + "/api/auth/login",
        data=json.dumps({"username": user, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    return cookie


def post(base: str, path: str, body: dict[str, Any], cookie: str) -> Any:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Cookie": cookie, "Origin": base},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def raw(base: str, path: str, cookie: str) -> bytes:
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return bytes(resp.read())


def get(base: str, path: str, cookie: str) -> Any:
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body


def test_live_timeline_export(city_factory: Any, tmp_path: Path) -> None:
    city: City = city_factory(4, h265_every=4, extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"})
    proc, base = start_server(city)
    try:
        cookie = login(base)
        cams = get(base, "/api/cameras", cookie)
        assert cams["count"] == 4 and "password" not in json.dumps(cams)
        wait_for(lambda: get(base, "/api/cameras", cookie)["state"].count("recording") == 4, 30, what="recording")

        async def watch(camera: str, frames: int, stream: str = "main") -> list[Any]:
            msgs: list[Any] = []
            url = f"ws://{base[7:]}/api/live/{camera}?stream={stream}"
            async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
                while sum(1 for m in msgs if isinstance(m, bytes)) < frames + 1:
                    msgs.append(await asyncio.wait_for(ws.recv(), 10))
            return msgs

        for camera, codec in (("cam-0001", "h264"), ("cam-0004", "h265")):
            msgs = asyncio.run(watch(camera, 60))
            texts = [json.loads(m) for m in msgs if isinstance(m, str)]
            assert texts[0]["type"] == "codec" and texts[0]["codec"] == codec
            assert ("avc1." if codec == "h264" else "hvc1.") in texts[0]["mime"]
            origin = next(t for t in texts if t["type"] == "origin")
            assert abs(origin["wall_ms"] / 1000 - time.time()) < 30
            stream = tmp_path / f"{camera}.mp4"
            stream.write_bytes(b"".join(m for m in msgs if isinstance(m, bytes)))
            assert decode_errors(stream) == ""
            assert probe(stream)["frames"] >= 60
            assert probe(stream)["width"] == 1280

        # A wall tile asks for the substream: a second, small stream opened on demand and never recorded.
        msgs = asyncio.run(watch("cam-0002", 30, "sub"))
        small = tmp_path / "sub.mp4"
        small.write_bytes(b"".join(m for m in msgs if isinstance(m, bytes)))
        assert decode_errors(small) == ""
        info = probe(small)
        assert (info["width"], info["height"]) == (320, 180) and info["frames"] >= 30

        sim_cams = city.cameras()
        feeder = sim_cams[0]["feeder"]
        cut_cam = sim_cams[0]["id"]
        steady = next(c["id"] for c in sim_cams if c["feeder"] != feeder)
        city.fault("power_cut", feeder)
        time.sleep(3)
        city.fault("power_restore", feeder)
        now_ms = int(time.time() * 1000)
        wait_for(lambda: get(base, f"/api/cameras/{cut_cam}", cookie)["state"] == "recording", 20, what="back")
        tl = get(base, f"/api/cameras/{cut_cam}/timeline?from_ms={now_ms - 120_000}&to_ms={now_ms + 60_000}", cookie)
        assert any(g["reason"] == "unreachable" for g in tl["gaps"])
        assert tl["segments"] and all(s["end_ms"] >= s["start_ms"] for s in tl["segments"])

        seg = tl["segments"][0]
        media = get(base, f"/api/segments/{seg['id']}/media", cookie)
        assert media[4:8] == b"ftyp"

        t1 = int(time.time() * 1000) - 2000  # what is on disk: whole fragments (flushed every second)
        export = post(
            base, "/api/exports", {"camera": steady, "from_ms": t1 - 6000, "to_ms": t1, "reason": "test case 1"}, cookie
        )
        assert export["status"] == "pending" and export["files"] == [], "nothing leaves before a second person"
        try:
            post(base, f"/api/exports/{export['id']}/approve", {}, cookie)
            raise AssertionError("the requester approved their own export")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        export = post(base, f"/api/exports/{export['id']}/approve", {"reason": "ok"}, login(base, "sup"))
        assert export["status"] == "ready" and export["actual_from_ms"] <= t1 - 6000 + 2100
        manifest = get(base, f"/api/exports/{export['id']}/files/manifest.json", cookie)
        assert [s["step"] for s in manifest["approval"]] == ["requested", "approved"]
        assert manifest["approval"][1]["by"] == "sup"
        folder = tmp_path / "export"
        folder.mkdir()
        names = {f["name"] for f in export["files"]}
        assert {"clip.mp4", "manifest.json", "manifest.sig", "key.pub"} <= names
        for name in names:
            (folder / name).write_bytes(raw(base, f"/api/exports/{export['id']}/files/{name}", cookie))
        ok = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        # The manifest is signed: an edited manifest (even with matching digests) is caught.
        manifest_text = (folder / "manifest.json").read_text()
        (folder / "manifest.json").write_text(manifest_text.replace('"sup"', '"someone-else"'))
        forged = CliRunner().invoke(cli, ["export", "verify", str(folder)])  # the same verifier, in process
        assert forged.exit_code == 1 and "differs from the signed manifest" in forged.stderr
        (folder / "manifest.json").write_text(manifest_text)
        assert decode_errors(folder / "clip.mp4") == ""
        assert 4.0 <= probe(folder / "clip.mp4")["duration"] <= 9.0
        data = bytearray((folder / "clip.mp4").read_bytes())
        data[-10] ^= 0xFF
        (folder / "clip.mp4").write_bytes(bytes(data))
        bad = CliRunner().invoke(cli, ["export", "verify", str(folder)])
        assert bad.exit_code == 1 and "clip.mp4: SHA-256" in bad.stderr
    finally:
        proc.terminate()
        proc.wait(30)
    log = (city.home / "serve.log").read_text()
    assert PASSWORD not in log
    passwords = [line.split(",")[10] for line in city.registry.read_text().splitlines()[1:]]
    assert passwords and not any(p in log for p in passwords), "a camera password reached the server's log"
    # Every view, playback, export step and login is in the audit log, and the log verifies offline.
    audit_dir = tmp_path / "audit"
    city.run("audit", "export", str(audit_dir))
    actions = {json.loads(line)["action"] for line in (audit_dir / "entries.jsonl").read_text().splitlines()}
    assert {
        "login",
        "live.start",
        "live.stop",
        "playback",
        "export.request",
        "export.approve",
        "export.download",
    } <= actions, actions
    assert CliRunner().invoke(cli, ["audit", "verify", str(audit_dir)], env=city.env).exit_code == 0
    assert sys.executable  # keep the import used
