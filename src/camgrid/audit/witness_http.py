"""The witness over HTTP (C2SP tlog-witness): ``POST /add-checkpoint`` and a read-only ``GET /witness``.

``POST /add-checkpoint``: body = ``old <size>``, proof lines, blank line, signed checkpoint; 200 with the
cosignature line, 409 ``text/x.tlog.size`` with the size it last cosigned, 403/404/422/400 as in the spec, each with
a one-line reason. ``GET /witness``: JSON with the witness's key, per log the newest checkpoint it cosigned (with its
cosignature) and the refusals it remembers, so a verifier can ask a witness what it saw (the spec leaves monitor
retrieval open). No authentication: a witness is public by design, it only signs what is consistent.

The same two routes are served by a recorder node's recordings server (``camgrid.cluster.media``), which is how every
node of a cluster is a witness. The client side (``submit``) is what the central log uses. Design note:
docs/design/witnesses.md.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from camgrid.audit.note import NoteError, Verifier
from camgrid.audit.witness import (
    MAX_REQUEST_BYTES,
    AddCheckpoint,
    WitnessRefusal,
    WitnessStore,
    parse_add_checkpoint,
)
from camgrid.clock import NS_PER_S, Clock

log = logging.getLogger("camgrid.audit.witness")
ADD_PATH = "/add-checkpoint"
INFO_PATH = "/witness"
SIZE_TYPE = "text/x.tlog.size"
LOG_KEY_HEADER = "X-Camgrid-Log-Key"  # the log's verifier key, used only by a witness that pins on first use
TIMEOUT_S = 5.0


def handle_add(store: WitnessStore, body: bytes, *, now_s: int, offered_key: str | None) -> tuple[int, str, bytes]:
    """(status, content type, body) for one add-checkpoint request."""
    offered: Verifier | None = None
    if offered_key:
        try:
            offered = Verifier.parse(offered_key)
        except NoteError:
            offered = None
    try:
        req = parse_add_checkpoint(body)
        line = store.add_checkpoint(req, now_s=now_s, offered_key=offered)
    except WitnessRefusal as exc:
        if exc.status == 409 and exc.known_size is not None:
            return 409, SIZE_TYPE, f"{exc.known_size}\n".encode()
        log.warning("witness refused a checkpoint (%d): %s", exc.status, exc.reason)
        return exc.status, "text/plain; charset=utf-8", (exc.reason + "\n").encode()
    return 200, "text/plain; charset=utf-8", line.encode()


def handle_info(store: WitnessStore) -> bytes:
    return json.dumps(store.snapshot()).encode()


def serve_witness_request(handler: BaseHTTPRequestHandler, store: WitnessStore, clock: Clock) -> bool:
    """Answer ``handler``'s request when it is a witness route; False (nothing sent) otherwise."""
    path = handler.path.split("?", 1)[0]
    if handler.command == "POST" and path == ADD_PATH:
        try:
            length = int(handler.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            _send(handler, 413 if length > MAX_REQUEST_BYTES else 411, "text/plain", b"bad request length\n")
            return True
        body = handler.rfile.read(length)
        status, ctype, out = handle_add(
            store, body, now_s=clock.wall_ns() // NS_PER_S, offered_key=handler.headers.get(LOG_KEY_HEADER)
        )
        _send(handler, status, ctype, out)
        return True
    if handler.command in ("GET", "HEAD") and path == INFO_PATH:
        _send(handler, 200, "application/json", handle_info(store))
        return True
    return False


def _send(handler: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"
    server_version = "camgrid-witness"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _any(self) -> None:
        if not serve_witness_request(self, self.server.store, self.server.clock):
            _send(self, 404, "text/plain", b"not found\n")

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def do_HEAD(self) -> None:
        self._any()


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, store: WitnessStore, clock: Clock) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.store = store
        self.clock = clock
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.5,), name="witness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


# ------------------------------------------------------------------------------------------------------ client


if TYPE_CHECKING:
    import httpx


def _verify(ca: str) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=ca) if ca else True


def submit(
    url: str,
    req: AddCheckpoint,
    *,
    log_key: str,
    client: httpx.Client | None = None,
    timeout_s: float = TIMEOUT_S,
    ca: str = "",
) -> str:
    """POST the request to the witness at ``url`` (its prefix); the cosignature line, or WitnessRefusal.

    ``ca``: a PEM CA for https witnesses (a node's certificate from the cluster CA). Status 0 means the witness
    could not be reached or answered nonsense."""
    import httpx  # imported when needed: httpx pulls in rich and pygments, which every recorder would carry

    headers = {"Content-Type": "text/plain; charset=utf-8", LOG_KEY_HEADER: log_key}
    own = client is None
    c = client or httpx.Client(timeout=timeout_s, trust_env=False, verify=_verify(ca))
    try:
        r = c.post(url.rstrip("/") + ADD_PATH, content=req.encode(), headers=headers)
    except httpx.HTTPError as exc:
        raise WitnessRefusal(0, f"unreachable ({type(exc).__name__})") from None
    finally:
        if own:
            c.close()
    if r.status_code == 200:
        return r.text
    if r.status_code == 409 and r.headers.get("content-type", "").startswith(SIZE_TYPE):
        text = r.text.strip()
        if text.isdigit():
            raise WitnessRefusal(409, f"the witness last cosigned size {text}", known_size=int(text))
    raise WitnessRefusal(r.status_code, r.text.strip()[:300] or f"HTTP {r.status_code}")


def fetch_info(url: str, *, timeout_s: float = TIMEOUT_S, ca: str = "") -> dict[str, Any]:
    """The witness's ``GET /witness`` answer; WitnessRefusal(0) when it cannot be had."""
    import httpx

    try:
        with httpx.Client(timeout=timeout_s, trust_env=False, verify=_verify(ca)) as c:
            r = c.get(url.rstrip("/") + INFO_PATH)
            r.raise_for_status()
            data = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise WitnessRefusal(0, f"unreachable ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise WitnessRefusal(0, "not a witness")
    return data
