"""The SOAP contract between the simulator's ONVIF HTTP server and its handler modules.

A handler gets a :class:`Call` (the camera, the operation element, the clock) and returns the response element as XML
text with its namespaces declared; the server wraps it in a SOAP 1.2 envelope. A :class:`SoapFault` becomes a SOAP
fault with an ONVIF subcode (``ter:...``), HTTP 400 for the sender's faults and 500 for the receiver's.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from lxml.etree import _Element as XmlElement  # lxml's element type (what etree.fromstring returns)

    from camgrid.sim.server import CameraState, SimServer

NS: dict[str, str] = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tr2": "http://www.onvif.org/ver20/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "tse": "http://www.onvif.org/ver10/search/wsdl",
    "trp": "http://www.onvif.org/ver10/replay/wsdl",
    "trc": "http://www.onvif.org/ver10/recording/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
}

# service name -> its path on every camera (``pullpoint`` paths end in /<n>; a camera with events has them)
SERVICE_PATHS: dict[str, str] = {
    "device": "/onvif/device_service",
    "media": "/onvif/media_service",
    "media2": "/onvif/media2_service",
    "events": "/onvif/events_service",
    "pullpoint": "/onvif/pullpoint",
    "search": "/onvif/search_service",
    "replay": "/onvif/replay_service",
    "recording": "/onvif/recording_service",
}
# service name -> the namespace GetServices announces for it
SERVICE_NS: dict[str, str] = {
    "device": NS["tds"],
    "media": NS["trt"],
    "media2": NS["tr2"],
    "events": NS["tev"],
    "search": NS["tse"],
    "replay": NS["trp"],
    "recording": NS["trc"],
}


class SoapFault(Exception):
    """An ONVIF fault: ``subcode`` like ``ter:ActionNotSupported``; ``sender`` (the request's fault) or receiver."""

    def __init__(self, subcode: str, reason: str, *, sender: bool = True) -> None:
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason
        self.sender = sender

    @property
    def http_status(self) -> int:
        return 400 if self.sender else 500

    def xml(self) -> str:
        """The ``s:Fault`` element (inside ``s:Body``)."""
        code = "s:Sender" if self.sender else "s:Receiver"
        sub = ""
        if self.subcode:
            sub = f"<s:Subcode><s:Value>{escape(self.subcode)}</s:Value></s:Subcode>"
        return (
            f'<s:Fault xmlns:ter="{NS["ter"]}"><s:Code><s:Value>{code}</s:Value>{sub}</s:Code>'
            f'<s:Reason><s:Text xml:lang="en">{escape(self.reason)}</s:Text></s:Reason></s:Fault>'
        )


@dataclass
class Call:
    """One SOAP request to one camera's service."""

    camera: CameraState
    server: SimServer
    service: str
    operation: str
    body: XmlElement  # the operation element inside soap:Body (an lxml element)
    path: str  # request path (pullpoint/<n> for subscriptions)
    now_ns: int  # the sim's true wall clock (time.time_ns())
    base_url: str  # http://<camera address>:<port>

    def text(self, path: str, default: str = "") -> str:
        """The text of the first element at ``path`` (prefixes from :data:`NS`) under the operation, or default."""
        found = self.body.find(path, NS)
        return (found.text or "").strip() if found is not None else default


Handler = Callable[[Call], "str | Awaitable[str]"]
OPERATIONS: dict[tuple[str, str], Handler] = {}
# GET routes (path -> handler giving content type and body), e.g. the snapshot
GetHandler = Callable[["CameraState", "SimServer"], tuple[str, bytes]]
GET_ROUTES: dict[str, GetHandler] = {}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``name`` on ``service`` (a key of :data:`SERVICE_PATHS`). A handler may be async."""
    if service not in SERVICE_PATHS:
        raise ValueError(f"unknown ONVIF service {service!r}")

    def register(handler: Handler) -> Handler:
        OPERATIONS[(service, name)] = handler
        return handler

    return register


def get_route(path: str) -> Callable[[GetHandler], GetHandler]:
    """Register a plain HTTP GET on every camera (runs in a worker thread: it may decode video)."""

    def register(handler: GetHandler) -> GetHandler:
        GET_ROUTES[path] = handler
        return handler

    return register


async def dispatch(call: Call) -> str:
    """The handler's response element, or :class:`SoapFault` ``ter:ActionNotSupported``."""
    handler = OPERATIONS.get((call.service, call.operation))
    if handler is None:
        raise SoapFault("ter:ActionNotSupported", f"{call.operation} is not supported by {call.service}", sender=False)
    out = handler(call)
    if inspect.isawaitable(out):
        out = await out
    assert isinstance(out, str)
    return out


def envelope(body: str) -> bytes:
    """A SOAP 1.2 envelope around a response element or fault."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="{NS["s"]}"><s:Body>{body}</s:Body></s:Envelope>'
    ).encode()
