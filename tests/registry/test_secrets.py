"""Secrets at rest and redaction (docs/design/secrets-at-rest.md; issue 13, findings 7 and 8).

A camera password with an unencoded ``#``, ``/`` or ``?`` and query-string credentials never leave camgrid through a
listing, an export, an import error or a log; the database (file and table dump) holds no password; the recorder
opens the sealed credentials with the key file, and a missing or wrong key file is an error that names the file.
On SQLite and PostgreSQL (``CAMGRID_TEST_BACKEND``); the raw-file and file-mode checks of the SQLite file are
SQLite only.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from camgrid.audit.log import AuditLog
from camgrid.cli.main import cli
from camgrid.clock import SystemClock
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.secrets import SecretBox, SecretsKeyError, redact_url, split_userinfo
from camgrid.registry.models import Camera
from camgrid.registry.service import reveal
from camgrid.storage.recorder import load_sources
from camgrid.vocabulary import AuditAction
from tests.backends import POSTGRES, home_db_url
from tests.registry.test_import import CAMGRID, GOOD, write_csv

PASSWORD = "p#ss/w?rd@x:%41"  # unencoded "#", "/", "?", "@", ":" and a %-escape
QUERY_SECRET = "Qx9-query-secret"
URL = (
    f"rtsp://admin:{PASSWORD}@10.0.0.1:554/Streaming/Channels/101"
    f"?transportmode=unicast&user=admin&password={QUERY_SECRET}"
)
SHOWN = "rtsp://10.0.0.1:554/Streaming/Channels/101?transportmode=unicast&user=***&password=***"
REAL = f"rtsp://10.0.0.1:554/Streaming/Channels/101?transportmode=unicast&user=admin&password={QUERY_SECRET}"
LEAKS = (PASSWORD, QUERY_SECRET, "p#ss", "w?rd")


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(home: Path, *args: str, umask: int | None = None) -> Ran:
    """The command in this process (fast), or, to set its umask, in a process of its own."""
    if umask is None:
        r = CliRunner().invoke(cli, ["--home", str(home), *args])
        return Ran(r.exit_code, r.stdout, r.stderr)

    def _umask() -> None:
        os.umask(umask)

    p = subprocess.run(
        [*CAMGRID, "--home", str(home), *args], capture_output=True, text=True, timeout=120, preexec_fn=_umask
    )
    return Ran(p.returncode, p.stdout, p.stderr)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_no_leak(out: str, where: str) -> None:
    for secret in LEAKS:
        assert secret not in out, f"{where} shows {secret!r}: {out[:500]}"


# --- the redactor ------------------------------------------------------------------------------------------------


def test_redact_url_handles_the_shapes_urllib_cannot() -> None:
    assert redact_url(URL) == SHOWN
    assert redact_url("rtsp://10.0.0.1/s?Token=a&PWD=b&Auth=c&key=d&passwd=e&pass=f&username=g&x=1") == (
        "rtsp://10.0.0.1/s?Token=***&PWD=***&Auth=***&key=***&passwd=***&pass=***&username=***&x=1"
    )
    assert redact_url("rtsp://u:p@[fe80::1]:554/s") == "rtsp://[fe80::1]:554/s"
    assert redact_url("rtsp://admin:a#b@cam.example.org") == "rtsp://cam.example.org"
    assert redact_url("rtsp://10.0.0.1:554/stream1") == "rtsp://10.0.0.1:554/stream1", "nothing to hide"
    assert redact_url("rtsp://u:p@/nohost") == "rtsp:///nohost", "an @ with no host after it: all of it goes"
    assert redact_url("admin:secret@10.0.0.1/x") == "<redacted url>", "no scheme: no telling where a password ends"
    assert redact_url("rtsp://h/s?password=a#b&c=1") == "rtsp://h/s?password=***&c=1", "a # inside a value"
    assert split_userinfo(URL) == ("rtsp://", f"admin:{PASSWORD}", REAL.removeprefix("rtsp://"))


HOSTS = st.sampled_from(["10.0.0.1", "10.0.0.1:554", "cam-7.city.example", "[fe80::1]:8554", "h"])
TAILS = st.sampled_from(["", "/", "/Streaming/Channels/101", "/s?transportmode=unicast", "/a/b?x=1#frag", "?x=1"])
CHARS = string.ascii_letters + string.digits + string.punctuation  # printable, with # / ? @ : % and the rest


@settings(max_examples=400, deadline=None)
@given(
    user=st.text(alphabet=CHARS.replace(":", ""), max_size=12),
    password=st.text(alphabet=CHARS, min_size=1, max_size=40),
    host=HOSTS,
    tail=TAILS,
)
def test_no_password_survives_redaction_and_the_host_does(user: str, password: str, host: str, tail: str) -> None:
    """Whatever the password holds, the redacted URL is exactly the URL without its userinfo: the host, port, path
    and query are kept, and no character of the password is left (a password of a character or two may of course
    also be part of the host or path: the exact comparison makes that no leak)."""
    url = f"rtsp://{user}:{password}@{host}{tail}"
    out = redact_url(url)
    assert out == f"rtsp://{host}{tail}"
    assume(password not in f"rtsp://{host}{tail}")
    assert password not in out


# --- the registry, end to end ------------------------------------------------------------------------------------


def _import(tmp_path: Path, home: Path, **row: str) -> Ran:
    path = write_csv(tmp_path / "cams.csv", [dict(GOOD, **row)], [*GOOD, *(k for k in row if k not in GOOD)])
    return run(home, "cameras", "import", str(path))


def test_import_errors_listings_and_exports_never_show_a_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = _import(tmp_path, home, rtsp_url=f"rtsp://admin:{PASSWORD}@10.0.0.1:99999/x", password="")
    assert bad.returncode == 2 and "rtsp://10.0.0.1:99999/x" in bad.stderr, bad.stderr
    assert_no_leak(bad.stdout + bad.stderr, "an import error")

    ok = _import(tmp_path, home, rtsp_url=URL, password="", sub_rtsp_url=URL.replace("101", "102"))
    assert ok.returncode == 0, ok.stderr
    for args in (("list",), ("list", "--json"), ("export",), ("export", "--format", "geojson")):
        r = run(home, "cameras", *args)
        assert r.returncode == 0, r.stderr
        assert_no_leak(r.stdout + r.stderr, f"cameras {' '.join(args)}")
    listed = json.loads(run(home, "cameras", "list", "--json").stdout)
    assert (listed["rtsp_url"], listed["username"], listed["has_password"]) == (SHOWN, "admin", True)
    assert listed["sub_rtsp_url"] == SHOWN.replace("101", "102")

    # Only when asked, into a file of the operator's only, and audited.
    out = tmp_path / "with-secrets.csv"
    assert run(home, "cameras", "export", "--with-secrets").returncode == 2, "never to the terminal"
    r = run(home, "cameras", "export", "--with-secrets", "--out", str(out), umask=0)
    assert r.returncode == 0, r.stderr
    assert _mode(out) == 0o600
    written = out.read_text()
    assert PASSWORD in written and REAL in written
    engine = make_engine(home_db_url(home))
    log = AuditLog.open(engine, home=home, clock=SystemClock())
    actions = [json.loads(log.entry_data(i))["action"] for i in range(log.size)]
    assert actions[-1] == AuditAction.CAMERAS_EXPORT_SECRETS
    assert_no_leak(log.entry_data(log.size - 1).decode(), "the audit entry")
    # What --with-secrets wrote imports back unchanged.
    again = run(home, "cameras", "import", str(out))
    assert again.returncode == 0 and "1 unchanged" in again.stdout, again.stdout + again.stderr
    engine.dispose()


def test_the_database_holds_no_password_and_the_recorder_opens_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _import(tmp_path, home, rtsp_url=URL, password="").returncode == 0
    engine = make_engine(home_db_url(home))
    with engine.connect() as conn:  # a dump of every table
        dump = "\n".join(
            repr(row)
            for table in inspect(conn).get_table_names()
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).all()
        )
    assert "10.0.0.1:554" in dump
    assert_no_leak(dump, "a table dump")
    if not POSTGRES:  # the raw file and its write-ahead log
        raw = b"".join(p.read_bytes() for p in home.glob("camgrid.db*"))
        assert b"10.0.0.1:554" in raw
        for secret in LEAKS:
            assert secret.encode() not in raw, f"the database file holds {secret!r}"

    box = SecretBox(home / "secrets.key")
    with unit_of_work(session_factory(engine)) as s:
        (src,) = load_sources(s, "local", box)
        cam = s.get(Camera, "cam-1")
        assert cam is not None
        real = reveal(box=box, camera=cam)
    assert (src.url, src.username, src.password) == (REAL, "admin", PASSWORD)
    assert (real.rtsp_url, real.password) == (REAL, PASSWORD)
    assert_no_leak(repr(src) + repr(real), "repr")
    engine.dispose()


def test_a_url_imported_back_as_listed_keeps_its_real_credentials(tmp_path: Path) -> None:
    """A plain export lists ``password=***``; importing that row back must not put the asterisks into the camera."""
    home = tmp_path / "home"
    assert _import(tmp_path, home, rtsp_url=URL, password="").returncode == 0
    again = _import(tmp_path, home, rtsp_url=SHOWN, password=PASSWORD)
    assert again.returncode == 0 and "1 unchanged" in again.stdout, again.stdout + again.stderr
    engine = make_engine(home_db_url(home))
    with unit_of_work(session_factory(engine)) as s:
        (src,) = load_sources(s, "local", SecretBox(home / "secrets.key"))
    assert (src.url, src.password) == (REAL, PASSWORD)
    engine.dispose()


def test_a_missing_or_wrong_key_file_is_named_not_hidden(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "home"
    assert _import(tmp_path, home, rtsp_url=URL, password="").returncode == 0
    key = home / "secrets.key"
    key.rename(tmp_path / "kept.key")
    r = run(home, "cameras", "list")
    assert r.returncode == 1 and str(key) in r.stderr and "missing" in r.stderr, r.stderr

    SecretBox(key).seal("another key", owner="x")  # a new, different key in its place
    r = run(home, "cameras", "list")
    assert r.returncode == 1 and str(key) in r.stderr and "wrong key" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr

    engine = make_engine(home_db_url(home))
    with unit_of_work(session_factory(engine)) as s, caplog.at_level(logging.ERROR, "camgrid.storage"):
        assert load_sources(s, "local", SecretBox(key)) == [], "that camera is not recorded..."
    assert str(key) in caplog.text and "cam-1" in caplog.text, "...and the log says why, naming the file"
    engine.dispose()

    key.unlink()
    (tmp_path / "kept.key").rename(key)
    assert run(home, "cameras", "list").returncode == 0, "the right key file back: all is well"


def test_a_key_file_may_live_elsewhere(tmp_path: Path) -> None:
    """A cluster: every node points ``secrets.key_file`` at its copy of the central node's key."""
    home = tmp_path / "home"
    home.mkdir()
    elsewhere = tmp_path / "keys" / "camgrid.key"
    (home / "camgrid.toml").write_text(f'[secrets]\nkey_file = "{elsewhere}"\n')
    assert _import(tmp_path, home, rtsp_url=URL, password="").returncode == 0
    assert elsewhere.is_file() and not (home / "secrets.key").exists()
    assert _mode(elsewhere) == 0o600


def test_home_database_and_key_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = write_csv(tmp_path / "cams.csv", [dict(GOOD, rtsp_url=URL, password="")])
    r = run(home, "cameras", "import", str(path), umask=0)
    assert r.returncode == 0, r.stderr
    assert _mode(home) == 0o700
    assert _mode(home / "secrets.key") == 0o600
    if not POSTGRES:
        files = sorted(home.glob("camgrid.db*"))
        assert home / "camgrid.db" in files
        for f in files:
            assert _mode(f) == 0o600, f"{f.name} is {oct(_mode(f))}"


@pytest.mark.sqlite_only("the SQLite file's -wal and -shm")
def test_an_old_world_readable_database_is_closed_on_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    engine = make_engine(home_db_url(home))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    for f in home.glob("camgrid.db*"):
        os.chmod(f, 0o644)
    os.chmod(home, 0o755)
    assert run(home, "cameras", "list").returncode == 0
    assert _mode(home) == 0o700
    for f in home.glob("camgrid.db*"):
        assert _mode(f) == 0o600, f"{f.name} is {oct(_mode(f))}"


def test_a_key_file_that_is_not_a_key_is_named() -> None:
    with pytest.raises(SecretsKeyError, match="missing"):
        SecretBox(Path("/nonexistent/secrets.key")).open("v1:AAAA", owner="c")
