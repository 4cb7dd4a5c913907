"""What every SQL backend shares: the small execution interface the feature stores are written against,
and the whole-state operations, settings and global object ids (D9) whose SQL is the same everywhere.

The feature stores (``sqlite.py``'s identity and leaderboard SQL, ``sqlite_<feature>.py``) are written
once, in portable SQL with ``?`` placeholders, against this class; ``SqliteCore`` runs them on SQLite and
``postgres.core.PostgresCore`` on PostgreSQL (it rewrites ``?`` to ``%s``). Portable means: no
``INSERT OR IGNORE`` (``ON CONFLICT … DO NOTHING`` instead), no ``lastrowid`` (``_insert_id``), no row
values, and every read-then-write rule expressed as one conditional statement (``UPDATE … WHERE`` and
its row count, or ``INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING``), so that it stays atomic
when several server processes share one PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Action = Callable[[], None]


class Ran(Protocol):
    """What a write reports: how many rows it changed (``sqlite3.Cursor`` is one)."""

    @property
    def rowcount(self) -> int: ...


class TransactionState(threading.local):
    """This thread's place in a transaction: nesting depth, whether it is a group (group commit), and the
    after-commit actions of each open level (the transaction's, and a grouped call's savepoint)."""

    def __init__(self) -> None:
        self.depth = 0
        self.grouped = False
        self.actions: list[list[Action]] = []


class SqlCore:
    """Abstract: a backend implements ``_real_transaction``, ``_savepoint``, the five execution methods,
    ``tables`` and ``_blob_columns``."""

    _tx: TransactionState  # set by the backend's __init__

    # --- transactions, after-commit actions and group commit (shared) ---------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction; a block nested in another joins it (one commit, at the outermost end).

        Inside a group (``group()``), each call's outermost block is a savepoint instead: it rolls back
        alone when it fails, and commits with the group."""
        tx = self._tx
        if tx.depth == 0:
            with self._level(self._real_transaction(), 0) as actions:
                yield
            _run_all(actions)  # committed: now what had to wait for it
        elif tx.grouped and tx.depth == 1:
            with self._level(self._savepoint(), 1) as actions:
                yield
            tx.actions[-1].extend(actions)  # released: they wait for the group's commit
        else:
            tx.depth += 1
            try:
                yield
            finally:
                tx.depth -= 1

    @contextlib.contextmanager
    def group(self) -> Iterator[list[Action]]:
        """One transaction for many domain calls (group commit, server/executor.py): each call's
        ``transaction()`` is a savepoint in it, and one commit makes them all durable. Yields the list
        the calls' after-commit actions collect in; the caller runs them once the block has committed."""
        tx = self._tx
        assert tx.depth == 0, "a group is never nested"
        tx.grouped = True
        try:
            with self._level(self._real_transaction(), 0) as actions:
                yield actions
        finally:
            tx.grouped = False

    def group_failed(self) -> bool:
        """Inside ``group()``: the transaction can no longer commit (an error aborted it). Nothing of it
        is durable; the executor then rolls it back and runs its calls one by one."""
        return False

    def session(self) -> AbstractContextManager[None]:
        """Many calls in a row (a trip of the executor): a backend may keep resources for them meanwhile."""
        return contextlib.nullcontext()

    def after_commit(self, action: Action) -> None:
        """Run ``action`` once the open transaction has committed (at once when none is open), and never
        if it rolls back: what must only follow durable writes, such as the rank index (D22)."""
        if self._tx.actions:
            self._tx.actions[-1].append(action)
        else:
            action()

    @contextlib.contextmanager
    def _level(self, opened: AbstractContextManager[None], outer_depth: int) -> Iterator[list[Action]]:
        tx = self._tx
        actions: list[Action] = []
        with opened:
            tx.depth = outer_depth + 1
            tx.actions.append(actions)
            try:
                yield actions
            finally:
                tx.depth = outer_depth
                tx.actions.pop()

    def _real_transaction(self) -> AbstractContextManager[None]:
        """BEGIN … COMMIT (ROLLBACK on an exception), on this thread's connection."""
        raise NotImplementedError

    def _savepoint(self) -> AbstractContextManager[None]:
        """SAVEPOINT … RELEASE (ROLLBACK TO on an exception), in the open transaction."""
        raise NotImplementedError

    # --- execution (backend-specific) -------------------------------------------------------------
    def _run(self, sql: str, params: Sequence[Any] = ()) -> Ran:
        """One write statement, in the current transaction or its own."""
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many parameter rows (bulk loads), in the current transaction or its own."""
        raise NotImplementedError

    def _returning(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """One write statement with a RETURNING clause, in a transaction: its first row, or None."""
        raise NotImplementedError

    def _insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An INSERT into a table whose ``id`` the database assigns; returns that id."""
        row = self._returning(sql + " RETURNING id", params)
        assert row is not None
        return int(row[0])

    def tables(self) -> list[str]:
        """Every table of state, parents before children (the order the migrations create them)."""
        raise NotImplementedError

    def _blob_columns(self, table: str) -> dict[str, bool]:
        """Column name → whether it holds bytes (exported as hex)."""
        raise NotImplementedError

    def _after_explicit_ids(self) -> None:
        """Called after rows were written with explicit ids into tables whose ids the database assigns
        (imports, bulk loads): PostgreSQL moves its identity sequences past them; SQLite needs nothing."""

    # --- whole-state operations -------------------------------------------------------------------
    def is_empty(self) -> bool:
        return self._one("SELECT 1 FROM objects LIMIT 1") is None

    def reset(self) -> None:
        with self.transaction():
            for table in reversed(self.tables()):
                self._run(f"DELETE FROM {table}")

    def _export_order(self, table: str) -> str:
        """The ORDER BY of a table's export: stable, so that two exports of one state are equal."""
        raise NotImplementedError

    def export_tables(self) -> dict[str, list[dict[str, Any]]]:
        tables: dict[str, list[dict[str, Any]]] = {}
        with self.transaction():  # one snapshot of every table
            for table in self.tables():
                names = list(self._blob_columns(table))
                rows = self._all(f"SELECT {', '.join(names)} FROM {table} ORDER BY {self._export_order(table)}")
                tables[table] = [
                    {n: (bytes(v).hex() if isinstance(v, bytes | memoryview) else v)
                     for n, v in zip(names, row, strict=True)}
                    for row in rows
                ]
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
                blobs = self._blob_columns(table)
                for row in tables.get(table, []):
                    foreign = [name for name in row if name not in blobs]
                    if foreign:
                        raise ValueError(f"table {table} has no column {str(foreign[0])[:64]!r}")
                    values = [bytes.fromhex(v) if blobs[n] and isinstance(v, str) else v for n, v in row.items()]
                    self._run(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                              values)
            self._after_explicit_ids()

    def get_setting(self, key: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._run("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  (key, value))

    # --- object ids (D9) --------------------------------------------------------------------------
    def claim_object_id(self, object_id: int, kind: str) -> bool:
        # One statement: of two processes claiming one id, the database lets exactly one insert it.
        ran = self._run("INSERT INTO objects VALUES (?, ?) ON CONFLICT (id) DO NOTHING", (object_id, kind))
        return ran.rowcount == 1

    def object_kind(self, object_id: int) -> str | None:
        row = self._one("SELECT kind FROM objects WHERE id = ?", (object_id,))
        return None if row is None else str(row[0])

    def release_object_id(self, object_id: int) -> None:
        self._run("DELETE FROM objects WHERE id = ?", (object_id,))


def _run_all(actions: list[Action]) -> None:
    """Every action, in order, even when one fails; then the first failure is raised."""
    failure: Exception | None = None
    for action in actions:
        try:
            action()
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
