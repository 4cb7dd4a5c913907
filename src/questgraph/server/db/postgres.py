"""The PostgreSQL database, selected by a ``postgresql://`` database URL: a connection pool, migrations
(``db/migrate.py``), transactions, and the execution methods the portable feature SQL runs on. Needs the
``postgres`` extra (psycopg 3 and psycopg_pool); importing this module without them fails, which
``db/open.py`` turns into a clear message.

The feature stores are the same classes SQLite runs (``db/core.py``); their ``?`` placeholders become
psycopg's ``%s`` here. Isolation is PostgreSQL's default, READ COMMITTED: every statement sees what
other processes committed before it started, and an ``UPDATE … WHERE`` re-checks its condition on the
newest version of a row after waiting for a concurrent writer. That is what makes the compare-and-set
and single-use statements of the feature stores atomic across server processes.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from questgraph.server.db.core import Database, TransactionState
from questgraph.server.db.migrate import upgrade_postgres
from questgraph.server.db.schema import blob_columns, identity_columns, table_order

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
STREAM_BATCH = 10_000
URL_SETS_JIT = re.compile(r"(?<![a-z_])jit(=|%3d)", re.IGNORECASE)  # options=-c jit=… (or URL-encoded)


def _without_jit(conn: psycopg.Connection[Any]) -> None:
    """Every statement of questgraph is a short OLTP one, which PostgreSQL's JIT only slows: it compiles
    a statement whose estimated cost passes jit_above_cost, as a trip's submit set did on 10M-row tables
    never analyzed (240 ms of compiling for an 8 ms query). A URL that sets jit itself keeps its own."""
    conn.execute("SET jit = off")


@functools.lru_cache(maxsize=1024)
def to_pg(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled). The shared SQL has no
    ``?`` inside string literals, which this relies on."""
    return sql.replace("%", "%%").replace("?", "%s")


@dataclass(frozen=True, slots=True)
class Done:
    """The row count of a write, kept after its cursor is gone."""

    rowcount: int


class _PgTransactionState(TransactionState):
    def __init__(self) -> None:
        super().__init__()
        self.conn: psycopg.Connection[Any] | None = None  # the connection of this thread's open transaction
        self.reader: psycopg.Connection[Any] | None = None  # the connection of this thread's session()


class PostgresDatabase(Database):
    _tx: _PgTransactionState
    writable_ctes = True

    def __init__(self, url: str, lanes: int = 4) -> None:
        self.url = url
        self._tx = _PgTransactionState()
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url:  # a URL's own setting wins
            kwargs["connect_timeout"] = POOL_CONNECT_TIMEOUT_S
        self._pool = ConnectionPool(url, min_size=POOL_MIN, max_size=2 * lanes + POOL_SPARE, kwargs=kwargs,
                                    open=False, name="questgraph", timeout=POOL_WAIT_S,
                                    configure=None if URL_SETS_JIT.search(url) else _without_jit)
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        self._migrate()

    # --- lifecycle --------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._pool.connection() as conn:
            upgrade_postgres(conn)

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
        # Never released: RELEASE would cost a round trip per grouped call and buys nothing, since the
        # group's COMMIT ends every savepoint at once. Each call's SAVEPOINT of the same name hides the one
        # before it, so ROLLBACK TO undoes exactly this call's statements. (A subtransaction that wrote
        # keeps its id until the commit whether released or not: no cost there either.)
        conn = self._conn()
        conn.execute("SAVEPOINT grouped_call")
        try:
            yield
        except BaseException:
            with contextlib.suppress(psycopg.Error):  # the connection broke: group_failed() tells the executor
                conn.execute("ROLLBACK TO SAVEPOINT grouped_call")
            raise

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
    def run(self, sql: str, params: Sequence[Any] = ()) -> Done:
        if self._tx.depth == 0:  # one statement alone is atomic by itself: no BEGIN and COMMIT round trips
            with self._reader() as conn:
                return Done(conn.execute(to_pg(sql), params).rowcount)
        with self.transaction():
            return Done(self._conn().execute(to_pg(sql), params).rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._reader() as conn:
            return conn.execute(to_pg(sql), params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reader() as conn:
            return conn.execute(to_pg(sql), params).fetchall()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.transaction(), self._conn().cursor() as cursor:
            cursor.executemany(to_pg(sql), rows)

    def ids_in(self, column: str, ids: Sequence[int]) -> list[tuple[str, list[Any]]]:
        # One statement text for any number of ids: psycopg prepares it and PostgreSQL plans it once (an IN
        # list of as many marks as ids is a new text for nearly every count, and past 50 parameters psycopg
        # does not even cache its conversion).
        return [(f"{column} = ANY(?::bigint[])", [list(ids)])] if ids else []

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        # COPY: several times the rows per second of executemany's INSERTs (bench/load.py's 10M board).
        with self.transaction(), self._conn().cursor() as cursor, \
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def returning(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._tx.depth == 0:  # as run(): in autocommit
            with self._reader() as conn:
                return conn.execute(to_pg(sql), params).fetchone()
        with self.transaction():
            return self._conn().execute(to_pg(sql), params).fetchone()

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        # A named (server-side) cursor on a connection of its own: the start-up scan of millions of
        # entries streams in batches and holds no lock a writer needs.
        with self._pool.connection() as conn, conn.transaction(), conn.cursor(name="qg_stream") as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(to_pg(sql), params)
            yield from cursor

    # --- schema -----------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return list(table_order())

    def blob_columns(self, table: str) -> dict[str, bool]:
        return blob_columns(table)

    def export_order(self, table: str) -> str:
        # Every column in order: the key columns come first in every table, so this is key order.
        return ", ".join(str(n) for n in range(1, len(blob_columns(table)) + 1))

    def after_explicit_ids(self) -> None:
        for table, name in identity_columns():
            # The next generated id follows the largest one written explicitly.
            self.one(f"SELECT setval(pg_get_serial_sequence('{table}', '{name}'), "
                     f"COALESCE(MAX({name}), 0) + 1, false) FROM {table}")
