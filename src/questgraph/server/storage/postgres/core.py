"""PostgreSQL's part of every store: a connection pool, versioned migrations from
``migrations/postgres/``, transactions, and the execution methods the portable feature SQL runs on.

The feature stores are the same classes SQLite runs (``sql_core``); their ``?`` placeholders become
psycopg's ``%s`` here. Isolation is PostgreSQL's default, READ COMMITTED: every statement sees what
other processes committed before it started, and an ``UPDATE … WHERE`` re-checks its condition on the
newest version of a row after waiting for a concurrent writer. That is what makes the compare-and-set
and single-use statements of the feature stores atomic across server processes (issue 6).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from questgraph.server.storage.sql_core import SqlCore, TransactionState
from questgraph.server.storage.sqlite_core import migrations

log = logging.getLogger("questgraph.storage")

# pg_advisory_xact_lock key taken while migrating, so that processes starting together on one database
# apply each migration once (the others wait, then find it done). Any constant: "qgmigr" in ASCII.
MIGRATION_LOCK = 0x7167_6D69_6772
# A process's pool: two connections for each of its concurrent trips (server/executor.py: a lone-read
# session and a transaction), and room for the rank index's rebuild and sweeps.
POOL_MIN, POOL_SPARE = 1, 4
CONNECT_TIMEOUT_S = 10.0  # at start-up: the whole wait for the pool's first connection
# While PostgreSQL is down a call must get its 503 in seconds (D7): a client retries, and a load balancer
# moves it elsewhere. So a new connection may take POOL_CONNECT_TIMEOUT_S (libpq's connect_timeout, whole
# seconds), and a call waits at most POOL_WAIT_S for a pooled connection. A healthy pool hands one out at
# once: a trip takes at most two and the pool has room for every lane's.
POOL_CONNECT_TIMEOUT_S = 3
POOL_WAIT_S = 3.0


@functools.lru_cache(maxsize=1024)
def to_pg(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled). The shared SQL has no
    ``?`` inside string literals, which this relies on."""
    return sql.replace("%", "%%").replace("?", "%s")


@dataclass(frozen=True, slots=True)
class Done:
    """The row count of a write, kept after its cursor is gone."""

    rowcount: int


def table_order() -> list[str]:
    """Every table the migrations create, in creation order (parents before children). PostgreSQL keeps
    no creation order of its own, so it is read from the scripts."""
    order: list[str] = []
    for _, script in migrations("postgres"):
        order.extend(re.findall(r"^CREATE TABLE (\w+)", script, flags=re.MULTILINE))
    return order


class _PgTransactionState(TransactionState):
    def __init__(self) -> None:
        super().__init__()
        self.conn: psycopg.Connection[Any] | None = None  # the connection of this thread's open transaction
        self.reader: psycopg.Connection[Any] | None = None  # the connection of this thread's session()


class PostgresCore(SqlCore):
    _tx: _PgTransactionState

    def __init__(self, url: str, lanes: int = 4) -> None:
        self.url = url
        self._tx = _PgTransactionState()
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url:  # a URL's own setting wins
            kwargs["connect_timeout"] = POOL_CONNECT_TIMEOUT_S
        self._pool = ConnectionPool(url, min_size=POOL_MIN, max_size=2 * lanes + POOL_SPARE, kwargs=kwargs,
                                    open=False, name="questgraph", timeout=POOL_WAIT_S)
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        self._tables = table_order()
        self._migrate()
        self._columns = {table: self._read_columns(table) for table in self._tables}

    # --- lifecycle --------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.transaction():
            conn = self._conn()
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, script in migrations("postgres"):
                if version in done:
                    continue
                log.info("applying schema migration %d (PostgreSQL)", version)
                conn.execute(script)  # no parameters: the simple protocol runs a whole script
                conn.execute("INSERT INTO schema_migrations VALUES (%s, now()::text)", (version,))

    def close(self) -> None:
        self._pool.close()

    @contextlib.contextmanager
    def _real_transaction(self) -> Iterator[None]:
        with self._pool.connection() as conn:
            self._tx.conn = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._tx.conn = None

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        with self._conn().transaction():  # nested: psycopg makes it a savepoint
            yield

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = self._tx.conn
        assert conn is not None, "only inside transaction()"
        return conn

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Lone reads inside the block share one pooled connection (in autocommit) instead of taking one
        from the pool each: the executor opens one per trip of calls."""
        with self._pool.connection() as conn:
            self._tx.reader = conn
            try:
                yield
            finally:
                self._tx.reader = None

    def group_failed(self) -> bool:
        conn = self._tx.conn
        return self._tx.grouped and conn is not None and conn.info.transaction_status != TransactionStatus.INTRANS

    @contextlib.contextmanager
    def _reader(self) -> Iterator[psycopg.Connection[Any]]:
        """The open transaction's connection (a grouped call reads what the calls before it in its group
        wrote), or one in autocommit for a lone read: the session's, else a pooled one."""
        tx = self._tx
        if tx.conn is not None:
            yield tx.conn
        elif tx.reader is not None:
            yield tx.reader
        else:
            with self._pool.connection() as pooled:
                yield pooled

    # --- execution --------------------------------------------------------------------------------
    def _run(self, sql: str, params: Sequence[Any] = ()) -> Done:
        with self.transaction():
            return Done(self._conn().execute(to_pg(sql), params).rowcount)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._reader() as conn:
            return conn.execute(to_pg(sql), params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reader() as conn:
            return conn.execute(to_pg(sql), params).fetchall()

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.transaction(), self._conn().cursor() as cursor:
            cursor.executemany(to_pg(sql), rows)

    def _returning(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.transaction():
            return self._conn().execute(to_pg(sql), params).fetchone()

    # --- schema -----------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return list(self._tables)

    def _read_columns(self, table: str) -> dict[str, tuple[bool, bool]]:
        """Column name → (holds bytes, is an identity column)."""
        rows = self._all("SELECT column_name, data_type, is_identity FROM information_schema.columns "
                         "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                         (table,))
        return {str(r[0]): (r[1] == "bytea", r[2] == "YES") for r in rows}

    def _blob_columns(self, table: str) -> dict[str, bool]:
        return {name: blob for name, (blob, _) in self._columns[table].items()}

    def _export_order(self, table: str) -> str:
        # Every column in order: the key columns come first in every table, so this is key order.
        return ", ".join(str(n) for n in range(1, len(self._columns[table]) + 1))

    def _after_explicit_ids(self) -> None:
        for table, columns in self._columns.items():
            for name, (_, identity) in columns.items():
                if identity:
                    # The next generated id follows the largest one written explicitly.
                    self._one(f"SELECT setval(pg_get_serial_sequence('{table}', '{name}'), "
                              f"COALESCE(MAX({name}), 0) + 1, false) FROM {table}")
