"""``camgrid serve`` over HTTPS with the pair ``camgrid certs`` makes, and its refusals (issue 13, transport
security; docs/design/transport-security.md). A live server, a real TLS handshake checked against the generated
certificate (httpx and websockets with verify = that certificate), no mocks."""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import subprocess
from pathlib import Path

import httpx
import pytest
import websockets
from click.testing import CliRunner
from cryptography import x509

from camgrid.api.transport import TransportError, is_loopback, listen_plan
from camgrid.cli.main import cli
from camgrid.config import load_settings
from tests.conftest import CAMGRID, free_port, wait_for

PASSWORD = "tls-pass-12345"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMGRID_")}
    env.update({"CAMGRID_HOME": str(home), "CAMGRID_NEW_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def _run_here(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A command that ends (a refusal, ``certs``) run in this process with ``env`` as its whole camgrid environment:
    the Python start and the server's imports cost seconds a command on a loaded machine."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CAMGRID_") and k not in env}
    result = CliRunner().invoke(cli, list(args), env={**env, **unset})
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_certs_then_serve_over_https(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)
    made = _run_here(env, "certs", "--name", "localhost", "--name", "127.0.0.1")
    assert made.returncode == 0, made.stderr
    cert, key = home / "tls" / "cert.pem", home / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert "PRIVATE KEY" not in made.stdout
    san = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert san.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in san.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert _run_here(env, "certs").returncode != 0, "an existing pair is kept without --force"

    assert _run_here(env, "users", "add", "op", "--role", "operator").returncode == 0
    port = free_port()
    serve_env = dict(
        env,
        CAMGRID_SERVER__PORT=str(port),
        CAMGRID_SERVER__TLS_CERT="tls/cert.pem",
        CAMGRID_SERVER__TLS_KEY="tls/key.pem",
        CAMGRID_RECORDER__METRICS_PORT="0",
    )
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve"], env=serve_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(cert)), timeout=5) as client:

            def up() -> bool:
                assert proc.poll() is None, (home / "serve.log").read_text()
                try:
                    client.get("/login")
                    return True
                except httpx.TransportError:
                    return False

            wait_for(up, 30, what="the HTTPS server")
            r = client.get("/login")
            assert r.headers["strict-transport-security"].startswith("max-age=")
            r = client.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
            assert r.status_code == 200, r.text
            set_cookie = r.headers["set-cookie"].lower()
            assert "secure" in set_cookie and "httponly" in set_cookie and "samesite=strict" in set_cookie
            cookie = r.headers["set-cookie"].split(";")[0]
            me = client.get("/api/auth/me", headers={"Cookie": cookie})
            assert me.status_code == 200 and me.json()["username"] == "op"
        # An unverified client (no trust in the certificate) is refused by TLS itself: the pair is really used.
        with pytest.raises(httpx.ConnectError), httpx.Client(verify=True, timeout=5) as strict:
            strict.get(base + "/login")
        # Plain HTTP on the TLS port is not served.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/api/auth/me", timeout=5).raise_for_status()

        async def events() -> object:
            tls = ssl.create_default_context(cafile=str(cert))
            async with websockets.connect(
                f"wss://127.0.0.1:{port}/api/events",
                ssl=tls,
                additional_headers={"Cookie": cookie, "Origin": base},
            ) as ws:
                return await asyncio.wait_for(ws.recv(), 10)

        assert '"hello"' in str(asyncio.run(events()))
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_refuses_plain_http_beyond_loopback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home, CAMGRID_SERVER__PORT=str(free_port()))
    r = _run_here(env, "serve", "--host", "0.0.0.0")
    assert r.returncode != 0 and "refusing to serve plain HTTP on 0.0.0.0" in r.stderr, r.stderr
    assert "--insecure-http" in r.stderr  # the error says how to proceed
    # A world-readable key is refused too, before anything listens.
    assert _run_here(env, "certs").returncode == 0
    key = home / "tls" / "key.pem"
    key.chmod(0o644)
    r = _run_here(dict(env, CAMGRID_SERVER__TLS_CERT="tls/cert.pem", CAMGRID_SERVER__TLS_KEY="tls/key.pem"), "serve")
    assert r.returncode != 0 and "accessible to every user" in r.stderr and "chmod 600" in r.stderr, r.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("camgrid.city.example", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_listen_plan(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert listen_plan(settings, host=None, port=None, insecure_http=False).scheme == "http"  # make demo: loopback
    with pytest.raises(TransportError):
        listen_plan(settings, host="10.0.0.5", port=None, insecure_http=False)
    assert listen_plan(settings, host="10.0.0.5", port=8443, insecure_http=True).host == "10.0.0.5"
    assert (
        listen_plan(
            load_settings(tmp_path, {"CAMGRID_SERVER__INSECURE_HTTP": "true"}),
            host="0.0.0.0",
            port=None,
            insecure_http=False,
        ).tls
        is False
    )
    with pytest.raises(TransportError, match="go together"):
        listen_plan(
            load_settings(tmp_path, {"CAMGRID_SERVER__TLS_CERT": "c.pem"}), host=None, port=None, insecure_http=False
        )
    with pytest.raises(TransportError, match="no such file"):
        listen_plan(
            load_settings(tmp_path, {"CAMGRID_SERVER__TLS_CERT": "c.pem", "CAMGRID_SERVER__TLS_KEY": "k.pem"}),
            host=None,
            port=None,
            insecure_http=False,
        )
