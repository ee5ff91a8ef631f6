"""sealed camera credentials: passwords and credential-bearing URLs sealed with the home's secrets key

Revision ID: 0012
Revises: 0015

The ``cameras.password`` column (clear text) becomes ``cameras.credentials``: a JSON object with the password and
the real URLs where they differ from their redacted form, sealed with AES-GCM (camgrid.db.secrets). The URL columns
keep the redacted form. The downgrade opens them again. Both need the key file (``upgrade(engine, secrets_key=)``);
a database whose cameras have no credentials needs none (docs/design/secrets-at-rest.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from camgrid.db.secrets import SecretBox, SecretsKeyError, redact_url

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_cameras = sa.table(
    "cameras",
    sa.column("id", sa.String),
    sa.column("rtsp_url", sa.String),
    sa.column("sub_rtsp_url", sa.String),
    sa.column("password", sa.String),
    sa.column("credentials", sa.Text),
)


def _box() -> SecretBox | None:
    attrs = context.config.attributes
    path = attrs.get("secrets_key")
    return None if path is None else SecretBox(Path(path), may_create=bool(attrs.get("secrets_key_create", True)))


def _need(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise SecretsKeyError(
            "migration 0012 seals the cameras' passwords: it needs the secrets key file "
            "(camgrid.db.migrate.upgrade(engine, secrets_key=...); the command line passes <home>/secrets.key)"
        )
    return box


def upgrade() -> None:
    conn = op.get_bind()
    box = _box()
    # Everything is sealed before the first schema change: without the key, nothing at all is done (SQLite does
    # not roll back its ALTERs), and the error says what is needed.
    sealed: list[dict[str, str]] = []
    rows = conn.execute(sa.select(_cameras.c.id, _cameras.c.rtsp_url, _cameras.c.sub_rtsp_url, _cameras.c.password))
    for cid, url, sub, password in list(rows):
        shown, sub_shown = redact_url(url), redact_url(sub) if sub else ""
        hidden = {k: v for k, v, s in (("rtsp_url", url, shown), ("sub_rtsp_url", sub, sub_shown)) if v != s}
        if password:
            hidden["password"] = password
        if hidden:
            blob = _need(box).seal(json.dumps(hidden, sort_keys=True), owner=cid)
            sealed.append({"cid": cid, "rtsp_url": shown, "sub_rtsp_url": sub_shown, "credentials": blob})
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credentials", sa.Text(), nullable=False, server_default=""))
    for values in sealed:
        cid = values.pop("cid")
        conn.execute(_cameras.update().where(_cameras.c.id == cid).values(**values))
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy the table, and DROP TABLE cameras
    # is refused while other tables' foreign keys point at it.
    op.drop_column("cameras", "password")


def downgrade() -> None:
    conn = op.get_bind()
    box = _box()
    rows = conn.execute(sa.select(_cameras.c.id, _cameras.c.credentials).where(_cameras.c.credentials != ""))
    opened = [(cid, json.loads(_need(box).open(blob, owner=cid))) for cid, blob in list(rows)]
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password", sa.String(length=200), nullable=False, server_default=""))
    for cid, hidden in opened:
        values = {k: hidden[k] for k in ("rtsp_url", "sub_rtsp_url", "password") if k in hidden}
        conn.execute(_cameras.update().where(_cameras.c.id == cid).values(**values))
    op.drop_column("cameras", "credentials")
