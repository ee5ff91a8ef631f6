"""RTSP over TLS (``rtsps://``, port 322 by default) in the non-blocking ingest loop.

The safe default: the camera's certificate is verified (the system's CAs, plus ``recorder.rtsps_ca_file`` for a
city's own camera CA) and its name checked against the URL's host. Cameras mostly carry self-signed certificates,
which that refuses, with a gap whose detail says so and prints the certificate's SHA-256 fingerprint; an operator
who has checked that fingerprint pins it (``recorder.rtsps_pins``), after which that certificate, and only that one,
is accepted. ``recorder.rtsps_verify = false`` accepts any certificate: encrypted but not authenticated, for a lab.
See docs/design/packet-path.md, "Transports".
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import ssl
from functools import lru_cache


@lru_cache(maxsize=8)
def client_context(verify: bool, ca_file: str) -> ssl.SSLContext:
    """A context that verifies (system CAs and ``ca_file``), or, when ``verify`` is False, one that does not (used
    for pinned certificates, which are checked by fingerprint after the handshake)."""
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wrap(sock: socket.socket, ctx: ssl.SSLContext, host: str) -> ssl.SSLSocket:
    return ctx.wrap_socket(sock, server_hostname=host or None, do_handshake_on_connect=False)


def handshake(sock: ssl.SSLSocket) -> int:
    """One non-blocking step: 0 when done, else the selector event it waits for. Raises on failure."""
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        return selectors.EVENT_READ
    except ssl.SSLWantWriteError:
        return selectors.EVENT_WRITE
    return 0


def fingerprint(sock: ssl.SSLSocket) -> str:
    der = sock.getpeercert(binary_form=True) or b""
    return hashlib.sha256(der).hexdigest()


def recv(sock: ssl.SSLSocket, size: int) -> bytes | None:
    """Whatever TLS records are ready, up to ``size`` bytes: b"" when the camera closed, None when nothing came.
    (One ``recv`` returns at most one record, ~16 KB: a loop that read one per tick would cap a camera at ~3 Mbit/s.)"""
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            data = sock.recv(size - got)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            break
        except ssl.SSLZeroReturnError:
            data = b""
        if not data:
            if not parts:
                return b""
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts) if parts else None


def describe(exc: Exception, host: str) -> str:
    """What went wrong, for the gap's detail."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: the camera's certificate is not trusted ({exc.verify_message}); pin it or add its CA"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {host} failed: {exc.reason or exc}"
    return f"TLS: {exc}"
