"""PostgreSQL and NATS JetStream from Debian's packages on loopback ports, in a folder: for `make demo-cluster`,
`make bench-cluster` and trying a cluster on one machine. Production runs them as system services (docs/deploy.md).

PostgreSQL refuses to run as root: when started by root, the server runs as the ``postgres`` user the package
creates, and the folder is handed to it.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_db_user(cmd: list[str]) -> list[str]:
    """PostgreSQL's tools run as the ``postgres`` OS user when we are root (the server refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    return Path(found[-1]).parent


@dataclass
class LocalPostgres:
    """A PostgreSQL server in ``folder`` on a loopback port, trusting local connections (throw-away data only).

    ``durable=False`` (the test suite) turns fsync and synchronous commit off: much faster, and a crash of the
    machine loses the data, which nobody keeps."""

    folder: Path
    port: int
    user: str = "camgrid"
    durable: bool = True

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(pg_bindir() / "pg_ctl"), "-D", str(self.data), *args]
        return subprocess.run(as_db_user(cmd), capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        if not self.data.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
                for parent in self.folder.parents:
                    if parent.stat().st_mode & 0o001 == 0:
                        # The postgres user must reach its folder: let others traverse (not list) the parents.
                        parent.chmod(parent.stat().st_mode | 0o001)
            init = [str(pg_bindir() / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust", "--no-sync"]
            subprocess.run(as_db_user(init), capture_output=True, text=True, check=True, timeout=120)
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c max_connections=300"
        )
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self._ctl("-l", str(self.folder / "server.log"), "-o", opts, "-w", "-t", "60", "start")
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr or done.stdout}")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def admin(self, sql: str, **params: object) -> object:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) and return its first value, if any."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql), params)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def create_database(self, name: str) -> str:
        """The URL of database ``name``, created if it does not exist."""
        if not self.admin("select 1 from pg_database where datname = :n", n=name):
            self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections are left open to it."""
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LocalNats:
    """A NATS server with JetStream, its store and log in ``folder``, on a loopback port.

    ``users`` (name -> password): every client must present one (NATS ``authorization``); ``tls_cert``/``tls_key``:
    clients speak TLS (``tls://`` URLs). Without either it is the plain loopback server the tests use."""

    folder: Path
    port: int
    popen: subprocess.Popen[bytes] | None = None
    users: dict[str, str] = field(default_factory=dict)
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def log(self) -> Path:
        return self.folder / "nats.log"

    @property
    def url(self) -> str:
        """The server's address without credentials (safe to print)."""
        return f"{'tls' if self.tls_cert else 'nats'}://127.0.0.1:{self.port}"

    def url_for(self, user: str) -> str:
        """The bus.url of one client: its user name and password in the URL (a secret: never print it)."""
        scheme = "tls" if self.tls_cert else "nats"
        return f"{scheme}://{quote(user, safe='')}:{quote(self.users[user], safe='')}@127.0.0.1:{self.port}"

    def _config(self) -> Path:
        """A nats-server config file (mode 600: it holds the passwords)."""
        lines = [
            f"listen: 127.0.0.1:{self.port}",
            f"jetstream {{ store_dir: {json.dumps(str(self.folder / 'store'))} }}",
        ]
        if self.users:
            users = ", ".join(
                f"{{user: {json.dumps(u)}, password: {json.dumps(p)}}}" for u, p in sorted(self.users.items())
            )
            lines.append(f"authorization {{ users = [{users}] }}")
        if self.tls_cert and self.tls_key:
            lines.append(
                f"tls {{ cert_file: {json.dumps(str(self.tls_cert))}, key_file: {json.dumps(str(self.tls_key))} }}"
            )
        path = self.folder / "nats.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self) -> None:
        exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(exe).exists():
            raise RuntimeError("nats-server is not installed: apt-get install -y nats-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.log
        log.write_text("")  # the next start must say "ready" anew
        if self.users or self.tls_cert:
            cmd = [exe, "-c", str(self._config())]
        else:
            cmd = [exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.folder / "store")]
        self.popen = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while "Server is ready" not in log.read_text(errors="replace"):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.popen = None
