"""Platform integrity's tables (graph-api.md A.4): each app's attestation signing key, the devices
(unique ids) the app has seen in a minted token, and the device bans."""

from __future__ import annotations

from sqlalchemy import Index, Table

from questgraph.server.db.columns import blob, generated_key, integer, key, ref, text
from questgraph.server.db.tables import metadata

attestation_keys = Table(  # the HMAC-SHA256 key this server signs an app's attestation tokens with
    "attestation_keys", metadata,
    key("app_id", "apps.id"),
    blob("secret"),
)
integrity_devices = Table(  # a unique_id is one device of one app (A.4)
    "integrity_devices", metadata,
    text("unique_id", primary_key=True),
    ref("app_id", "apps.id"),
    integer("created_at"),
)
device_bans = Table(  # one active ban per device; a row is deleted when lifted and ignored once run out
    "device_bans", metadata,
    generated_key(),
    text("ban_id", unique=True),
    ref("app_id", "apps.id"),
    text("unique_id", unique=True),
    integer("created_at"),
    integer("expires_at"),
    Index("device_bans_by_app", "app_id", "id"),  # device_ban_ids: an app's bans in order
)
