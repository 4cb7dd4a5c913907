"""The part of every SQLite store that is not about a feature: the connection, versioned migrations,
transactions, whole-state operations (reset, export, import), settings and global object ids (D9).

Feature stores (``sqlite.py`` for identity and leaderboards, ``sqlite_<feature>.py`` for the others)
subclass ``SqliteCore`` and use ``_run``/``_one``/``_all``; ``SqliteStorage`` combines them all.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

log = logging.getLogger("questgraph.storage")


def migrations() -> list[tuple[int, str]]:
    """The versioned schema scripts shipped with the package, in order."""
    folder = resources.files("questgraph.server.storage") / "migrations" / "sqlite"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteCore:
    def __init__(self, path: str) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._migrate()

    # --- lifecycle --------------------------------------------------------------------------------
    def _migrate(self) -> None:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        done = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        for version, script in migrations():
            if version in done:
                continue
            log.info("applying schema migration %d", version)
            self._conn.executescript(
                "BEGIN IMMEDIATE;\n" + script + f"\nINSERT INTO schema_migrations VALUES ({version}, "
                "datetime('now'));\nCOMMIT;"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.transaction():
            return self._conn.execute(sql, params)

    def is_empty(self) -> bool:
        return self._one("SELECT 1 FROM objects LIMIT 1") is None

    def tables(self) -> list[str]:
        """Every table of state, in creation order: parents before children, as migrations create them.
        Export and import walk it forwards, reset backwards, so a new migration needs no list to edit."""
        rows = self._all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                         "AND name != 'schema_migrations' ORDER BY rowid")
        return [str(r[0]) for r in rows]

    def _columns(self, table: str) -> dict[str, str]:
        """Column name → declared type."""
        return {str(r[1]): str(r[2]).upper() for r in self._all(f"PRAGMA table_info({table})")}

    def reset(self) -> None:
        with self.transaction():
            for table in reversed(self.tables()):
                self._conn.execute(f"DELETE FROM {table}")

    def export_tables(self) -> dict[str, list[dict[str, Any]]]:
        tables: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            for table in self.tables():
                cursor = self._conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
                names = [d[0] for d in cursor.description]
                rows = []
                for row in cursor:
                    rows.append(
                        {n: (v.hex() if isinstance(v, bytes) else v) for n, v in zip(names, row, strict=True)}
                    )
                tables[table] = rows
        return tables

    def import_tables(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Replace all state with an export; ValueError (and nothing changed) for anything foreign."""
        known = self.tables()
        unknown = [name for name in tables if name not in known]
        if unknown:
            raise ValueError(f"unknown table {str(unknown[0])[:64]!r}")
        with self.transaction():
            self.reset()
            for table in known:
                columns = self._columns(table)
                for row in tables.get(table, []):
                    foreign = [name for name in row if name not in columns]
                    if foreign:
                        raise ValueError(f"table {table} has no column {str(foreign[0])[:64]!r}")
                    values = [bytes.fromhex(v) if columns[n] == "BLOB" and isinstance(v, str) else v
                              for n, v in row.items()]
                    self._conn.execute(
                        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", values
                    )

    def get_setting(self, key: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._run("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                  (key, value))

    # --- object ids -------------------------------------------------------------------------------
    def claim_object_id(self, object_id: int, kind: str) -> bool:
        cursor = self._run("INSERT OR IGNORE INTO objects VALUES (?, ?)", (object_id, kind))
        return cursor.rowcount == 1

    def object_kind(self, object_id: int) -> str | None:
        row = self._one("SELECT kind FROM objects WHERE id = ?", (object_id,))
        return None if row is None else str(row[0])

    def release_object_id(self, object_id: int) -> None:
        self._run("DELETE FROM objects WHERE id = ?", (object_id,))
