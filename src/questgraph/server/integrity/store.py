"""Platform integrity's SQL (graph-api.md A.4) in portable SQL (``db/core.py``). A ban is active while
``expires_at > now`` on the server clock; rows that ran out are deleted before any change, so a ban_id
that ran out is gone (A.4: "deleted when the ban is lifted or runs out")."""

from __future__ import annotations

from typing import Any

from questgraph.server.db.core import Database
from questgraph.server.integrity.records import DeviceBan

BAN_COLUMNS = "id, ban_id, app_id, unique_id, created_at, expires_at"


def _ban(row: Any) -> DeviceBan | None:
    return None if row is None else DeviceBan(*row)


class IntegrityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- signing keys and devices -----------------------------------------------------------------
    def signing_key(self, app_id: int) -> bytes | None:
        row = self.db.one("SELECT secret FROM attestation_keys WHERE app_id = ?", (app_id,))
        return None if row is None else bytes(row[0])

    def add_signing_key(self, app_id: int, secret: bytes) -> None:
        """Keep the first key made for the app (two racing first mints both end up with it)."""
        self.db.run("INSERT INTO attestation_keys (app_id, secret) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (app_id, secret))

    def device_app(self, unique_id: str) -> int | None:
        row = self.db.one("SELECT app_id FROM integrity_devices WHERE unique_id = ?", (unique_id,))
        return None if row is None else int(row[0])

    def add_device(self, unique_id: str, app_id: int, now: int) -> None:
        self.db.run("INSERT INTO integrity_devices (unique_id, app_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING", (unique_id, app_id, now))

    def devices(self, app_id: int) -> list[str]:
        return [r[0] for r in self.db.all("SELECT unique_id FROM integrity_devices WHERE app_id = ? "
                                          "ORDER BY created_at, unique_id", (app_id,))]

    # --- bans --------------------------------------------------------------------------------------
    def drop_run_out(self, now: int) -> None:
        self.db.run("DELETE FROM device_bans WHERE expires_at <= ?", (now,))

    def ban_by_id(self, ban_id: str, now: int) -> DeviceBan | None:
        return _ban(self.db.one(f"SELECT {BAN_COLUMNS} FROM device_bans WHERE ban_id = ? AND expires_at > ?",
                                (ban_id, now)))

    def ban_of_device(self, unique_id: str, now: int) -> DeviceBan | None:
        return _ban(self.db.one(f"SELECT {BAN_COLUMNS} FROM device_bans WHERE unique_id = ? AND expires_at > ?",
                                (unique_id, now)))

    def put_ban(self, ban_id: str, app_id: int, unique_id: str, now: int, expires_at: int) -> str:
        """Ban the device until ``expires_at``: a new ban under ``ban_id``, or, when the device is banned
        already, that ban with the new end and its own ban_id (one statement, so racing bans agree)."""
        row = self.db.returning(
            "INSERT INTO device_bans (ban_id, app_id, unique_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (unique_id) DO UPDATE SET expires_at = excluded.expires_at RETURNING ban_id",
            (ban_id, app_id, unique_id, now, expires_at))
        return str(row[0])

    def set_ban_expiry(self, ban_id: str, expires_at: int) -> None:
        self.db.run("UPDATE device_bans SET expires_at = ? WHERE ban_id = ?", (expires_at, ban_id))

    def delete_ban(self, ban_id: str) -> None:
        self.db.run("DELETE FROM device_bans WHERE ban_id = ?", (ban_id,))

    def bans_page(self, app_id: int, now: int, limit: int, after: int | None,
                  before: int | None) -> list[DeviceBan]:
        """Up to ``limit`` active bans of the app in ``id`` order, after or before a cursor."""
        if before is not None and after is None:
            rows = self.db.all(f"SELECT {BAN_COLUMNS} FROM device_bans WHERE app_id = ? AND expires_at > ? "
                               "AND id < ? ORDER BY id DESC LIMIT ?", (app_id, now, before, limit))
            return [DeviceBan(*r) for r in reversed(rows)]
        rows = self.db.all(f"SELECT {BAN_COLUMNS} FROM device_bans WHERE app_id = ? AND expires_at > ? "
                           "AND id > ? ORDER BY id LIMIT ?", (app_id, now, after or 0, limit))
        return [DeviceBan(*r) for r in rows]

    def active_bans(self, app_id: int, now: int) -> list[DeviceBan]:
        rows = self.db.all(f"SELECT {BAN_COLUMNS} FROM device_bans WHERE app_id = ? AND expires_at > ? ORDER BY id",
                           (app_id, now))
        return [DeviceBan(*r) for r in rows]

    def has_ban_before(self, app_id: int, now: int, ban_row_id: int) -> bool:
        return self.db.one("SELECT 1 FROM device_bans WHERE app_id = ? AND expires_at > ? AND id < ? LIMIT 1",
                           (app_id, now, ban_row_id)) is not None

    def has_ban_after(self, app_id: int, now: int, ban_row_id: int) -> bool:
        return self.db.one("SELECT 1 FROM device_bans WHERE app_id = ? AND expires_at > ? AND id > ? LIMIT 1",
                           (app_id, now, ban_row_id)) is not None
