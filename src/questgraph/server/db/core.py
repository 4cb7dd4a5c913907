"""The database handle every feature store is written against: transactions (with group commit,
savepoints and after-commit actions) and a small public execution interface.

The feature stores (``<feature>/store.py``) are written once, in portable SQL with ``?`` placeholders,
against ``Database``; ``SqliteDatabase`` (``db/sqlite.py``) runs them on SQLite and ``PostgresDatabase``
(``db/postgres.py``) on PostgreSQL (it rewrites ``?`` to ``%s``). Portable means: no
``INSERT OR IGNORE`` (``ON CONFLICT … DO NOTHING`` instead), no ``lastrowid`` (``insert_id``), no row
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


class Database:
    """Abstract: a backend implements ``close``, ``_real_transaction``, ``_savepoint``, the execution
    methods, ``stream``, ``tables``, ``blob_columns`` and ``export_order``."""

    _tx: TransactionState  # set by the backend's __init__
    # Whether a statement may write in its WITH clause (PostgreSQL; not SQLite): a store may then fold
    # several writes into one statement, one round trip.
    writable_ctes = False

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

    def close(self) -> None:
        raise NotImplementedError

    def _real_transaction(self) -> AbstractContextManager[None]:
        """BEGIN … COMMIT (ROLLBACK on an exception), on this thread's connection."""
        raise NotImplementedError

    def _savepoint(self) -> AbstractContextManager[None]:
        """SAVEPOINT … RELEASE (ROLLBACK TO on an exception), in the open transaction."""
        raise NotImplementedError

    # --- execution (backend-specific) -------------------------------------------------------------
    def run(self, sql: str, params: Sequence[Any] = ()) -> Ran:
        """One write statement, in the current transaction or its own."""
        raise NotImplementedError

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many parameter rows (bulk loads), in the current transaction or its own."""
        raise NotImplementedError

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Many new rows of one table (bulk loads), in the current transaction or its own: an INSERT for
        each here; PostgreSQL streams them with COPY."""
        marks = ", ".join("?" for _ in columns)
        self.many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def ids_in(self, column: str, ids: Sequence[int]) -> list[tuple[str, list[Any]]]:
        """``column`` among ``ids``, as (condition, parameters) pieces of one statement each: IN lists of at
        most 500 marks here; PostgreSQL takes them all in one ``= ANY`` of an array."""
        return [(f"{column} IN ({', '.join('?' for _ in chunk)})", chunk)
                for chunk in (list(ids[n:n + 500]) for n in range(0, len(ids), 500))]

    def returning(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """One write statement with a RETURNING clause, in a transaction: its first row, or None."""
        raise NotImplementedError

    def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An INSERT into a table whose ``id`` the database assigns; returns that id."""
        row = self.returning(sql + " RETURNING id", params)
        assert row is not None
        return int(row[0])

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of one long read, fetched in batches on a connection of its own, outside any open
        transaction: a start-up scan of millions of rows holds no lock a writer needs."""
        raise NotImplementedError

    # --- schema (what the whole-state operations of ``db/state.py`` walk) -------------------------
    def tables(self) -> list[str]:
        """Every table of state, parents before children (the order the migrations create them)."""
        raise NotImplementedError

    def blob_columns(self, table: str) -> dict[str, bool]:
        """Column name → whether it holds bytes (exported as hex)."""
        raise NotImplementedError

    def export_order(self, table: str) -> str:
        """The ORDER BY of a table's export: stable, so that two exports of one state are equal."""
        raise NotImplementedError

    def after_explicit_ids(self) -> None:
        """Called after rows were written with explicit ids into tables whose ids the database assigns
        (imports, bulk loads): PostgreSQL moves its identity sequences past them; SQLite needs nothing."""


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
