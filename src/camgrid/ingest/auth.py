"""RTSP authentication (RFC 2617 Basic and Digest, with or without qop=auth), as IP cameras use it."""

from __future__ import annotations

import base64
import hashlib
import os


def parse_challenges(values: list[str]) -> dict[str, dict[str, str]]:
    """``WWW-Authenticate`` header values -> {scheme: {param: value}}."""
    out: dict[str, dict[str, str]] = {}
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        params: dict[str, str] = {}
        for part in _split_params(rest):
            key, _, val = part.partition("=")
            params[key.strip().lower()] = val.strip().strip('"')
        out[scheme.lower()] = params
    return out


def _split_params(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return [p for p in (s.strip() for s in parts) if p]


class Credentials:
    """Answers challenges. The password stays inside this object; ``repr`` never shows it."""

    __slots__ = ("_challenge", "_nc", "_password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password
        self._challenge: dict[str, dict[str, str]] = {}
        self._nc = 0

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<hidden>)"

    @property
    def present(self) -> bool:
        return bool(self.username or self._password)

    def challenge(self, values: list[str]) -> None:
        self._challenge = parse_challenges(values)
        self._nc = 0

    @property
    def challenged(self) -> bool:
        return bool(self._challenge)

    def header(self, method: str, uri: str) -> str | None:
        digest = self._challenge.get("digest")
        if digest is not None:
            realm, nonce = digest.get("realm", ""), digest.get("nonce", "")
            ha1 = hashlib.md5(f"{self.username}:{realm}:{self._password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
            fields = f'username="{self.username}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
            qops = [q.strip() for q in digest.get("qop", "").split(",") if q.strip()]
            if "auth" in qops:
                self._nc += 1
                nc = f"{self._nc:08x}"
                cnonce = os.urandom(8).hex()
                resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
                fields += f', qop=auth, nc={nc}, cnonce="{cnonce}"'
            else:
                resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
            fields += f', response="{resp}"'
            if "opaque" in digest:
                fields += f', opaque="{digest["opaque"]}"'
            return "Digest " + fields
        if "basic" in self._challenge:
            return "Basic " + base64.b64encode(f"{self.username}:{self._password}".encode()).decode()
        return None
