"""Upgrades from every earlier schema revision (as Moonfire NVR tests its own): build a database at that revision, fill
every table it has with rows, upgrade to head, and check that the schema is exactly a fresh head database's and that
every row survived with every value. On SQLite and PostgreSQL (``CAMGRID_TEST_BACKEND``).

Why generic rows: a hand-written fixture covers the tables its author remembered; reflecting the tables of the old
revision fills all of them (registry, recording index, holds, health, users, masks, audit log, cluster), including
the ones a later revision rebuilds (SQLite's batch mode copies a table to add a column: the copy must keep the rows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from camgrid.db.engine import make_engine
from camgrid.db.migrate import MIGRATIONS, upgrade
from camgrid.db.secrets import SecretBox
from tests.backends import copy_database, db_url


def _revisions() -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions()


def schema(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullability, server default), primary and unique keys, foreign keys and indexes."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for t in sorted(insp.get_table_names()):
        out[t] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], c.get("default")) for c in insp.get_columns(t)},
            "pk": tuple(insp.get_pk_constraint(t)["constrained_columns"]),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(t)
            ),
            "indexes": sorted(
                (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(t)
            ),
        }
    return out


def _value(table: Table, column: str, i: int) -> Any:
    """A value of the column's type that differs per row and per column, within its length."""
    col = table.c[column]
    kind = col.type.python_type
    salt = sum(map(ord, f"{table.name}.{column}")) % 1000
    if kind is bool:
        return i % 2 == 0
    if kind is int:
        return (salt + 1) * 10**9 + i if "BIGINT" in str(col.type).upper() else salt * 10 + i + 1
    if kind is float:
        return salt + i + 0.25
    if kind is bytes:
        return bytes([salt % 256, i]) * 16
    text = f"{column[:6]}-{i}-{salt}"
    length = getattr(col.type, "length", None)
    return text[-length:] if length else text


def fill(engine: Engine, rows_per_table: int = 2) -> dict[str, list[dict[str, Any]]]:
    """Insert rows into every table of the database as it is; foreign keys point at the rows already inserted."""
    meta = MetaData()
    meta.reflect(engine)
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = []
            for i in range(rows_per_table):
                row = {c.name: _value(table, c.name, i) for c in table.columns}
                for fk in table.foreign_keys:
                    target = written.get(fk.column.table.name)
                    row[fk.parent.name] = target[i % len(target)][fk.column.name] if target else None
                rows.append(row)
            conn.execute(table.insert(), rows)
            written[table.name] = rows
    return written


class Walker:
    """One empty database walked up the revisions once, a step per test, and copied at each test's revision: the
    tests then cost one walk up the chain instead of one each (the copy is what ``upgrade(engine, revision)`` from
    an empty database makes, without the steps below it run again)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "walker.db"
        self.url = db_url(self.path)  # outside a test: a database of the session on PostgreSQL
        self.empty = db_url(folder / "empty.db")
        empty = make_engine(self.empty)
        with empty.connect():  # made (on SQLite: the file)
            pass
        empty.dispose()  # no connection may be left on what is copied
        self.at = -1

    def copy_at(self, revision: str, target: Path) -> Engine:
        if REVISIONS.index(revision) < self.at:  # asked out of order (-k, reordering): walk again from nothing
            copy_database(self.empty, self.url)
        engine = make_engine(self.url)
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()  # no connection may be left on what is copied
        self.at = REVISIONS.index(revision)
        url = db_url(target)
        copy_database(self.url, url)
        return make_engine(url)


@pytest.fixture(scope="module")
def walker(tmp_path_factory: pytest.TempPathFactory) -> Walker:
    return Walker(tmp_path_factory.mktemp("walker"))


_HEAD: dict[str, Any] = {}


def head_schema(tmp_path: Path) -> dict[str, Any]:
    """The schema of a fresh database at head (the same for every test of the module: computed once)."""
    if not _HEAD:
        fresh = make_engine(db_url(tmp_path / "fresh.db"))
        upgrade(fresh)
        _HEAD.update(schema(fresh))
        fresh.dispose()
    return _HEAD


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_from_an_earlier_revision_keeps_the_rows_and_reaches_the_head_schema(
    tmp_path: Path, revision: str, walker: Walker
) -> None:
    fresh = head_schema(tmp_path)
    old = walker.copy_at(revision, tmp_path / f"at-{revision}.db")
    written = fill(old)
    assert written, f"revision {revision} has tables"
    assert schema(old) != fresh, "the comparison sees the revisions' differences"

    key = tmp_path / "secrets.key"
    upgrade(old, secrets_key=key)

    # 0012 seals cameras.password into cameras.credentials (docs/design/secrets-at-rest.md): the password is gone
    # from the clear columns and opens from the sealed one.
    sealed = written.get("cameras") and "password" in written["cameras"][0]
    if sealed:
        box = SecretBox(key)
        with old.connect() as conn:
            got = dict(conn.execute(text("SELECT id, credentials FROM cameras")).all())
        for row in written["cameras"]:
            assert json.loads(box.open(got[row["id"]], owner=row["id"])) == {"password": row.pop("password")}

    assert schema(old) == fresh
    meta = MetaData()
    meta.reflect(old)
    with old.connect() as conn:
        for name, rows in written.items():
            table = meta.tables[name]
            cols = [table.c[c] for c in rows[0]]
            pk = list(table.primary_key.columns)
            got = [dict(r._mapping) for r in conn.execute(select(*cols).order_by(*pk))]
            want = sorted(rows, key=lambda r: tuple(r[c.name] for c in pk))
            assert got == want, f"{name}: rows changed by the upgrade from {revision}"
            for column in set(table.c.keys()) - set(rows[0]):  # added by a later revision: filled in, not NULL
                if not table.c[column].nullable:
                    assert all(v is not None for v in conn.scalars(select(table.c[column]))), f"{name}.{column}"
    old.dispose()


def test_every_revision_is_tested() -> None:
    """The list comes from the migrations folder: a new revision is tested as soon as the next one exists."""
    assert REVISIONS[0] == "0001" and len(REVISIONS) == len(set(REVISIONS)) >= 2
    versions = Path(MIGRATIONS) / "versions"
    assert len(REVISIONS) == len([p for p in versions.glob("[0-9]*.py")])
