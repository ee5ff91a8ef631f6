"""WS-Discovery for the simulated cameras: a Probe gets ProbeMatches, as from cameras on a network.

One UDP socket on ``0.0.0.0:<discovery_port>`` answers for every camera. A Probe sent to a camera's own loopback
address is answered by that camera, from that address (``IP_PKTINFO`` tells which address a datagram came to and
sets the source of the answer: a client that probes a list of addresses sees each one answer). A Probe sent to
127.0.0.1 or to the multicast group 239.255.255.250 is answered by every camera, in as many ProbeMatches messages as
it takes (each under 64 KiB). Cameras without power or behind a cut uplink say nothing.

The messages are WS-Discovery 2005/04 over SOAP 1.2, as ONVIF Core uses them; the Probe is parsed without DTDs,
entities or network access, and a repeated Probe (UDP clients send each one twice) is answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
import time
import uuid
from collections import OrderedDict
from xml.sax.saxutils import escape

from lxml import etree

from camgrid.sim.layout import onvif_index
from camgrid.sim.onvif.device import scopes
from camgrid.sim.onvif.http import OnvifHttpServer
from camgrid.sim.server import CameraState

log = logging.getLogger("camgrid.sim.onvif")

MULTICAST_GROUP = "239.255.255.250"
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux's value; Python 3.11 does not name it
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
DN = "http://www.onvif.org/ver10/network/wsdl"
TDS = "http://www.onvif.org/ver10/device/wsdl"
PROBE = f"{WSD}/Probe"
PROBE_MATCHES = f"{WSD}/ProbeMatches"
ANONYMOUS = f"{WSA}/role/anonymous"
TYPES = {(DN, "NetworkVideoTransmitter"), (TDS, "Device")}
MAX_DATAGRAM = 65_507
MAX_MESSAGE = 60_000  # each ProbeMatches message stays under 64 KiB (UDP's limit)
SEEN_PROBES = 1024
EPR_NS = uuid.UUID("6f1e4d1c-5b1a-4c51-9a43-2d1f6a0c0001")


def endpoint(cam: CameraState) -> str:
    """The camera's WS-Addressing endpoint reference: a UUID URN stable across restarts."""
    return uuid.uuid5(EPR_NS, f"camgrid-sim:{cam.spec.id}").urn


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_probe(data: bytes) -> tuple[str, list[tuple[str, str]], list[str]] | None:
    """(MessageID, wanted types, wanted scopes) of a Probe; None for anything else (ignored, as UDP allows)."""
    if b"<!DOCTYPE" in data.upper():
        return None
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError:
        return None
    if root.tag != f"{{{SOAP}}}Envelope":
        return None
    action = (root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action") or "").strip()
    message_id = (root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}MessageID") or "").strip()
    probe = root.find(f"{{{SOAP}}}Body/{{{WSD}}}Probe")
    if action != PROBE or probe is None or not message_id or len(message_id) > 200:
        return None
    types: list[tuple[str, str]] = []
    types_el = probe.find(f"{{{WSD}}}Types")
    if types_el is not None:
        for item in (types_el.text or "").split()[:32]:
            prefix, _, local = item.rpartition(":")
            types.append((types_el.nsmap.get(prefix or None, ""), local))
    scopes_el = probe.find(f"{{{WSD}}}Scopes")
    wanted = (scopes_el.text or "").split()[:32] if scopes_el is not None else []
    return message_id, types, wanted


def matches(cam: CameraState, types: list[tuple[str, str]], wanted: list[str]) -> bool:
    """The camera is a type the Probe asks for (any, when it names none) and has every scope it names (by prefix
    on whole path segments, WS-Discovery's default rule)."""
    if types and not any(t in TYPES for t in types):
        return False
    have = scopes(cam)
    return all(any(s == w or s.startswith(w.rstrip("/") + "/") for s in have) for w in wanted)


class DiscoveryResponder:
    """Answers WS-Discovery Probes for every camera of an :class:`OnvifHttpServer`."""

    def __init__(self, onvif: OnvifHttpServer, *, loopback_only: bool = True) -> None:
        self.onvif = onvif
        self.loopback_only = loopback_only
        self.sock: socket.socket | None = None
        self.port = 0
        self.instance = int(time.time())  # AppSequence InstanceId: grows with each start, as the spec wants
        self.numbers = itertools.count(1)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.tasks: set[asyncio.Task[None]] = set()
        self.answered = 0  # ProbeMatches messages sent (tests read it)

    async def start(self, port: int) -> int:
        """Listen on ``0.0.0.0:port`` (0: an ephemeral one), joining the multicast group if the host allows."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind(("0.0.0.0", port))
        sock.setblocking(False)
        with contextlib.suppress(OSError):  # no multicast route (a container, loopback only): unicast still works
            mreq = struct.pack("=4s4s", socket.inet_aton(MULTICAST_GROUP), socket.inet_aton("0.0.0.0"))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)
        return self.port

    def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        for _ in range(64):
            try:
                data, anc, _flags, peer = sock.recvmsg(MAX_DATAGRAM, socket.CMSG_SPACE(12))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("discovery: receive failed: %s", exc)
                return
            dest = ""
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= 12:
                    dest = socket.inet_ntoa(value[8:12])
            self._probe(data, str(peer[0]), int(peer[1]), dest)

    def _probe(self, data: bytes, host: str, port: int, dest: str) -> None:
        if self.loopback_only and not host.startswith("127."):
            return
        parsed = parse_probe(data)
        if parsed is None:
            return
        message_id, types, wanted = parsed
        if message_id in self.seen:
            return  # the client's repeat of a Probe already answered
        self.seen[message_id] = None
        while len(self.seen) > SEEN_PROBES:
            self.seen.popitem(last=False)
        cams = self._cameras_for(dest)
        found = [c for c in cams if c.reachable and matches(c, types, wanted)]
        if not found:
            return
        source = dest if dest.startswith("127.") and dest != "127.0.0.1" else ""
        messages = self.messages(found, message_id)
        task = asyncio.get_running_loop().create_task(self._send(messages, (host, port), source))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _cameras_for(self, dest: str) -> list[CameraState]:
        if dest == "127.0.0.1" or dest == MULTICAST_GROUP or not dest.startswith("127."):
            return sorted(self.onvif.by_address.values(), key=lambda c: c.spec.index)
        cam = self.onvif.by_address.get(dest)
        return [cam] if cam is not None and onvif_index(dest) == cam.spec.index else []

    def match_xml(self, cam: CameraState) -> str:
        xaddr = f"http://{cam.spec.onvif_address}:{self.onvif.port}/onvif/device_service"
        return (
            f"<d:ProbeMatch><a:EndpointReference><a:Address>{endpoint(cam)}</a:Address></a:EndpointReference>"
            "<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
            f"<d:Scopes>{escape(' '.join(scopes(cam)))}</d:Scopes><d:XAddrs>{xaddr}</d:XAddrs>"
            "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch>"
        )

    def messages(self, cams: list[CameraState], relates_to: str) -> list[bytes]:
        """ProbeMatches messages holding one ProbeMatch per camera, each message under :data:`MAX_MESSAGE`."""
        out: list[bytes] = []
        batch: list[str] = []
        size = 0
        for cam in cams:
            item = self.match_xml(cam)
            if batch and size + len(item) > MAX_MESSAGE - 2000:
                out.append(self._envelope(batch, relates_to))
                batch, size = [], 0
            batch.append(item)
            size += len(item)
        if batch:
            out.append(self._envelope(batch, relates_to))
        return out

    def _envelope(self, items: list[str], relates_to: str) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP}" xmlns:a="{WSA}" xmlns:d="{WSD}"'
            f' xmlns:dn="{DN}" xmlns:tds="{TDS}"><s:Header><a:MessageID>{uuid.uuid4().urn}</a:MessageID>'
            f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo><a:To>{ANONYMOUS}</a:To>"
            f"<a:Action>{PROBE_MATCHES}</a:Action>"
            f'<d:AppSequence InstanceId="{self.instance}" MessageNumber="{next(self.numbers)}"/></s:Header>'
            f"<s:Body><d:ProbeMatches>{''.join(items)}</d:ProbeMatches></s:Body></s:Envelope>"
        ).encode()

    async def _send(self, messages: list[bytes], peer: tuple[str, int], source: str) -> None:
        """Send from ``source`` (the camera's own address; "" lets the kernel choose), pacing many messages."""
        anc = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=i4s4s", 0, socket.inet_aton(source or "0.0.0.0"), b""))]
        for i, message in enumerate(messages):
            for _ in range(50):
                if self.sock is None:
                    return
                try:
                    self.sock.sendmsg([message], anc, 0, peer)
                    self.answered += 1
                    break
                except (BlockingIOError, InterruptedError):
                    await asyncio.sleep(0.002)
                except OSError as exc:
                    log.debug("discovery: answer to %s failed: %s", peer, exc)
                    return
            if i % 8 == 7:
                await asyncio.sleep(0.001)  # let the client's socket drain
