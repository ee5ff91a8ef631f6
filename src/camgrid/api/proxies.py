"""The client's address, with ``X-Forwarded-For`` believed only from configured proxies (``api.trusted_proxies``).

uvicorn's own proxy handling is off (``camgrid serve`` runs it with ``proxy_headers=False``): by default it believes
the header from loopback, so anyone on the machine (or a proxy that passes the header through) could forge the
address the audit log records and the login throttle counts. Here the header is read only when the peer is a
trusted proxy, and the client is the right-most address in the chain that is not itself a trusted proxy (addresses
to the left of it were written by the client and prove nothing). docs/design/limits-before-work.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _trusted(host: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in trusted)


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The address a request comes from: ``peer``, unless it is a trusted proxy, then the right-most hop of the
    ``X-Forwarded-For`` chain (all of its headers, in order) that is not a trusted proxy."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop.strip("[]"))
        except ValueError:
            break  # garbage in the chain: believe nothing to its left
        client = hop.strip("[]")
        if not _trusted(client, trusted):
            break
    return client


class ClientAddress:
    """Rewrites the ASGI scope's ``client`` for HTTP and WebSocket requests (everything reads it from there)."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            host, port = scope["client"]
            chain = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
            address = client_address(host, chain, self.trusted)
            if address != host:
                scope = {**scope, "client": (address, port)}
        await self.app(scope, receive, send)
