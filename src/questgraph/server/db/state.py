"""Whole-state operations over every feature's tables (is the database empty, reset, export, import:
snapshots and the admin API's reset), and the ``settings`` table (small server-wide values such as the
emulator clock's offset and the rank index's epoch)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from questgraph.server.db.core import Database

# The deployment's cache version (auth/tokens.py): a random value replaced, in the same transaction, by
# every change to what a process may cache (an app's secret, a board). A query that selects
# ``CACHE_VERSION_SQL`` beside its rows tells the caller whether its cached state is still the database's.
# No row yet (a database nothing cached has changed in since) reads as '': once set, the row only changes
# (a reset or an import deletes it and sets a new one in the same transaction).
CACHE_VERSION = "cache_version"
CACHE_VERSION_SQL = "COALESCE((SELECT value FROM settings WHERE key = 'cache_version'), '')"


def bump_cache_version(db: Database) -> None:
    """Call inside the transaction of a change to cached state: every process drops its caches at its
    next request that reads the version (random values: a reset or an import never brings one back)."""
    db.run("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
           (CACHE_VERSION, secrets.token_hex(8)))


def read_cache_version(db: Database) -> str:
    return str(db.one(f"SELECT {CACHE_VERSION_SQL}")[0])


class WholeState:
    def __init__(self, db: Database) -> None:
        self.db = db

    def is_empty(self) -> bool:
        return self.db.one("SELECT 1 FROM objects LIMIT 1") is None

    def reset(self) -> None:
        with self.db.transaction():
            self._delete_all()
            bump_cache_version(self.db)

    def _delete_all(self) -> None:
        for table in reversed(self.db.tables()):
            self.db.run(f"DELETE FROM {table}")

    def export_tables(self) -> dict[str, list[dict[str, Any]]]:
        db = self.db
        tables: dict[str, list[dict[str, Any]]] = {}
        with db.transaction():  # one snapshot of every table
            for table in db.tables():
                names = list(db.blob_columns(table))
                rows = db.all(f"SELECT {', '.join(names)} FROM {table} ORDER BY {db.export_order(table)}")
                tables[table] = [
                    {n: (bytes(v).hex() if isinstance(v, bytes | memoryview) else v)
                     for n, v in zip(names, row, strict=True)}
                    for row in rows
                ]
        # The cache version is the processes' bookkeeping, not state: a snapshot carries none (an import
        # makes a new one), so that exporting the same state twice gives the same snapshot.
        tables["settings"] = [row for row in tables.get("settings", []) if row.get("key") != CACHE_VERSION]
        return tables

    def import_tables(self, tables: dict[str, list[dict[str, Any]]],
                      progress: Callable[[], None] | None = None) -> None:
        """Replace all state with an export; ValueError (and nothing changed) for anything foreign.
        ``progress`` is called after each row (a large snapshot takes a while)."""
        db = self.db
        known = db.tables()
        unknown = [name for name in tables if name not in known]
        if unknown:
            raise ValueError(f"unknown table {str(unknown[0])[:64]!r}")
        with db.transaction():
            self._delete_all()
            for table in known:
                blobs = db.blob_columns(table)
                for row in tables.get(table, []):
                    if table == "settings" and row.get("key") == CACHE_VERSION:
                        continue  # an older snapshot's: replaced below
                    foreign = [name for name in row if name not in blobs]
                    if foreign:
                        raise ValueError(f"table {table} has no column {str(foreign[0])[:64]!r}")
                    values = [bytes.fromhex(v) if blobs[n] and isinstance(v, str) else v for n, v in row.items()]
                    db.run(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                           values)
                    if progress is not None:
                        progress()
            bump_cache_version(db)  # the snapshot's own version must not match a process's caches
            db.after_explicit_ids()

    def get_setting(self, key: str) -> str | None:
        row = self.db.one("SELECT value FROM settings WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self.db.run("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value))
