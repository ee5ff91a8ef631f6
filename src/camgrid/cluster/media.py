"""Recordings across nodes: each recorder node serves the segments it recorded; the central API fetches them.

Node side: ``serve_recordings`` starts a small threaded HTTP server on ``cluster.address`` with one route,
``GET /segments/{id}``: the segment is looked up in the shared index and served only when this node recorded it and
its file lies inside this node's recordings folder; one ``Range: bytes=a-b`` is honoured (206), as browsers seek with
ranges. Every request must carry ``Authorization: Bearer <cluster.media_token>``, this node's own credential: an
HMAC of the node id under the central node's ``cluster.media_secret`` (``node_credential``), which only the central
node holds, so no node can fetch from another and nobody can fetch straight from a node without going through the
audited central API. Without a credential the server does not start (secure by default); with ``cluster.tls_cert``
it speaks HTTPS, and it refuses to listen beyond loopback without it. The credential is never logged. The same server
answers the audit log's witness routes (``camgrid.audit.witness_http``), which need no credential, and, with the
same credential, ``GET /activity/{camera}?start_s=&end_s=``: the camera's activity levels this node keeps (one byte
per second, at most a day; the reader is handed in, as this package may not import ``camgrid.motion``).

Central side: ``locate`` says where a segment's bytes are (a local path, or the node that serves them);
``open_segment`` streams them from that node (the API passes the bytes and the range through), ``fetch_segment``
copies them to a local file (exports). Every failure is a ``MediaError`` with an HTTP status and a message that names
the node: 503 when it is unreachable, 502 when it refuses this server, 404 when it no longer has the segment.
``fetch_activity`` asks a node for a camera's levels with a short timeout (the playback strip waits for it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from camgrid.audit.witness import WitnessStore
from camgrid.audit.witness_http import serve_witness_request
from camgrid.clock import Clock
from camgrid.cluster.models import Node
from camgrid.config import ClusterConfig
from camgrid.storage.models import Segment

log = logging.getLogger("camgrid.cluster.media")

CHUNK = 256 * 1024
CONNECT_TIMEOUT_S = 3.0  # a dead host: the API answers 503 after this long
READ_TIMEOUT_S = 15.0
ACTIVITY_TIMEOUT_S = 2.0  # a node that does not answer a camera's levels this fast is "unknown" for its part
MAX_ACTIVITY_S = 86_400  # one day of levels per request, as the central API's own bound
_ROUTE = re.compile(r"^/segments/([0-9]{1,18})$")
_ACTIVITY_ROUTE = re.compile(r"^/activity/([A-Za-z0-9._:-]{1,64})$")
_QUERY_INT = re.compile(r"^(start_s|end_s)=(-?[0-9]{1,12})$")

ActivityReader = Callable[[str, int, int], bytes]
"""``(camera_id, start_s, end_s) -> levels``: one byte per second of ``[start_s, end_s)``, 0 = no data."""


class MediaError(Exception):
    """A segment's bytes cannot be had; ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Remote:
    """A segment served by another node."""

    node_id: str
    address: str


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) → (host, port)."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"cluster.address must be host:port, not {address!r}")
    return host.strip("[]"), int(port)


def node_credential(secret: str, node_id: str) -> str:
    """The media credential of one node: HMAC-SHA256 of its id under the central node's secret (43 characters)."""
    mac = hmac.new(secret.encode(), b"camgrid.node-media/v1\n" + node_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Unsatisfiable(ValueError):
    """The range starts beyond the end of the file (416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range → (first, last) inclusive; None to send the whole file.

    A header that is not a single valid byte range is ignored (RFC 9110 §14.2 allows it); a range starting at or
    beyond the end raises ``Unsatisfiable``.
    """
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", header)
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    a, b = m.group(1), m.group(2)
    if not a:  # the last n bytes
        n = int(b)
        if n == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size - 1
    first = int(a)
    last = int(b) if b else size - 1
    if b and last < first:
        return None
    if first >= size:
        raise Unsatisfiable(header)
    return first, min(last, size - 1)


# --------------------------------------------------------------------------------------------------- node side


class _Handler(BaseHTTPRequestHandler):
    server: RecordingsServer
    protocol_version = "HTTP/1.1"
    server_version = "camgrid-node"
    timeout = 60  # an idle keep-alive connection gives its thread back after this long

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)  # request line and status only, never headers

    def _plain(self, status: int, text: str, extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        srv = self.server
        if srv.witness is None or srv.clock is None or not serve_witness_request(self, srv.witness, srv.clock):
            self._plain(404, "not found")

    def do_GET(self) -> None:
        srv = self.server
        if srv.witness is not None and srv.clock is not None and serve_witness_request(self, srv.witness, srv.clock):
            return
        given = self.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), srv.token.encode()):
            self._plain(401, "a valid cluster media token is required", {"WWW-Authenticate": "Bearer"})
            return
        route, _, query = self.path.partition("?")
        a = _ACTIVITY_ROUTE.match(route)
        if a is not None:
            self._activity(a.group(1), query)
            return
        m = _ROUTE.match(route)
        if m is None:
            self._plain(404, "not found")
            return
        try:
            path = srv.segment_path(int(m.group(1)))
        except Exception as exc:  # the database is unreachable: say so, never a stack trace
            log.warning("recordings server: cannot read the index: %s", exc)
            self._plain(503, "the recording index is unreachable from this node")
            return
        if path is None:
            self._plain(404, "no such segment on this node")
            return
        try:
            fh = path.open("rb")
        except OSError:
            self._plain(404, "the segment's file is gone from this node")
            return
        with fh:
            size = os.fstat(fh.fileno()).st_size  # a segment being written: what is on disk now
            try:
                rng = parse_range(self.headers.get("Range"), size)
            except Unsatisfiable:
                self._plain(416, "range not satisfiable", {"Content-Range": f"bytes */{size}"})
                return
            first, last = rng if rng is not None else (0, size - 1)
            count = max(0, last - first + 1)
            self.send_response(206 if rng is not None else 200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(count))
            if rng is not None:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            if self.command == "HEAD" or count == 0:
                return
            try:
                self.connection.sendfile(fh, first, count)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                self.close_connection = True  # the reader went away (a browser seeking elsewhere)

    def _activity(self, camera_id: str, query: str) -> None:
        """A camera's levels of ``[start_s, end_s)`` as raw bytes (bounded before any read)."""
        reader = self.server.activity
        if reader is None:
            self._plain(404, "this node keeps no activity levels")
            return
        args: dict[str, int] = {}
        for part in query.split("&") if query else ():
            q = _QUERY_INT.match(part)
            if q is None:
                self._plain(400, "expected start_s and end_s (UTC seconds)")
                return
            args[q.group(1)] = int(q.group(2))
        start_s, end_s = args.get("start_s"), args.get("end_s")
        if start_s is None or end_s is None or not 0 <= end_s - start_s <= MAX_ACTIVITY_S:
            self._plain(400, f"start_s and end_s are required, end_s at most {MAX_ACTIVITY_S} s after start_s")
            return
        try:
            body = reader(camera_id, start_s, end_s)
        except ValueError:  # not a camera id the store takes (".." and the like)
            self._plain(400, "not a camera id")
            return
        except OSError as exc:
            log.warning("activity of %s unreadable: %s", camera_id, type(exc).__name__)
            self._plain(503, "this node cannot read its activity levels")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class RecordingsServer(ThreadingHTTPServer):
    """The node's recordings on ``cluster.address``: one thread per connection (reads are blocking file I/O)."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        factory: sessionmaker[Session],
        node_id: str,
        root: Path,
        token: str,
        tls: ssl.SSLContext | None = None,
        witness: WitnessStore | None = None,
        clock: Clock | None = None,
        activity: ActivityReader | None = None,
    ) -> None:
        if witness is not None and clock is None:
            raise ValueError("a witness needs a clock")
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.factory = factory
        self.node_id = node_id
        self.root = root.resolve()
        self.token = token
        self.witness = witness
        self.clock = clock
        self.activity = activity
        self._thread: threading.Thread | None = None

    def segment_path(self, segment_id: int) -> Path | None:
        """The file of a segment this node recorded, inside its recordings folder; None for anything else."""
        with self.factory() as session:
            seg = session.get(Segment, segment_id)
            if seg is None or seg.node_id != self.node_id:
                return None
            path = Path(seg.path).resolve()
        if not path.is_relative_to(self.root):
            log.warning("recordings server: segment %d points outside %s; refused", segment_id, self.root)
            return None
        return path

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.5,), name="recordings", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve_recordings(
    *,
    factory: sessionmaker[Session],
    node_id: str,
    recordings: Path,
    cfg: ClusterConfig,
    witness: WitnessStore | None = None,
    clock: Clock | None = None,
    activity: ActivityReader | None = None,
) -> RecordingsServer | None:
    """Start the node's recordings server on ``cluster.address``; None (and a log line saying why) when it cannot.

    Raises RuntimeError (the node does not start) for an address beyond loopback without ``cluster.tls_cert``."""
    if not cfg.address:
        log.info("cluster.address is not set: this node's recordings are not served to the central API")
        return None
    if not cfg.media_token:
        log.warning(
            "not serving recordings on %s: cluster.media_token is empty (set this node's credential, printed by "
            "`camgrid node credential <node id>` on the central node)",
            cfg.address,
        )
        return None
    try:
        host, port = parse_address(cfg.address)
    except ValueError as exc:
        log.error("cannot serve recordings on %s: %s", cfg.address, exc)
        return None
    tls: ssl.SSLContext | None = None
    if cfg.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            tls.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise RuntimeError(f"cluster.tls_cert / cluster.tls_key cannot be loaded: {exc}") from None
    elif not is_loopback(host):
        raise RuntimeError(
            f"cluster.address {cfg.address} is beyond loopback but cluster.tls_cert is not set: recordings would "
            "cross the network in clear (make a certificate with `camgrid node credential --certs`)"
        )
    try:
        server = RecordingsServer(
            (host, port),
            factory=factory,
            node_id=node_id,
            root=recordings,
            token=cfg.media_token,
            tls=tls,
            witness=witness,
            clock=clock,
            activity=activity,
        )
    except OSError as exc:
        log.error("cannot serve recordings on %s: %s", cfg.address, exc)
        return None
    server.start()
    scheme = "https" if tls is not None else "http"
    log.info("serving this node's recordings on %s://%s:%d/segments/{id}", scheme, host, port)
    if witness is not None:
        log.info("witnessing the audit log on %s://%s:%d as %s", scheme, host, port, witness.cosigner.key.text())
    return server


# ------------------------------------------------------------------------------------------------ central side


def locate(session: Session, *, segment: Segment, own_node_id: str) -> Path | Remote:
    """Where a segment's bytes are: a path on this machine, or the node that serves them.

    A segment of this process's node is a local file. A segment of another node is fetched from that node's
    ``cluster.address``; when the node serves nothing, a file at the same path on this machine (a segment recorded
    before the cluster, or a shared file system) is used; otherwise ``MediaError`` (503).
    """
    path = Path(segment.path)
    if segment.node_id == own_node_id:
        return path
    node = session.get(Node, segment.node_id)
    if node is not None and node.address:
        return Remote(node.id, node.address)
    if path.is_file():
        return path
    raise MediaError(
        503,
        f"segment {segment.id} is recorded on node {segment.node_id}, which does not serve its recordings "
        "(cluster.address is not set on that node)",
    )


if TYPE_CHECKING:
    import httpx

_clients: dict[str, httpx.Client] = {}
_client_lock = threading.Lock()


def _http(ca: str) -> httpx.Client:
    """One pooled client per process and CA (thread-safe): successive segments of a playback reuse connections."""
    import httpx  # imported when needed: a recorder node never fetches, and httpx pulls in rich and pygments

    with _client_lock:
        client = _clients.get(ca)
        if client is None:
            verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True
            client = httpx.Client(
                timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                trust_env=False,  # never send the cluster token through an HTTP proxy from the environment
                verify=verify,
            )
            _clients[ca] = client
        return client


def _url(remote: Remote, segment_id: int, *, tls: bool) -> str:
    return _base(remote, tls=tls) + f"/segments/{segment_id}"


def _base(remote: Remote, *, tls: bool) -> str:
    host, port = parse_address(remote.address)
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{host}:{port}"


class SegmentStream:
    """An open answer from a node: status and headers to pass on, then the bytes; ``close`` when done."""

    def __init__(self, remote: Remote, segment_id: int, response: httpx.Response) -> None:
        self.remote = remote
        self.segment_id = segment_id
        self.response = response
        self.status = response.status_code
        self.headers = {
            k: v
            for k in ("content-length", "content-range", "accept-ranges")
            if (v := response.headers.get(k)) is not None
        }

    def __iter__(self) -> Iterator[bytes]:
        import httpx

        try:
            yield from self.response.iter_bytes(CHUNK)
        except httpx.HTTPError as exc:
            log.warning(
                "segment %d: node %s stopped sending it (%s)", self.segment_id, self.remote.node_id, type(exc).__name__
            )
        finally:
            self.close()

    def close(self) -> None:
        self.response.close()


def open_segment(
    remote: Remote, segment_id: int, *, cfg: ClusterConfig, range_header: str | None = None
) -> SegmentStream:
    """Ask the node for a segment with its own credential (passing a ``Range`` through), over HTTPS checked against
    ``cluster.tls_ca`` when set; 200, 206 and 416 are returned as they are."""
    import httpx

    where = f"segment {segment_id} is recorded on node {remote.node_id}"
    if not cfg.media_secret:
        raise MediaError(502, f"{where}, and cluster.media_secret is not set on this server: it cannot fetch it")
    headers = {"Authorization": f"Bearer {node_credential(cfg.media_secret, remote.node_id)}"}
    if range_header:
        headers["Range"] = range_header
    client = _http(cfg.tls_ca)
    try:
        url = _url(remote, segment_id, tls=bool(cfg.tls_ca))
        response = client.send(client.build_request("GET", url, headers=headers), stream=True)
    except (httpx.HTTPError, ValueError) as exc:
        raise MediaError(503, f"{where}, which is unreachable ({remote.address}: {type(exc).__name__})") from None
    if response.status_code in (200, 206, 416):
        return SegmentStream(remote, segment_id, response)
    response.close()
    if response.status_code in (401, 403):
        raise MediaError(502, f"{where}, which refused this server's credential for it (cluster.media_secret)")
    if response.status_code == 404:
        raise MediaError(404, f"{where}, which no longer has it (deleted by its retention?)")
    raise MediaError(502, f"{where}, which answered HTTP {response.status_code}")


def fetch_segment(remote: Remote, segment_id: int, dest: Path, *, cfg: ClusterConfig) -> Path:
    """Copy a whole segment from its node to ``dest`` (exports read local files)."""
    import httpx  # imported when needed: a recorder node never fetches, and httpx pulls in rich and pygments

    stream = open_segment(remote, segment_id, cfg=cfg)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with tmp.open("wb") as fh:
            for chunk in stream.response.iter_bytes(CHUNK):
                fh.write(chunk)
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(
            503,
            f"segment {segment_id} is recorded on node {remote.node_id}, which is unreachable "
            f"(it stopped sending it: {type(exc).__name__})",
        ) from None
    finally:
        stream.close()
    expected = stream.headers.get("content-length")
    if stream.status != 200 or (expected is not None and tmp.stat().st_size != int(expected)):
        tmp.unlink(missing_ok=True)
        raise MediaError(502, f"segment {segment_id}: node {remote.node_id} sent an incomplete copy")
    tmp.replace(dest)
    return dest


def fetch_activity(remote: Remote, camera_id: str, start_s: int, end_s: int, *, cfg: ClusterConfig) -> bytes:
    """A camera's levels of ``[start_s, end_s)`` kept by the node, within ``ACTIVITY_TIMEOUT_S``; ``MediaError``
    naming the node otherwise (the caller reports that part as unknown, never fails the whole answer)."""
    import httpx

    where = f"node {remote.node_id}"
    if not 0 <= end_s - start_s <= MAX_ACTIVITY_S:
        raise ValueError(f"at most {MAX_ACTIVITY_S} s of levels per request")
    if not cfg.media_secret:
        raise MediaError(502, f"{where} keeps these levels, and cluster.media_secret is not set on this server")
    headers = {"Authorization": f"Bearer {node_credential(cfg.media_secret, remote.node_id)}"}
    try:
        url = _base(remote, tls=bool(cfg.tls_ca)) + f"/activity/{camera_id}"
        response = _http(cfg.tls_ca).get(
            url, params={"start_s": start_s, "end_s": end_s}, headers=headers, timeout=ACTIVITY_TIMEOUT_S
        )
    except (httpx.HTTPError, ValueError) as exc:
        raise MediaError(503, f"{where} is unreachable ({remote.address}: {type(exc).__name__})") from None
    if response.status_code in (401, 403):
        raise MediaError(502, f"{where} refused this server's credential (cluster.media_secret)")
    if response.status_code != 200:
        raise MediaError(502, f"{where} answered HTTP {response.status_code}")
    if len(response.content) != end_s - start_s:
        raise MediaError(502, f"{where} sent {len(response.content)} levels for {end_s - start_s} seconds")
    return response.content
