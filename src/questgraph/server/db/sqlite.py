"""The embedded default database: one SQLite file in WAL mode with ``synchronous=FULL``, so a write is on
disk before it is acknowledged. One connection, used by one thread at a time (the server serialises
domain calls), which keeps SQLite's locking out of the picture.

What every backend shares (transactions, group commit, after-commit actions) lives in ``db/core.py``;
this class adds SQLite's connection, its migrations (``db/migrate.py``) and the execution methods the
portable feature stores run on.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from questgraph.server.db.core import Database, TransactionState
from questgraph.server.db.migrate import upgrade_sqlite
from questgraph.server.db.schema import blob_columns, table_order

STREAM_BATCH = 10_000
WAL_SWITCH_SECONDS = 10.0  # how long a start waits for other processes opening a new file at once


class SqliteDatabase(Database):
    def __init__(self, path: str) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._tx = TransactionState()
        self._conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._enter_wal()
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA busy_timeout = 5000")
        # A big board's rows and users are read at random: 64 MiB of page cache (the default is 2 MiB), and
        # the file memory-mapped (up to SQLite's own cap, 2 GiB in common builds), so a page the OS has
        # cached costs no read() call.
        self._conn.execute("PRAGMA cache_size = -65536")
        self._conn.execute("PRAGMA mmap_size = 17179869184")
        self._migrate()

    # --- lifecycle --------------------------------------------------------------------------------
    def _enter_wal(self) -> None:
        """Switch a new file to WAL. The switch needs the file to itself, and SQLite answers "database is
        locked" at once (no busy wait) while another process is opening it too: try again for a while."""
        deadline = time.monotonic() + WAL_SWITCH_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        upgrade_sqlite(self._conn)

    @contextlib.contextmanager
    def _real_transaction(self) -> Iterator[None]:
        # The lock is held to the end: another thread's statements wait rather than join this transaction.
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already (I/O error, disk full)
                    self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # a failed COMMIT (I/O error) leaves it open: end it
                    self._conn.execute("ROLLBACK")
                raise

    def group_failed(self) -> bool:
        return self._tx.grouped and not self._conn.in_transaction  # SQLite rolled it back itself

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self._conn.in_transaction:
            # SQLite ended the group's transaction itself (an I/O error or a full disk rolls all of it back):
            # no later call of the group may write outside it, in autocommit. The group's COMMIT fails too.
            raise sqlite3.OperationalError("the group's transaction was rolled back by an earlier error")
        self._conn.execute("SAVEPOINT grouped_call")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK TO grouped_call")
                self._conn.execute("RELEASE grouped_call")
            raise
        self._conn.execute("RELEASE grouped_call")

    def close(self) -> None:
        self._conn.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.transaction():
            return self._conn.execute(sql, params)

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.transaction():
            self._conn.executemany(sql, rows)

    def returning(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.transaction():
            rows = self._conn.execute(sql, params).fetchall()  # stepped to the end: the statement is done
        return rows[0] if rows else None

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        # A second connection so that a long scan at start-up holds no lock the writer needs.
        conn = sqlite3.connect(self.path) if self.path != ":memory:" else self._conn
        try:
            cursor = conn.execute(sql, params)
            while rows := cursor.fetchmany(STREAM_BATCH):
                yield from rows
        finally:
            if conn is not self._conn:
                conn.close()

    def tables(self) -> list[str]:
        """Every table of state, parents before children (their foreign keys, db/schema.py). Export and
        import walk it forwards, reset backwards, so a new table needs no list to edit."""
        return list(table_order())

    def blob_columns(self, table: str) -> dict[str, bool]:
        return blob_columns(table)

    def export_order(self, table: str) -> str:
        return "rowid"
