"""The simulator's ONVIF HTTP server: one listener for every camera, told apart by the address a connection came to.

Each camera has its own loopback address (:func:`camgrid.sim.layout.onvif_address`), so clients see distinct devices
on one port, as on a real network. Requests are bounded before they are read, SOAP envelopes are parsed without
DTDs, entities or network access, and WS-Security UsernameToken logins (digest or text) are checked against the
camera's own username and password. A powered-off camera resets the connection; a camera behind a cut uplink never
answers (the same as its RTSP).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import importlib
import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree

from camgrid.sim.layout import onvif_address
from camgrid.sim.onvif.soap import GET_ROUTES, SERVICE_PATHS, Call, SoapFault, dispatch, envelope
from camgrid.sim.server import CameraState, SimServer

if TYPE_CHECKING:
    from lxml.etree import _Element as XmlElement

log = logging.getLogger("camgrid.sim.onvif")

HANDLER_MODULES = ("device", "media", "events", "masks", "search", "replay")
MAX_HEAD = 16 * 1024
MAX_BODY = 256 * 1024
IDLE_S = 60.0  # a keep-alive connection with no request for this long is closed
MAX_CONNECTIONS = 4096  # open at once, all cameras together
SILENT_MAX_S = 600.0  # behind a cut uplink, a connection is held (unanswered) at most this long
SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PRE_AUTH = frozenset({("device", "GetSystemDateAndTime")})  # a client needs the camera's time to log in
STATUS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required"}
STATUS |= {413: "Content Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error"}


def load_handlers() -> list[str]:
    """Import every handler module there is (each helper's module may not be there yet); the names loaded."""
    loaded = []
    for name in HANDLER_MODULES:
        full = f"camgrid.sim.onvif.{name}"
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            continue
        loaded.append(name)
    return loaded


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse_envelope(body: bytes) -> tuple[XmlElement | None, XmlElement]:
    """(header, operation element) of a SOAP 1.2 request; a :class:`SoapFault` for anything else."""
    if b"<!DOCTYPE" in body.upper():
        raise SoapFault("ter:WellFormed", "document type declarations and entities are not accepted")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapFault("ter:WellFormed", f"not well-formed XML: {str(exc)[:200]}") from None
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise SoapFault("ter:WellFormed", "document type declarations and entities are not accepted")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise SoapFault("", "not a SOAP 1.2 envelope")
    header = root.find(f"{{{SOAP_NS}}}Header")
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    ops = [el for el in soap_body if isinstance(el.tag, str)] if soap_body is not None else []
    if len(ops) != 1:
        raise SoapFault("", "the SOAP body must hold exactly one operation")
    return header, ops[0]


def authorized(cam: CameraState, header: XmlElement | None) -> bool:
    """The request's UsernameToken names the camera's user and proves its password (digest or text)."""
    if not cam.spec.password:
        return True
    if cam.refuse_auth or header is None:
        return False
    token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return False
    user = token.findtext(f"{{{WSSE}}}Username") or ""
    pw = token.find(f"{{{WSSE}}}Password")
    if pw is None or not hmac.compare_digest(user.strip().encode(), cam.spec.username.encode()):
        return False
    given = (pw.text or "").strip()
    if pw.get("Type", "").endswith("#PasswordDigest"):
        try:
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
        except (binascii.Error, ValueError):
            return False
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        digest = hashlib.sha1(nonce + created.encode() + cam.spec.password.encode()).digest()
        return hmac.compare_digest(given.encode(), base64.b64encode(digest))
    return hmac.compare_digest(given.encode(), cam.spec.password.encode())


def service_of(path: str) -> str | None:
    for name, svc_path in SERVICE_PATHS.items():
        if path == svc_path or (name == "pullpoint" and path.startswith(svc_path + "/")):
            return name
    return None


class OnvifHttpServer:
    """Every simulated camera's ONVIF services on ``0.0.0.0:<port>`` (loopback peers only)."""

    def __init__(self, sim: SimServer) -> None:
        self.sim = sim
        self.by_address = {onvif_address(c.spec.index): c for c in sim.cameras.values()}
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.handlers: list[str] = []
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int, host: str = "0.0.0.0") -> int:
        """Listen (port 0: an ephemeral one); the port listened on."""
        self.handlers = load_handlers()
        self.server = await asyncio.start_server(self._client, host, port, reuse_address=True, limit=MAX_HEAD)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    def camera_at(self, address: str) -> CameraState | None:
        return self.by_address.get(address)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        local = writer.get_extra_info("sockname") or ("", 0)
        if not str(peer[0]).startswith("127.") or len(self.writers) >= MAX_CONNECTIONS:
            writer.transport.abort()  # the simulated city is reachable from this host only, within bounds
            return
        self.writers.add(writer)
        try:
            await self._serve(reader, writer, self.camera_at(str(local[0])), str(local[0]))
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # one bad request never takes the server down
            log.exception("onvif: request from %s failed", peer)
        finally:
            self.writers.discard(writer)
            writer.close()

    async def _silence(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A cut uplink: whatever arrives is lost, nothing goes back (the client times out)."""
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
            async with asyncio.timeout(SILENT_MAX_S):
                while await reader.read(65536):
                    pass
        writer.transport.abort()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cam: CameraState | None, address: str
    ) -> None:
        while True:
            if cam is not None and not cam.powered:
                writer.transport.abort()
                return
            try:
                async with asyncio.timeout(IDLE_S):
                    head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                await self._reply(writer, 431, b"request head too large", close=True)
                return
            if cam is not None and not cam.powered:
                writer.transport.abort()
                return
            if cam is not None and not cam.uplink_up:
                await self._silence(reader, writer)
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                await self._reply(writer, 400, b"bad request line", close=True)
                return
            method, target, version = parts
            headers: dict[str, str] = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                if key:
                    headers[key.strip().lower()] = value.strip()
            close = version != "HTTP/1.1" or headers.get("connection", "").lower() == "close"
            if "transfer-encoding" in headers:
                await self._reply(writer, 411, b"send a Content-Length", close=True)
                return
            try:
                length = int(headers.get("content-length", "0") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                await self._reply(writer, 413, f"bodies are limited to {MAX_BODY} bytes".encode(), close=True)
                return
            body = await reader.readexactly(length) if length else b""
            path = urlsplit(target).path if "://" in target else target.split("?", 1)[0]
            status, ctype, out = await self._handle(cam, address, method, path, body)
            if cam is not None and not cam.powered:
                writer.transport.abort()
                return
            if cam is not None and not cam.uplink_up:
                await self._silence(reader, writer)
                return
            await self._reply(writer, status, out, ctype, close=close)
            if close:
                return

    async def _handle(
        self, cam: CameraState | None, address: str, method: str, path: str, body: bytes
    ) -> tuple[int, str, bytes]:
        if cam is None:
            return 404, "text/plain", b"no camera at this address"
        if method == "GET" and path in GET_ROUTES:
            try:
                ctype, data = await asyncio.to_thread(GET_ROUTES[path], cam, self.sim)
            except Exception:
                log.exception("onvif: GET %s on %s failed", path, cam.spec.id)
                return 500, "text/plain", b"internal error"
            return 200, ctype, data
        service = service_of(path)
        have = "events" if service == "pullpoint" else service
        if service is None or have not in cam.onvif.services:
            return 404, "text/plain", b"no such service on this camera"
        if method != "POST":
            return 405, "text/plain", b"SOAP requests are POSTed"
        soap = "application/soap+xml; charset=utf-8"
        try:
            header, op = parse_envelope(body)
            name = etree.QName(op).localname
            if (service, name) not in PRE_AUTH and not authorized(cam, header):
                raise SoapFault("ter:NotAuthorized", "Sender not Authorized")
            call = Call(cam, self.sim, service, name, op, path, time.time_ns(), f"http://{address}:{self.port}")
            return 200, soap, envelope(await dispatch(call))
        except SoapFault as fault:
            return fault.http_status, soap, envelope(fault.xml())
        except Exception:
            log.exception("onvif: %s %s on %s failed", method, path, cam.spec.id)
            return 500, soap, envelope(SoapFault("", "internal error", sender=False).xml())

    async def _reply(
        self, writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str = "text/plain", *, close: bool
    ) -> None:
        head = f"HTTP/1.1 {status} {STATUS.get(status, 'Error')}\r\nServer: camgrid-sim\r\nContent-Type: {ctype}\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        if close:
            writer.close()
