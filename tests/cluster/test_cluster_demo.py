"""`make demo-cluster` (camgrid.demo.cluster): PostgreSQL, NATS, the simulated city, a central node and three recorder
nodes on loopback; the control room on the central node shows every camera recording, spread over the three
nodes, and plays a segment a node recorded; NATS wants TLS and a password, which no log shows; every node cosigns the
audit log as a witness (docs/design/witnesses.md); SIGTERM stops everything."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import free_port, wait_for


def test_demo_cluster_runs_the_city_with_its_control_room(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.out"
    args = ["--home", str(tmp_path / "dc"), "--cameras", "6", "--port", str(port), "--duration", "240"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "camgrid.demo.cluster", *args],
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: b"control room" in out.read_bytes() or proc.poll() is not None, 120, what="the demo")
        printed = out.read_text()
        assert proc.poll() is None, printed
        user, password = re.search(r"login: (\S+) (\S+)", printed).groups()  # type: ignore[union-attr]
        pg_url = re.search(r"PostgreSQL (\S+),", printed).group(1)  # type: ignore[union-attr]
        assert len(re.findall(r"recorder node node-\d pid \d+", printed)) == 3
        base = f"http://127.0.0.1:{port}"
        req = urllib.request.Request(
            base + "/api/auth/login",
            data=json.dumps({"username": user, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            cookie = resp.headers["Set-Cookie"].split(";")[0]

        def get(path: str) -> Any:
            r = urllib.request.Request(base + path, headers={"Cookie": cookie})
            with urllib.request.urlopen(r, timeout=10) as resp:
                body = resp.read()
                return json.loads(body) if resp.headers.get("Content-Type", "").startswith("application/json") else body

        wait_for(lambda: get("/api/cameras")["state"] == ["recording"] * 6, 90, what="every camera recording")

        def db(sql: str) -> list[Any]:
            engine = create_engine(pg_url)
            try:
                with engine.connect() as conn:
                    return list(conn.execute(text(sql)).all())
            finally:
                engine.dispose()

        holders = dict(db("select camera_id, node_id from camera_leases"))
        assert len(holders) == 6 and set(holders.values()) == {"node-1", "node-2", "node-3"}, holders
        for cam, node in holders.items():
            assert get(f"/api/cameras/{cam}")["recorded_by"] == node, "the camera panel names the recording node"
        seg = wait_for(
            lambda: db("select id from segments where status = 'complete' order by id limit 1"), 40, what="a segment"
        )
        media = get(f"/api/segments/{seg[0][0]}/media")
        assert media[4:8] == b"ftyp", "a node's segment plays through the central node"

        # NATS: TLS and a user per process are required (finding 10); the INFO line says so before any credential.
        nats_port = int(re.search(r"NATS tls://127\.0\.0\.1:(\d+)", printed).group(1))  # type: ignore[union-attr]
        with socket.create_connection(("127.0.0.1", nats_port), timeout=5) as sock:
            info = json.loads(sock.recv(4096).decode().split(" ", 1)[1])
        assert info.get("auth_required") is True and info.get("tls_required") is True, info

        # Every node is a witness: the login's checkpoint is cosigned by all three (the control room asks every 10 s).
        def cosigned() -> set[str] | None:
            got = {w for (w,) in db("select witness from audit_cosignatures where status = 'cosigned'")}
            return got if len(got) == 3 else None

        witnesses = wait_for(cosigned, 60, what="three cosignatures")
        assert witnesses == {"camgrid.witness/node-1", "camgrid.witness/node-2", "camgrid.witness/node-3"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, out.read_text()[-3000:]
    assert "demo-cluster: stopped" in out.read_text()
    conf = (tmp_path / "dc" / "nats" / "nats.conf").read_text()
    passwords = re.findall(r'password: "([^"]+)"', conf)
    assert len(passwords) == 4
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "dc" / "logs").glob("*.log")) + out.read_text()
    assert not [p for p in passwords if p in logs], "a NATS password reached a log"
