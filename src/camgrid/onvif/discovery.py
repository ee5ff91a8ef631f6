"""Finding ONVIF cameras: WS-Discovery probes (multicast on the local network, or unicast to given addresses), then
``describe`` of each one found, in a bounded thread pool.

The probes are the ``wsdiscovery`` package's messages (its Probe envelope and its ProbeMatch parser), sent and
received on one UDP socket of our own: its threaded daemon binds UDP 3702 for itself, sleeps for the whole timeout
and never reads the answers to a unicast probe (they come back to the sending socket, which it does not watch).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from camgrid.clock import Clock
from camgrid.onvif.connect import DEFAULT_TIMEOUT_S, OnvifError, parse_target
from camgrid.onvif.device import ClockReading, DeviceFacts, clock_offset, describe, open_camera

log = logging.getLogger(__name__)

WS_DISCOVERY_PORT = 3702
MULTICAST_GROUP = "239.255.255.250"
MAX_ADDRESSES = 4096  # a /20: one probe each; more is a scan, not a set-up
MAX_FOUND = 4096
MAX_DATAGRAM = 65_535
MAX_WORKERS = 16
SETTLE_S = 0.25  # after the last address asked has answered, later datagrams of its answer are awaited this long
ONVIF_TYPE = ("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
NAME_SCOPE = "onvif://www.onvif.org/name/"


MAX_PROBE_WAIT_S = 30.0
MAX_CALL_TIMEOUT_S = 30
MAX_CREDENTIAL = 200


@dataclass(frozen=True)
class DiscoveryRequest:
    """What to probe and with which login (the password is never shown: ``repr`` hides it)."""

    addresses: tuple[str, ...] = ()  # addresses and CIDR ranges; none: multicast on the local network
    port: int = WS_DISCOVERY_PORT
    timeout_s: float = 3.0  # how long answers to the probe are awaited
    describe_timeout_s: int = DEFAULT_TIMEOUT_S  # each ONVIF call to one camera
    username: str = ""
    password: str = field(default="", repr=False)
    workers: int = 8
    budget_s: float | None = None  # the describe pool's wait (None: a few timeouts per camera and round)


def check_request(request: DiscoveryRequest) -> list[str]:
    """The addresses to probe (empty: multicast), or ``ValueError`` naming the first bound the request breaks."""
    if not 1 <= request.port <= 65535:
        raise ValueError(f"port {request.port} out of range")
    if not 0.1 <= request.timeout_s <= MAX_PROBE_WAIT_S:
        raise ValueError(f"timeout must be 0.1-{MAX_PROBE_WAIT_S:g} s")
    if not 1 <= request.describe_timeout_s <= MAX_CALL_TIMEOUT_S:
        raise ValueError(f"the per-call timeout must be 1-{MAX_CALL_TIMEOUT_S} s")
    if not 1 <= request.workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1-{MAX_WORKERS}")
    if len(request.username) > MAX_CREDENTIAL or len(request.password) > MAX_CREDENTIAL:
        raise ValueError(f"user name and password are at most {MAX_CREDENTIAL} characters")
    if len(request.addresses) > MAX_ADDRESSES:
        raise ValueError(f"more than {MAX_ADDRESSES} addresses to probe")
    return expand_addresses(request.addresses)


def run(request: DiscoveryRequest, *, clock: Clock) -> tuple[int, list[Discovered]]:
    """Probe, then describe every camera that answered: ``(addresses probed, results)`` (bounded in time by the
    probe's timeout plus the describe pool's budget)."""
    addresses = check_request(request)
    found = probe(addresses, clock=clock, port=request.port, timeout_s=request.timeout_s)
    results = describe_all(
        found,
        username=request.username,
        password=request.password,
        clock=clock,
        timeout_s=request.describe_timeout_s,
        workers=request.workers,
        budget_s=request.budget_s,
    )
    return len(addresses), results


@dataclass(frozen=True)
class Found:
    """A ProbeMatch: the device service a camera announced, and what it says of itself in its scopes."""

    xaddr: str
    responder: str  # the address the answer came from
    epr: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        for scope in self.scopes:
            if scope.startswith(NAME_SCOPE):
                return unquote(scope[len(NAME_SCOPE) :]).strip()[:200]
        return ""


@dataclass(frozen=True)
class Discovered:
    """One camera found: what it said (``facts``, its clock), or why it could not be described (``error``)."""

    found: Found
    facts: DeviceFacts | None = None
    clock: ClockReading | None = None
    error: str = ""


def expand_addresses(specs: Sequence[str], *, limit: int = MAX_ADDRESSES) -> list[str]:
    """IPv4/IPv6 addresses and CIDR ranges (``10.1.2.0/28``: its hosts) as a list, in order, without repeats.

    ``ValueError`` for what is not an address or range, or for more than ``limit`` addresses in all."""
    out: dict[str, None] = {}
    for spec in specs:
        text = spec.strip()
        try:
            if "/" in text:
                net = ipaddress.ip_network(text, strict=False)
                if net.num_addresses > limit + 2:
                    raise ValueError(f"{text}: {net.num_addresses} addresses; at most {limit} in all")
                hosts = [net.network_address] if net.num_addresses == 1 else list(net.hosts())
                for host in hosts:
                    out[str(host)] = None
            else:
                ip = ipaddress.ip_address(text)
                if ip.is_unspecified or ip.is_multicast or str(ip) == "255.255.255.255":
                    raise ValueError("not a device's address (unspecified, multicast or broadcast)")
                out[str(ip)] = None
        except ValueError as exc:
            raise ValueError(f"not an address or range: {text[:60]!r} ({exc})") from None
        if len(out) > limit:
            raise ValueError(f"more than {limit} addresses to probe; give smaller ranges")
    return list(out)


def _probe_message() -> tuple[str, bytes]:
    """A Probe for ONVIF video transmitters with a MessageID of its own."""
    from wsdiscovery.actions import constructProbe
    from wsdiscovery.message import createSOAPMessage
    from wsdiscovery.qname import QName

    env = constructProbe([QName(*ONVIF_TYPE)], [])
    env.setMessageId(uuid.uuid4().urn)
    return str(env.getMessageId()), str(createSOAPMessage(env)).encode("utf-8")


def _matches(data: bytes, responder: str, message_ids: set[str] | frozenset[str]) -> list[Found]:
    """The device services in a ProbeMatches answer to our probe (anything else, or malformed: nothing)."""
    from wsdiscovery.actions import NS_ACTION_PROBE_MATCH
    from wsdiscovery.message import parseSOAPMessage

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return []  # no document type in SOAP: nothing to expand
    try:
        env = parseSOAPMessage(data, responder)
        if env is None or env.getAction() != NS_ACTION_PROBE_MATCH or env.getRelatesTo() not in message_ids:
            return []
        matches: list[Any] = list(env.getProbeResolveMatches())
    except Exception as exc:  # the package raises IndexError/AttributeError on half-formed answers
        log.debug("unreadable WS-Discovery answer from %s: %s", responder, exc)
        return []
    found = []
    for match in matches:
        xaddr = _pick_xaddr([str(x) for x in (match.getXAddrs() or [])], responder)
        if xaddr:
            scopes = tuple(str(s.getValue())[:300] for s in (match.getScopes() or [])[:32])
            found.append(Found(xaddr=xaddr, responder=responder, epr=str(match.getEPR() or "")[:200], scopes=scopes))
    return found


def _pick_xaddr(xaddrs: Sequence[str], responder: str) -> str:
    """The http(s) device address on the host that answered, else the first usable one ("" if none)."""
    usable = []
    for x in xaddrs[:16]:
        try:
            parse_target(x)
        except OnvifError:
            continue
        usable.append(x)
    for x in usable:
        if urlsplit(x).hostname == responder:
            return x
    return usable[0] if usable else ""


def probe(
    addresses: Sequence[str], *, clock: Clock, port: int = WS_DISCOVERY_PORT, timeout_s: float = 3.0
) -> list[Found]:
    """Send a WS-Discovery Probe for ONVIF video transmitters (to each address, or to the multicast group when none
    is given) and collect the answers for at most ``timeout_s`` (a moment after every address asked has answered).

    Each address gets a Probe of its own (its own MessageID: a discovery proxy, or one responder for several
    devices, answers a repeated MessageID once) and a repeat of it, since UDP may lose one. Answers are deduplicated
    by device address, at most ``MAX_FOUND``. ``OnvifError`` when no probe can be sent (no multicast route, say)."""
    if len(addresses) > MAX_ADDRESSES:
        raise ValueError(f"more than {MAX_ADDRESSES} addresses to probe")
    targets = list(addresses) or [MULTICAST_GROUP]
    messages = {address: _probe_message() for address in targets}
    ids = frozenset(mid for mid, _ in messages.values())
    family = socket.AF_INET6 if addresses and all(":" in a for a in addresses) else socket.AF_INET
    found: dict[str, Found] = {}
    answered: set[str] = set()
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if not addresses:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        start = clock.monotonic()
        deadline = start + timeout_s
        resend_at = start + min(0.5, timeout_s / 3)
        _send(sock, messages, targets, port)
        resent = False
        while len(found) < MAX_FOUND:
            now = clock.monotonic()
            if now >= deadline:
                break
            if not resent and now >= resend_at:
                _send(sock, messages, [a for a in targets if a not in answered], port, quiet=True)
                resent = True
            sock.settimeout(max(0.01, (deadline if resent else min(deadline, resend_at)) - now))
            try:
                data, peer = sock.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as exc:  # an ICMP "port unreachable" from one address: the others may still answer
                log.debug("WS-Discovery receive: %s", exc)
                continue
            answered.add(str(peer[0]))
            for item in _matches(data, str(peer[0]), ids):
                found.setdefault(item.xaddr, item)
            if addresses and answered >= set(addresses):
                # every address has answered: wait a moment for the rest of a many-message answer, then stop
                deadline = min(deadline, clock.monotonic() + SETTLE_S)
                resent = True
    return list(found.values())[:MAX_FOUND]


def _send(
    sock: socket.socket,
    messages: dict[str, tuple[str, bytes]],
    targets: Sequence[str],
    port: int,
    *,
    quiet: bool = False,
) -> None:
    sent = 0
    last: OSError | None = None
    for address in targets:
        try:
            sock.sendto(messages[address][1], (address, port))
            sent += 1
        except OSError as exc:
            last = exc
    if targets and not sent and not quiet:
        raise OnvifError(f"cannot send a WS-Discovery probe: {last}")


def describe_found(
    found: Found, *, username: str, password: str, clock: Clock, timeout_s: int = DEFAULT_TIMEOUT_S
) -> Discovered:
    """Describe one camera and read its clock; its failure is its own (``error``), never an exception."""
    try:
        target = parse_target(found.xaddr, username=username, password=password, timeout_s=timeout_s)
        client = open_camera(target, clock=clock)
        facts = describe(target, client=client)
    except OnvifError as exc:
        return Discovered(found=found, error=str(exc)[:300])
    try:
        reading: ClockReading | None = clock_offset(target, clock, client=client)
    except OnvifError as exc:
        return Discovered(found=found, facts=facts, error=f"clock: {str(exc)[:200]}")
    return Discovered(found=found, facts=facts, clock=reading)


def describe_all(
    found: Sequence[Found],
    *,
    username: str,
    password: str,
    clock: Clock,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    workers: int = 8,
    budget_s: float | None = None,
) -> list[Discovered]:
    """``describe_found`` for each camera, ``workers`` at a time; whatever has not finished within ``budget_s``
    (default: enough for every camera to use its timeout a few times) is reported as not answering in time, and
    the caller is not held longer (the late threads end at their own timeouts)."""
    if not found:
        return []
    workers = max(1, min(workers, MAX_WORKERS, len(found)))
    rounds = -(-len(found) // workers)
    budget = budget_s if budget_s is not None else timeout_s * 4.0 * rounds + 5.0
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onvif-describe")
    futures: dict[Future[Discovered], Found] = {}
    try:
        for item in found:
            fut = pool.submit(
                describe_found, item, username=username, password=password, clock=clock, timeout_s=timeout_s
            )
            futures[fut] = item
        deadline = clock.monotonic() + budget
        pending = set(futures)
        while pending:
            left = deadline - clock.monotonic()
            if left <= 0:
                break
            _, pending = wait(pending, timeout=min(left, 1.0), return_when=FIRST_COMPLETED)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for fut, item in futures.items():
        if fut.done() and not fut.cancelled():
            results.append(fut.result())
        else:
            results.append(Discovered(found=item, error=f"no answer within {budget:.0f} s"))
    return results
