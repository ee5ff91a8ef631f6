"""A control room served by a real uvicorn on a free loopback port, in a thread of the test: real HTTP and real
WebSockets against the app, with users and cameras seeded through the audited services. Its context may carry a real
live hub with no recorder behind it (a live socket then stays open, waiting for pictures, as an idle camera's does)."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.live.hub import LiveHub
from camgrid.media.nal import H264
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from tests.backends import backend_env, free_port, wait_for
from tests.seeding import SEED, seed_log

PASSWORD = "served-password-1"


class HubContext(AppContext):
    """The app's context with a real live hub on the server's loop (no recorder feeds it)."""

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        super().attach(loop)
        self.hub = LiveHub(loop, lambda camera_id: H264)


@dataclass
class Served:
    base: str
    ctx: AppContext
    log: AuditLog

    @property
    def ws_base(self) -> str:
        return "ws" + self.base[4:]

    def call(
        self, method: str, path: str, body: Any = None, *, cookie: str = "", token: str = ""
    ) -> tuple[int, Any, str]:
        """(status, parsed body, Set-Cookie) of one request."""
        headers = {"Content-Type": "application/json", "Origin": self.base}  # as a browser on the control room
        if cookie:
            headers["Cookie"] = cookie
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw, status, set_cookie = resp.read(), resp.status, resp.headers.get("Set-Cookie", "")
        except urllib.error.HTTPError as err:
            raw, status, set_cookie = err.read(), err.code, ""
        return status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw, set_cookie

    def login(self, user: str, password: str = PASSWORD) -> str:
        status, body, set_cookie = self.call("POST", "/api/auth/login", {"username": user, "password": password})
        assert status == 200, body
        return set_cookie.split(";")[0]


def seed(log: AuditLog, factory: Any, users: dict[str, tuple[str, list[str] | None]], cameras: list[CameraIn]) -> None:
    if cameras:
        with unit_of_work(factory) as s:
            registry.import_cameras(session=s, audit=log, actor=SEED, rows=cameras, now_ns=0)
    for name, (role, districts) in users.items():
        with unit_of_work(factory) as s:
            access.create_user(
                session=s,
                audit=log,
                actor=SEED,
                username=name,
                password=PASSWORD,
                role=role,
                districts=districts,
                now_ns=SystemClock().wall_ns(),
            )


@contextmanager
def serve(
    home: Path, users: dict[str, tuple[str, list[str] | None]], cameras: tuple[CameraIn, ...] = (), **env: str
) -> Iterator[Served]:
    settings = load_settings(home, {**backend_env(home), **env})
    engine = make_engine(settings.database_url)
    from camgrid.db.migrate import upgrade

    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    seed(log, factory, users, list(cameras))
    ctx = HubContext(settings=settings, factory=factory, clock=SystemClock())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, interval=0.05, what="uvicorn")
        yield Served(f"http://127.0.0.1:{port}", ctx, log)
    finally:
        server.should_exit = True
        thread.join(30)
        engine.dispose()
