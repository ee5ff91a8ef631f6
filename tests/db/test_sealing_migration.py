"""Migration 0012 seals the cameras' clear-text passwords and credential URLs; its downgrade opens them again
(docs/design/secrets-at-rest.md). On SQLite and PostgreSQL (``CAMGRID_TEST_BACKEND``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from camgrid.db.engine import make_engine
from camgrid.db.migrate import MIGRATIONS, downgrade, upgrade
from camgrid.db.secrets import SecretBox, SecretsKeyError
from tests.backends import db_url


def _before_0012() -> str:
    """The revision 0012 follows (wherever the chain puts it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    down = ScriptDirectory.from_config(cfg).get_revision("0012").down_revision
    assert isinstance(down, str)
    return down


BEFORE = _before_0012()
QUERY_URL = "rtsp://10.0.0.2/live?user=admin&password=Qx9-query-secret"


def _before_with_cameras(path: Path) -> Engine:
    engine = make_engine(db_url(path))
    upgrade(engine, BEFORE)
    with engine.begin() as conn:
        for table in ("districts", "feeders", "uplinks"):
            conn.execute(text(f"INSERT INTO {table} (id, name) VALUES ('X', 'X')"))
        conn.execute(
            text(
                "INSERT INTO sites (id, name, district_id, feeder_id, uplink_id, lat, lon) "
                "VALUES ('S', 'S', 'X', 'X', 'X', 0, 0)"
            )
        )
        for cid, url, sub, pw in (
            ("plain", "rtsp://10.0.0.1/s", "", "p#ss/w?rd"),
            ("query", QUERY_URL, QUERY_URL + "&sub=1", ""),
            ("none", "rtsp://10.0.0.3/s", "rtsp://10.0.0.3/sub", ""),
        ):
            conn.execute(
                text(
                    "INSERT INTO cameras (id, name, lat, lon, district_id, site_id, feeder_id, uplink_id, rtsp_url, "
                    "sub_rtsp_url, username, password, status, updated_ns, revision) "
                    "VALUES (:id, :id, 0, 0, 'X', 'S', 'X', 'X', :url, :sub, 'admin', :pw, 'active', 0, 1)"
                ),
                {"id": cid, "url": url, "sub": sub, "pw": pw},
            )
    return engine


def _cameras(engine: Engine) -> dict[str, dict[str, str]]:
    with engine.connect() as conn:
        cols = [c["name"] for c in inspect(conn).get_columns("cameras")]
        keep = [c for c in ("rtsp_url", "sub_rtsp_url", "password", "credentials") if c in cols]
        rows = conn.execute(text(f"SELECT id, {', '.join(keep)} FROM cameras")).all()
    return {r[0]: dict(zip(keep, r[1:], strict=True)) for r in rows}


def test_upgrade_seals_and_downgrade_opens(tmp_path: Path) -> None:
    engine = _before_with_cameras(tmp_path / "db.db")
    before = _cameras(engine)
    key = tmp_path / "secrets.key"
    upgrade(engine, secrets_key=key)
    after = _cameras(engine)
    assert "password" not in after["plain"], "the clear-text column is gone"
    assert after["none"] == {"rtsp_url": "rtsp://10.0.0.3/s", "sub_rtsp_url": "rtsp://10.0.0.3/sub", "credentials": ""}
    assert after["query"]["rtsp_url"] == "rtsp://10.0.0.2/live?user=***&password=***"
    dump = json.dumps(after)
    assert "p#ss" not in dump and "Qx9-query-secret" not in dump
    box = SecretBox(key)
    assert json.loads(box.open(after["plain"]["credentials"], owner="plain")) == {"password": "p#ss/w?rd"}
    assert json.loads(box.open(after["query"]["credentials"], owner="query")) == {
        "rtsp_url": QUERY_URL,
        "sub_rtsp_url": QUERY_URL + "&sub=1",
    }

    downgrade(engine, BEFORE, secrets_key=key)
    assert _cameras(engine) == before
    engine.dispose()


def test_sealing_without_the_key_is_refused_and_names_what_is_needed(tmp_path: Path) -> None:
    engine = _before_with_cameras(tmp_path / "db.db")
    with pytest.raises(SecretsKeyError, match="secrets key file"):
        upgrade(engine)
    assert "password" in _cameras(engine)["plain"], "nothing half done"
    assert not (tmp_path / "secrets.key").exists()
    upgrade(engine, secrets_key=tmp_path / "secrets.key")  # given the key, the same database upgrades
    assert "credentials" in _cameras(engine)["plain"]
    engine.dispose()


def test_a_recorder_node_never_makes_a_key_of_its_own(tmp_path: Path) -> None:
    """``camgrid node`` upgrades with ``create_key=False``: sealing with a key only that node has would lock every
    other node (and the central node) out of the cameras."""
    engine = _before_with_cameras(tmp_path / "db.db")
    key = tmp_path / "node" / "secrets.key"
    with pytest.raises(SecretsKeyError, match=f"secrets key file {key} is missing"):
        upgrade(engine, secrets_key=key, create_key=False)
    assert not key.exists() and "password" in _cameras(engine)["plain"]
    engine.dispose()
