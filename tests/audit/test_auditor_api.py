"""The auditor's API (docs/design/auditor-screen.md): search by person, camera, action and time, paged; each entry's
inclusion proof verifies against a signed checkpoint; consistency between checkpoints; the transparency report; the
export downloads what ``camgrid audit verify`` accepts and is audited first; district-scoped auditors see their
districts only (and their proofs still verify); auditors see no video."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.access.policy import allowed
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from camgrid.audit.note import Verifier, parse_checkpoint_note
from camgrid.audit.verify import verify_export
from camgrid.auditing import AuditWriteError, Entry
from camgrid.clock import NS_PER_S, FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction, Role
from tests.backends import backend_env
from tests.seeding import BROWSER, SEED

PASSWORD = "auditor-test-password"
T0 = int(datetime(2026, 11, 10, tzinfo=UTC).timestamp()) * NS_PER_S


def _camera(cid: str, district: str) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.69, lon=85.31, district=district, site=f"S-{cid}", feeder="F-1", uplink="U-1",
        rtsp_url=f"rtsp://10.0.0.1/{cid}",
    )  # fmt: skip


class World:
    def __init__(self, client: TestClient, log: AuditLog) -> None:
        self.client = client
        self.log = log

    def login(self, user: str) -> TestClient:
        self.client.cookies.clear()
        r = self.client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return self.client


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home: Path = tmp_path_factory.mktemp("auditor")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = FakeClock(T0)
    log = AuditLog.open(engine, home=settings.home, clock=clock)
    with unit_of_work(factory) as s:
        registry.import_cameras(
            session=s, audit=log, actor=SEED, rows=[_camera("cam-a", "D-01"), _camera("cam-b", "D-02")], now_ns=T0
        )
    users = [("auditor", Role.AUDITOR, None), ("scoped", Role.AUDITOR, ["D-01"]), ("op", Role.OPERATOR, None)]
    for name, role, districts in users:
        with unit_of_work(factory) as s:
            access.create_user(
                session=s, audit=log, actor=SEED, username=name, password=PASSWORD, role=role, districts=districts,
                now_ns=T0,
            )  # fmt: skip
    for k in range(6):
        clock.advance(60)
        cam = "cam-a" if k % 2 == 0 else "cam-b"
        log.append(Entry(who="op", action=AuditAction.PLAYBACK, camera=cam, t_from_ns=T0, t_to_ns=T0 + NS_PER_S))
        log.checkpoint()
    log.append(Entry(who="op", action=AuditAction.LIVE_START, camera="cam-a"))
    ctx = AppContext(settings=settings, factory=factory, clock=clock, audit=log)
    yield World(TestClient(create_app(ctx), headers=BROWSER), log)
    log.close()  # its write connection, else finalised at interpreter exit (a traceback on PostgreSQL)
    engine.dispose()


def _verifier(c: TestClient) -> Verifier:
    body = c.get("/api/audit/checkpoints").json()
    return Verifier.parse(body["key"]["verifier"])


def test_auditors_see_no_video() -> None:
    for permission in ("live", "playback", "export.download", "snapshot"):
        assert not allowed(Role.AUDITOR, permission), permission
    assert allowed(Role.AUDITOR, "audit.read")
    assert not any(allowed(r, "audit.read") for r in Role if r != Role.AUDITOR)


def test_search_by_person_camera_action_and_time_paged(world: World) -> None:
    c = world.login("auditor")
    r = c.get("/api/audit/entries", params={"who": "op", "action": AuditAction.PLAYBACK, "limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert [e["camera"] for e in page["entries"]] == ["cam-b", "cam-a"]
    seen = [e["index"] for e in page["entries"]]
    while page["next_before"] is not None:
        page = c.get(
            "/api/audit/entries",
            params={"who": "op", "action": AuditAction.PLAYBACK, "limit": 2, "before": page["next_before"]},
        ).json()
        seen += [e["index"] for e in page["entries"]]
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)
    cams = c.get("/api/audit/entries", params={"camera": "cam-b"}).json()["entries"]
    assert {e["camera"] for e in cams} == {"cam-b"} and {e["district"] for e in cams} == {"D-02"}
    window = {"from_ms": (T0 + 119 * NS_PER_S) // 10**6, "to_ms": (T0 + 181 * NS_PER_S) // 10**6, "who": "op"}
    timed = c.get("/api/audit/entries", params=window).json()["entries"]
    assert len(timed) == 2
    assert c.get("/api/audit/entries", params={"limit": 10_000}).status_code == 422
    assert c.get("/api/audit/entries", params={"who": "x" * 65}).status_code == 422
    assert c.get("/api/audit/entries", params={"to_ms": 2**53}).status_code == 422  # * 1e6 would overflow int64


def test_a_search_is_itself_audited(world: World) -> None:
    c = world.login("auditor")
    c.get("/api/audit/entries", params={"camera": "cam-a"})
    mine = c.get("/api/audit/entries", params={"who": "auditor", "action": AuditAction.AUDIT_SEARCH}).json()
    assert any('"camera":"cam-a"' in e["data"] for e in mine["entries"])


def test_each_entry_proves_its_inclusion_in_a_signed_checkpoint(world: World) -> None:
    c = world.login("auditor")
    key = _verifier(c)
    entries = c.get("/api/audit/entries", params={"limit": 200}).json()["entries"]
    assert entries
    for e in entries[:12]:
        p = c.get(f"/api/audit/entries/{e['index']}/proof").json()
        note = parse_checkpoint_note(p["checkpoint"]["note"])
        assert note.verified_by(key)
        assert note.checkpoint.size == p["size"] > e["index"]
        assert leaf_hash(e["data"].encode()).hex() == e["leaf_hash"] == p["leaf_hash"]
        path = [bytes.fromhex(h) for h in p["path"]]
        assert verify_inclusion(bytes.fromhex(e["leaf_hash"]), e["index"], p["size"], path, note.checkpoint.root)
    first = min(e["index"] for e in entries if e["camera"])
    older = [ck["size"] for ck in c.get("/api/audit/checkpoints").json()["checkpoints"] if ck["size"] > first]
    p = c.get(f"/api/audit/entries/{first}/proof", params={"size": min(older)}).json()
    assert p["size"] == min(older)
    assert c.get(f"/api/audit/entries/{first}/proof", params={"size": first + 10_000}).status_code == 404


def test_consistency_between_two_checkpoints(world: World) -> None:
    c = world.login("auditor")
    key = _verifier(c)
    sizes = sorted(ck["size"] for ck in c.get("/api/audit/checkpoints").json()["checkpoints"])
    assert len(sizes) >= 3
    r = c.get("/api/audit/consistency", params={"from": sizes[0], "to": sizes[-1]}).json()
    old, new = parse_checkpoint_note(r["old"]["note"]), parse_checkpoint_note(r["new"]["note"])
    assert old.verified_by(key) and new.verified_by(key)
    proof = [bytes.fromhex(h) for h in r["path"]]
    a, b = old.checkpoint, new.checkpoint
    assert verify_consistency(a.size, b.size, a.root, b.root, proof)
    assert not verify_consistency(a.size, b.size, b.root, b.root, proof)
    assert c.get("/api/audit/consistency", params={"from": sizes[-1], "to": sizes[0]}).status_code == 422
    assert c.get("/api/audit/consistency", params={"from": sizes[0], "to": 10**9}).status_code == 404


def test_a_district_scoped_auditor_sees_only_their_districts(world: World) -> None:
    c = world.login("auditor")
    b_entry = c.get("/api/audit/entries", params={"camera": "cam-b"}).json()["entries"][0]
    c = world.login("scoped")
    key = _verifier(c)
    entries = c.get("/api/audit/entries", params={"limit": 200}).json()["entries"]
    assert entries and {e["district"] for e in entries} == {"D-01"}
    assert c.get("/api/audit/entries", params={"camera": "cam-b"}).json()["entries"] == []
    assert c.get(f"/api/audit/entries/{b_entry['index']}/proof").status_code == 404
    p = c.get(f"/api/audit/entries/{entries[0]['index']}/proof").json()
    note = parse_checkpoint_note(p["checkpoint"]["note"])
    path = [bytes.fromhex(h) for h in p["path"]]
    assert note.verified_by(key)
    assert verify_inclusion(bytes.fromhex(p["leaf_hash"]), p["index"], p["size"], path, note.checkpoint.root)
    report = c.get("/api/audit/transparency", params={"month": "2026-11"}).json()
    assert [r["district"] for r in report["months"][0]["rows"]] == ["D-01"]
    assert c.get("/api/audit/export").status_code == 403


def test_transparency_per_district_and_month(world: World) -> None:
    c = world.login("auditor")
    r = c.get("/api/audit/transparency", params={"month": "2026-12", "months": 3})
    assert r.status_code == 200, r.text
    months = r.json()["months"]
    assert [m["month"] for m in months] == ["2026-10", "2026-11", "2026-12"]
    rows = {row["district"]: row["counts"] for row in months[1]["rows"]}
    assert rows["D-01"]["playbacks"] == 3 and rows["D-02"]["playbacks"] == 3 and rows["D-01"]["live_views"] == 1
    assert months[0]["rows"] == [] and "playbacks" in r.json()["columns"]
    for bad in ("2026-13", "0000-01", "9999-12"):
        assert c.get("/api/audit/transparency", params={"month": bad}).status_code == 422, bad
    early = c.get("/api/audit/transparency", params={"month": "1970-01", "months": 24})
    assert early.status_code == 200 and early.json()["months"][0]["month"] == "1968-02"


def test_the_export_is_audited_and_verifies_offline(world: World, tmp_path: Path) -> None:
    c = world.login("auditor")
    before = world.log.size
    r = c.get("/api/audit/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoints.txt",
        "entries.jsonl",
        "key.pub",
        "leaf_hashes.bin",
        "witness_answers.json",
    ]
    result = verify_export(tmp_path, key_text=_verifier(c).text())
    assert result.ok, result.message
    assert result.entries == before + 1  # the export's own entry, written first, is in it
    last = (tmp_path / "entries.jsonl").read_text().splitlines()[-1]
    assert f'"action":"{AuditAction.AUDIT_EXPORT}"' in last and '"who":"auditor"' in last


def test_other_roles_cannot_read_the_log(world: World) -> None:
    c = world.login("op")
    for url in ("/api/audit/entries", "/api/audit/checkpoints", "/api/audit/export", "/api/audit/entries/0/proof"):
        assert c.get(url).status_code == 403, url


def test_no_export_and_no_search_when_the_log_refuses_the_entry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: the read is audited first, and when that entry cannot be written nothing is read."""
    c = world.login("auditor")

    def refuse(entry: Entry) -> int:
        raise AuditWriteError("disk full")

    monkeypatch.setattr(world.log, "append", refuse)
    size = world.log.size
    r = c.get("/api/audit/export")
    assert r.status_code == 503 and "PK" not in r.text[:2]
    assert c.get("/api/audit/entries", params={"who": "op"}).status_code == 503
    assert world.log.size == size
