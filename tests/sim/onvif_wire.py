"""Raw HTTP/SOAP to a simulated camera, for what a library client would hide: status codes, silence, resets."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from datetime import UTC, datetime

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TDS = "http://www.onvif.org/ver10/device/wsdl"


def token(user: str, password: str, *, digest: bool = True) -> str:
    """A WS-Security UsernameToken header (PasswordDigest or PasswordText)."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = os.urandom(16)
    if digest:
        value = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
        kind = "PasswordDigest"
    else:
        value, kind = password, "PasswordText"
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#{kind}">'
        f"{value}</wsse:Password><wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def envelope(operation: str, header: str = "", ns: str = TDS, inner: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP}"><s:Header>{header}</s:Header>'
        f'<s:Body><{operation} xmlns="{ns}">{inner}</{operation}></s:Body></s:Envelope>'
    ).encode()


def request(host: str, port: int, path: str, body: bytes, *, timeout: float = 5.0) -> tuple[int, bytes]:
    """POST and read one reply (status, body); raises ``TimeoutError`` / ``ConnectionError`` as the socket does."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        raise ConnectionError("the connection closed without a reply")
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ", 2)[1]), rest
