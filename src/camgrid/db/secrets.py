"""Secrets at rest (docs/design/secrets-at-rest.md): the key file, sealed camera credentials, and the URL redactor.

Camera passwords and any URL that carries credentials are stored sealed with AES-GCM under a 256-bit key kept in a
file of its own (``<home>/secrets.key`` by default, mode 0600, made on first use). The database alone (a backup, a
dump, a stolen disk image of the database volume) no longer gives away how to log in to the city's cameras.

It lives in the lowest layer because the migration that seals existing rows (0012) needs it as much as the registry.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
SEALED_PREFIX = "v1:"
KEY_HEADER = "camgrid-secrets-key-v1"


class SecretsKeyError(RuntimeError):
    """The key file is missing, unreadable, malformed or not the key the credentials were sealed with.

    The message always names the file, so that an operator sees at once which file to restore or copy."""


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 whatever the umask; never overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key(path: Path, *, create: bool = False) -> bytes:
    """The key in ``path``; with ``create``, a new one (mode 0600) when the file does not exist yet."""
    if not path.exists():
        if not create:
            raise SecretsKeyError(
                f"secrets key file {path} is missing: camera credentials cannot be opened or sealed without it "
                "(restore it from the backup, or copy it from the central node to every recorder node)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        try:
            _write_private(path, f"{KEY_HEADER}\n{base64.b64encode(key).decode()}\n".encode())
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            return key
    try:
        text = path.read_text(encoding="ascii")
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)  # a copied key lands with the umask's mode: close it again
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsKeyError(f"secrets key file {path} cannot be read: {exc.__class__.__name__}") from None
    lines = text.split()
    try:
        if len(lines) != 2 or lines[0] != KEY_HEADER:
            raise ValueError("no header")
        key = base64.b64decode(lines[1], validate=True)
    except ValueError:
        raise SecretsKeyError(f"secrets key file {path} is not a camgrid secrets key") from None
    if len(key) != KEY_BYTES:
        raise SecretsKeyError(f"secrets key file {path}: the key must be {KEY_BYTES} bytes")
    return key


class SecretBox:
    """Seals and opens short secrets with the AES-256-GCM key in the file at ``path``.

    Cheap to make: the file is read (and, when sealing, created with mode 0600) only when a secret is first sealed
    or opened, so a registry without passwords needs no key file. The associated data binds a sealed value to its
    owner (the camera's id): a sealed blob copied onto another row does not open. ``repr`` never shows the key."""

    __slots__ = ("_aead", "may_create", "path")

    def __init__(self, path: Path, *, may_create: bool = True) -> None:
        """``may_create=False``: never make the key, only read it (a recorder node: its key must be the central
        node's copy, or it would seal with a key of its own that nobody else has)."""
        self.path = Path(path)
        self.may_create = may_create
        self._aead: AESGCM | None = None

    def __repr__(self) -> str:
        return f"SecretBox(path={str(self.path)!r})"

    def _cipher(self, *, create: bool) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(load_key(self.path, create=create))
        return self._aead

    def seal(self, plaintext: str, *, owner: str) -> str:
        """The sealed text (``v1:`` + base64 of nonce and ciphertext); "" stays "" (nothing to hide)."""
        if plaintext == "":
            return ""
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = self._cipher(create=self.may_create).encrypt(nonce, plaintext.encode(), owner.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + ct).decode()

    def open(self, sealed: str, *, owner: str) -> str:
        """The plaintext, or :class:`SecretsKeyError` naming the key file when it is the wrong key."""
        if sealed == "":
            return ""
        if not sealed.startswith(SEALED_PREFIX):
            raise SecretsKeyError(f"credentials of {owner!r} are not sealed (expected {SEALED_PREFIX!r} prefix)")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
            return self._cipher(create=False).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner.encode()).decode()
        except (InvalidTag, ValueError):
            raise SecretsKeyError(
                f"the credentials of {owner!r} do not open with the key in {self.path}: wrong key file "
                "(every node must use the same key file as the node that imported the cameras)"
            ) from None


# --- URL redaction -----------------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:)//")
# What may follow the userinfo's "@": a host (name, IPv4 or [IPv6]), an optional port, then the path, query,
# fragment or the end of the URL.
_HOST_AFTER_AT = re.compile(r"(?:\[[0-9A-Za-z:.%]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*))(?::[0-9]{0,5})?(?=[/?#]|$)")
QUERY_SECRET_NAMES = (
    "user",
    "username",
    "password",
    "pass",
    "pwd",
    "passwd",
    "token",
    "auth",
    "key",
    "secret",
    "access_token",
    "api_key",
    "apikey",
)
# A credential's value runs up to the next "&name=" (or ";name=") or the end: an unencoded "#" or "&" inside the
# value is taken as part of it rather than left showing.
_QUERY_SECRET = re.compile(
    r"([?&;](?:" + "|".join(QUERY_SECRET_NAMES) + r")=)(.*?)(?=[&;][A-Za-z0-9_.\-]+=|$)",
    re.IGNORECASE | re.DOTALL,
)
REDACTED = "***"


def split_userinfo(url: str) -> tuple[str, str | None, str]:
    """``(scheme "://", userinfo or None, the rest from the host on)``, whatever the password holds.

    urllib splits at the first ``/``, ``?`` or ``#``, so a password with one of them unencoded defeats it. Here the
    userinfo ends at the LAST ``@`` that is followed by a plausible host (and port) and then the path, query,
    fragment or the end: a password may hold anything, even ``@host/``, and still end before the real host, which
    comes after all of it. The price: a URL whose path or query holds ``@`` followed by something host-like loses
    more than its userinfo (over-redaction, never a leak); camera URLs do not put ``@`` there."""
    m = _SCHEME.match(url)
    if m is None:
        return "", None, url
    prefix, rest = url[: m.end()], url[m.end() :]
    cut = -1
    for i in range(len(rest) - 1, -1, -1):
        if rest[i] == "@" and _HOST_AFTER_AT.match(rest, i + 1):
            cut = i
            break
    if cut < 0:
        if "@" in rest:  # an "@" but no host after any: hide everything up to the last one
            cut = rest.rindex("@")
            return prefix, rest[:cut], rest[cut + 1 :]
        return prefix, None, rest
    return prefix, rest[:cut], rest[cut + 1 :]


def redact_query(url: str) -> str:
    """Replace the values of credential-like query parameters (``password=``, ``token=``... any case)."""
    return _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, url)


def redact_url(url: str) -> str:
    """The URL without its userinfo and with credential-like query values replaced by ``***``: safe to show."""
    prefix, userinfo, rest = split_userinfo(url)
    if not prefix and "@" in url:
        return "<redacted url>"  # no scheme: no way to tell where a password ends
    del userinfo
    return redact_query(prefix + rest)


def strip_userinfo(url: str) -> str:
    """The URL without its userinfo (query credentials kept: the camera may need them)."""
    prefix, _, rest = split_userinfo(url)
    return prefix + rest
