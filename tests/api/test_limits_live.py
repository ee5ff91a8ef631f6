"""Limits before work against a live `camgrid serve` (real sockets; docs/design/limits-before-work.md):

* an 80 MB body, announced (Content-Length) or streamed (chunked), to the login route or any other, is refused with
  413 and the server's memory does not grow with it (issue 13, finding 3: it took the server to 684 MB);
* a forged ``X-Forwarded-For`` from loopback changes neither the audit log's address nor the login throttle's key
  (finding 4). A configured proxy is believed: tests/api/test_login_throttle.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from camgrid.access import service as access
from camgrid.audit.log import AuditLog
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction
from tests.backends import backend_env
from tests.conftest import CAMGRID, free_port, wait_for
from tests.seeding import SEED, seed_log

PASSWORD = "operator-pass-42"
MB = 1 << 20
BIG = 80 * MB


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    home: Path
    db: str  # the database URL (resolved while the module's fixture runs: tests/backends.py)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def audit_entries(self) -> list[dict[str, object]]:
        log = AuditLog.open(make_engine(self.db), home=self.home, clock=SystemClock())
        return [json.loads(log.entry_data(i)) for i in range(log.size)]


def _start(home: Path, **extra: str) -> Iterator[Server]:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **backend_env(home),
        "CAMGRID_HOME": str(home),
        "CAMGRID_NEW_PASSWORD": PASSWORD,
        "CAMGRID_RECORDER__METRICS_PORT": "0",
        **extra,
    }
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as s:
        access.create_user(
            session=s,
            audit=seed_log(engine, home),
            actor=SEED,
            username="op",
            password=PASSWORD,
            role="operator",
            districts=None,
            now_ns=0,
        )
    engine.dispose()
    port = free_port()
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, port, home, settings.database_url)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError((home / "serve.log").read_text()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_for(up, 30, what="camgrid serve")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _start(tmp_path_factory.mktemp("limits"))


def request(
    server: Server, path: str, body: dict[str, object], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def send_big(server: Server, path: str, *, chunked: bool, cookie: str = "") -> bytes:
    """POST an 80 MB body over a raw socket, writing it while the answer is read; the answer's bytes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Cookie: {cookie}\r\n" if cookie else ""
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {BIG}\r\n\r\n"
    piece = b'{"username": "' + b"a" * (MB - 20)
    frame = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
    sent = [0]

    def write() -> None:
        try:
            sock.sendall(head.encode())
            while sent[0] < BIG:
                sock.sendall(frame)
                sent[0] += len(piece)
        except OSError:
            pass  # the server closed the connection: what it should do

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    answer = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    writer.join(30)
    assert sent[0] < BIG, "the server read the whole 80 MB body"
    return answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_80_mb_bodies_are_refused_before_they_are_read(server: Server, chunked: bool) -> None:
    assert request(server, "/api/auth/login", {"username": "op", "password": "x"})[0] == 401  # warm the server up
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/auth/login",
        data=json.dumps({"username": "op", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    before = server.rss_kb()
    for path, cookie_ in (("/api/auth/login", ""), ("/api/holds", cookie), ("/api/evidence/ups", cookie)):
        for _ in range(2):
            answer = send_big(server, path, chunked=chunked, cookie=cookie_)
            assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
    grown_kb = server.rss_kb() - before
    assert grown_kb < 8 * 1024, f"the server grew by {grown_kb} kB reading refused bodies"
    assert server.proc.poll() is None


def test_a_body_within_the_login_limit_is_still_read(server: Server) -> None:
    status, body = request(server, "/api/auth/login", {"username": "op", "password": "p" * 1000})
    assert status == 401  # read and judged (a wrong password), not refused for its size
    status, body = request(server, "/api/auth/login", {"username": "op", "password": "p" * 9000})
    assert status == 413 and "8192" in str(body["detail"])


def test_a_forged_forwarded_for_from_loopback_is_not_believed(server: Server) -> None:
    codes = [
        request(server, "/api/auth/login", {"username": "forged", "password": "wrong"}, {"X-Forwarded-For": ip})[0]
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5")
    ]
    assert codes == [401, 401, 401, 429, 429]  # one address (loopback) for the throttle, whatever the header says
    entries = [e for e in server.audit_entries() if e["who"] == "forged"]
    assert {e["address"] for e in entries} == {"127.0.0.1"}
    assert [e["action"] for e in entries] == [AuditAction.LOGIN_FAILED] * 3 + [AuditAction.LOGIN_THROTTLED]
