"""Discovery's audited step (docs/design/onvif.md, "Discovery and set-up").

A discovery sends a login to every camera it finds, on someone's behalf, so the entry (``camera.discover``: what
was probed, the user name, never the password) is written before any packet leaves. The network part runs
afterwards (:func:`camgrid.onvif.discovery.run`), outside any database session; proposing rows is a read
(:func:`camgrid.onvif.proposals.propose`).
"""

from __future__ import annotations

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.onvif.discovery import DiscoveryRequest, check_request
from camgrid.vocabulary import AuditAction


@audited(AuditAction.CAMERA_DISCOVER)
def start_discovery(*, audit: AuditWriter, actor: Actor, request: DiscoveryRequest) -> list[str]:
    """Check the request's bounds (``ValueError``) and write its entry; returns the addresses to probe (empty:
    multicast). Nothing is sent when the entry cannot be written."""
    addresses = check_request(request)
    write_first(
        audit,
        actor,
        AuditAction.CAMERA_DISCOVER,
        details={
            "addresses": list(request.addresses[:10]),
            "address_count": len(addresses),
            "multicast": not addresses,
            "port": request.port,
            "username": request.username,
            "with_password": bool(request.password),
        },
    )
    return addresses
