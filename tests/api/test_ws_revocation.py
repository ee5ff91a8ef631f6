"""An open WebSocket ends within a second when the credential it was opened with ends (finding 2 of issue 13; design:
docs/design/users-life.md). Before, the live and events sockets checked the session only at connect: a logged-out,
revoked or disabled user kept watching. Real uvicorn, real WebSocket clients; each test waits on the close, bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from camgrid.access import service as access
from camgrid.access.models import User
from camgrid.db.engine import unit_of_work
from tests.access.world import camera
from tests.api.served import Served, serve
from tests.backends import TIMEOUT_SCALE
from tests.seeding import SEED

# One server for the module; each test changes its own user.
USERS: dict[str, tuple[str, list[str] | None]] = {
    "admin": ("admin", None),
    "op-revoked": ("operator", None),
    "op-out": ("operator", None),
    "op-disabled": ("operator", None),
    "viewer": ("viewer", ["D-01"]),
    "viewer2": ("viewer", ["D-01"]),
}
WITHIN_S = 1.0 * TIMEOUT_SCALE  # "within a second" (the guard re-checks every access.revalidate_s = 0.5 s)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("ws"), USERS, (camera("cam-a", "D-01"),)) as s:
        yield s


@pytest.fixture
def sockets() -> Iterator[Callable[..., ClientConnection]]:
    with ExitStack() as stack:

        def open_(s: Served, path: str, cookie: str = "", token: str = "") -> ClientConnection:
            headers = {"Cookie": cookie} if cookie else {"Authorization": f"Bearer {token}"}
            return stack.enter_context(connect(s.ws_base + path, additional_headers=headers, open_timeout=10))

        yield open_


def _close_code(ws: ClientConnection, within_s: float) -> tuple[int | None, float]:
    """The code the server closed with and how long it took; (None, ...) if it stayed open ``within_s``."""
    start = time.monotonic()
    deadline = start + within_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            ws.recv(timeout=left)
        except TimeoutError:
            break
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd else None), time.monotonic() - start
    return None, time.monotonic() - start


def _still_open(ws: ClientConnection) -> None:
    """The socket works before the change (no close within a guard period or two)."""
    try:
        ws.recv(timeout=0.8)
    except TimeoutError:
        return
    except ConnectionClosed as exc:
        raise AssertionError(f"closed before anything changed: {exc}") from None


def test_revoke_from_the_admin_api_closes_live_and_events(
    served: Served, sockets: Callable[..., ClientConnection]
) -> None:
    op = served.login("op-revoked")
    live = sockets(served, "/api/live/cam-a", cookie=op)
    events = sockets(served, "/api/events", cookie=op)
    assert '"hello"' in str(events.recv(timeout=10))
    _still_open(live)
    status, body, _ = served.call("POST", "/api/users/op-revoked/revoke", cookie=served.login("admin"))
    assert status == 200 and body["ended"] == 1, body
    for ws in (live, events):
        code, took = _close_code(ws, WITHIN_S)
        assert code == 4401, f"the socket stayed open after the revocation (code {code})"
        assert took <= WITHIN_S
    assert served.call("GET", "/api/auth/me", cookie=op)[0] == 401


def test_logout_closes_the_live_socket_of_that_session(
    served: Served, sockets: Callable[..., ClientConnection]
) -> None:
    op = served.login("op-out")
    other = served.login("op-out")  # the same user on another screen: not logged out
    live = sockets(served, "/api/live/cam-a", cookie=op)
    kept = sockets(served, "/api/live/cam-a", cookie=other)
    _still_open(live)
    assert served.call("POST", "/api/auth/logout", cookie=op)[0] == 204
    assert _close_code(live, WITHIN_S)[0] == 4401
    assert _close_code(kept, 1.2)[0] is None, "another session of the same user ended too"


def test_disabling_from_another_process_closes_a_token_socket(
    served: Served, sockets: Callable[..., ClientConnection]
) -> None:
    """The command line changes users from another process: only the database tells the server."""
    with unit_of_work(served.ctx.factory) as s:
        token = access.issue_token(
            session=s, audit=served.log, actor=SEED, username="op-disabled", ttl_s=600, now_ns=time.time_ns()
        )
    events = sockets(served, "/api/events", token=token)
    assert '"hello"' in str(events.recv(timeout=10))
    with unit_of_work(served.ctx.factory) as s:
        access.disable_user(session=s, audit=served.log, actor=SEED, username="op-disabled")
    assert _close_code(events, WITHIN_S)[0] == 4401


def test_a_role_that_no_longer_allows_live_closes_with_4403(
    served: Served, sockets: Callable[..., ClientConnection]
) -> None:
    """Rights changed under a credential that still resolves (a database edited by hand): the socket checks its
    permission again, not only that someone is logged in."""
    viewer = served.login("viewer")
    live = sockets(served, "/api/live/cam-a", cookie=viewer)
    _still_open(live)
    with unit_of_work(served.ctx.factory) as s:
        s.execute(update(User).where(User.username == "viewer").values(role="auditor"))
    assert _close_code(live, WITHIN_S)[0] == 4403


def test_a_changed_district_scope_closes_events(served: Served, sockets: Callable[..., ClientConnection]) -> None:
    viewer = served.login("viewer2")
    events = sockets(served, "/api/events", cookie=viewer)
    assert '"hello"' in str(events.recv(timeout=10))
    with unit_of_work(served.ctx.factory) as s:
        s.execute(update(User).where(User.username == "viewer2").values(districts="D-01,D-02"))
    assert _close_code(events, WITHIN_S)[0] == 4401
