"""A real OpenLDAP server (Debian's slapd) for the directory sign-in tests (docs/design/sign-in.md).

Session-scoped: a temporary slapd.conf and mdb database under a temp folder, a small city loaded with slapadd
before the start (people, groups for camgrid's roles and districts, camgrid's service account), slapd in the
foreground on a free port of 127.0.0.1 (StartTLS with a
self-signed certificate made here), ready when camgrid's service account can bind; stopped at the end.
Anonymous users read nothing (as in a city's directory): camgrid needs its service account or a user's own bind.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import Connection, Server

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
BASE = "dc=city,dc=example"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "root-secret-for-tests"
SERVICE_DN = f"cn=camgrid,ou=services,{BASE}"
SERVICE_PW = "service-secret-for-tests"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
# uid -> (password, groups)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "asha": ("asha-directory-pw", ("camgrid-operators", "district-d01")),
    "bikash": ("bikash-directory-pw", ("camgrid-supervisors", "district-d01", "district-d02")),
    "chandra": ("chandra-directory-pw", ("camgrid-admins", "district-all")),
    "dipa": ("dipa-directory-pw", ("district-d01",)),  # in no role group: no camgrid rights
    "leaver": ("leaver-directory-pw", ("camgrid-operators", "district-d02")),  # tests delete this entry
    "mover": ("mover-directory-pw", ("camgrid-supervisors", "district-d02")),  # tests change these groups
}
GROUP_NAMES = (
    "camgrid-operators",
    "camgrid-supervisors",
    "camgrid-admins",
    "district-d01",
    "district-d02",
    "district-all",
)


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


def user_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def _certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (StartTLS tests trust it through ca_file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "key.pem").chmod(0o600)


def _conf(folder: Path) -> str:
    schema = Path("/etc/ldap/schema")
    return f"""
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
include {schema}/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile {folder}/cert.pem
TLSCertificateKeyFile {folder}/key.pem
TLSCACertificateFile {folder}/cert.pem
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {folder}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""


def _ldif() -> str:
    out = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: city\no: City\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: camgrid\n"
        f"userPassword: {SERVICE_PW}\n",
    ]
    for uid, (pw, _) in USERS.items():
        out.append(
            f"dn: {user_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {pw}\n"
        )
    for name in GROUP_NAMES:
        members = [uid for uid, (_, groups) in USERS.items() if name in groups]
        lines = "".join(f"member: {user_dn(m)}\n" for m in members)
        out.append(f"dn: {group_dn(name)}\nobjectClass: groupOfNames\ncn: {name}\n{lines}")
    return "\n".join(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Slapd:
    url: str
    folder: Path

    @property
    def ca_file(self) -> str:
        """The server's self-signed certificate (StartTLS)."""
        return str(self.folder / "cert.pem")

    def admin(self) -> Connection:
        """The directory's root: tests change groups and entries with it."""
        conn = Connection(Server(self.url), user=ROOT_DN, password=ROOT_PW, auto_bind=True)
        return conn


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    if not SLAPD.exists():
        pytest.skip("Debian's slapd is installed by `make test` (APT_PACKAGES)")
    folder = Path(tempfile.mkdtemp(prefix="camgrid-slapd-"))
    (folder / "db").mkdir()
    _certificate(folder)
    conf = folder / "slapd.conf"
    conf.write_text(_conf(folder))
    (folder / "city.ldif").write_text(_ldif())
    subprocess.run(
        [str(SLAPADD), "-f", str(conf), "-l", str(folder / "city.ldif")], check=True, capture_output=True, timeout=30
    )
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (folder / "slapd.log").open("wb")
    # -d 0: stay in the foreground (no fork), so the fixture owns the process and stops it by its own pid.
    proc = subprocess.Popen([str(SLAPD), "-f", str(conf), "-h", f"{url}/", "-d", "0"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                Connection(Server(url, connect_timeout=0.5), user=SERVICE_DN, password=SERVICE_PW, auto_bind=True)
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not start: {(folder / 'slapd.log').read_text()[-2000:]}") from None
                time.sleep(0.05)  # polling the condition (a bind), not waiting for luck
        yield Slapd(url, folder)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
