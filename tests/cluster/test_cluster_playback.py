"""Playback and export of a segment recorded on another node (docs/design/cluster.md, "Playback across nodes").

Real parts: PostgreSQL, the simulator, one ``camgrid node`` serving its recordings on ``cluster.address`` over HTTPS
(a certificate from the cluster CA) with its own media credential, and a central ``camgrid serve --no-record`` that
derives that credential from its secret, proxies playback and fetches export sources from it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from camgrid.cluster.certs import issue_node_cert
from camgrid.cluster.media import Unsatisfiable, node_credential, parse_range
from tests.cluster.conftest import PgCity, pg_city
from tests.conftest import CAMGRID, Proc, free_port, wait_for
from tests.storage.media_check import decode_errors, probe

PASSWORD = "operator-pass-42"
SECRET = "test-media-secret-0123456789abcdef"
TOKEN = node_credential(SECRET, "n1")
MS = 1_000_000


def test_parse_range() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=90-500", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=-500", 100) == (0, 99)
    assert parse_range("bytes=5-1", 100) is None  # invalid: ignored, the whole file
    assert parse_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file
    assert parse_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            parse_range(bad, 100)


def _start_node(city: PgCity, name: str, address: str) -> Proc:
    home = city.home / f"node-{name}"
    home.mkdir(exist_ok=True)
    cert, key = issue_node_cert(
        city.home, node_id=name, hosts=["127.0.0.1"], out=home / "tls", now=dt.datetime.now(dt.UTC)
    )
    env = {k: v for k, v in city.env.items() if k != "CAMGRID_CLUSTER__MEDIA_SECRET"}  # only the central holds it
    env |= {
        "CAMGRID_HOME": str(home),
        "CAMGRID_CLUSTER__ADDRESS": address,
        "CAMGRID_CLUSTER__MEDIA_TOKEN": node_credential(SECRET, name),
        "CAMGRID_CLUSTER__TLS_CERT": str(cert),
        "CAMGRID_CLUSTER__TLS_KEY": str(key),
    }
    log = city.home / f"node-{name}.log"
    popen = subprocess.Popen(
        [*CAMGRID, "node", "--node", name], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    proc = Proc(popen, log)
    city.recorders.append(proc)
    return proc


def _start_central(city: PgCity) -> tuple[Proc, str]:
    port = free_port()
    log = city.home / "central.log"
    popen = subprocess.Popen(
        [*CAMGRID, "serve", "--no-record"],
        env={**city.env, "CAMGRID_SERVER__PORT": str(port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    proc = Proc(popen, log)
    city.recorders.append(proc)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            httpx.get(base + "/login", timeout=1)
            return True
        except httpx.HTTPError:
            assert popen.poll() is None, proc.text()[-3000:]
            return False

    wait_for(up, 30, what="the central API")
    return proc, base


def _login(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, headers={"Origin": base})  # as a browser: Origin
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def test_playback_and_export_of_a_segment_recorded_on_another_node(
    city_factory: Any, pg_url: str, tmp_path: Path
) -> None:
    env = {
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_CLUSTER__SETTLE_S": "0.5",
        "CAMGRID_CLUSTER__MEDIA_SECRET": SECRET,
        "CAMGRID_NEW_PASSWORD": PASSWORD,
    }
    city = pg_city(city_factory(2, h265_every=0, extra_env=env), pg_url)
    city.env["CAMGRID_CLUSTER__TLS_CA"] = str(city.home / "keys" / "cluster-ca.pem")  # made with the node's cert
    city.run("users", "add", "op", "--role", "operator")
    city.run("users", "add", "sup", "--role", "supervisor")
    address = f"127.0.0.1:{free_port()}"
    node = _start_node(city, "n1", address)
    central, base = _start_central(city)
    wait_for(lambda: "serving this node's recordings" in node.text(), 30, what="the node's recordings server")

    def complete() -> list[Any]:
        return city.db(
            "select id, camera_id, start_ns, end_ns, path from segments where node_id = 'n1' and status = 'complete' "
            "order by start_ns"
        )

    wait_for(lambda: len(complete()) >= 2, 40, what="two complete segments on the node")
    seg_id, camera, start_ns, end_ns, path = complete()[0]
    on_disk = Path(path).read_bytes()
    assert Path(path).is_relative_to(city.home / "node-n1" / "recordings")

    # Playback through the central API: the bytes of the node's file; ffmpeg decodes them; a range is a 206.
    op = _login(base, "op")
    r = op.get(f"/api/segments/{seg_id}/media")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4" and r.content == on_disk
    played = tmp_path / "played.mp4"
    played.write_bytes(r.content)
    assert decode_errors(played) == ""
    assert probe(played)["frames"] > 0
    r = op.get(f"/api/segments/{seg_id}/media", headers={"Range": "bytes=100-1099"})
    assert r.status_code == 206, r.text
    assert r.headers["content-range"] == f"bytes 100-1099/{len(on_disk)}"
    assert r.content == on_disk[100:1100]
    r = op.get(f"/api/segments/{seg_id}/media", headers={"Range": f"bytes={len(on_disk)}-"})
    assert r.status_code == 416

    # Export of a range recorded on the node: four eyes, then the clip verifies offline.
    r = op.post(
        "/api/exports",
        json={"camera": camera, "from_ms": start_ns // MS, "to_ms": end_ns // MS, "reason": "cluster playback test"},
    )
    assert r.status_code == 201, r.text
    export_id = r.json()["id"]
    sup = _login(base, "sup")
    r = sup.post(f"/api/exports/{export_id}/approve", json={"reason": "ok"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"
    folder = tmp_path / "export"
    folder.mkdir()
    for f in r.json()["files"]:
        got = op.get(f"/api/exports/{export_id}/files/{f['name']}")
        assert got.status_code == 200, got.text
        (folder / f["name"]).write_bytes(got.content)
    ok = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert decode_errors(folder / "clip.mp4") == ""
    assert not list((city.home / "exports" / export_id).glob(".sources-*")), "the fetched sources are removed"

    # The node's server: a token is required, and it serves only its own segments from its own folder.
    node_url = f"https://{address}/segments/{seg_id}"
    ca = ssl.create_default_context(cafile=city.env["CAMGRID_CLUSTER__TLS_CA"])
    assert httpx.get(node_url, verify=ca).status_code == 401
    assert httpx.get(node_url, verify=ca, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    another = {"Authorization": f"Bearer {node_credential(SECRET, 'n2')}"}  # another node's credential
    assert httpx.get(node_url, verify=ca, headers=another).status_code == 401
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(node_url, verify=ca, headers=good).content == on_disk
    foreign = Path(path).with_name("foreign.mp4")
    shutil.copyfile(path, foreign)
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        ids = [
            conn.scalar(
                text(
                    "insert into segments (camera_id, start_ns, end_ns, path, bytes, frames, codec, status, node_id) "
                    "values (:c, 0, 1, :p, 1, 1, 'h264', 'complete', :n) returning id"
                ),
                {"c": camera, "p": p, "n": n},
            )
            for p, n in ((str(foreign), "other"), ("/etc/hostname", "n1"))
        ]
    engine.dispose()
    for other in ids:
        assert httpx.get(f"https://{address}/segments/{other}", verify=ca, headers=good).status_code == 404
    assert httpx.get(f"https://{address}/segments/999999", verify=ca, headers=good).status_code == 404
    for secret in (TOKEN, SECRET):
        assert secret not in node.text() and secret not in central.text(), "a media credential reached a log"

    # The node dies: its segments answer 503 naming it, never a 500; an export stays pending.
    pending = op.post(
        "/api/exports",
        json={"camera": camera, "from_ms": start_ns // MS, "to_ms": end_ns // MS, "reason": "while the node is down"},
    ).json()["id"]
    node.popen.send_signal(signal.SIGKILL)
    node.popen.wait(10)
    t = time.monotonic()
    r = op.get(f"/api/segments/{seg_id}/media")
    assert r.status_code == 503, r.text
    assert "node n1" in r.json()["detail"] and "unreachable" in r.json()["detail"]
    assert time.monotonic() - t < 30, "answered, not left hanging on the dead node"  # a safety net, not a timing
    r = sup.post(f"/api/exports/{pending}/approve", json={"reason": "ok"})
    assert r.status_code == 503 and "node n1" in r.json()["detail"], r.text
    assert sup.get(f"/api/exports/{pending}").json()["status"] == "pending"
    central.stop()  # uvicorn re-raises SIGTERM after its graceful shutdown
    assert "Traceback" not in central.text(), central.text()[-3000:]
