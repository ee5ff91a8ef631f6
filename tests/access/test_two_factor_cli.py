"""``camgrid users 2fa enrol|reset`` (docs/design/sign-in.md): the secret and recovery codes are printed once,
stored only sealed and hashed, a second enrolment is refused until a reset, and both are audited as the login."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyotp
from click.testing import CliRunner
from sqlalchemy import select

from camgrid.access.models import RecoveryCode, UserTotp
from camgrid.audit.models import AuditEntry
from camgrid.cli.main import cli
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.vocabulary import AuditAction
from tests.backends import backend_env


def _run(home: Path, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env={"CAMGRID_NEW_PASSWORD": "cli-password-1"})
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def test_enrol_prints_once_and_stores_sealed(tmp_path: Path) -> None:
    _run(tmp_path, "users", "add", "sup", "--role", "supervisor")
    out = _run(tmp_path, "users", "2fa", "enrol", "sup")
    secret = re.search(r"^secret: ([A-Z2-7]{32})$", out, re.M)
    uri = re.search(r"(otpauth://totp/\S+)", out)
    codes = re.findall(r"^  ([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$", out, re.M)
    assert secret and uri and len(set(codes)) == 10
    assert pyotp.parse_uri(uri.group(1)).secret == secret.group(1)
    assert "already enrolled" in _run(tmp_path, "users", "2fa", "enrol", "sup", ok=False)

    engine = make_engine(load_settings(tmp_path, backend_env(tmp_path)).database_url)
    with unit_of_work(session_factory(engine)) as s:
        sealed = s.scalars(select(UserTotp.secret_sealed)).one()
        hashes = list(s.scalars(select(RecoveryCode.code_hash)))
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    assert secret.group(1) not in sealed and len(hashes) == 10 and not set(codes) & set(hashes)
    assert secret.group(1) not in json.dumps(entries)
    enrol = [e for e in entries if e["action"] == AuditAction.TOTP_ENROL]
    assert len(enrol) == 1 and str(enrol[0]["who"]).startswith("cli:")

    assert "reset" in _run(tmp_path, "users", "2fa", "reset", "sup")
    with unit_of_work(session_factory(engine)) as s:
        assert s.scalar(select(UserTotp)) is None and s.scalar(select(RecoveryCode)) is None
        actions = [json.loads(r.data)["action"] for r in s.scalars(select(AuditEntry))]
    assert AuditAction.TOTP_RESET in actions
    _run(tmp_path, "users", "2fa", "enrol", "sup")  # after a reset, a new enrolment
