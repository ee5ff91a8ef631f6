"""sealed camera credentials: passwords and credential-bearing URLs sealed with the home's secrets key

Revision ID: 0012
Revises: 0009

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
down_revision = "0009"
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
    path = context.config.attributes.get("secrets_key")
    return None if path is None else SecretBox(Path(path))


def _need(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise SecretsKeyError(
            "migration 0012 seals the cameras' passwords: it needs the secrets key file "
            "(camgrid.db.migrate.upgrade(engine, secrets_key=...); the command line passes <home>/secrets.key)"
        )
    return box


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credentials", sa.Text(), nullable=False, server_default=""))
    conn = op.get_bind()
    box = _box()
    rows = conn.execute(sa.select(_cameras.c.id, _cameras.c.rtsp_url, _cameras.c.sub_rtsp_url, _cameras.c.password))
    for cid, url, sub, password in list(rows):
        shown, sub_shown = redact_url(url), redact_url(sub) if sub else ""
        hidden = {k: v for k, v, s in (("rtsp_url", url, shown), ("sub_rtsp_url", sub, sub_shown)) if v != s}
        if password:
            hidden["password"] = password
        if not hidden:
            continue
        sealed = _need(box).seal(json.dumps(hidden, sort_keys=True), owner=cid)
        conn.execute(
            _cameras.update()
            .where(_cameras.c.id == cid)
            .values(rtsp_url=shown, sub_rtsp_url=sub_shown, credentials=sealed)
        )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("password")


def downgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password", sa.String(length=200), nullable=False, server_default=""))
    conn = op.get_bind()
    box = _box()
    rows = conn.execute(sa.select(_cameras.c.id, _cameras.c.credentials).where(_cameras.c.credentials != ""))
    for cid, sealed in list(rows):
        hidden = json.loads(_need(box).open(sealed, owner=cid))
        values = {k: hidden[k] for k in ("rtsp_url", "sub_rtsp_url", "password") if k in hidden}
        conn.execute(_cameras.update().where(_cameras.c.id == cid).values(**values))
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("credentials")
