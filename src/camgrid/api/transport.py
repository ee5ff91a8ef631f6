"""How ``camgrid serve`` listens: HTTPS from the configured certificate, plain HTTP only on loopback unless told.

The control room carries session cookies, bearer tokens and live video. Over plain HTTP beyond this machine anyone
on the path reads them, so :func:`listen_plan` refuses an address beyond loopback without TLS unless the operator
says ``--insecure-http`` (or ``server.insecure_http``). :func:`make_self_signed` makes the pair ``camgrid certs``
writes (docs/design/transport-security.md).
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from camgrid.config import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
CERT_NAME = "tls/cert.pem"
KEY_NAME = "tls/key.pem"


class TransportError(Exception):
    """The server must not start as configured; the message says why and what to do."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the name localhost; everything else (0.0.0.0, ::, any name) is not."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _in_home(settings: Settings, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else settings.home / path


def check_key_file(path: Path) -> None:
    """The private key must be a regular file that no other user may read or write (mode 0600 or 0640)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise TransportError(f"TLS key {path}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise TransportError(f"TLS key {path}: not a regular file")
    if st.st_mode & 0o007:
        raise TransportError(
            f"TLS key {path} is accessible to every user (mode {stat.S_IMODE(st.st_mode):04o}): "
            f"refusing to start; run chmod 600 {path}"
        )


def listen_plan(settings: Settings, *, host: str | None, port: int | None, insecure_http: bool) -> Listen:
    """Where and how to listen, or :class:`TransportError` when it would be unsafe or the files are unusable."""
    cfg = settings.server
    where = Listen(host or cfg.host, port or cfg.port)
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        raise TransportError("server.tls_cert and server.tls_key go together: set both (or neither)")
    if cfg.tls_cert:
        cert, key = _in_home(settings, cfg.tls_cert), _in_home(settings, cfg.tls_key)
        if not cert.is_file():
            raise TransportError(f"TLS certificate {cert}: no such file (camgrid certs makes a self-signed pair)")
        check_key_file(key)
        return Listen(where.host, where.port, cert, key)
    if not is_loopback(where.host) and not (insecure_http or cfg.insecure_http):
        raise TransportError(
            f"refusing to serve plain HTTP on {where.host}: beyond this machine, passwords, session cookies and "
            "live video would cross the network in clear. Set server.tls_cert and server.tls_key (camgrid certs "
            "makes a self-signed pair), listen on 127.0.0.1 behind a TLS proxy, or pass --insecure-http "
            "(server.insecure_http) to accept the risk"
        )
    return where


def _san(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name.strip("[]"))))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def make_self_signed(*, cert_path: Path, key_path: Path, names: list[str], days: int, now_ns: int) -> None:
    """A self-signed ECDSA P-256 certificate for ``names`` (DNS names or IP addresses) valid ``days`` from now.

    The key is written with mode 0600 (created so, never world-readable in between), its folder 0700."""
    if not names:
        raise TransportError("name at least one host name or address for the certificate")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    start = datetime.fromtimestamp(now_ns / 1e9, tz=UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(_san(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    for folder in {cert_path.parent, key_path.parent}:
        folder.mkdir(parents=True, exist_ok=True)
    key_path.parent.chmod(0o700)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = key_path.with_name(key_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    os.replace(tmp, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
