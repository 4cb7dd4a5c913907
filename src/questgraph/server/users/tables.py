"""Users' table: the user proof nonces of user_nonce_validate (graph-api.md §4.1)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy import text as sql

from questgraph.server.db.columns import integer, ref, text
from questgraph.server.db.tables import metadata

user_nonces = Table(
    "user_nonces", metadata,
    text("nonce_hash", primary_key=True),
    ref("user_id", "app_users.id"),
    ref("app_id", "apps.id"),
    integer("created_at"),
    integer("expires_at"),
    integer("used", server_default=sql("0")),
)
