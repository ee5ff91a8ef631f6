"""Browser-facing transport security as one ASGI middleware: who may call the API from a page, and what every
response tells the browser (docs/design/transport-security.md).

Origin rule, for every request under ``/api/`` (HTTP and WebSocket):

* an ``Origin`` header (or, without one, the origin of ``Referer``) that is present and is neither the server's own
  origin (its scheme and the ``Host`` header) nor one of ``server.allowed_origins`` is refused: HTTP 403, WebSocket
  closed with 4403 before it is accepted. ``Origin: null`` (sandboxed pages, redirects, a cross-origin form under a
  strict referrer policy) is never ours.
* a cookie-authenticated request that the browser marks ``Sec-Fetch-Site: cross-site`` or ``same-site`` (another
  port of this host is the same *site*, and SameSite=Strict cookies go there) is refused unless its Origin is
  configured.
* a cookie-authenticated state-changing request (any method but GET, HEAD, OPTIONS) with neither Origin nor Referer
  is refused: every current browser sends Origin on such a request, so only a forged or very old client lacks it.
  A bearer token is never sent by a browser on its own, so scripts with a token need no Origin.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camgrid.api.deps import COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FOREIGN_FETCH = frozenset({"cross-site", "same-site"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"
HSTS = "max-age=31536000"
REFUSED_CLOSE = 4403
log = logging.getLogger("camgrid.api.security")


def content_security_policy(scheme: str, host: str | None) -> str:
    """The policy for the bundled control room: own scripts and styles only (nothing inline), video and the mask
    editor's pictures from blob: URLs (Media Source), the map's worker from a blob:, live WebSockets to itself."""
    connect = "'self'"
    if host is not None and HOST_RE.match(host):
        connect += f" {'wss' if scheme == 'https' else 'ws'}://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "worker-src 'self' blob:",
            f"connect-src {connect}",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def normal_origin(scheme: str, hostport: str) -> str:
    """``scheme://host[:port]`` lower-cased, the scheme's default port left out."""
    hp = hostport.lower()
    if hp.startswith("["):  # [IPv6]:port
        inner, _, rest = hp[1:].partition("]")
        host, port = f"[{inner}]", rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hp.partition(":")
    if port == DEFAULT_PORTS.get(scheme):
        port = ""
    return f"{scheme}://{host}{':' + port if port else ''}"


def origin_of(value: str) -> str:
    """The origin named by an Origin header or a Referer URL; "null" when it names none."""
    value = value.strip()
    if value.lower() == "null":
        return "null"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "null"
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or "@" in parts.netloc:
        return "null"
    return normal_origin(parts.scheme, parts.netloc)


class TransportSecurity:
    """Origin checks on ``/api/`` and security headers on every HTTP response (HSTS when served over TLS)."""

    def __init__(self, app: ASGIApp, *, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.configured = frozenset(origin_of(o) for o in allowed_origins) - {"null"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        host = headers.get("host")
        if scope["type"] == "websocket":
            if scope.get("path", "").startswith("/api/") and self.refusal(scope, headers, scheme, host):
                await send({"type": "websocket.close", "code": REFUSED_CLOSE})
                return
            await self.app(scope, receive, send)
            return
        extra = [
            (b"content-security-policy", content_security_policy(scheme, host).encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", PERMISSIONS.encode()),
        ]
        if scheme == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        reason = self.refusal(scope, headers, scheme, host) if scope.get("path", "").startswith("/api/") else None
        if reason is None:
            await self.app(scope, receive, send_with_headers)
            return
        body = ('{"detail":"' + reason + '"}').encode()
        await send_with_headers(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send_with_headers({"type": "http.response.body", "body": body})

    def refusal(self, scope: Scope, headers: dict[str, str], scheme: str, host: str | None) -> str | None:
        """Why this request is refused (a fixed phrase, safe in JSON), or None; a refusal is logged."""
        reason = self._refusal(scope, headers, scheme, host)
        if reason is not None:
            log.warning(
                "refused %s %s: %s (Origin %r, Referer origin %r, Sec-Fetch-Site %r)",
                scope["type"],
                scope.get("path", "")[:200],
                reason,
                headers.get("origin", "")[:200],
                origin_of(headers["referer"])[:200] if "referer" in headers else "",  # its origin: no path
                headers.get("sec-fetch-site", "")[:40],
            )
        return reason

    def _refusal(self, scope: Scope, headers: dict[str, str], scheme: str, host: str | None) -> str | None:
        allowed = set(self.configured)
        if host is not None and HOST_RE.match(host):
            allowed.add(normal_origin(scheme, host))
        if "origin" in headers:
            origin: str | None = origin_of(headers["origin"])
        elif "referer" in headers:
            origin = origin_of(headers["referer"])
        else:
            origin = None
        if origin is not None and origin not in allowed:
            return "cross-origin request refused"
        cookie_auth = not headers.get("authorization", "").lower().startswith("bearer ") and any(
            part.strip().partition("=")[0] == COOKIE for part in headers.get("cookie", "").split(";")
        )
        if not cookie_auth:
            return None
        if headers.get("sec-fetch-site", "").lower() in FOREIGN_FETCH and origin not in self.configured:
            return "cross-site request refused"
        if scope["type"] == "http" and origin is None and scope.get("method", "GET").upper() not in SAFE_METHODS:
            return "a state-changing request with a session cookie needs an Origin header"
        return None
